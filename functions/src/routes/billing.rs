//! Billing views and credits (the `sla` function); the Stripe webhook is `billing_webhook`.

use super::Routes;
use std::sync::Arc;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use billing::credits::{CreditId, CreditRecord, VoluntaryCreditInput};
use billing::records::EventCount;
use billing::service::BillingOverview;
use kernel::Error;
use kernel::rbac::{Permission, Scope};

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

/// Billing views and credits.
pub fn router() -> Routes {
    Routes::new()
        .route("/api/billing/stripe-events", get(event_counts))
        .route("/api/billing/{tenant}", get(overview))
        .route(
            "/api/credits/{tenant}",
            get(list_credits).post(grant_credit),
        )
        .route("/api/credits/{tenant}/{credit}/apply", post(apply_credit))
}

async fn overview(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<BillingOverview>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.billing.overview(&access, &tenant).await?))
}

async fn event_counts(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<Vec<EventCount>>, ApiError> {
    Ok(Json(s.billing.event_counts(&access).await?))
}

async fn list_credits(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<CreditRecord>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.credits.list(&access, &tenant).await?))
}

/// A voluntary credit; carried to Stripe at once when possible, else by the scheduled job.
async fn grant_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<VoluntaryCreditInput>,
) -> Result<(StatusCode, Json<CreditRecord>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let credit = s.credits.grant_voluntary(&access, &tenant, input).await?;
    let credit = match s
        .credits
        .apply(s.gateway.as_ref(), &tenant, &credit.id)
        .await
    {
        Ok(applied) => applied,
        Err(e) => {
            tracing::warn!(target: "regrooter::billing", credit = %credit.id, error = %e, "credit stays pending");
            s.credits.get(&tenant, &credit.id).await?.0
        }
    };
    Ok((StatusCode::CREATED, Json(credit)))
}

async fn apply_credit(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, credit)): Path<(String, String)>,
) -> Result<Json<CreditRecord>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    access.require(Permission::BillingOperate, Scope::Tenant(&tenant))?;
    let credit = CreditId::parse(&credit)
        .map_err(|e| ApiError(Error::validation("/credit", e.to_string())))?;
    Ok(Json(
        s.credits
            .apply(s.gateway.as_ref(), &tenant, &credit)
            .await?,
    ))
}
