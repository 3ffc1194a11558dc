//! Each fixture is a good claims set with one claim changed, named for it.

use super::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://issuer.example";

fn rules() -> ClaimRules {
    ClaimRules {
        issuer: ISSUER.into(),
        audiences: vec!["api".into(), "admin-api".into()],
        authorized_parties: Vec::new(),
        leeway: Duration::from_secs(5),
        require_exp: true,
        required: Vec::new(),
    }
}

fn good() -> Value {
    json!({"iss": ISSUER, "aud": "api", "sub": "u1", "exp": NOW + 60, "nbf": NOW - 60})
}

fn with(name: &str, value: Value) -> Map<String, Value> {
    let mut claims = good();
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(name);
    } else {
        claims[name] = value;
    }
    claims.as_object().unwrap().clone()
}

fn check(claims: &Map<String, Value>) -> Result<Option<i64>, ClaimError> {
    rules().check(claims, NOW)
}

#[test]
fn a_good_token_passes_and_reports_its_exp() {
    assert_eq!(check(good().as_object().unwrap()), Ok(Some(NOW + 60)));
}

#[test]
fn expired_token_is_rejected_beyond_leeway() {
    let err = check(&with("exp", json!(NOW - 5))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "jwt `exp` 1799999995 is before now 1800000000 (leeway 5s)"
    );
}

#[test]
fn expired_token_within_leeway_is_accepted() {
    assert!(check(&with("exp", json!(NOW - 4))).is_ok());
}

#[test]
fn missing_exp_is_rejected_unless_the_provider_allows_it() {
    let claims = with("exp", Value::Null);
    assert_eq!(
        check(&claims),
        Err(ClaimError::Missing { name: "exp".into() })
    );
    let lenient = ClaimRules {
        require_exp: false,
        ..rules()
    };
    assert_eq!(lenient.check(&claims, NOW), Ok(None));
}

#[test]
fn exp_as_a_string_is_rejected() {
    assert!(matches!(
        check(&with("exp", json!("1900000000"))),
        Err(ClaimError::Type { name: "exp", .. })
    ));
}

#[test]
fn fractional_exp_is_rounded_down_and_huge_exp_saturates() {
    assert_eq!(
        check(&with("exp", json!(1_800_000_060.9))),
        Ok(Some(NOW + 60))
    );
    assert_eq!(check(&with("exp", json!(1e300))), Ok(Some(i64::MAX)));
    assert_eq!(check(&with("exp", json!(u64::MAX))), Ok(Some(i64::MAX)));
    assert!(matches!(
        check(&with("exp", json!(-1e300))),
        Err(ClaimError::Expired { .. })
    ));
}

#[test]
fn future_nbf_is_rejected_beyond_leeway() {
    assert!(matches!(
        check(&with("nbf", json!(NOW + 6))),
        Err(ClaimError::NotYetValid { nbf, .. }) if nbf == NOW + 6
    ));
    assert!(check(&with("nbf", json!(NOW + 5))).is_ok());
    assert!(check(&with("nbf", json!(NOW as f64 + 5.5))).is_err());
}

#[test]
fn another_or_missing_issuer_is_rejected() {
    assert_eq!(
        check(&with("iss", json!("https://issuer.example/")))
            .unwrap_err()
            .to_string(),
        "jwt `iss` is \"https://issuer.example/\", expected \"https://issuer.example\""
    );
    assert!(matches!(
        check(&with("iss", Value::Null)),
        Err(ClaimError::Issuer { actual: None, .. })
    ));
}

#[test]
fn an_audience_in_an_array_matches_any_of() {
    assert!(check(&with("aud", json!(["other", "admin-api"]))).is_ok());
}

#[test]
fn an_unknown_or_missing_audience_is_rejected() {
    assert_eq!(
        check(&with("aud", json!(["other"]))),
        Err(ClaimError::Audience {
            expected: vec!["api".into(), "admin-api".into()],
            actual: vec!["other".into()]
        })
    );
    assert!(matches!(
        check(&with("aud", Value::Null)),
        Err(ClaimError::Audience { .. })
    ));
    assert!(matches!(
        check(&with("aud", json!(["api", 7]))),
        Err(ClaimError::Type { name: "aud", .. })
    ));
}

#[test]
fn audience_is_not_checked_when_none_is_configured() {
    let open = ClaimRules {
        audiences: Vec::new(),
        ..rules()
    };
    assert!(open.check(&with("aud", json!("anything")), NOW).is_ok());
    assert!(open.check(&with("aud", Value::Null), NOW).is_ok());
}

#[test]
fn azp_must_be_allowed_when_an_allow_list_is_configured() {
    let strict = ClaimRules {
        authorized_parties: vec!["https://app.example".into()],
        ..rules()
    };
    assert!(
        strict
            .check(&with("azp", json!("https://app.example")), NOW)
            .is_ok()
    );
    assert!(matches!(
        strict.check(&with("azp", json!("https://evil.example")), NOW),
        Err(ClaimError::AuthorizedParty { .. })
    ));
    assert!(matches!(
        strict.check(good().as_object().unwrap(), NOW),
        Err(ClaimError::AuthorizedParty { actual: None, .. })
    ));
}

#[test]
fn a_required_claim_that_is_missing_or_null_is_rejected() {
    let requiring = ClaimRules {
        required: vec!["sid".into()],
        ..rules()
    };
    assert_eq!(
        requiring.check(good().as_object().unwrap(), NOW),
        Err(ClaimError::Missing { name: "sid".into() })
    );
    let mut null = good();
    null["sid"] = Value::Null;
    assert!(requiring.check(null.as_object().unwrap(), NOW).is_err());
    assert!(requiring.check(&with("sid", json!("sess_1")), NOW).is_ok());
}
