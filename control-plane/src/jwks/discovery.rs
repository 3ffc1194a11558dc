//! OIDC discovery: where an issuer publishes its JWKS, read from
//! `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
//!
//! The document's `issuer` must equal the configured issuer exactly (§4.3): otherwise a
//! tenant of a shared IdP host could point the fetcher at keys of its own choosing. Its
//! `jwks_uri` follows the same URL rules as a configured one (https, or http to loopback).

use super::FetchError;
use super::http_client::HttpClient;
use crate::providers::{check_fetch_url, discovery_url};
use reqwest::Url;
use serde_json::Value;

/// The JWKS URL `issuer`'s discovery document names, checked.
pub async fn jwks_uri(client: &HttpClient, issuer: &str) -> Result<Url, FetchError> {
    let raw = discovery_url(issuer);
    let url = check_fetch_url(&raw).map_err(|reason| FetchError::Discovery {
        url: raw.clone(),
        reason,
    })?;
    let fetched = client.get(&url).await?;
    read_document(issuer, &fetched.body)
        .map_err(|reason| FetchError::Discovery { url: raw, reason })
}

/// Checks a discovery document for `issuer` and returns its `jwks_uri`.
fn read_document(issuer: &str, body: &[u8]) -> Result<Url, String> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| format!("document is not JSON: {e}"))?;
    let found = document
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or("document has no `issuer` string")?;
    if found != issuer {
        return Err(format!(
            "document's `issuer` {found:?} differs from the configured {issuer:?}; they must \
             be identical (OpenID Connect Discovery 1.0 §4.3)"
        ));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("document has no `jwks_uri` string")?;
    check_fetch_url(jwks_uri).map_err(|reason| format!("document's `jwks_uri` {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://idp.example/tenant";

    fn document(issuer: &str, jwks_uri: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({"issuer": issuer, "jwks_uri": jwks_uri})).unwrap()
    }

    #[test]
    fn a_matching_document_gives_its_jwks_uri() {
        let url = read_document(ISSUER, &document(ISSUER, "https://keys.idp.example/jwks"));
        assert_eq!(url.unwrap().as_str(), "https://keys.idp.example/jwks");
    }

    #[test]
    fn an_issuer_that_differs_even_by_a_trailing_slash_is_refused() {
        for other in [
            "https://idp.example/tenant/",
            "https://idp.example/other",
            "HTTPS://idp.example/tenant",
        ] {
            let reason =
                read_document(ISSUER, &document(other, "https://idp.example/k")).unwrap_err();
            assert!(reason.contains("§4.3"), "{other}: {reason}");
        }
    }

    #[test]
    fn a_plain_http_jwks_uri_off_loopback_is_refused() {
        let reason = read_document(ISSUER, &document(ISSUER, "http://idp.example/k")).unwrap_err();
        assert!(reason.contains("`jwks_uri` must be https"), "{reason}");
    }

    #[test]
    fn a_document_without_issuer_or_jwks_uri_or_json_is_refused() {
        let no_uri = serde_json::to_vec(&json!({"issuer": ISSUER})).unwrap();
        assert!(
            read_document(ISSUER, &no_uri)
                .unwrap_err()
                .contains("no `jwks_uri`")
        );
        let no_issuer = serde_json::to_vec(&json!({"jwks_uri": "https://a/k"})).unwrap();
        assert!(
            read_document(ISSUER, &no_issuer)
                .unwrap_err()
                .contains("no `issuer`")
        );
        assert!(
            read_document(ISSUER, b"<html>")
                .unwrap_err()
                .contains("not JSON")
        );
    }
}
