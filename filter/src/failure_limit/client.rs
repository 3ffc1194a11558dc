//! Who failed credentials are counted against: an IPv4 address, or the /64 network of an
//! IPv6 address.
//!
//! An IPv6 host is routinely given a whole /64 (SLAAC, privacy addresses), so counting each
//! address on its own would give one attacker 2^64 budgets; counting the /64 gives it one.
//! An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is its IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The client a failure is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 /64 network: the address's first 64 bits.
    V6Network(u64),
}

impl Client {
    /// The client of the downstream address `ip`.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Client::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::V4(v4),
                None => Client::V6Network((v6.to_bits() >> 64) as u64),
            },
        }
    }

    /// A fixed-size identity for shared-data tables: the IPv4-mapped address, or the /64
    /// prefix followed by zeros.
    pub fn to_bytes(self) -> [u8; 16] {
        match self {
            Client::V4(v4) => v4.to_ipv6_mapped().octets(),
            Client::V6Network(prefix) => (u128::from(prefix) << 64).to_be_bytes(),
        }
    }

    /// The client read back from [`Client::to_bytes`].
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Client::of(IpAddr::V6(Ipv6Addr::from(bytes)))
    }
}

/// As the descriptor value the rate-limit service counts: `10.0.0.1`, `2001:db8:0:1::/64`.
impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Client::V4(v4) => write!(f, "{v4}"),
            Client::V6Network(prefix) => {
                write!(f, "{}/64", Ipv6Addr::from(u128::from(*prefix) << 64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(text: &str) -> Client {
        Client::of(text.parse().unwrap())
    }

    #[test]
    fn an_ipv4_address_is_its_own_client_mapped_or_not() {
        assert_eq!(client("10.0.0.1").to_string(), "10.0.0.1");
        assert_eq!(client("::ffff:10.0.0.1"), client("10.0.0.1"));
        assert_ne!(client("10.0.0.1"), client("10.0.0.2"));
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_are_one_client() {
        let a = client("2001:db8:0:1::1");
        assert_eq!(a, client("2001:db8:0:1:ffff:ffff:ffff:ffff"));
        assert_ne!(a, client("2001:db8:0:2::1"));
        assert_eq!(a.to_string(), "2001:db8:0:1::/64");
        assert_eq!(client("::1").to_string(), "::/64");
    }

    #[test]
    fn bytes_round_trip_and_keep_families_apart() {
        for text in ["10.0.0.1", "0.0.0.0", "2001:db8:0:1::9", "::1", "fe80::1"] {
            let c = client(text);
            assert_eq!(Client::from_bytes(c.to_bytes()), c, "{text}");
        }
        assert_ne!(client("::a00:1").to_bytes(), client("10.0.0.1").to_bytes());
    }
}
