//! JSON objects as JWTs and JWKS carry them, with duplicate member names rejected.
//!
//! RFC 7515 §5.2 and RFC 7519 §7.2 let a parser either reject duplicate member names or
//! keep the last one; `serde_json` silently keeps the last. Two parsers that disagree on
//! which `alg` or `sub` a token has are an attack surface, so this parser refuses any
//! object, at any depth, that names a member twice.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// The longest duplicate member name quoted in a message.
const MAX_NAME_IN_MESSAGE: usize = 64;

/// Why bytes are not the JSON object expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON at all (or not UTF-8, or trailing data).
    #[error("expected JSON, got a syntax error: {reason}")]
    Syntax {
        /// `serde_json`'s description, with line and column.
        reason: String,
    },
    /// An object names the same member twice.
    #[error("expected unique member names, got {name:?} twice")]
    Duplicate {
        /// The repeated name, truncated.
        name: String,
    },
    /// Valid JSON, but not an object.
    #[error("expected a JSON object, got {actual}")]
    NotObject {
        /// The JSON type found.
        actual: &'static str,
    },
}

/// Parses `bytes` as one JSON object, rejecting duplicate member names at any depth.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match parse(bytes)? {
        Value::Object(map) => Ok(map),
        other => Err(JsonError::NotObject {
            actual: type_name(&other),
        }),
    }
}

/// Parses `bytes` as one JSON value, rejecting duplicate member names at any depth.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = UniqueSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    value.map_err(|e| match duplicate.take() {
        Some(name) => JsonError::Duplicate { name },
        None => JsonError::Syntax {
            reason: e.to_string(),
        },
    })
}

/// The JSON type of `value`, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes a [`Value`] like `serde_json` does, but records the first duplicate
/// member name (so it can be reported as such) and fails there.
#[derive(Clone, Copy)]
struct UniqueSeed<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for UniqueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so this is always a number.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                let quoted: String = name.chars().take(MAX_NAME_IN_MESSAGE).collect();
                self.duplicate.replace(Some(quoted));
                return Err(de::Error::custom("duplicate member name"));
            }
            let value = access.next_value_seed(self)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_parses_like_serde_json() {
        let text = br#"{"a":1,"b":[true,null,-2,1.5,"x"],"c":{"d":{}}}"#;
        let expected = json!({"a":1,"b":[true,null,-2,1.5,"x"],"c":{"d":{}}});
        assert_eq!(Value::Object(parse_object(text).unwrap()), expected);
    }

    #[test]
    fn a_duplicate_top_level_member_is_rejected() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","alg":"none"}"#),
            Err(JsonError::Duplicate { name: "alg".into() })
        );
    }

    #[test]
    fn a_duplicate_nested_member_is_rejected() {
        let nested = br#"{"o":{"id":"org_1","x":[{"rol":"a","rol":"b"}]}}"#;
        assert_eq!(
            parse_object(nested),
            Err(JsonError::Duplicate { name: "rol".into() })
        );
    }

    #[test]
    fn escaped_spellings_of_the_same_name_are_duplicates() {
        assert!(matches!(
            parse_object(br#"{"sub":"a","s\u0075b":"b"}"#),
            Err(JsonError::Duplicate { .. })
        ));
    }

    #[test]
    fn trailing_data_and_non_objects_are_rejected() {
        assert!(matches!(
            parse_object(br#"{"a":1} x"#),
            Err(JsonError::Syntax { .. })
        ));
        assert_eq!(
            parse_object(b"[1]"),
            Err(JsonError::NotObject { actual: "an array" })
        );
        assert!(matches!(
            parse_object(b"{\"a\":\"\xff\"}"),
            Err(JsonError::Syntax { .. })
        ));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(JsonError::Syntax { .. })
        ));
    }
}
