//! `GET /.well-known/jwks.json`: the public keys access tokens are verified with, for the edge
//! and any other verifier. Several keys during a rotation.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use shared::token::Jwks;

use crate::services::Services;

pub fn router() -> Router<Arc<Services>> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

async fn jwks(State(services): State<Arc<Services>>) -> Json<Jwks> {
    Json(services.tokens.jwks())
}
