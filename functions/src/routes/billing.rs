//! Billing: the Stripe webhook (the `stripe-webhook` function) and the billing views and credits
//! (the `sla` function).

use super::Routes;
use std::sync::Arc;

use crate::http::Path;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use billing::credits::{CreditId, CreditRecord, VoluntaryCreditInput};
use billing::records::EventCount;
use billing::service::BillingOverview;
use billing::{Processed, service::Outcome};
use kernel::Error;
use kernel::rbac::{Permission, Scope};

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

/// `POST /stripe/webhook`.
pub fn webhook_router() -> Routes {
    Routes::new().route("/stripe/webhook", post(webhook))
}

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

/// Stripe sends the raw body; the signature covers exactly those bytes, so nothing parses or
/// re-encodes them before verification.
async fn webhook(
    State(s): State<Arc<Services>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Processed>, ApiError> {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match s
        .billing
        .receive(&s.config.stripe.webhook_secrets, signature, &body)
        .await
    {
        Ok(processed) => {
            tracing::info!(
                target: "regrooter::billing",
                event = "stripe_event",
                id = %processed.event_id,
                kind = %processed.event_type,
                outcome = ?processed.outcome,
                "processed"
            );
            if processed.outcome == Outcome::Stale {
                tracing::info!(target: "regrooter::billing", id = %processed.event_id, "older than the state already applied");
            }
            Ok(Json(processed))
        }
        Err(e) => {
            if matches!(e, Error::BadRequest(_)) {
                tracing::warn!(target: "regrooter::security", event = "stripe_webhook_rejected", reason = %e, "webhook refused");
            }
            Err(ApiError(e))
        }
    }
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
