//! Pagination and org filtering shared by every list route.

use crate::api::admin_auth::Caller;
use crate::api::error::ApiError;
use crate::keys;
use crate::store::ListQuery;
use serde::Deserialize;
use utoipa::IntoParams;

/// The page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// Query parameters of a list route.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this org (inside the caller's orgs; another org's filter matches nothing).
    pub org_id: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    /// The store query for `caller`, after checking `limit` and `org_id`.
    pub fn into_query(self, caller: &Caller) -> Result<ListQuery, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::Validation(format!(
                "`limit` must be 1 to {MAX_LIMIT}, got {limit}"
            )));
        }
        if let Some(org) = &self.org_id {
            keys::check_identifier("org_id", org)?;
        }
        Ok(ListQuery {
            scope: caller.scope.clone(),
            org_id: self.org_id,
            limit,
            cursor: self.cursor,
        })
    }
}
