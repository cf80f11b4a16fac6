//! `Idempotency-Key` on every creating request: one middleware, in front of every router (see
//! `routes::with_plumbing`), over [`kernel::idempotency`].
//!
//! A POST carrying the header is claimed under its caller and key before it runs. The first
//! request runs; a successful answer is stored (sealed) and sent again to every later request
//! with the same key and the same method, path and body, marked `Idempotent-Replayed: true`;
//! concurrent ones wait for it. The same key with another request is refused with 422. A refused
//! request (4xx/5xx) stores nothing and frees its key, since refused requests change nothing.
//! The sign-in steps, the caller's own second-factor setup and Stripe's webhook are left out:
//! their answers hold tokens and secrets that must never be kept, and the webhook has its own
//! exactly-once processing.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::idempotency::{
    Begin, HEADER, IdempotencyKey, REPLAYED_HEADER, StoredResponse, request_digest,
};
use kernel::rbac::Actor;

use crate::http::{ApiError, Caller, EdgeVerified, current_request_id, problem_response};
use crate::services::Services;

/// How long a request waits for a concurrent one with its key before it is told to retry.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(25);
/// Responses larger than this are not kept (creates answer with one record).
const MAX_STORED_RESPONSE: usize = 256 * 1024;

/// Paths whose answers must never be stored: tokens, one-time secrets (a report's status
/// secret, a new account's activation token), signed machine payloads.
const EXCLUDED_PREFIXES: &[&str] = &[
    "/auth/",
    "/api/me/",
    "/stripe/",
    "/_dev/",
    "/security/",
    "/api/staff",
];

fn applies_to(method: &Method, path: &str) -> bool {
    method == Method::POST
        && !EXCLUDED_PREFIXES.iter().any(|p| path.starts_with(p))
        && !creates_tenant_user(path)
}

/// `POST /api/tenants/{tenant}/users`: its answer carries the activation token.
fn creates_tenant_user(path: &str) -> bool {
    path.strip_prefix("/api/tenants/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, rest)| rest == "users" || rest.starts_with("users/"))
}

/// Who sent the request: keys are the caller's own. `None` when the credentials do not verify
/// (the route refuses the request itself).
async fn scope_of(
    parts: &mut axum::http::request::Parts,
    services: &Arc<Services>,
) -> Option<String> {
    let has_credentials = parts.headers.contains_key(header::AUTHORIZATION)
        || parts.extensions.get::<EdgeVerified>().is_some();
    if !has_credentials {
        // No caller to scope the key to: one anonymous sender could replay another's answer.
        return None;
    }
    let Caller(access) = Caller::from_request_parts(parts, services).await.ok()?;
    let principal = access.principal();
    Some(match &principal.actor {
        Actor::Staff => format!("staff:{}", principal.subject),
        Actor::Customer { tenant } => format!("tenant:{tenant}:{}", principal.subject),
        Actor::System => format!("system:{}", principal.subject),
    })
}

fn key_reused() -> Response {
    let problem = kernel::Problem {
        problem_type: "/problems/idempotency-key-reused".into(),
        title: "Idempotency key reused".into(),
        status: 422,
        detail: Some(
            "this Idempotency-Key was used with a different request; use a new key for a new request"
                .into(),
        ),
        instance: current_request_id(),
        errors: vec![],
    };
    problem_response(&problem)
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    if let Some(value) = stored
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

/// The middleware.
pub async fn idempotent(
    State(services): State<Arc<Services>>,
    request: Request,
    next: Next,
) -> Response {
    if !applies_to(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match IdempotencyKey::parse(raw_key.as_bytes()) {
        Ok(key) => key,
        Err(e) => return ApiError(e).into_response(),
    };
    let (mut parts, body) = request.into_parts();
    let limit = services.config.max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError(Error::TooLarge { limit }).into_response();
    };
    let Some(scope) = scope_of(&mut parts, &services).await else {
        return next
            .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
            .await;
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let digest = request_digest(parts.method.as_str(), path, &bytes);

    let started = std::time::Instant::now();
    let mut state = services.idempotency.begin(&scope, &key, &digest).await;
    let ticket = loop {
        match state {
            Ok(Begin::Run(ticket)) => break ticket,
            Ok(Begin::Replay(stored)) => return replay(stored),
            Ok(Begin::Mismatch) => return key_reused(),
            Ok(Begin::Interrupted) => {
                return ApiError(Error::Conflict(
                    "an earlier request with this Idempotency-Key was interrupted; check whether \
                     it took effect before retrying with a new key"
                        .into(),
                ))
                .into_response();
            }
            Ok(Begin::InProgress) if started.elapsed() < WAIT_FOR_FIRST => {
                tokio::time::sleep(POLL_EVERY).await;
                state = services.idempotency.poll(&scope, &key, &digest).await;
            }
            Ok(Begin::InProgress) => {
                return ApiError(Error::Conflict(
                    "a request with this Idempotency-Key is still running; retry shortly".into(),
                ))
                .into_response();
            }
            Err(e) => return ApiError(e).into_response(),
        }
    };

    let response = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    // A refusal (4xx) changed nothing, so its key is free again. A server error may come after
    // the write committed: the claim stays (later requests are told it was interrupted), so a
    // retry can never run the create twice.
    if response.status().is_server_error() {
        return response;
    }
    if !response.status().is_success() {
        if let Err(e) = services.idempotency.release(ticket).await {
            tracing::warn!(target: "regrooter::http", error = %e, "idempotency key not released");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(target: "regrooter::http", error = %e, "response body lost");
            return ApiError(Error::Internal("response body lost".into())).into_response();
        }
    };
    if body.len() > MAX_STORED_RESPONSE {
        // Too large to keep: the key stays claimed (the create happened), so a retry is told
        // the request was interrupted rather than running it twice.
        tracing::error!(target: "regrooter::http", bytes = body.len(), "response too large for its idempotency key");
        return Response::from_parts(parts, axum::body::Body::from(body));
    }
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: body.to_vec(),
    };
    if let Err(e) = services.idempotency.complete(ticket, &stored).await {
        tracing::error!(target: "regrooter::http", error = %e, "response not stored for its idempotency key");
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_creating_requests_without_secrets_in_their_answers() {
        assert!(applies_to(&Method::POST, "/api/credits/acme"));
        assert!(applies_to(&Method::POST, "/api/tenants/acme/legal-holds"));
        assert!(!applies_to(&Method::POST, "/security/reports"));
        assert!(!applies_to(&Method::POST, "/api/staff"));
        assert!(!applies_to(&Method::POST, "/api/tenants/acme/users"));
        assert!(!applies_to(&Method::GET, "/api/credits/acme"));
        assert!(!applies_to(&Method::POST, "/auth/sign-in"));
        assert!(!applies_to(&Method::POST, "/api/me/otp"));
        assert!(!applies_to(&Method::POST, "/stripe/webhook"));
    }
}
