//! `GET /.well-known/jwks.json`: the public keys access tokens are verified with, for the edge
//! and any other verifier. Several keys during a rotation. And
//! `GET /.well-known/deletion-certificate-keys.json`: the keys deletion certificates verify with
//! (a separate set: a certificate key can never pass for a token key).

use super::Routes;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use kernel::token::Jwks;

use crate::services::Services;

pub fn router() -> Routes {
    Routes::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route(
            "/.well-known/deletion-certificate-keys.json",
            get(certificate_keys),
        )
}

async fn certificate_keys(State(services): State<Arc<Services>>) -> Json<Jwks> {
    Json(Jwks {
        keys: services
            .certificate_keys
            .iter()
            .map(|k| k.to_jwk())
            .collect(),
    })
}

async fn jwks(State(services): State<Arc<Services>>) -> Json<Jwks> {
    Json(services.tokens.jwks())
}
