//! The networks zero-auth mode trusts: only peers inside them are let in unauthenticated.

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The default: loopback only.
pub const DEFAULT_TRUSTED_NETWORKS: [&str; 2] = ["127.0.0.0/8", "::1/128"];

/// A list of networks, any of which makes a peer trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedNetworks {
    networks: Vec<IpNet>,
}

impl TrustedNetworks {
    /// Trusts the given networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedNetworks { networks }
    }

    /// Parses a network (`10.0.0.0/8`) or a single address (`10.0.0.1`, meaning `/32`).
    pub fn parse_network(text: &str) -> Option<IpNet> {
        text.parse::<IpNet>()
            .ok()
            .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
    }

    /// Whether `peer` is inside a trusted network. IPv4-mapped IPv6 addresses
    /// (`::ffff:127.0.0.1`) count as their IPv4 address. An unknown peer is untrusted.
    pub fn contains(&self, peer: Option<IpAddr>) -> bool {
        let Some(peer) = peer else { return false };
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.networks.iter().any(|n| n.contains(&peer))
    }
}

impl std::fmt::Display for TrustedNetworks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.networks.iter().map(ToString::to_string).collect();
        write!(f, "[{}]", names.join(", "))
    }
}

/// The IP of Envoy's `source.address` property (`127.0.0.1:5555`, `[::1]:5555`).
pub fn peer_ip(source_address: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(source_address).ok()?;
    text.parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| text.parse::<IpAddr>())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> TrustedNetworks {
        let nets = DEFAULT_TRUSTED_NETWORKS
            .iter()
            .filter_map(|n| TrustedNetworks::parse_network(n))
            .collect();
        TrustedNetworks::new(nets)
    }

    #[test]
    fn loopback_is_trusted_by_default() {
        let t = defaults();
        assert!(t.contains(peer_ip(b"127.0.0.1:40000")));
        assert!(t.contains(peer_ip(b"127.9.9.9:1")));
        assert!(t.contains(peer_ip(b"[::1]:40000")));
        assert!(t.contains(peer_ip(b"[::ffff:127.0.0.1]:40000")));
    }

    #[test]
    fn other_peers_and_unknown_peers_are_untrusted() {
        let t = defaults();
        assert!(!t.contains(peer_ip(b"10.0.0.1:40000")));
        assert!(!t.contains(peer_ip(b"[2001:db8::1]:1")));
        assert!(!t.contains(peer_ip(b"not an address")));
        assert!(!t.contains(None));
    }

    #[test]
    fn a_single_address_means_that_host_only() {
        let net = TrustedNetworks::parse_network("127.0.0.1").unwrap();
        let t = TrustedNetworks::new(vec![net]);
        assert!(t.contains(peer_ip(b"127.0.0.1:1")));
        assert!(!t.contains(peer_ip(b"127.0.0.2:1")));
    }
}
