//! Who a request is, and the `x-auth-*` headers that tell the upstream.
//!
//! Invariant: the upstream only ever sees `x-auth-*` headers this filter set. Every
//! client-supplied one is removed first, on every path (public routes and zero-auth too).

use crate::jwt::identity::JwtIdentity;

/// Prefix of every identity header; client copies of any header with it are stripped.
pub const HEADER_PREFIX: &str = "x-auth-";
/// How the request authenticated (`static_token`, `zero_auth`).
pub const METHOD_HEADER: &str = "x-auth-method";
/// The authenticated subject.
pub const SUBJECT_HEADER: &str = "x-auth-subject";
/// The subject's role.
pub const ROLE_HEADER: &str = "x-auth-role";
/// The subject's scopes, space-separated (RFC 6749 §3.3 style).
pub const SCOPES_HEADER: &str = "x-auth-scopes";
/// The API key's id (API keys only).
pub const KEY_ID_HEADER: &str = "x-auth-key-id";
/// The org the credential belongs to.
pub const ORG_HEADER: &str = "x-auth-org";
/// The rate-limit tier of the credential.
pub const TIER_HEADER: &str = "x-auth-tier";
/// The JWT's role in its org (`org:<role>`).
pub const ORG_ROLE_HEADER: &str = "x-auth-org-role";
/// The JWT's issuer.
pub const ISSUER_HEADER: &str = "x-auth-issuer";

/// The subject and role zero-auth mode grants.
pub const ZERO_AUTH_SUBJECT: &str = "local_admin";
/// The role zero-auth mode grants.
pub const ZERO_AUTH_ROLE: &str = "admin";

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A configured static token.
    StaticToken,
    /// Zero-auth mode, from a trusted network.
    ZeroAuth,
    /// An API key managed by the control-plane.
    ApiKey,
    /// A JWT from a configured or synced provider.
    Jwt,
}

impl Method {
    /// The value of `x-auth-method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::StaticToken => "static_token",
            Method::ZeroAuth => "zero_auth",
            Method::ApiKey => "api_key",
            Method::Jwt => "jwt",
        }
    }
}

/// An authenticated principal. Static tokens' identities are built once at configure time;
/// an API key's is built from its shared-data record per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// How it authenticated.
    pub method: Method,
    /// The subject (`x-auth-subject`): the configured subject, or the API key's id.
    pub subject: String,
    /// The roles held (`x-auth-role`, space-separated).
    pub roles: Vec<String>,
    /// The scopes held (`x-auth-scopes`, space-separated).
    pub scopes: Vec<String>,
    /// The API key's id, org and tier, for API keys.
    pub key: Option<KeyIdentity>,
    /// The JWT's org, org role, issuer and mapped claims, for JWTs.
    pub token: Option<TokenIdentity>,
    /// `roles` and `scopes` joined once, so setting headers does not allocate.
    roles_header: String,
    scopes_header: String,
}

/// What a JWT adds to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    /// `x-auth-org`, when the token names an org.
    pub org_id: Option<String>,
    /// `x-auth-org-role`, as `org:<role>`.
    pub org_role: Option<String>,
    /// `x-auth-issuer`.
    pub issuer: String,
    /// The configured claim → header mappings' headers.
    pub claim_headers: Vec<(String, String)>,
}

/// What an API key adds to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyIdentity {
    /// `x-auth-key-id`.
    pub key_id: String,
    /// `x-auth-org`.
    pub org_id: String,
    /// `x-auth-tier`, when the key has one.
    pub tier: Option<String>,
}

impl Identity {
    /// An identity with the given attributes.
    pub fn new(method: Method, subject: String, roles: Vec<String>, scopes: Vec<String>) -> Self {
        Identity {
            method,
            subject,
            roles_header: roles.join(" "),
            scopes_header: scopes.join(" "),
            roles,
            scopes,
            key: None,
            token: None,
        }
    }

    /// The identity of a verified JWT.
    pub fn jwt(verified: JwtIdentity) -> Self {
        let mut identity = Identity::new(
            Method::Jwt,
            verified.subject,
            verified.roles,
            verified.scopes,
        );
        identity.token = Some(TokenIdentity {
            org_id: verified.org_id,
            org_role: verified.org_role,
            issuer: verified.issuer,
            claim_headers: verified.claim_headers,
        });
        identity
    }

