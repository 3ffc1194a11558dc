//! Modular exponentiation by 65537 for RSA signature verification: Montgomery
//! multiplication in 28-bit limbs held in `u32`s, with `u64` column sums.
//!
//! Why 28 bits: Wasm has no 64×64→128 multiply, so limbs must multiply in 64 bits. A
//! product of two 28-bit limbs is below 2^56, so a column of up to 255 products sums in a
//! `u64` with no per-product carry handling (product scanning, "FIPS" Montgomery), which
//! makes the inner loops a bare multiply-add. Every column sum is split into its low 28
//! bits and the rest before the next is added, so nothing overflows for moduli up to
//! [`MAX_BITS`]. The second operand of each column (and the modulus) is kept in reverse
//! limb order, so both run forwards and the column sum is a plain dot product, which LLVM
//! vectorises (SSE2 natively, `simd128` in Wasm when enabled).
//!
//! Invariants: every value is `L` limbs, each below 2^28, with `R = 2^(28·L)` and
//! `4·n < R`; Montgomery products of values below `2n` stay below `2n`, so only the final
//! result needs a subtraction. The inputs are public (a public key and a signature), so
//! nothing here needs to be constant-time; it must only never panic on any input.

/// Bits per limb.
const LIMB_BITS: u32 = 28;
/// The low `LIMB_BITS` bits.
const MASK: u64 = (1 << LIMB_BITS) - 1;
/// The largest modulus accepted, in bits, which covers every mainstream issuer. Each
/// column sum adds at most `L` products below 2^56 in one `u64`, so the arithmetic itself
/// would allow `L` up to 255 limbs (7138 bits); larger keys would only cost more per token.
pub const MAX_BITS: usize = 4096;

/// An odd modulus above 1 with what Montgomery multiplication needs, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modulus {
    /// The modulus, big-endian, without leading zero bytes.
    be: Vec<u8>,
    /// The modulus in `L` little-endian limbs.
    limbs: Vec<u32>,
    /// The limbs in reverse order, so column sums run both operands forwards.
    reversed: Vec<u32>,
    /// `-n^-1 mod 2^28`.
    n0_inv: u32,
    /// `R^2 mod n`, to bring a value into Montgomery form.
    r_squared: Vec<u32>,
}

impl Modulus {
    /// The modulus `be` (big-endian, leading zeros ignored), if it is odd, above 1 and at
    /// most [`MAX_BITS`] bits.
    pub fn new(be: &[u8]) -> Option<Modulus> {
        let start = be.iter().position(|&b| b != 0)?;
        let be = be.get(start..)?.to_vec();
        let bits = bit_length(&be);
        if !(2..=MAX_BITS).contains(&bits) || be.last().is_none_or(|b| b & 1 == 0) {
            return None;
        }
        // R = 2^(28·L) must exceed 4n, so Montgomery results stay below 2n.
        let len = (bits + 2).div_ceil(LIMB_BITS as usize);
        let limbs = from_be(&be, len);
        let n0 = *limbs.first()?;
        // Newton's iteration doubles the correct low bits of an inverse: 3, 6, 12, 24, 48.
        let mut inv = n0;
        for _ in 0..4 {
            inv = inv.wrapping_mul(2u32.wrapping_sub(n0.wrapping_mul(inv)));
        }
        let n0_inv = inv.wrapping_neg() & MASK as u32;
        let r_squared = r_squared(&limbs, bits);
        let reversed = limbs.iter().rev().copied().collect();
        Some(Modulus {
            be,
            limbs,
            reversed,
            n0_inv,
            r_squared,
        })
    }

    /// The modulus's length in bits.
    pub fn bits(&self) -> usize {
        bit_length(&self.be)
    }

    /// The modulus's length in bytes (`k` of RFC 8017).
    pub fn byte_len(&self) -> usize {
        self.be.len()
    }

