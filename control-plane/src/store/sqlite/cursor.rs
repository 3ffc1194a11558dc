//! Opaque keyset-pagination cursors: the sort key of the last row of a page.
//!
//! A cursor is the hex encoding of `k:<created_at>:<id>` (keys) or `a:<id>` (audit). Hex keeps
//! it URL-safe without an extra crate; the tag stops a cursor of one listing from being
//! accepted by the other. Callers must treat it as opaque.

use crate::store::{StoreError, UnixSecs};

/// Position after a key in `(created_at, id)` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KeyCursor {
    /// `created_at` of the last key returned.
    pub created_at: UnixSecs,
    /// Id of the last key returned.
    pub id: String,
}

impl KeyCursor {
    /// The opaque text handed to the caller.
    pub fn encode(&self) -> String {
        hex_encode(format!("k:{}:{}", self.created_at, self.id).as_bytes())
    }

    /// Parses a cursor issued by [`KeyCursor::encode`].
    pub fn decode(cursor: &str) -> Result<Self, StoreError> {
        let text = hex_decode_text(cursor)?;
        let rest = text.strip_prefix("k:").ok_or(StoreError::InvalidCursor)?;
        let (created_at, id) = rest.split_once(':').ok_or(StoreError::InvalidCursor)?;
        let created_at = created_at.parse().map_err(|_| StoreError::InvalidCursor)?;
        if id.is_empty() {
            return Err(StoreError::InvalidCursor);
        }
        Ok(Self {
            created_at,
            id: id.to_owned(),
        })
    }
}

/// Position after an audit event in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AuditCursor {
    /// Id of the last event returned.
    pub id: i64,
}

impl AuditCursor {
    /// The opaque text handed to the caller.
    pub fn encode(self) -> String {
        hex_encode(format!("a:{}", self.id).as_bytes())
    }

    /// Parses a cursor issued by [`AuditCursor::encode`].
    pub fn decode(cursor: &str) -> Result<Self, StoreError> {
        let text = hex_decode_text(cursor)?;
        let id = text.strip_prefix("a:").ok_or(StoreError::InvalidCursor)?;
        let id = id.parse().map_err(|_| StoreError::InvalidCursor)?;
        Ok(Self { id })
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode_text(hex: &str) -> Result<String, StoreError> {
    if !hex.len().is_multiple_of(2) {
        return Err(StoreError::InvalidCursor);
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|_| StoreError::InvalidCursor)?;
            u8::from_str_radix(pair, 16).map_err(|_| StoreError::InvalidCursor)
        })
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| StoreError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_cursor_round_trips_ids_containing_colons() {
        let cursor = KeyCursor {
            created_at: -5,
            id: "key_a:b".to_owned(),
        };
        assert_eq!(KeyCursor::decode(&cursor.encode()).expect("decode"), cursor);
    }

    #[test]
    fn audit_cursor_round_trips() {
        let cursor = AuditCursor { id: 42 };
        assert_eq!(
            AuditCursor::decode(&cursor.encode()).expect("decode"),
            cursor
        );
    }

    #[test]
    fn cursors_are_url_safe_lowercase_hex() {
        let encoded = KeyCursor {
            created_at: 1_700_000_000,
            id: "key_Zz9".to_owned(),
        }
        .encode();
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn a_cursor_of_one_listing_is_rejected_by_the_other() {
        let audit = AuditCursor { id: 1 }.encode();
        assert!(matches!(
            KeyCursor::decode(&audit),
            Err(StoreError::InvalidCursor)
        ));
        let key = KeyCursor {
            created_at: 1,
            id: "key_x".to_owned(),
        }
        .encode();
        assert!(matches!(
            AuditCursor::decode(&key),
            Err(StoreError::InvalidCursor)
        ));
    }

    #[test]
    fn malformed_cursors_are_rejected() {
        for bad in ["", "abc", "zz", "6b3a", "6b3a313a", "613a78", "ff", "é1"] {
            assert!(
                matches!(KeyCursor::decode(bad), Err(StoreError::InvalidCursor))
                    && matches!(AuditCursor::decode(bad), Err(StoreError::InvalidCursor)),
                "{bad:?} was accepted"
            );
        }
    }
}
