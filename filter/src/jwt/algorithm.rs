//! The JWS algorithms the verifier knows (RFC 7518 §3.1, RFC 8037 §3.1), by their
//! case-sensitive `alg` names, and what each needs of a key.

use std::fmt;

/// A JWS signature algorithm. `none` is not one: it is never accepted (RFC 8725 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt.
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, 48-byte salt.
    Ps384,
    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512, 64-byte salt.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// Ed25519 (RFC 8037; the only EdDSA curve accepted).
    EdDsa,
    /// HMAC with SHA-256: only for a provider configured with a shared secret.
    Hs256,
    /// HMAC with SHA-384: only for a provider configured with a shared secret.
    Hs384,
    /// HMAC with SHA-512: only for a provider configured with a shared secret.
    Hs512,
}

/// The hash an algorithm signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// RSA with PKCS #1 v1.5 padding.
    RsaPkcs1,
    /// RSA with PSS padding.
    RsaPss,
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// Ed25519.
    Ed25519,
    /// HMAC with a shared secret.
    Hmac,
}

impl Algorithm {
    /// Every algorithm, asymmetric ones first.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
    ];

    /// The algorithm named `name`, compared case-sensitively (RFC 7515 §4.1.1).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
        }
    }

    /// The kind of key the algorithm needs.
    pub fn family(self) -> Family {
        match self {
            Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512 => Family::RsaPkcs1,
            Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512 => Family::RsaPss,
            Algorithm::Es256 => Family::P256,
            Algorithm::Es384 => Family::P384,
            Algorithm::EdDsa => Family::Ed25519,
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => Family::Hmac,
        }
    }

    /// The hash the algorithm signs with (Ed25519 hashes internally with SHA-512).
    pub fn hash(self) -> Hash {
        match self {
            Algorithm::Rs256 | Algorithm::Ps256 | Algorithm::Es256 | Algorithm::Hs256 => {
                Hash::Sha256
            }
            Algorithm::Rs384 | Algorithm::Ps384 | Algorithm::Es384 | Algorithm::Hs384 => {
                Hash::Sha384
            }
            Algorithm::Rs512 | Algorithm::Ps512 | Algorithm::EdDsa | Algorithm::Hs512 => {
                Hash::Sha512
            }
        }
    }

    /// Whether the algorithm uses a shared secret rather than a public key.
    pub fn is_symmetric(self) -> bool {
        self.family() == Family::Hmac
    }
}

impl Hash {
    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_its_name() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
    }

    #[test]
    fn names_are_case_sensitive_and_none_is_unknown() {
        assert_eq!(Algorithm::from_name("rs256"), None);
        assert_eq!(Algorithm::from_name("none"), None);
        assert_eq!(Algorithm::from_name("EDDSA"), None);
        assert_eq!(Algorithm::from_name("ES512"), None);
    }

    #[test]
    fn only_hmac_is_symmetric() {
        let symmetric: Vec<_> = Algorithm::ALL
            .into_iter()
            .filter(|a| a.is_symmetric())
            .collect();
        assert_eq!(
            symmetric,
            [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512]
        );
    }
}
