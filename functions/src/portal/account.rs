//! `/portal/account`: the signed-in person's own sign-in security. Customers may sign in with a
//! password alone until they set up a second factor here (TOTP, with a QR code); from then on
//! every sign-in asks for it.

use std::sync::Arc;

use auth::service::ConfirmOtpInput;
use axum::extract::State;
use axum::http::StatusCode;
use kernel::Error;
use maud::html;
use serde::Deserialize;

use super::{nav, tenant_of};
use crate::routes::portal_session::{qr_code, recovery_codes_view};
use crate::services::Services;
use crate::web::context::t;
use crate::web::layout::form_token_field;
use crate::web::{Page, PageForm, PageResult, Viewer};

pub const ACCOUNT: &str = "/portal/account";
pub const OTP_START: &str = "/portal/account/otp";
pub const OTP_CONFIRM: &str = "/portal/account/otp/confirm";

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: Option<String>,
}

pub async fn account(viewer: Viewer) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let has_second_factor = viewer.access.principal().has_second_factor();
    let body = html! {
        h1 { (t("Ihr Konto", "Your account")) }
        h2 { (t("Zweiter Faktor", "Second factor")) }
        @if has_second_factor {
            p class="good" { (t(
                "Eingerichtet: jede Anmeldung verlangt den Code Ihrer Authenticator-App.",
                "Set up: every sign-in asks for the code from your authenticator app.",
            )) }
        } @else {
            p { (t(
                "Noch nicht eingerichtet. Ein zweiter Faktor schützt Ihr Konto, auch wenn Ihr Passwort bekannt wird.",
                "Not set up yet. A second factor protects your account even if your password becomes known.",
            )) }
            form method="post" action=(OTP_START) {
                (form_token_field(&viewer.form_token))
                button type="submit" { (t("Authenticator-App einrichten", "Set up an authenticator app")) }
            }
        }
    };
    Ok(Page::new(t("Ihr Konto", "Your account"), body).nav(nav(&viewer, &tenant)))
}

pub async fn start_otp(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let setup = match s.auth.start_otp(&viewer.access).await {
        Ok(setup) => setup,
        Err(Error::Conflict(_)) => {
            let body = html! {
                h1 { (t("Zweiter Faktor", "Second factor")) }
                p { (t("Ihr Konto hat bereits einen zweiten Faktor.", "Your account already has a second factor.")) }
                p { a href=(ACCOUNT) { (t("Zurück zum Konto", "Back to your account")) } }
            };
            return Ok(
                Page::new(t("Zweiter Faktor", "Second factor"), body).nav(nav(&viewer, &tenant))
            );
        }
        Err(e) => return Err(e.into()),
    };
    let body = html! {
        h1 { (t("Authenticator-App einrichten", "Set up an authenticator app")) }
        p { (t(
            "Scannen Sie den QR-Code mit Ihrer Authenticator-App (oder geben Sie den Schlüssel ein) und bestätigen Sie mit dem angezeigten Code.",
            "Scan the QR code with your authenticator app (or type in the key) and confirm with the code it shows.",
        )) }
        @if let Some(svg) = qr_code(&setup.otpauth_uri) {
            div class="qr" role="img" aria-label=(t("QR-Code für die Authenticator-App", "QR code for the authenticator app")) { (svg) }
        }
        p { (t("Schlüssel", "Key")) ": " code class="secret" id="otp-secret" { (setup.secret) } }
        form method="post" action=(OTP_CONFIRM) novalidate {
            (form_token_field(&viewer.form_token))
            label for="code" { (t("Code aus der App", "Code from the app")) }
            input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required;
            button type="submit" { (t("Bestätigen", "Confirm")) }
        }
    };
    Ok(Page::new(
        t(
            "Authenticator-App einrichten",
            "Set up an authenticator app",
        ),
        body,
    )
    .nav(nav(&viewer, &tenant)))
}

pub async fn confirm_otp(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<CodeForm>,
) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    match s
        .auth
        .confirm_otp(&viewer.access, ConfirmOtpInput { code: form.code })
        .await
    {
        Ok(codes) => Ok(recovery_codes_view(&codes, ACCOUNT).nav(nav(&viewer, &tenant))),
        Err(Error::Validation(_)) => {
            let body = html! {
                h1 { (t("Code stimmt nicht", "The code does not match")) }
                div class="errors" role="alert" {
                    p { (t(
                        "Der Code passt nicht zum Schlüssel. Prüfen Sie die Uhrzeit Ihres Geräts und beginnen Sie die Einrichtung neu.",
                        "The code does not match the key. Check your device's clock and start the set-up again.",
                    )) }
                }
                form method="post" action=(OTP_START) {
                    (form_token_field(&viewer.form_token))
                    button type="submit" { (t("Neu beginnen", "Start again")) }
                }
            };
            Ok(
                Page::new(t("Code stimmt nicht", "The code does not match"), body)
                    .status(StatusCode::UNPROCESSABLE_ENTITY)
                    .nav(nav(&viewer, &tenant)),
            )
        }
        Err(e) => Err(e.into()),
    }
}
