//! The dedicated RSA verifier against the RustCrypto `rsa` crate (a second, independent
//! implementation) and against published vectors.
//!
//! Every valid signature must verify in both; every tampered signature, message or modulus
//! must fail in both; signatures over the wrong hash or with the wrong padding must fail.

use super::*;
use crate::jwt::base64url::decode;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
use sha2_010::{Digest as _, Sha256 as RefSha256, Sha384 as RefSha384, Sha512 as RefSha512};

/// The RS256 example of RFC 7515 Appendix A.2: its modulus, signing input and signature.
const RFC7515_A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const RFC7515_A2_INPUT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const RFC7515_A2_SIGNATURE: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

fn b64(text: &str) -> Vec<u8> {
    decode(text.as_bytes()).unwrap()
}

#[test]
fn the_rfc_7515_rs256_example_verifies() {
    let key = RsaPublicKey::new(&b64(RFC7515_A2_N), &[1, 0, 1]).unwrap();
    let signature = b64(RFC7515_A2_SIGNATURE);
    assert_eq!(key.bits(), 2048);
    assert!(key.verify(Algorithm::Rs256, RFC7515_A2_INPUT.as_bytes(), &signature));
    assert!(!key.verify(Algorithm::Ps256, RFC7515_A2_INPUT.as_bytes(), &signature));
    assert!(!key.verify(Algorithm::Rs384, RFC7515_A2_INPUT.as_bytes(), &signature));
    let altered = RFC7515_A2_INPUT.replace("eyJpc3", "eyJpc4");
    assert!(!key.verify(Algorithm::Rs256, altered.as_bytes(), &signature));
}

/// A generated key, its public parts, and our verifier for it.
struct Fixture {
    private: RsaPrivateKey,
    public: rsa::RsaPublicKey,
    ours: RsaPublicKey,
}

/// Keys generated once for these tests (generating 4096-bit keys in a debug build takes
/// minutes); they sign nothing else.
fn fixture(bits: usize) -> Fixture {
    let pem = match bits {
        2048 => include_str!("testdata/test-only-rsa2048.pem"),
        3072 => include_str!("testdata/test-only-rsa3072.pem"),
        _ => include_str!("testdata/test-only-rsa4096.pem"),
    };
    let private = RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let public = private.to_public_key();
    let ours = RsaPublicKey::new(&public.n().to_bytes_be(), &public.e().to_bytes_be()).unwrap();
    Fixture {
        private,
        public,
        ours,
    }
}

fn hashed(alg: Algorithm, message: &[u8]) -> Vec<u8> {
    match alg.hash() {
        Hash::Sha256 => RefSha256::digest(message).to_vec(),
        Hash::Sha384 => RefSha384::digest(message).to_vec(),
        Hash::Sha512 => RefSha512::digest(message).to_vec(),
    }
}

fn pkcs1(alg: Algorithm) -> Pkcs1v15Sign {
    match alg.hash() {
        Hash::Sha256 => Pkcs1v15Sign::new::<RefSha256>(),
        Hash::Sha384 => Pkcs1v15Sign::new::<RefSha384>(),
        Hash::Sha512 => Pkcs1v15Sign::new::<RefSha512>(),
    }
}

fn pss(alg: Algorithm) -> Pss {
    match alg.hash() {
        Hash::Sha256 => Pss::new::<RefSha256>(),
        Hash::Sha384 => Pss::new::<RefSha384>(),
        Hash::Sha512 => Pss::new::<RefSha512>(),
    }
}

/// The reference implementation's signature of `message` with `alg`.
fn sign(f: &Fixture, rng: &mut ChaCha8Rng, alg: Algorithm, message: &[u8]) -> Vec<u8> {
    let digest = hashed(alg, message);
    match alg.family() {
        Family::RsaPkcs1 => f.private.sign(pkcs1(alg), &digest).unwrap(),
        _ => f.private.sign_with_rng(rng, pss(alg), &digest).unwrap(),
    }
}

