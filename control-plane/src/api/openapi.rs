//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers and types.

use crate::api::{
    audit, error, health, keys, metrics, orgs, providers, ratelimit, sync, tiers, unknown_kid,
};
use crate::providers::ProviderConfig;
use crate::ratelimit::tiers::EffectiveLimits;
use crate::ratelimit::tiers::validation::TierConfig;
use crate::store::{ClaimMapping, Limit, LimitUnit, Rate, RoleImplication};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API description; every route and body type is listed here once.
#[derive(OpenApi)]
#[openapi(
    info(title = "Portcullis control-plane",
        description = "API keys, OIDC providers and their JWKS, rate-limit tiers and their \
            renderings for Envoy, audit, sync and probes"),
    paths(
        keys::create, keys::list, keys::get, keys::update, keys::revoke, keys::rotate,
        providers::create, providers::list, providers::get, providers::update,
        providers::delete, providers::jwks,
        tiers::list, tiers::get, tiers::put, tiers::delete, orgs::get, orgs::update,
        ratelimit::config, ratelimit::local,
        audit::list, sync::sync, sync::sidecars, unknown_kid::report,
        health::healthz, health::readyz, metrics::metrics, document,
    ),
    components(schemas(
        keys::CreateKeyRequest, keys::UpdateKeyRequest, keys::RotateKeyRequest,
        keys::KeyView, keys::KeyWithSecret, keys::KeyPage,
        ProviderConfig, ClaimMapping, RoleImplication, providers::UpdateProviderRequest,
        providers::ProviderView, providers::ProviderList, providers::JwksView,
        Limit, Rate, LimitUnit, TierConfig, tiers::TierView, tiers::TierList,
        orgs::UpdateOrgRequest, orgs::OrgView, EffectiveLimits,
        audit::AuditView, audit::AuditPage, sync::SidecarView, sync::SidecarList,
        unknown_kid::UnknownKidAnswer,
        health::Health, error::ErrorBody,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the `/v1` routes require (the admin token or an admin key;
/// for `/v1/sync`, the sync token or the admin token).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "This document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