    /// The identity of an API key.
    pub fn api_key(key: KeyIdentity, roles: Vec<String>, scopes: Vec<String>) -> Self {
        let mut identity = Identity::new(Method::ApiKey, key.key_id.clone(), roles, scopes);
        identity.key = Some(key);
        identity
    }

    /// The identity zero-auth mode grants every trusted request.
    pub fn zero_auth() -> Self {
        Identity::new(
            Method::ZeroAuth,
            ZERO_AUTH_SUBJECT.to_owned(),
            vec![ZERO_AUTH_ROLE.to_owned()],
            Vec::new(),
        )
    }

    /// Whether the identity holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the identity has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The identity headers to set on an allowed request: method, subject, role and scopes
    /// always; key id, org, tier, org role, issuer and mapped claims when the credential
    /// has them.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let key = self.key.as_ref();
        let token = self.token.as_ref();
        let org = key
            .map(|k| k.org_id.as_str())
            .or_else(|| token.and_then(|t| t.org_id.as_deref()));
        [
            (METHOD_HEADER, Some(self.method.as_str())),
            (SUBJECT_HEADER, Some(self.subject.as_str())),
            (ROLE_HEADER, Some(self.roles_header.as_str())),
            (SCOPES_HEADER, Some(self.scopes_header.as_str())),
            (KEY_ID_HEADER, key.map(|k| k.key_id.as_str())),
            (ORG_HEADER, org),
            (TIER_HEADER, key.and_then(|k| k.tier.as_deref())),
            (ORG_ROLE_HEADER, token.and_then(|t| t.org_role.as_deref())),
            (ISSUER_HEADER, token.map(|t| t.issuer.as_str())),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .chain(
            token
                .into_iter()
                .flat_map(|t| &t.claim_headers)
                .map(|(name, value)| (name.as_str(), value.as_str())),
        )
    }
}

/// Names of client-supplied identity headers in `headers`, to be removed before anything
/// else happens. Envoy hands header names lowercased.
pub fn spoofed<'h, V>(headers: &'h [(String, V)]) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| name.starts_with(HEADER_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_x_auth_header_is_reported_as_spoofed() {
        let headers = vec![
            ("x-auth-subject".to_owned(), b"mallory".to_vec()),
            ("x-authorization".to_owned(), b"kept".to_vec()),
            ("x-auth-role".to_owned(), b"admin".to_vec()),
            ("authorization".to_owned(), b"Bearer t".to_vec()),
        ];
        let names: Vec<&str> = spoofed(&headers).collect();
        assert_eq!(names, ["x-auth-subject", "x-auth-role"]);
    }

    #[test]
    fn identity_headers_carry_method_subject_role_and_joined_scopes() {
        let id = Identity::new(
            Method::StaticToken,
            "ci".into(),
            vec!["system_admin".into()],
            vec!["deploy".into(), "read".into()],
        );
        assert_eq!(
            id.headers().collect::<Vec<_>>(),
            [
                ("x-auth-method", "static_token"),
                ("x-auth-subject", "ci"),
                ("x-auth-role", "system_admin"),
                ("x-auth-scopes", "deploy read"),
            ]
        );
    }

    #[test]
    fn api_key_identity_adds_key_id_org_and_tier() {
        let key = KeyIdentity {
            key_id: "key_1".into(),
            org_id: "acme".into(),
            tier: None,
        };
        let id = Identity::api_key(key, vec![], vec!["read".into()]);
        assert_eq!(
            id.headers().collect::<Vec<_>>(),
            [
                ("x-auth-method", "api_key"),
                ("x-auth-subject", "key_1"),
                ("x-auth-role", ""),
                ("x-auth-scopes", "read"),
                ("x-auth-key-id", "key_1"),
                ("x-auth-org", "acme"),
            ]
        );
    }

    #[test]
    fn zero_auth_identity_is_local_admin() {
        let id = Identity::zero_auth();
        assert_eq!(id.subject, "local_admin");
        assert_eq!(id.method.as_str(), "zero_auth");
    }
}
