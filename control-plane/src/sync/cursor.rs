//! `SnapshotCursor`: where a snapshot continues, as the opaque `cursor` string the syncer
//! hands back.
//!
//! The text is `<snapshot revision>.<64 lowercase hex of the last digest sent>`. Only this
//! module reads or writes it; the syncer never looks inside.

use crate::store::Digest;
use crate::sync::SyncError;
use std::fmt::Write as _;

/// A snapshot in progress: the revision it was taken at and the last digest it sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotCursor {
    /// The revision read before the snapshot's first page.
    pub revision: u64,
    /// The last digest sent; the next page starts after it.
    pub after: Digest,
}

impl SnapshotCursor {
    /// The opaque text of the cursor.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.revision, hex(&self.after))
    }

    /// Parses a cursor issued by [`SnapshotCursor::encode`].
    pub fn decode(text: &str) -> Result<Self, SyncError> {
        let invalid = || SyncError::InvalidCursor("`cursor` was not issued by this server".into());
        let (revision, digest) = text.split_once('.').ok_or_else(invalid)?;
        // `u64::from_str` accepts a leading `+`; a cursor never has one.
        if !revision.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let revision = revision.parse().map_err(|_| invalid())?;
        let after = unhex(digest).ok_or_else(invalid)?;
        Ok(Self { revision, after })
    }
}

/// Lowercase hex, as digests travel on the wire.
pub fn hex(digest: &Digest) -> String {
    let mut out = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// 64 lowercase hex characters back into a digest.
fn unhex(text: &str) -> Option<Digest> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = (nibble(*pair.first()?)? << 4) | nibble(*pair.get(1)?)?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_through_its_text() {
        let mut after = [0u8; 32];
        after[0] = 0xab;
        after[31] = 0x09;
        let cursor = SnapshotCursor {
            revision: 42,
            after,
        };
        let text = cursor.encode();
        assert!(text.starts_with("42.ab00"), "{text}");
        assert!(text.ends_with("09"), "{text}");
        assert_eq!(SnapshotCursor::decode(&text).unwrap(), cursor);
    }

    #[test]
    fn malformed_cursors_are_refused() {
        let digest = "0".repeat(64);
        for text in [
            String::new(),
            "7".to_owned(),
            digest.clone(),
            format!("+7.{digest}"),
            format!("x.{digest}"),
            format!("7.{}", "0".repeat(63)),
            format!("7.{}", "A".repeat(64)),
            format!("7.{digest}0"),
            format!("99999999999999999999.{digest}"),
        ] {
            assert!(
                matches!(
                    SnapshotCursor::decode(&text),
                    Err(SyncError::InvalidCursor(_))
                ),
                "{text}"
            );
        }
    }
}
