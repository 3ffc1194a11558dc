//! The identity a verified token establishes, normalised across Clerk (v1 and v2) and
//! OAuth / RFC 9068 claim shapes, so route rules and identity headers see one model.

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtIdentity {
    /// The provider that verified the token (its configured `name`).
    pub provider: String,
    /// `sub`, or `client_id` for a client-credentials token without a user (RFC 9068 §2.2).
    pub subject: String,
    /// The OAuth client the token was issued to (`client_id`), if it says.
    pub client_id: Option<String>,
    /// The active organization (Clerk `org_id` or `o.id`).
    pub org_id: Option<String>,
    /// The role in that organization, always `org:<role>` (Clerk `org_role` or `o.rol`).
    pub org_role: Option<String>,
    /// The roles held: the org role and RFC 9068 `roles`, sorted and unique.
    pub roles: Vec<String>,
    /// The organization permissions (Clerk `org_permissions`, or `o.per` / `o.fpm`),
    /// sorted and unique.
    pub permissions: Vec<String>,
    /// What route requirements check: OAuth scopes (`scope`, `scp`), the permissions,
    /// and every scope the roles and scopes imply; sorted and unique.
    pub scopes: Vec<String>,
    /// The token's `exp` (Unix seconds): a cached identity never outlives it.
    pub expires_at: Option<i64>,
    /// The provider's issuer (`iss`).
    pub issuer: String,
    /// Headers from the configured claim → header mappings.
    pub claim_headers: Vec<(String, String)>,
}
