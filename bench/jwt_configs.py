"""The JWT rows of `make bench`: Envoy's native `jwt_authn` with its key set inline, without
and with its JWT cache, and Portcullis with the same key set, on the same token every
request (cached) or a distinct token every request (uncached), for RS256, ES256 and EdDSA;
plus Portcullis built with Wasm `simd128`, to decide whether to ship that build.

Every JWT row trusts the same minted key per algorithm and checks the same issuer and
audience, and both filters leave the `Authorization` header in place (jwt_authn's
`forward: true`; Portcullis forwards by default).
"""

import json
from pathlib import Path

from configs import Configuration, JwtLoad, wasm_filter
from jwt_tokens import ALGORITHMS, AUDIENCE, ISSUER, TOKEN_CACHE_SIZE

# jwt_authn's cache size, as the issue names it.
NATIVE_CACHE_SIZE = 100
PROVIDER = "bench"


def native_jwt_authn(jwks: dict, cache: bool) -> dict:
    """`envoy.filters.http.jwt_authn` requiring a token from the bench issuer on every
    route, its key set inline (`local_jwks`), with or without its verified-JWT cache."""
    provider: dict = {
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "local_jwks": {"inline_string": json.dumps(jwks)},
        "forward": True,
    }
    if cache:
        provider["jwt_cache_config"] = {"jwt_cache_size": NATIVE_CACHE_SIZE}
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3"
                     ".JwtAuthentication",
            "providers": {PROVIDER: provider},
            "rules": [{"match": {"prefix": "/"}, "requires": {"provider_name": PROVIDER}}],
        },
    }


def portcullis_jwt_config(jwks: dict, cache_size: int = TOKEN_CACHE_SIZE) -> str:
    """The Portcullis plugin configuration: JWTs only, one inline provider, by default the
    default verified-token cache size."""
    return json.dumps({"jwt": {
        "enabled": True,
        "providers": [{"name": PROVIDER, "issuer": ISSUER, "audiences": [AUDIENCE],
                       "jwks": jwks}],
        "cache_size": cache_size,
    }}, separators=(",", ":"))


def _portcullis(wasm: Path):
    return lambda jwks: wasm_filter("portcullis", "portcullis", "portcullis", wasm,
                                    portcullis_jwt_config(jwks), {})


def all_configurations(wasm_dir: Path, simd_wasm_dir: Path) -> list[Configuration]:
    """The JWT rows in table order: native uncached and cached, then Portcullis cached and
    uncached, per algorithm; then the simd128 rows (uncached RS256 runs by default, the
    others only when picked with `--only`)."""
    portcullis = wasm_dir / "portcullis.wasm"
    simd = simd_wasm_dir / "portcullis.wasm"
    rows = []
    for alg in ALGORITHMS:
        tag = alg.lower()
        for cache in (False, True):
            rows.append(Configuration(
                f"native_jwt_{tag}_{'cached' if cache else 'uncached'}",
                f"Envoy native jwt_authn {alg}, "
                + (f"jwt_cache_size {NATIVE_CACHE_SIZE}" if cache else "no JWT cache")
                + ", the same token every request",
                (), True, (),
                jwt=JwtLoad(alg, False, lambda jwks, cache=cache: native_jwt_authn(jwks, cache)),
            ))
        rows.append(Configuration(
            f"portcullis_jwt_{tag}_cached",
            f"Portcullis JWT {alg}, the same token every request (token cache hits)",
            (), True, (portcullis,), jwt=JwtLoad(alg, False, _portcullis(portcullis)),
        ))
        rows.append(Configuration(
            f"portcullis_jwt_{tag}_uncached",
            f"Portcullis JWT {alg}, a token never sent before every request "
            f"(cache_size {TOKEN_CACHE_SIZE} never hits)",
            (), True, (portcullis,), jwt=JwtLoad(alg, True, _portcullis(portcullis)),
        ))
    for alg in ALGORITHMS:
        tag = alg.lower()
        rows.append(Configuration(
            f"portcullis_jwt_{tag}_uncached_simd",
            f"as portcullis_jwt_{tag}_uncached, the .wasm built with +simd128",
            (), True, (simd,), jwt=JwtLoad(alg, True, _portcullis(simd)),
            opt_in=alg != "RS256",
        ))
    rows.append(Configuration(
        "portcullis_jwt_rs256_cached_simd",
        "as portcullis_jwt_rs256_cached, the .wasm built with +simd128",
        (), True, (simd,), jwt=JwtLoad("RS256", False, _portcullis(simd)), opt_in=True,
    ))
    return rows
