//! Claim shapes from Clerk v1, Clerk v2 and OAuth / RFC 9068 tokens, mapped to one model.

use super::*;
use serde_json::json;
use std::collections::BTreeMap;

fn map(claims: Value) -> Result<JwtIdentity, MappingError> {
    map_with(&ClaimMapping::default(), claims)
}

fn map_with(mapping: &ClaimMapping, claims: Value) -> Result<JwtIdentity, MappingError> {
    mapping.identity("clerk", claims.as_object().unwrap(), Some(1_800_000_000))
}

#[test]
fn a_clerk_v1_token_gives_org_role_and_permissions() {
    let id = map(json!({
        "sub": "user_1",
        "org_id": "org_9",
        "org_role": "org:admin",
        "org_permissions": ["org:invoices:read", "org:invoices:write"],
    }))
    .unwrap();
    assert_eq!(id.subject, "user_1");
    assert_eq!(id.org_id.as_deref(), Some("org_9"));
    assert_eq!(id.org_role.as_deref(), Some("org:admin"));
    assert_eq!(id.roles, ["org:admin"]);
    assert_eq!(id.permissions, ["org:invoices:read", "org:invoices:write"]);
    assert_eq!(id.scopes, id.permissions);
    assert_eq!(id.expires_at, Some(1_800_000_000));
    assert_eq!(id.provider, "clerk");
}

#[test]
fn a_clerk_v2_role_is_normalised_to_the_org_prefix() {
    let id = map(json!({"sub": "user_1", "o": {"id": "org_9", "rol": "admin"}})).unwrap();
    assert_eq!(id.org_role.as_deref(), Some("org:admin"));
    assert_eq!(id.org_id.as_deref(), Some("org_9"));
}

#[test]
fn clerk_v2_permissions_may_be_a_comma_separated_string_or_an_array() {
    let joined = map(json!({"sub": "u", "o": {"id": "o", "rol": "member", "per": "read,manage"}}));
    let array =
        map(json!({"sub": "u", "o": {"id": "o", "rol": "member", "per": ["read", "manage"]}}));
    assert_eq!(joined.unwrap().permissions, ["manage", "read"]);
    assert_eq!(array.unwrap().permissions, ["manage", "read"]);
}

#[test]
fn clerk_v2_feature_permission_masks_decode_to_v1_names() {
    // Clerk's documented example: dashboard has manage and read, teams has read.
    let id = map(json!({
        "sub": "u",
        "fea": "o:dashboard,o:teams",
        "o": {"id": "org_1", "rol": "admin", "per": "manage,read", "fpm": "3,2"},
    }))
    .unwrap();
    assert_eq!(
        id.permissions,
        [
            "org:dashboard:manage",
            "org:dashboard:read",
            "org:teams:read"
        ]
    );
}

#[test]
fn a_malformed_feature_mask_is_rejected() {
    let err = map(json!({
        "sub": "u", "fea": "o:a", "o": {"id": "o", "per": "read", "fpm": "x"},
    }));
    assert!(matches!(
        err,
        Err(MappingError::Value { name: "o.fpm", .. })
    ));
}

#[test]
fn oauth_scope_and_scp_are_merged() {
    let id = map(json!({"sub": "u", "scope": "read write", "scp": ["admin", "read"]})).unwrap();
    assert_eq!(id.scopes, ["admin", "read", "write"]);
    let joined = map(json!({"sub": "u", "scp": "a b"})).unwrap();
    assert_eq!(joined.scopes, ["a", "b"]);
}

#[test]
fn a_client_credentials_token_is_its_client() {
    let id = map(json!({"client_id": "svc-1", "scope": "jobs:run"})).unwrap();
    assert_eq!(id.subject, "svc-1");
    assert_eq!(id.client_id.as_deref(), Some("svc-1"));
    let with_sub = map(json!({"sub": "svc-sub", "client_id": "svc-1"})).unwrap();
    assert_eq!(with_sub.subject, "svc-sub");
}

#[test]
fn a_token_without_sub_or_client_id_is_rejected() {
    assert_eq!(map(json!({"scope": "read"})), Err(MappingError::NoSubject));
}

#[test]
fn rfc_9068_roles_join_the_org_role() {
    let id = map(json!({"sub": "u", "org_role": "org:member", "roles": ["auditor"]})).unwrap();
    assert_eq!(id.roles, ["auditor", "org:member"]);
}

#[test]
fn roles_and_scopes_imply_scopes() {
    let direct: BTreeMap<String, Vec<String>> = [
        (
            "org:admin".to_owned(),
            vec!["org:member".to_owned(), "keys:write".to_owned()],
        ),
        ("org:member".to_owned(), vec!["keys:read".to_owned()]),
        ("write".to_owned(), vec!["read".to_owned()]),
    ]
    .into();
    let mapping = ClaimMapping {
        profile: Profile::Auto,
        implications: Implications::new(&direct),
    };
    let admin = map_with(
        &mapping,
        json!({"sub": "u", "o": {"id": "o", "rol": "admin"}}),
    )
    .unwrap();
    assert_eq!(admin.scopes, ["keys:read", "keys:write", "org:member"]);
    let writer = map_with(&mapping, json!({"sub": "u", "scope": "write"})).unwrap();
    assert_eq!(writer.scopes, ["read", "write"]);
}

#[test]
fn a_profile_reads_only_its_own_claims() {
    let claims = json!({"sub": "u", "scope": "read", "org_id": "o", "org_role": "org:admin"});
    let clerk = ClaimMapping {
        profile: Profile::Clerk,
        ..ClaimMapping::default()
    };
    let oauth = ClaimMapping {
        profile: Profile::OAuth,
        ..ClaimMapping::default()
    };
    let clerk_id = map_with(&clerk, claims.clone()).unwrap();
    assert!(clerk_id.scopes.is_empty());
    assert_eq!(clerk_id.org_id.as_deref(), Some("o"));
    let oauth_id = map_with(&oauth, claims).unwrap();
    assert_eq!(oauth_id.scopes, ["read"]);
    assert_eq!(oauth_id.org_id, None);
}

#[test]
fn a_value_unfit_for_a_header_is_rejected() {
    assert!(matches!(
        map(json!({"sub": "user\r\nx-auth-role: admin"})),
        Err(MappingError::Value { name: "sub", .. })
    ));
    assert!(matches!(
        map(json!({"sub": "u", "scp": ["ok", "a\"b"]})),
        Err(MappingError::Value { name: "scp", .. })
    ));
    assert!(matches!(
        map(json!({"sub": ""})),
        Err(MappingError::Value { name: "sub", .. })
    ));
}

#[test]
fn a_claim_of_the_wrong_type_is_rejected() {
    assert!(matches!(
        map(json!({"sub": 42})),
        Err(MappingError::Type { name: "sub", .. })
    ));
    assert!(matches!(
        map(json!({"sub": "u", "o": "org_1"})),
        Err(MappingError::Type { name: "o", .. })
    ));
    assert!(matches!(
        map(json!({"sub": "u", "scope": {"read": true}})),
        Err(MappingError::Type { name: "scope", .. })
    ));
}