/// The reference implementation's verdict.
fn reference_accepts(
    public: &rsa::RsaPublicKey,
    alg: Algorithm,
    message: &[u8],
    sig: &[u8],
) -> bool {
    let digest = hashed(alg, message);
    match alg.family() {
        Family::RsaPkcs1 => public.verify(pkcs1(alg), &digest, sig).is_ok(),
        _ => public.verify(pss(alg), &digest, sig).is_ok(),
    }
}

const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::Rs256,
    Algorithm::Rs384,
    Algorithm::Rs512,
    Algorithm::Ps256,
    Algorithm::Ps384,
    Algorithm::Ps512,
];

fn random_message(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut message = vec![0u8; 1 + (rng.next_u32() % 200) as usize];
    rng.fill_bytes(&mut message);
    message
}

#[test]
fn valid_signatures_verify_in_both_implementations_for_every_size_and_algorithm() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    for bits in [2048, 3072, 4096] {
        let f = fixture(bits);
        for alg in RSA_ALGORITHMS {
            let message = random_message(&mut rng);
            let sig = sign(&f, &mut rng, alg, &message);
            assert!(reference_accepts(&f.public, alg, &message, &sig));
            assert!(f.ours.verify(alg, &message, &sig), "{alg} {bits}");
        }
    }
}

/// `bytes` with one random bit of byte `at` flipped.
fn flip(rng: &mut ChaCha8Rng, bytes: &[u8], at: usize) -> Vec<u8> {
    let mut tampered = bytes.to_vec();
    tampered[at] ^= 1 << (rng.next_u32() % 8);
    tampered
}

#[test]
fn every_single_byte_tamper_of_the_signature_is_rejected_by_both() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let f = fixture(2048);
    for alg in [Algorithm::Rs256, Algorithm::Ps256] {
        let message = random_message(&mut rng);
        let sig = sign(&f, &mut rng, alg, &message);
        for at in 0..sig.len() {
            let tampered = flip(&mut rng, &sig, at);
            assert!(!f.ours.verify(alg, &message, &tampered), "{alg} byte {at}");
            assert!(!reference_accepts(&f.public, alg, &message, &tampered));
        }
    }
}

#[test]
fn every_single_byte_tamper_of_the_message_is_rejected_by_both() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let f = fixture(2048);
    for alg in [Algorithm::Rs384, Algorithm::Ps512] {
        let message = random_message(&mut rng);
        let sig = sign(&f, &mut rng, alg, &message);
        for at in 0..message.len() {
            let tampered = flip(&mut rng, &message, at);
            assert!(!f.ours.verify(alg, &tampered, &sig), "{alg} byte {at}");
            assert!(!reference_accepts(&f.public, alg, &tampered, &sig));
        }
    }
}

#[test]
fn every_single_byte_tamper_of_the_modulus_is_rejected_by_both() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let f = fixture(2048);
    let message = random_message(&mut rng);
    let sig = sign(&f, &mut rng, Algorithm::Rs256, &message);
    let n = f.public.n().to_bytes_be();
    for at in 0..n.len() {
        let tampered = flip(&mut rng, &n, at);
        if let Ok(ours) = RsaPublicKey::new(&tampered, &[1, 0, 1]) {
            assert!(!ours.verify(Algorithm::Rs256, &message, &sig), "byte {at}");
        }
        let reference = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&tampered),
            rsa::BigUint::from(65537u32),
        );
        if let Ok(reference) = reference {
            assert!(!reference_accepts(
                &reference,
                Algorithm::Rs256,
                &message,
                &sig
            ));
        }
    }
}

#[test]
fn a_signature_over_another_hash_or_with_the_other_padding_is_rejected() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let f = fixture(2048);
    let message = random_message(&mut rng);
    for signed in RSA_ALGORITHMS {
        let sig = sign(&f, &mut rng, signed, &message);
        for checked in RSA_ALGORITHMS.into_iter().filter(|&a| a != signed) {
            assert!(
                !f.ours.verify(checked, &message, &sig),
                "{signed} as {checked}"
            );
            assert!(!reference_accepts(&f.public, checked, &message, &sig));
        }
        for other in [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Hs256] {
            assert!(!f.ours.verify(other, &message, &sig));
        }
    }
}

