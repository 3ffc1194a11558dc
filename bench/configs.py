"""The Envoy configurations `make bench` compares, as bootstrap dicts: the five API-key and
static-token rows here, the JWT rows in `jwt_configs`.

Every configuration is the same listener and the same `direct_response` route, so the only
difference between two rows of the table is the HTTP filter in front of the router (and, for
API keys, the syncer beside it). The bootstrap is plain data written out as JSON (which
Envoy reads natively), so the bench needs no YAML library.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import control_plane

# A fixed bench credential, not a secret: it only ever reaches an Envoy on loopback. Every
# configuration but the API-key one receives it, so header parsing costs the same in those
# rows; the API-key row receives a key the control-plane minted instead.
TOKEN = "PcBench0" * 8
AUTHORIZATION = f"Bearer {TOKEN}"

PORTCULLIS_CONFIG = (
    '{"static_tokens":[{"name":"bench","token_env":"PORTCULLIS_BENCH_TOKEN",'
    '"subject":"bench","role":"admin","scopes":["read"]}]}'
)
PORTCULLIS_API_KEY_CONFIG = '{"api_keys":{"enabled":true}}'
# The latency probes poll with a key the filter does not know yet, or no longer knows,
# hundreds of times a minute from one address: the failure limit would rightly answer 429.
PORTCULLIS_LATENCY_CONFIG = '{"api_keys":{"enabled":true},"failure_limit":{"enabled":false}}'
# The syncer as `envoy/envoy.yaml` configures it. A change wakes its long-poll at once, so
# the wait only bounds how often an idle syncer asks again.
SYNCER_CONFIG = (
    '{"cluster":"portcullis_control_plane","sync_token_env":"'
    + control_plane.SYNC_TOKEN_ENV + '","wait_secs":30}'
)


@dataclass(frozen=True)
class JwtLoad:
    """What a JWT row needs: a key set minted at bench time (so its filter is built only
    once the keys exist) and which of that key set's tokens the load sends."""

    # RS256, ES256 or EdDSA: which minted key set and tokens.
    algorithm: str
    # True: every request carries a token not sent before (round robin over the minted
    # tokens); False: every request carries the same token.
    distinct_tokens: bool
    # The HTTP filter entry, given the minted public JWK set (`{"keys": [...]}`).
    filter_for: Callable[[dict], dict]


@dataclass(frozen=True)
class Configuration:
    """One row of the bench: a name, its HTTP filters, and what a request must prove."""

    name: str
    description: str
    # Filters placed before the router; empty for the no-filter baseline.
    filters: tuple[dict, ...]
    # When true, a request with a missing or wrong credential must be refused, which proves
    # the filter is really in the path and the 200s it returns are accepted credentials.
    enforces_auth: bool
    # Wasm modules this configuration loads, checked before any Envoy starts.
    wasm_files: tuple[Path, ...]
    # The syncer bootstrap extension, for a configuration whose credentials are API keys
    # synced from the control-plane; None for every other row.
    syncer: dict | None = None
    # For a JWT row, its key set and load; its filter follows `filters`.
    jwt: JwtLoad | None = None
    # Left out of a default run (picked by `--only`): rows that answer a narrower question.
    opt_in: bool = False
    # Changes the finished bootstrap (routes, clusters), for rows that need more than a filter.
    rewrite: Callable[[dict], dict] | None = None
    # The row asks `portcullis ratelimit serve`, which the runner starts beside it.
    needs_rate_limit_service: bool = False


def _plugin(name: str, vm_id: str, root_id: str, wasm: Path, plugin_json: str | None,
            env: dict[str, str]) -> dict:
    """A proxy-wasm plugin config loading `wasm` into V8 with `env` as its environment."""
    vm_config: dict = {
        "vm_id": vm_id,
        "runtime": "envoy.wasm.runtime.v8",
        "code": {"local": {"filename": str(wasm)}},
    }
    if env:
        vm_config["environment_variables"] = {"key_values": env}
    config: dict = {"name": name, "vm_config": vm_config}
    if root_id:
        config["root_id"] = root_id
    if plugin_json is not None:
        config["configuration"] = {
            "@type": "type.googleapis.com/google.protobuf.StringValue",
            "value": plugin_json,
        }
    return config


def wasm_filter(name: str, vm_id: str, root_id: str, wasm: Path, plugin_json: str | None,
                 env: dict[str, str]) -> dict:
    """An `envoy.filters.http.wasm` entry."""
    return {
        "name": name,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": _plugin(name, vm_id, root_id, wasm, plugin_json, env),
        },
    }


def _syncer(wasm: Path) -> dict:
    """The singleton syncer: the filter's `.wasm` on the main thread with root id
    `portcullis_sync` and the filter's vm id (shared data is per vm id), so the keys it
    publishes are what the filter reads."""
    return {
        "name": "envoy.bootstrap.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.wasm.v3.WasmService",
            "singleton": True,
            "config": _plugin("portcullis_sync", "portcullis", "portcullis_sync", wasm,
                              SYNCER_CONFIG,
                              {control_plane.SYNC_TOKEN_ENV: control_plane.SYNC_TOKEN}),
        },
    }


