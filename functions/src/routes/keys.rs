//! `GET /.well-known/jwks.json`: the public keys access tokens are verified with, for the edge
//! and any other verifier. Several keys during a rotation. And
//! `GET /.well-known/deletion-certificate-keys.json`: the keys deletion certificates verify with
//! (a separate set: a certificate key can never pass for a token key). And the public page
//! `/deletion-certificates/verify`, where anyone holding a certificate (the customer, their
//! auditor) pastes it and reads it in words with the result of checking it against those keys.

use super::Routes;
use std::sync::Arc;

use super::get;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use kernel::token::Jwks;
use maud::html;
use serde::Deserialize;
use utoipa_axum::routes;

use crate::services::Services;
use crate::web::context::t;
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{FormToken, Page, PageForm};

pub const CERTIFICATE_KEYS: &str = "/.well-known/deletion-certificate-keys.json";
pub const VERIFY_CERTIFICATE: &str = "/deletion-certificates/verify";
/// A certificate is a few KB; anything much larger is not one.
const JWS_MAX_BYTES: usize = 64 * 1024;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(jwks))
        .api(routes!(certificate_keys))
        .page(
            VERIFY_CERTIFICATE,
            get(verify_page).post(verify_certificate),
        )
}

#[derive(Debug, Deserialize)]
struct CertificateForm {
    jws: Option<String>,
}

fn verify_view(form_token: &str, jws: &str, errors: &[(String, String)]) -> Page {
    let jws_error = field_error(errors, "jws");
    let body = html! {
        h1 { (t("Löschbescheinigung prüfen", "Check a deletion certificate")) }
        p { (t(
            "Fügen Sie die signierte Bescheinigung (JWS, eine Zeile aus drei durch Punkte getrennten Teilen) ein. Wir prüfen die Signatur mit unseren ",
            "Paste the signed certificate (JWS, one line of three parts separated by dots). We check its signature with our ",
        )) a href=(CERTIFICATE_KEYS) { (t("veröffentlichten Schlüsseln", "published keys")) }
           (t(" und zeigen, was sie bescheinigt.", " and show what it certifies.")) }
        (error_summary(errors))
        form method="post" action=(VERIFY_CERTIFICATE) novalidate {
            (form_token_field(form_token))
            label for="jws" { (t("Signierte Bescheinigung", "Signed certificate")) }
            @if let Some(e) = jws_error { p class="field-error" id="jws-error" { (e) } }
            textarea id="jws" name="jws" rows="6" spellcheck="false" required
                aria-invalid=[jws_error.map(|_| "true")] aria-describedby=[jws_error.map(|_| "jws-error")] { (jws) }
            button type="submit" { (t("Prüfen", "Check")) }
        }
    };
    Page::new(
        t("Löschbescheinigung prüfen", "Check a deletion certificate"),
        body,
    )
}

async fn verify_page(Extension(FormToken(form_token)): Extension<FormToken>) -> Page {
    verify_view(&form_token, "", &[])
}

async fn verify_certificate(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<CertificateForm>,
) -> Page {
    let jws = form.jws.unwrap_or_default();
    let refused = |message: &str| {
        let errors = vec![("jws".to_string(), message.to_string())];
        // Echo only what is plausibly a certificate; never a large paste back.
        let echoed = if jws.len() <= JWS_MAX_BYTES {
            jws.trim()
        } else {
            ""
        };
        verify_view(&form_token, echoed, &errors).status(StatusCode::UNPROCESSABLE_ENTITY)
    };
    if jws.trim().is_empty() {
        return refused(t(
            "Bitte fügen Sie die Bescheinigung ein.",
            "Please paste the certificate.",
        ));
    }
    if jws.len() > JWS_MAX_BYTES {
        return refused(t(
            "Das ist zu lang für eine Bescheinigung.",
            "That is too long for a certificate.",
        ));
    }
    let issuer = crate::services::certificate_issuer(&s.config);
    match retention::verify_certificate(&jws, &s.certificate_keys, &issuer) {
        Ok(certificate) => {
            let body = html! {
                h1 { (t("Löschbescheinigung", "Deletion certificate")) }
                div class="notice" role="status" { p class="good" {
                    strong { (t("Signatur gültig. ", "Signature valid. ")) }
                    (t(
                        "Die regrooter GmbH hat diese Bescheinigung mit einem ihrer veröffentlichten Schlüssel signiert; sie ist seitdem unverändert.",
                        "regrooter GmbH signed this certificate with one of its published keys; it is unchanged since.",
                    ))
                } }
                (crate::web::certificate::certificate(&certificate))
                p class="no-print" { a href=(VERIFY_CERTIFICATE) { (t("Eine weitere prüfen", "Check another one")) } }
            };
            Page::new(t("Löschbescheinigung", "Deletion certificate"), body)
        }
        Err(e) => {
            tracing::info!(target: "regrooter::retention", error = %e, "a certificate did not verify");
            refused(t(
                "Diese Bescheinigung lässt sich mit unseren veröffentlichten Schlüsseln nicht bestätigen: sie ist verändert, unvollständig oder nicht von uns.",
                "This certificate cannot be confirmed with our published keys: it is altered, incomplete or not ours.",
            ))
        }
    }
}

#[utoipa::path(
    get,
    path = CERTIFICATE_KEYS,
    tag = "retention",
    responses((status = 200, description = "The public keys that verify deletion certificates (JWKS)"))
)]
async fn certificate_keys(State(services): State<Arc<Services>>) -> Json<Jwks> {
    Json(Jwks {
        keys: services
            .certificate_keys
            .iter()
            .map(|k| k.to_jwk())
            .collect(),
    })
}

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "The public keys that verify our access tokens (JWKS)"))
)]
async fn jwks(State(services): State<Arc<Services>>) -> Json<Jwks> {
    Json(services.tokens.jwks())
}
