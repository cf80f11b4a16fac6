//! The Stripe webhook (the `stripe-webhook` function): verified events only.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use billing::{Processed, service::Outcome};
use kernel::Error;

use super::Routes;
use crate::http::ApiError;
use crate::services::Services;
use utoipa_axum::routes;

/// `POST /stripe/webhook`.
pub fn router() -> Routes {
    Routes::new().api(routes!(webhook))
}

/// Stripe sends the raw body; the signature covers exactly those bytes, so nothing parses or
/// re-encodes them before verification.
#[utoipa::path(
    post,
    path = "/stripe/webhook",
    tag = "billing",
    responses((status = 200, description = "The event was verified (Stripe-Signature) and processed"), (status = 400, description = "The signature does not verify"))
)]
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