    /// `base^65537 mod n` as `k` big-endian bytes, where `base` is `k` big-endian bytes;
    /// `None` when `base` is not exactly `k` bytes or not below `n` (RFC 8017 §5.2.2).
    pub fn pow_65537(&self, base: &[u8]) -> Option<Vec<u8>> {
        if base.len() != self.be.len() || base >= self.be.as_slice() {
            return None;
        }
        let len = self.limbs.len();
        let s = from_be(base, len);
        let mut m = vec![0u32; len];
        let mut rev = vec![0u32; len];
        let mut x = vec![0u32; len];
        let mut y = vec![0u32; len];
        self.multiply(&s, &self.r_squared, &mut x, &mut m, &mut rev); // s·R
        for _ in 0..8 {
            self.square(&x, &mut y, &mut m, &mut rev);
            self.square(&y, &mut x, &mut m, &mut rev);
        } // s^65536·R
        // Multiplying by plain s both raises to 65537 and leaves Montgomery form.
        self.multiply(&x, &s, &mut y, &mut m, &mut rev);
        if !less_than(&y, &self.limbs) {
            subtract(&mut y, &self.limbs);
        }
        Some(to_be(&y, self.be.len()))
    }

    /// `out = a·b·R^-1 mod n` (below `2n` for `a`, `b` below `2n`).
    fn multiply(&self, a: &[u32], b: &[u32], out: &mut [u32], m: &mut [u32], b_rev: &mut [u32]) {
        let len = self.limbs.len();
        reverse_into(b, b_rev);
        // Σ a_j·b_(c−j) for j in lo..=hi, c = lo + hi, is a[lo..=hi]·b_rev[len−1−hi..].
        self.reduce(
            |lo, hi| dot(a.get(lo..=hi), b_rev.get(len - 1 - hi..len - lo)),
            out,
            m,
        );
    }

    /// `out = a·a·R^-1 mod n`: each cross product is computed once and doubled.
    fn square(&self, a: &[u32], out: &mut [u32], m: &mut [u32], a_rev: &mut [u32]) {
        let len = self.limbs.len();
        reverse_into(a, a_rev);
        self.reduce(
            |lo, hi| {
                // Column lo + hi: pairs (j, lo + hi − j) for j below the middle, twice,
                // plus the middle square when the column has an odd number of terms.
                let half = (hi - lo).div_ceil(2);
                let start = len - 1 - hi;
                let cross = dot(a.get(lo..lo + half), a_rev.get(start..start + half));
                let middle = if (hi - lo) % 2 == 0 {
                    a.get(lo + half).map_or(0, |&v| u64::from(v) * u64::from(v))
                } else {
                    0
                };
                2 * cross + middle
            },
            out,
            m,
        );
    }

    /// Product-scanning Montgomery reduction. `column(lo, hi)` is the sum of `x_j·y_(c−j)`
    /// for `j` in `lo..=hi`, the product terms of column `c = lo + hi`.
    fn reduce(&self, column: impl Fn(usize, usize) -> u64, out: &mut [u32], m: &mut [u32]) {
        let n = &self.limbs;
        let n_rev = &self.reversed;
        let len = n.len();
        let n0 = u64::from(n.first().copied().unwrap_or(1));
        let mut carry = 0u64;
        for c in 0..len {
            let products = column(0, c);
            // Σ m_j·n_(c−j) for j < c is m[..c]·n_rev[len−1−c..len−1].
            let reduction = dot(m.get(..c), n_rev.get(len - 1 - c..len - 1));
            let lo = (carry & MASK) + (products & MASK) + (reduction & MASK);
            let hi = (carry >> LIMB_BITS) + (products >> LIMB_BITS) + (reduction >> LIMB_BITS);
            let mc = (lo as u32).wrapping_mul(self.n0_inv) & MASK as u32;
            if let Some(slot) = m.get_mut(c) {
                *slot = mc;
            }
            // lo + mc·n0 is a multiple of 2^28 by the choice of mc.
            carry = hi + ((lo + u64::from(mc) * n0) >> LIMB_BITS);
        }
        for c in len..2 * len - 1 {
            let lo_index = c + 1 - len;
            let products = column(lo_index, len - 1);
            let reduction = dot(m.get(lo_index..), n_rev.get(..len - lo_index));
            let lo = (carry & MASK) + (products & MASK) + (reduction & MASK);
            let hi = (carry >> LIMB_BITS) + (products >> LIMB_BITS) + (reduction >> LIMB_BITS);
            if let Some(slot) = out.get_mut(c - len) {
                *slot = (lo & MASK) as u32;
            }
            carry = hi + (lo >> LIMB_BITS);
        }
        // The result is below 2n < R/2, so the last carry is the top limb.
        if let Some(slot) = out.last_mut() {
            *slot = carry as u32;
        }
    }
}