#[test]
fn a_pss_salt_shorter_than_the_hash_is_rejected() {
    // RFC 7518 §3.5: the salt is as long as the hash; the reference accepts any length.
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let f = fixture(2048);
    let digest = hashed(Algorithm::Ps256, b"message");
    for salt in [0, 20, 31] {
        let scheme = Pss::new_with_salt::<RefSha256>(salt);
        let sig = f.private.sign_with_rng(&mut rng, scheme, &digest).unwrap();
        assert!(
            !f.ours.verify(Algorithm::Ps256, b"message", &sig),
            "salt {salt}"
        );
    }
}

#[test]
fn a_signature_of_another_length_or_not_below_the_modulus_is_rejected() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let f = fixture(2048);
    let sig = sign(&f, &mut rng, Algorithm::Rs256, b"m");
    let mut padded = vec![0u8];
    padded.extend_from_slice(&sig);
    assert!(!f.ours.verify(Algorithm::Rs256, b"m", &padded));
    assert!(!f.ours.verify(Algorithm::Rs256, b"m", &sig[1..]));
    assert!(!f.ours.verify(Algorithm::Rs256, b"m", &[]));
    let n = f.public.n().to_bytes_be();
    assert!(!f.ours.verify(Algorithm::Rs256, b"m", &n));
    assert!(!f.ours.verify(Algorithm::Rs256, b"m", &[0xff; 256]));
}

#[test]
fn random_signatures_never_verify() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let f = fixture(2048);
    for _ in 0..50 {
        let mut sig = vec![0u8; 256];
        rng.fill_bytes(&mut sig);
        for alg in [Algorithm::Rs256, Algorithm::Ps256] {
            assert!(!f.ours.verify(alg, b"m", &sig));
        }
    }
}

#[test]
fn signatures_by_a_3072_and_a_4096_bit_key_survive_only_untampered() {
    let mut rng = ChaCha8Rng::seed_from_u64(18);
    for bits in [3072, 4096] {
        let f = fixture(bits);
        let message = random_message(&mut rng);
        let sig = sign(&f, &mut rng, Algorithm::Ps384, &message);
        for _ in 0..16 {
            let at = rng.next_u32() as usize % sig.len();
            let tampered = flip(&mut rng, &sig, at);
            assert!(!f.ours.verify(Algorithm::Ps384, &message, &tampered));
            assert!(!reference_accepts(
                &f.public,
                Algorithm::Ps384,
                &message,
                &tampered
            ));
        }
    }
}

#[test]
fn an_exponent_other_than_65537_is_refused() {
    let n = b64(RFC7515_A2_N);
    assert_eq!(
        RsaPublicKey::new(&n, &[3]).unwrap_err(),
        RsaKeyError::Exponent { actual: "3".into() }
    );
    assert!(RsaPublicKey::new(&n, &[0, 1, 0, 1]).is_ok());
    assert!(RsaPublicKey::new(&n, &[1, 0, 0]).is_err());
    assert!(RsaPublicKey::new(&n, &[]).is_err());
    assert_eq!(
        RsaPublicKey::new(&n, &[1; 9]).unwrap_err().to_string(),
        "rsa exponent is a 72-bit number, expected 65537"
    );
}

#[test]
fn a_short_even_or_oversized_modulus_is_refused() {
    let n = b64(RFC7515_A2_N);
    let mut short = n[..128].to_vec();
    *short.last_mut().unwrap() |= 1;
    assert_eq!(
        RsaPublicKey::new(&short, &[1, 0, 1])
            .unwrap_err()
            .to_string(),
        "rsa modulus is 1024 bits, expected an odd modulus of 2048 to 4096 bits"
    );
    let mut even = n.clone();
    *even.last_mut().unwrap() &= 0xfe;
    assert_eq!(
        RsaPublicKey::new(&even, &[1, 0, 1]).unwrap_err(),
        RsaKeyError::Modulus {
            bits: 2048,
            parity: ", even"
        }
    );
    let mut oversized = vec![0xffu8; 513];
    oversized[0] = 1;
    assert!(RsaPublicKey::new(&oversized, &[1, 0, 1]).is_err());
}
