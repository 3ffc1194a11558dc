//! Which URLs a provider may name and the fetcher may follow: https, or plain http to a
//! loopback host only (local IdPs and tests), never credentials in the URL.
//!
//! The JWKS decides which signatures are trusted, so it must come over TLS: a plain-http
//! hop anywhere on the network would let an on-path attacker substitute their own keys.

use reqwest::Url;
use std::net::IpAddr;

/// Checks `raw` as a URL to fetch from and parses it; the error is the reason, for a
/// message that names the field.
pub fn check_fetch_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("must be an absolute URL, got {raw:?}: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "must be https (plain http only to a loopback host), got {raw:?}"
            ));
        }
        other => return Err(format!("must be an https URL, got scheme `{other}`")),
    }
    if url.host().is_none() {
        return Err(format!("must name a host, got {raw:?}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs and in the audit of every change.
        return Err("must not carry a user name or password".to_owned());
    }
    if url.fragment().is_some() {
        return Err(format!("must not have a fragment, got {raw:?}"));
    }
    Ok(url)
}

/// Whether `url` points at this machine: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // The parser has already normalized IPv4 (`127.1` is `127.0.0.1`); IPv6 is bracketed.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_to_loopback_are_accepted() {
        for ok in [
            "https://idp.example/.well-known/jwks.json",
            "https://idp.example:8443/t?x=1",
            "http://127.0.0.1:9000/jwks",
            "http://127.8.9.10/jwks",
            "http://localhost:8080/jwks",
            "http://[::1]:8080/jwks",
        ] {
            assert!(check_fetch_url(ok).is_ok(), "{ok} refused");
        }
    }

    #[test]
    fn plain_http_to_another_host_is_refused() {
        for bad in [
            "http://idp.example/jwks",
            "http://10.0.0.1/jwks",
            "http://localhost.idp.example/jwks",
        ] {
            let reason = check_fetch_url(bad).unwrap_err();
            assert!(reason.contains("must be https"), "{bad}: {reason}");
        }
    }

    #[test]
    fn other_schemes_credentials_fragments_and_relative_urls_are_refused() {
        for (bad, why) in [
            ("ftp://idp.example/jwks", "scheme `ftp`"),
            ("file:///etc/jwks.json", "scheme `file`"),
            ("https://user:pw@idp.example/jwks", "user name or password"),
            ("https://idp.example/jwks#keys", "fragment"),
            ("/jwks", "absolute URL"),
        ] {
            let reason = check_fetch_url(bad).unwrap_err();
            assert!(reason.contains(why), "{bad}: {reason}");
        }
    }
}