/// `to` = `from` in reverse limb order.
fn reverse_into(from: &[u32], to: &mut [u32]) {
    for (t, f) in to.iter_mut().zip(from.iter().rev()) {
        *t = *f;
    }
}

/// `Σ x_j·y_j`: the terms of one column, both operands ascending.
#[inline(always)]
fn dot(x: Option<&[u32]>, y: Option<&[u32]>) -> u64 {
    let (Some(x), Some(y)) = (x, y) else { return 0 };
    x.iter()
        .zip(y)
        .map(|(a, b)| u64::from(*a) * u64::from(*b))
        .sum()
}

/// `R^2 mod n` by doubling `2^(bits−1)` (which is below `n`) up to `2^(56·L)`.
fn r_squared(n: &[u32], bits: usize) -> Vec<u32> {
    let len = n.len();
    let mut x = vec![0u32; len];
    let top = bits - 1;
    if let Some(limb) = x.get_mut(top / LIMB_BITS as usize) {
        *limb = 1 << (top % LIMB_BITS as usize);
    }
    for _ in top..2 * LIMB_BITS as usize * len {
        let mut carry = 0u32;
        for limb in x.iter_mut() {
            let doubled = (*limb << 1) | carry;
            carry = doubled >> LIMB_BITS;
            *limb = doubled & MASK as u32;
        }
        // x < n before doubling, so 2x < 2n and one subtraction suffices; the carry out
        // of the top limb is zero because n < R/4.
        if !less_than(&x, n) {
            subtract(&mut x, n);
        }
    }
    x
}

/// Whether `a < b`, both `L` limbs.
fn less_than(a: &[u32], b: &[u32]) -> bool {
    a.iter().rev().cmp(b.iter().rev()) == std::cmp::Ordering::Less
}

/// `a -= b`, for `a >= b`, both `L` limbs.
fn subtract(a: &mut [u32], b: &[u32]) {
    let mut borrow = 0u32;
    for (x, y) in a.iter_mut().zip(b) {
        let diff = x.wrapping_sub(*y).wrapping_sub(borrow);
        borrow = diff >> 31;
        *x = diff & MASK as u32;
    }
}

/// The number of significant bits of a big-endian integer without leading zero bytes.
fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        Some(&top) => be.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// `be` (big-endian) as `len` limbs; bits beyond `28·len` are dropped (callers ensure
/// there are none).
fn from_be(be: &[u8], len: usize) -> Vec<u32> {
    let mut limbs = vec![0u32; len];
    let mut slots = limbs.iter_mut();
    let (mut acc, mut held) = (0u64, 0u32);
    for &byte in be.iter().rev() {
        acc |= u64::from(byte) << held;
        held += 8;
        if held >= LIMB_BITS {
            if let Some(slot) = slots.next() {
                *slot = (acc & MASK) as u32;
            }
            acc >>= LIMB_BITS;
            held -= LIMB_BITS;
        }
    }
    if let Some(slot) = slots.next() {
        *slot = acc as u32;
    }
    limbs
}

/// `limbs` as `len` big-endian bytes; bits beyond `8·len` are dropped (callers ensure
/// there are none).
fn to_be(limbs: &[u32], len: usize) -> Vec<u8> {
    let mut be = vec![0u8; len];
    let mut slots = be.iter_mut().rev();
    let (mut acc, mut held) = (0u64, 0u32);
    for &limb in limbs {
        acc |= u64::from(limb) << held;
        held += LIMB_BITS;
        while held >= 8 {
            if let Some(slot) = slots.next() {
                *slot = acc as u8;
            }
            acc >>= 8;
            held -= 8;
        }
    }
    if let Some(slot) = slots.next() {
        *slot = acc as u8;
    }
    be
}

#[cfg(test)]
mod tests;
