//! `pow_65537` against a general-purpose big-integer `modpow`, across limb boundaries
//! and at the largest values, where a column-sum overflow would show (debug builds trap
//! on overflow).

use super::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rsa::BigUint;

fn reference(n: &[u8], base: &[u8]) -> Vec<u8> {
    let n = BigUint::from_bytes_be(n);
    let r = BigUint::from_bytes_be(base).modpow(&BigUint::from(65537u32), &n);
    let bytes = if r == BigUint::from(0u32) {
        Vec::new()
    } else {
        r.to_bytes_be()
    };
    let mut padded = vec![0u8; n.to_bytes_be().len() - bytes.len()];
    padded.extend_from_slice(&bytes);
    padded
}

/// A random odd modulus of exactly `bits` bits, and a random base below it.
fn random_case(rng: &mut ChaCha8Rng, bits: usize) -> (Vec<u8>, Vec<u8>) {
    let k = bits.div_ceil(8);
    let mut n = vec![0u8; k];
    rng.fill_bytes(&mut n);
    let excess = 8 * k - bits;
    n[0] &= 0xff >> excess;
    n[0] |= 0x80 >> excess;
    n[k - 1] |= 1;
    let mut base = vec![0u8; k];
    rng.fill_bytes(&mut base);
    base[0] &= (0xff >> excess) >> 1;
    (n, base)
}

#[test]
fn pow_matches_a_reference_across_limb_boundaries() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for bits in [
        2, 3, 8, 27, 28, 29, 55, 56, 57, 255, 256, 1023, 2047, 2048, 2049, 3072, 4095, 4096,
    ] {
        for _ in 0..3 {
            let (n, base) = random_case(&mut rng, bits);
            let modulus = Modulus::new(&n).unwrap();
            assert_eq!(modulus.bits(), bits);
            assert_eq!(
                modulus.pow_65537(&base).unwrap(),
                reference(&n, &base),
                "{bits} bits"
            );
        }
    }
}

#[test]
fn the_largest_modulus_and_base_do_not_overflow_a_column() {
    // All-ones limbs make every column sum as large as it can be.
    let n = vec![0xffu8; MAX_BITS / 8];
    let mut base = n.clone();
    *base.last_mut().unwrap() = 0xfe;
    let modulus = Modulus::new(&n).unwrap();
    assert_eq!(modulus.pow_65537(&base).unwrap(), reference(&n, &base));
}

#[test]
fn zero_and_one_are_fixed_points() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (n, _) = random_case(&mut rng, 2048);
    let modulus = Modulus::new(&n).unwrap();
    let zero = vec![0u8; 256];
    let mut one = zero.clone();
    one[255] = 1;
    assert_eq!(modulus.pow_65537(&zero).unwrap(), zero);
    assert_eq!(modulus.pow_65537(&one).unwrap(), one);
}

#[test]
fn a_base_not_below_the_modulus_or_of_another_length_is_refused() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, base) = random_case(&mut rng, 2048);
    let modulus = Modulus::new(&n).unwrap();
    assert_eq!(modulus.pow_65537(&n), None);
    assert_eq!(modulus.pow_65537(&[0xff; 256]), None);
    assert_eq!(modulus.pow_65537(&base[1..]), None);
    let mut longer = vec![0u8];
    longer.extend_from_slice(&base);
    assert_eq!(modulus.pow_65537(&longer), None);
    assert_eq!(modulus.pow_65537(&[]), None);
}

#[test]
fn leading_zero_bytes_of_the_modulus_are_ignored() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (n, base) = random_case(&mut rng, 2048);
    let mut padded = vec![0u8, 0];
    padded.extend_from_slice(&n);
    let modulus = Modulus::new(&padded).unwrap();
    assert_eq!(modulus.byte_len(), 256);
    assert_eq!(modulus.pow_65537(&base).unwrap(), reference(&n, &base));
}

#[test]
fn an_even_tiny_empty_or_oversized_modulus_is_refused() {
    assert_eq!(Modulus::new(&[0x01, 0x00]), None);
    assert_eq!(Modulus::new(&[0x01]), None);
    assert_eq!(Modulus::new(&[0x00, 0x00]), None);
    assert_eq!(Modulus::new(&[]), None);
    let mut oversized = vec![0xffu8; MAX_BITS / 8 + 1];
    oversized[0] = 0x01;
    assert_eq!(Modulus::new(&oversized), None);
}
