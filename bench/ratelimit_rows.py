"""The bench rows for the global rate limit: Portcullis with an API key in front of an
upstream, without and with Envoy's `ratelimit` filter asking `portcullis ratelimit serve`
(Redis counters), so the pair's ratio is the price of a global rate limit per request.

The global `ratelimit` filter does nothing on a `direct_response` route, so both rows route
to an upstream: an internal listener of the same Envoy answering 200 (no socket, no other
process), whose cost both rows pay alike. The rate-limit row has the shipped stage-1
filter and route actions (`(tier, key_id)` and `(tier, org_id)`: one RLS call with two
descriptors per request, as on every authenticated route); its limits are high enough
never to trip, so every request is counted in Redis and passed.
"""

import socket

import configs

UPSTREAM = "portcullis_api_key_upstream"
RLS = "portcullis_api_key_rls"
NAMES = (UPSTREAM, RLS)

# The gRPC port the bench's rate-limit service listens on, chosen once per bench run.
_probe = socket.socket()
_probe.bind(("127.0.0.1", 0))
RLS_PORT = _probe.getsockname()[1]
_probe.close()

# Stage 1 of `envoy/envoy-redis.yaml`, as the control-plane renders its actions.
_TIER = {"request_headers": {"header_name": "x-auth-tier", "descriptor_key": "tier",
                             "skip_if_absent": True}}
ROUTE_RATE_LIMITS = [
    {"stage": 1, "actions": [_TIER, {"request_headers": {"header_name": "x-auth-key-id",
                                                         "descriptor_key": "key_id"}}]},
    {"stage": 1, "actions": [_TIER, {"request_headers": {"header_name": "x-auth-org",
                                                         "descriptor_key": "org_id"}}]},
]

RATELIMIT_FILTER = {
    "name": "portcullis.ratelimit.identity",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit",
        "domain": "portcullis",
        "stage": 1,
        "stat_prefix": "portcullis_ratelimit_identity",
        "timeout": "0.25s",
        "failure_mode_deny": False,
        "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
        "rate_limit_service": {
            "transport_api_version": "V3",
            "grpc_service": {"envoy_grpc": {"cluster_name": "portcullis_ratelimit"}},
        },
    },
}


def _upstream_listener() -> dict:
    """An internal listener answering 200 `ok`, the rows' upstream."""
    return {
        "name": "upstream",
        "internal_listener": {},
        "filter_chains": [{"filters": [{
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network."
                         "http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": "upstream",
                "route_config": {"virtual_hosts": [{
                    "name": "upstream", "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "direct_response": {
                        "status": 200, "body": {"inline_string": "ok\n"}}}],
                }]},
                "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
            },
        }]}],
    }


def _cluster(name: str, address: dict, http2: bool = False) -> dict:
    cluster = {
        "name": name,
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": address}}]}]},
    }
    if http2:
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        }
    return cluster


def _to_upstream(config: dict, rate_limited: bool) -> dict:
    """`config` with its route sent to the internal upstream, and for `rate_limited` the
    route actions and the rate-limit service's cluster."""
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"]
    route: dict = {"cluster": "upstream"}
    if rate_limited:
        route["rate_limits"] = ROUTE_RATE_LIMITS
    manager["route_config"]["virtual_hosts"][0]["routes"] = [
        {"match": {"prefix": "/"}, "route": route}]
    config["static_resources"]["listeners"].append(_upstream_listener())
    clusters = config["static_resources"].setdefault("clusters", [])
    clusters.append(_cluster("upstream", {"envoy_internal_address": {
        "server_listener_name": "upstream"}}))
    if rate_limited:
        clusters.append(_cluster("portcullis_ratelimit", {"socket_address": {
            "address": "127.0.0.1", "port_value": RLS_PORT}}, http2=True))
    config.setdefault("bootstrap_extensions", []).append({
        "name": "envoy.bootstrap.internal_listener",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.bootstrap."
                                  "internal_listener.v3.InternalListener"},
    })
    return config


def all_configurations(api_key: configs.Configuration) -> list[configs.Configuration]:
    """The two rows, built on the API-key row `api_key` (same filter, same syncer)."""
    return [
        configs.Configuration(
            UPSTREAM, "Portcullis, API key, routed to an internal upstream",
            api_key.filters, True, api_key.wasm_files, api_key.syncer,
            rewrite=lambda config: _to_upstream(config, rate_limited=False),
        ),
        configs.Configuration(
            RLS, "the same with the global ratelimit filter (RLS + Redis, never tripping)",
            (*api_key.filters, RATELIMIT_FILTER), True, api_key.wasm_files, api_key.syncer,
            rewrite=lambda config: _to_upstream(config, rate_limited=True),
            needs_rate_limit_service=True,
        ),
    ]