def _native_api_key_auth() -> dict:
    # With the key source `Authorization`, api_key_auth strips a `Bearer ` prefix itself, so
    # it sees exactly the header the other rows receive.
    return {
        "name": "envoy.filters.http.api_key_auth",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth",
            "credentials": [{"key": TOKEN, "client": "bench"}],
            "key_sources": [{"header": "Authorization"}],
        },
    }


def all_configurations(wasm_dir: Path) -> list[Configuration]:
    """The five rows, in table order."""
    floor = wasm_dir / "passthrough.wasm"
    portcullis = wasm_dir / "portcullis.wasm"
    return [
        Configuration("no_filter", "router only", (), False, ()),
        Configuration(
            "wasm_floor", "empty proxy-wasm filter (the floor)",
            (wasm_filter("passthrough", "bench", "", floor, None, {}),), False, (floor,),
        ),
        Configuration(
            "portcullis_static_token", "Portcullis, static bearer token",
            (wasm_filter("portcullis", "portcullis", "portcullis", portcullis, PORTCULLIS_CONFIG,
                          {"PORTCULLIS_BENCH_TOKEN": TOKEN}),),
            True, (portcullis,),
        ),
        Configuration(
            "portcullis_api_key", "Portcullis, API key synced from the control-plane (10 keys)",
            (wasm_filter("portcullis", "portcullis", "portcullis", portcullis,
                          PORTCULLIS_API_KEY_CONFIG, {}),),
            True, (portcullis,), _syncer(portcullis),
        ),
        Configuration(
            "native_api_key_auth", "Envoy native api_key_auth",
            (_native_api_key_auth(),), True, (),
        ),
    ]


def for_latency(wasm_dir: Path) -> Configuration:
    """The API-key row as the revocation and creation latencies need it: failure limit off."""
    portcullis = wasm_dir / "portcullis.wasm"
    return Configuration(
        "portcullis_api_key_latency", "Portcullis, API key, failure limit off (latency probes)",
        (wasm_filter("portcullis", "portcullis", "portcullis", portcullis,
                     PORTCULLIS_LATENCY_CONFIG, {}),),
        True, (portcullis,), _syncer(portcullis),
    )


def bootstrap(configuration: Configuration, control_plane_port: int = 0,
              retention_secs: int | None = None, key_sets: dict[str, dict] | None = None) -> dict:
    """An Envoy bootstrap for `configuration`: admin and listener on loopback port 0, and
    for a syncing configuration the syncer and its cluster to the control-plane on
    `control_plane_port`, keeping revoked secrets `retention_secs` (the syncer's default
    when None); a JWT row's filter trusts its algorithm's public JWK set in `key_sets`.

    Port 0 lets the kernel pick free ports with no race between choosing and binding; the
    runner reads the bound ports back from the admin address file and `/listeners`.
    """
    router = {
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
    }
    manager = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager"
                 ".v3.HttpConnectionManager",
        "stat_prefix": "bench",
        "route_config": {
            "name": "bench",
            "virtual_hosts": [{
                "name": "bench",
                "domains": ["*"],
                "routes": [{
                    "match": {"prefix": "/"},
                    "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
                }],
            }],
        },
        "http_filters": [*configuration.filters, *_jwt_filter(configuration, key_sets), router],
    }
    config: dict = {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "static_resources": {
            "listeners": [{
                "name": "bench",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
                "filter_chains": [{"filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": manager,
                }]}],
            }],
        },
    }
    if configuration.syncer is not None:
        if not control_plane_port:
            raise ValueError(f"{configuration.name} syncs API keys: a control-plane port is needed")
        syncer = copy.deepcopy(configuration.syncer)
        if retention_secs is not None:
            value = syncer["typed_config"]["config"]["configuration"]
            value["value"] = json.dumps({**json.loads(value["value"]),
                                         "retention_secs": retention_secs})
        config["bootstrap_extensions"] = [syncer]
        config["static_resources"]["clusters"] = [_control_plane_cluster(control_plane_port)]
    if configuration.rewrite is not None:
        config = configuration.rewrite(config)
    return config


def _jwt_filter(configuration: Configuration, key_sets: dict[str, dict] | None) -> list[dict]:
    """A JWT row's filter for the key set minted for its algorithm; nothing for other rows."""
    if configuration.jwt is None:
        return []
    algorithm = configuration.jwt.algorithm
    if not key_sets or algorithm not in key_sets:
        raise ValueError(f"{configuration.name} verifies {algorithm} tokens: its key set is needed")
    return [configuration.jwt.filter_for(key_sets[algorithm])]


def _control_plane_cluster(port: int) -> dict:
    """The `portcullis_control_plane` cluster the syncer long-polls through."""
    return {
        "name": "portcullis_control_plane",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": "portcullis_control_plane",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                "address": "127.0.0.1", "port_value": port}}}}]}],
        },
    }
