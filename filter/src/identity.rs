//! Who a request is, and the `x-auth-*` headers that tell the upstream.
//!
//! Invariant: the upstream only ever sees `x-auth-*` headers this filter set. Every
//! client-supplied one is removed first, on every path (public routes and zero-auth too).

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
}

impl Method {
    /// The value of `x-auth-method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::StaticToken => "static_token",
            Method::ZeroAuth => "zero_auth",
        }
    }
}

/// An authenticated principal, built once at configure time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// How it authenticated.
    pub method: Method,
    /// The subject (`x-auth-subject`).
    pub subject: String,
    /// The role (`x-auth-role`).
    pub role: String,
    /// The scopes held.
    pub scopes: Vec<String>,
    /// `scopes` joined once, so a request does not allocate it.
    scopes_header: String,
}

impl Identity {
    /// An identity with the given attributes.
    pub fn new(method: Method, subject: String, role: String, scopes: Vec<String>) -> Self {
        let scopes_header = scopes.join(" ");
        Identity {
            method,
            subject,
            role,
            scopes,
            scopes_header,
        }
    }

    /// The identity zero-auth mode grants every trusted request.
    pub fn zero_auth() -> Self {
        Identity::new(
            Method::ZeroAuth,
            ZERO_AUTH_SUBJECT.to_owned(),
            ZERO_AUTH_ROLE.to_owned(),
            Vec::new(),
        )
    }

    /// Whether the identity holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The identity headers to set on an allowed request.
    pub fn headers(&self) -> [(&'static str, &str); 4] {
        [
            (METHOD_HEADER, self.method.as_str()),
            (SUBJECT_HEADER, &self.subject),
            (ROLE_HEADER, &self.role),
            (SCOPES_HEADER, &self.scopes_header),
        ]
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
            "system_admin".into(),
            vec!["deploy".into(), "read".into()],
        );
        assert_eq!(
            id.headers(),
            [
                ("x-auth-method", "static_token"),
                ("x-auth-subject", "ci"),
                ("x-auth-role", "system_admin"),
                ("x-auth-scopes", "deploy read"),
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
