//! Admin authentication of the control-plane's own API: who is calling, and which orgs
//! they may act on.
//!
//! The credential is read exactly as the filter reads it (`X-API-Key`, then
//! `Authorization: Bearer`). Two kinds authenticate:
//! - the bootstrap admin token (`PORTCULLIS_ADMIN_TOKEN`) acts on every org, as `admin`;
//! - an API key with role `admin` that is enabled, not revoked, not expired, presented with
//!   a secret that is not past its rotation grace, acts only inside its own org, as
//!   `key:<id>`. Other orgs' keys then answer 404, so their existence never leaks.

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::shared_token::{self, SharedToken, TokenError};
use crate::keys;
use crate::store::{Actor, OrgScope};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portcullis::api_key::{display_prefix, is_well_formed};

/// The role that lets a key manage its own org's keys.
pub const ADMIN_ROLE: &str = "admin";
/// The bootstrap admin token (`PORTCULLIS_ADMIN_TOKEN`), kept only as its digest.
pub struct AdminToken(SharedToken);

impl AdminToken {
    /// Checks the token's length and shape and keeps its digest.
    pub fn new(token: &str) -> Result<Self, TokenError> {
        SharedToken::new("admin token", token).map(Self)
    }

    /// Whether `presented` is the admin token (constant time).
    pub(crate) fn matches(&self, presented: &str) -> bool {
        self.0.matches(presented)
    }
}

/// An authenticated caller of the `/v1` API.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The orgs the caller may act on.
    pub scope: OrgScope,
    /// Who the audit log names.
    pub actor: Actor,
}

impl Caller {
    /// Refuses (403) anyone but the bootstrap admin token, saying it may `why`.
    pub fn check_is_bootstrap_admin(&self, why: &str) -> Result<(), ApiError> {
        match self.scope {
            OrgScope::All => Ok(()),
            OrgScope::Only(_) => Err(ApiError::Forbidden(format!(
                "only the bootstrap admin token may {why}"
            ))),
        }
    }

    /// Whether the caller may read `org_id`'s settings. The caller names the org itself, so
    /// refusing (403) reveals nothing.
    pub fn check_may_read_org(&self, org_id: &str) -> Result<(), ApiError> {
        match &self.scope {
            OrgScope::All => Ok(()),
            OrgScope::Only(own) if own == org_id => Ok(()),
            OrgScope::Only(own) => Err(ApiError::Forbidden(format!(
                "this key may read only its own org `{own}`, not `{org_id}`"
            ))),
        }
    }

    /// Whether the caller may create keys in `org_id`. Creating is the one action whose
    /// target the caller names itself, so refusing it (403) reveals nothing.
    pub fn check_may_create_in(&self, org_id: &str) -> Result<(), ApiError> {
        match &self.scope {
            OrgScope::All => Ok(()),
            OrgScope::Only(own) if own == org_id => Ok(()),
            OrgScope::Only(own) => Err(ApiError::Forbidden(format!(
                "this key may create keys only in its own org `{own}`, not in `org_id` `{org_id}`"
            ))),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = shared_token::presented(parts)?;
        authenticate(state, &token).await
    }
}

fn refused(code: &'static str, message: &'static str) -> ApiError {
    ApiError::BadCredentials { code, message }
}

/// The caller a token authenticates, or why it does not.
async fn authenticate(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    if state.admin.matches(token) {
        return Ok(Caller {
            scope: OrgScope::All,
            actor: Actor("admin".to_owned()),
        });
    }
    // A token that is not shaped like a key cannot be one: no lookup needed.
    if !is_well_formed(token) {
        return Err(refused(
            "invalid_credentials",
            "the presented credential is not valid",
        ));
    }
    let digest = keys::digest(token);
    let found = state
        .with_store(move |store| store.find_by_digest(&digest))
        .await?;
    let Some((record, secret)) = found else {
        tracing::info!(prefix = display_prefix(token), "unknown key refused");
        return Err(refused(
            "invalid_credentials",
            "the presented credential is not valid",
        ));
    };
    let now = state.now();
    let verdict = if record.revoked_at.is_some() {
        Err(refused("revoked_credentials", "the key is revoked"))
    } else if secret.retires_at.is_some_and(|at| at <= now) {
        Err(refused(
            "expired_credentials",
            "this secret was rotated out and its grace period has ended",
        ))
    } else if record.expires_at.is_some_and(|at| at <= now) {
        Err(refused("expired_credentials", "the key has expired"))
    } else if !record.enabled {
        Err(refused("invalid_credentials", "the key is disabled"))
    } else if !record.roles.iter().any(|r| r == ADMIN_ROLE) {
        Err(ApiError::Forbidden(format!(
            "key `{}` lacks role `{ADMIN_ROLE}`, which the control-plane API requires",
            record.id
        )))
    } else {
        Ok(())
    };
    if let Err(err) = &verdict {
        tracing::info!(key_id = %record.id, prefix = display_prefix(token), %err, "key refused as admin");
    }
    verdict.map(|()| Caller {
        actor: Actor(format!("key:{}", record.id)),
        scope: OrgScope::Only(record.org_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bootstrap_admin_passes_the_bootstrap_check() {
        let org_admin = Caller {
            scope: OrgScope::Only("acme".into()),
            actor: Actor("key:key_x".into()),
        };
        let err = org_admin
            .check_is_bootstrap_admin("manage tiers")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "only the bootstrap admin token may manage tiers"
        );
        let admin = Caller {
            scope: OrgScope::All,
            actor: Actor("admin".into()),
        };
        assert!(admin.check_is_bootstrap_admin("manage tiers").is_ok());
        assert!(admin.check_may_read_org("globex").is_ok());
        assert!(org_admin.check_may_read_org("acme").is_ok());
        assert!(org_admin.check_may_read_org("globex").is_err());
    }

    #[test]
    fn an_org_admin_may_create_only_in_its_own_org() {
        let caller = Caller {
            scope: OrgScope::Only("acme".into()),
            actor: Actor("key:key_x".into()),
        };
        assert!(caller.check_may_create_in("acme").is_ok());
        assert!(matches!(
            caller.check_may_create_in("globex"),
            Err(ApiError::Forbidden(_))
        ));
    }
}
