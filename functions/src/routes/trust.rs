//! The public trust page (`GET /trust`, German and English) and its signed statement
//! (`GET /trust/statement.json`, a JWS in the flattened JSON serialization). Both read the latest
//! statement the `trust-statement` job made; shared caches may keep them for five minutes.

use super::Routes;
use std::sync::Arc;

use super::get;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use utoipa_axum::routes;

use crate::http::ApiError;
use crate::services::Services;
use crate::trust_page::{self, STATEMENT, TRUST};
use crate::web::PageError;
use crate::web::context::t;

/// Five minutes in any cache: the statement changes every fifteen.
const CACHE: &str = "public, max-age=300";
/// Without a statement (yet), ask again soon.
const CACHE_SHORT: &str = "public, max-age=60";

pub fn router() -> Routes {
    Routes::new()
        .public_page(TRUST, get(trust_page))
        .api(routes!(statement_json))
        .public_page(trust_page::SUBPROCESSORS, get(subprocessors_page))
        .api(routes!(subprocessors_json))
        .api(routes!(subprocessors_feed))
}

async fn subprocessors_page(State(s): State<Arc<Services>>) -> Result<Response, PageError> {
    let now = s.clock.now();
    let changes = s.subprocessors.changes().await?;
    let page = trust_page::subprocessors_page(
        &trust::subprocessors::list_at(&changes, now),
        &changes,
        now,
    );
    Ok(cached(page.into_response(), CACHE))
}

#[derive(serde::Serialize)]
struct SubprocessorsDocument {
    as_of: kernel::time::Timestamp,
    subprocessors: Vec<trust::subprocessors::SubProcessor>,
    /// Announced changes, taking effect in this order (past and planned).
    changes: Vec<trust::subprocessors::Change>,
}

#[utoipa::path(
    get,
    path = trust_page::SUBPROCESSORS_JSON,
    tag = "trust",
    responses((status = 200, description = "The sub-processors and announced changes"))
)]
async fn subprocessors_json(State(s): State<Arc<Services>>) -> Result<Response, ApiError> {
    let now = s.clock.now();
    let changes = s.subprocessors.changes().await?;
    let document = SubprocessorsDocument {
        as_of: now,
        subprocessors: trust::subprocessors::list_at(&changes, now),
        changes,
    };
    Ok(cached(axum::Json(document).into_response(), CACHE))
}

#[utoipa::path(
    get,
    path = trust_page::SUBPROCESSORS_FEED,
    tag = "trust",
    responses((status = 200, description = "The announced changes as an Atom feed"))
)]
async fn subprocessors_feed(State(s): State<Arc<Services>>) -> Result<Response, ApiError> {
    let changes = s.subprocessors.changes().await?;
    let xml = trust::subprocessors::atom_feed(&changes, &s.config.public_url, s.clock.now());
    let mut response = (StatusCode::OK, xml).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    Ok(cached(response, CACHE))
}

fn cached(mut response: Response, value: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

async fn trust_page(State(s): State<Arc<Services>>) -> Result<Response, PageError> {
    let Some(stored) = trust::latest(s.store.as_ref()).await? else {
        let page = trust_page::unavailable(html! {
            p { (t("Es liegt noch keine signierte Erklärung vor. Die erste entsteht innerhalb von 15 Minuten nach dem Start.",
                   "There is no signed statement yet. The first is made within 15 minutes of the start.")) }
        });
        return Ok(cached(page.into_response(), CACHE_SHORT));
    };
    let issuer = trust::signed::issuer(&s.config.token_issuer);
    match trust::verify(&stored.jws, &s.certificate_keys, &issuer) {
        Ok(statement) => Ok(cached(
            trust_page::page(&statement, &stored, s.clock.now()).into_response(),
            CACHE,
        )),
        Err(why) => {
            tracing::error!(target: "regrooter::trust", error = %why, kid = %stored.kid, "the stored trust statement does not verify");
            let page = trust_page::unavailable(html! {
                p { (t("Die gespeicherte Erklärung lässt sich mit den veröffentlichten Schlüsseln nicht prüfen; nichts aus ihr wird gezeigt.",
                       "The stored statement does not verify with the published keys; nothing from it is shown.")) }
            });
            Ok(cached(
                page.status(StatusCode::SERVICE_UNAVAILABLE).into_response(),
                CACHE_SHORT,
            ))
        }
    }
}

#[utoipa::path(
    get,
    path = STATEMENT,
    tag = "trust",
    responses((status = 200, description = "The signed trust statement (JWS, flattened JSON)"), (status = 404, description = "No statement has been made yet"))
)]
async fn statement_json(State(s): State<Arc<Services>>) -> Result<Response, ApiError> {
    let stored = trust::latest(s.store.as_ref()).await?.ok_or_else(|| {
        kernel::Error::NotFound("trust statement (none has been made yet)".into())
    })?;
    let body = serde_json::to_vec_pretty(&stored.flattened()?)
        .map_err(|e| kernel::Error::Internal(e.to_string()))?;
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jose+json"),
    );
    Ok(cached(response, CACHE))
}
