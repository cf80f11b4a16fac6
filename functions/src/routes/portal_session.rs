//! The portal's session pages (public, served by the `auth` function, which alone signs tokens):
//! sign-in with e-mail and password, then the second factor (or its enrolment with a QR code,
//! and the recovery codes shown once), the activation page of an invitation, the refresh step
//! that renews an expired access token from the refresh cookie, and sign-out.

use super::Routes;
use std::sync::Arc;

use super::{get, post};
use auth::service::{ActivateInput, OtpInput, OtpSetup, PasskeyInput, RefreshInput, SignInInput};
use auth::{Account, SignInStep, Tokens};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use web::{cookies, paths};

use crate::http::Query;
use crate::services::Services;
use crate::web::context::{cookie_values, new_form_token, t};
use crate::web::layout::{
    PasskeyForm, error_summary, field_error, form_token_field, passkey_form, see_other,
};
use crate::web::{FormToken, Page, PageForm};

pub fn router() -> Routes {
    Routes::new()
        .page(paths::SIGN_IN, get(sign_in_page).post(sign_in))
        .page(paths::SECOND_FACTOR, post(second_factor))
        .page(paths::PASSKEY, post(passkey_sign_in))
        .page(paths::ACTIVATE, get(activate_page).post(activate))
        .page(paths::FORGOT, get(forgot_page).post(forgot))
        .page(paths::RESET, get(reset_page).post(reset))
        .page(paths::REFRESH, get(refresh))
        .page(paths::SIGN_OUT, post(sign_out))
}

type Errors = Vec<(String, String)>;

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
    signed_out: Option<String>,
    activated: Option<String>,
    password_changed: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInForm {
    email: Option<String>,
    password: Option<String>,
    organisation: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SecondFactorForm {
    challenge: Option<String>,
    code: Option<String>,
    next: Option<String>,
    /// Echoed so a wrong code's page still offers the passkey (the server holds the state).
    passkey_options: Option<String>,
    otp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PasskeySignInForm {
    challenge: Option<String>,
    credential: Option<String>,
    next: Option<String>,
    passkey_options: Option<String>,
    otp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ActivateForm {
    token: Option<String>,
    password: Option<String>,
    password_again: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Empty {}

/// The cookies of a new session: the tokens, and a new form token (the old one was seen by the
/// signed-out browser).
fn session_cookies(tokens: &Tokens) -> Vec<String> {
    vec![
        cookies::session(&tokens.access_token, tokens.expires_in),
        cookies::refresh(
            &tokens.refresh_token,
            auth::service::REFRESH_TOKEN_DAYS * 24 * 3600,
        ),
        cookies::session_id(
            &tokens.session,
            auth::service::REFRESH_TOKEN_DAYS * 24 * 3600,
        ),
        cookies::form_token(&new_form_token()),
    ]
}

/// `staff` or `customer:<tenant>`, as the organisation choice posts it.
fn organisation_value(account: &Account) -> String {
    match account {
        Account::Staff => "staff".into(),
        Account::Customer { tenant } => format!("customer:{tenant}"),
    }
}

fn parse_organisation(raw: &str) -> Option<Account> {
    match raw.split_once(':') {
        None if raw == "staff" => Some(Account::Staff),
        Some(("customer", tenant)) => TenantId::new(tenant)
            .ok()
            .map(|tenant| Account::Customer { tenant }),
        _ => None,
    }
}

struct SignInView<'a> {
    form_token: &'a str,
    email: &'a str,
    next: &'a str,
    errors: Errors,
    notice: Option<&'static str>,
    organisations: Vec<Account>,
}

fn sign_in_view(view: SignInView<'_>) -> Page {
    let email_error = field_error(&view.errors, "email");
    let password_error = field_error(&view.errors, "password");
    let body = html! {
        h1 { (t("Anmelden", "Sign in")) }
        p class="lead" { (t("Kundenportal der regrooter GmbH", "regrooter customer portal")) }
        @if let Some(notice) = view.notice {
            div class="notice" role="status" { p { (notice) } }
        }
        (error_summary(&view.errors))
        form method="post" action=(paths::SIGN_IN) novalidate {
            (form_token_field(view.form_token))
            input type="hidden" name="next" value=(view.next);
            label for="email" { (t("E-Mail-Adresse", "E-mail address")) }
            @if let Some(e) = email_error { p class="field-error" id="email-error" { (e) } }
            input type="email" id="email" name="email" value=(view.email) autocomplete="username" required
                aria-invalid=[email_error.map(|_| "true")] aria-describedby=[email_error.map(|_| "email-error")];
            label for="password" { (t("Passwort", "Password")) }
            @if let Some(e) = password_error { p class="field-error" id="password-error" { (e) } }
            input type="password" id="password" name="password" autocomplete="current-password" required
                aria-invalid=[password_error.map(|_| "true")] aria-describedby=[password_error.map(|_| "password-error")];
            @if !view.organisations.is_empty() {
                fieldset {
                    legend { (t("Welches Konto?", "Which account?")) }
                    p class="hint" { (t(
                        "Diese Adresse hat Konten in mehreren Organisationen. Wählen Sie eines und geben Sie das Passwort erneut ein.",
                        "This address has accounts in several organisations. Choose one and enter the password again.",
                    )) }
                    @for (i, account) in view.organisations.iter().enumerate() {
                        @let id = format!("organisation-{i}");
                        div {
                            input type="radio" id=(id) name="organisation" value=(organisation_value(account)) checked[i == 0];
                            label for=(id) class="inline-label" {
                                @match account {
                                    Account::Staff => { (t("regrooter (Mitarbeitende)", "regrooter (staff)")) }
                                    Account::Customer { tenant } => { (tenant) }
                                }
                            }
                        }
                    }
                }
            }
            button type="submit" { (t("Weiter", "Continue")) }
        }
        p { a href=(paths::FORGOT) { (t("Passwort vergessen?", "Forgot your password?")) } }
    };
    Page::new(t("Anmelden", "Sign in"), body).narrow()
}

async fn sign_in_page(
    Extension(FormToken(form_token)): Extension<FormToken>,
    Query(query): Query<NextQuery>,
) -> Page {
    let notice = if query.signed_out.is_some() {
        Some(t("Sie sind abgemeldet.", "You are signed out."))
    } else if query.password_changed.is_some() {
        Some(t(
            "Ihr Passwort ist geändert, und alle Sitzungen sind beendet. Melden Sie sich mit dem neuen Passwort an.",
            "Your password is changed and every session has ended. Sign in with the new password.",
        ))
    } else if query.activated.is_some() {
        Some(t(
            "Ihr Konto ist aktiviert. Melden Sie sich mit Ihrem neuen Passwort an.",
            "Your account is active. Sign in with your new password.",
        ))
    } else {
        None
    };
    sign_in_view(SignInView {
        form_token: &form_token,
        email: "",
        next: paths::safe_next(query.next.as_deref()),
        errors: Vec::new(),
        notice,
        organisations: Vec::new(),
    })
}

async fn sign_in(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<SignInForm>,
) -> Response {
    let email = form.email.unwrap_or_default();
    let next = paths::safe_next(form.next.as_deref()).to_string();
    let mut errors = Errors::new();
    if email.trim().is_empty() {
        errors.push((
            "email".into(),
            t(
                "Bitte geben Sie Ihre E-Mail-Adresse ein.",
                "Please enter your e-mail address.",
            )
            .into(),
        ));
    }
    if form.password.as_deref().unwrap_or_default().is_empty() {
        errors.push((
            "password".into(),
            t(
                "Bitte geben Sie Ihr Passwort ein.",
                "Please enter your password.",
            )
            .into(),
        ));
    }
    let again = |errors: Errors, organisations: Vec<Account>, status: StatusCode| {
        sign_in_view(SignInView {
            form_token: &form_token,
            email: &email,
            next: &next,
            errors,
            notice: None,
            organisations,
        })
        .status(status)
        .into_response()
    };
    if !errors.is_empty() {
        return again(errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let input = SignInInput {
        email: Some(email.clone()),
        password: form.password,
        organisation: form.organisation.as_deref().and_then(parse_organisation),
    };
    match s.auth.sign_in(input).await {
        Ok(SignInStep::OtpRequired {
            challenge,
            otp,
            passkey_options,
        }) => second_factor_view(SecondFactorView {
            form_token: &form_token,
            challenge: &challenge,
            next: &next,
            enrolment: None,
            otp,
            passkey_options: passkey_options.as_deref(),
            errors: &[],
        })
        .into_response(),
        Ok(SignInStep::OtpEnrolmentRequired {
            challenge,
            secret,
            otpauth_uri,
        }) => second_factor_view(SecondFactorView {
            form_token: &form_token,
            challenge: &challenge,
            next: &next,
            enrolment: Some((&secret, &otpauth_uri)),
            otp: true,
            passkey_options: None,
            errors: &[],
        })
        .into_response(),
        Ok(SignInStep::OrganisationRequired { organisations }) => {
            again(Vec::new(), organisations, StatusCode::OK)
        }
        Err(Error::Unauthenticated(_)) => {
            tracing::warn!(target: "regrooter::auth", event = "sign_in_refused", step = "password", "refused");
            // The same words for a wrong password, an unknown address and a locked account.
            again(
                vec![("password".into(), t(
                    "E-Mail-Adresse oder Passwort stimmen nicht, oder das Konto ist vorübergehend gesperrt.",
                    "The e-mail address or password is wrong, or the account is locked for a while.",
                ).into())],
                Vec::new(),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(e) => crate::web::PageError(e).into_response(),
    }
}

/// A QR code of the `otpauth://` URI, as inline SVG (drawn here: no image request, no script).
pub fn qr_code(uri: &str) -> Option<Markup> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    // The renderer starts with an XML declaration, which has no place inside HTML.
    let start = svg.find("<svg")?;
    Some(PreEscaped(svg[start..].to_string()))
}

struct SecondFactorView<'a> {
    form_token: &'a str,
    challenge: &'a str,
    next: &'a str,
    /// An account enrolling the app: its secret and `otpauth://` URI.
    enrolment: Option<(&'a str, &'a str)>,
    /// Whether the app's code is accepted (else only recovery codes, beside the passkey).
    otp: bool,
    passkey_options: Option<&'a str>,
    errors: &'a [(String, String)],
}

fn second_factor_view(view: SecondFactorView<'_>) -> Page {
    let code_error = field_error(view.errors, "code");
    let title = if view.enrolment.is_some() {
        t("Zweiten Faktor einrichten", "Set up a second factor")
    } else {
        t("Zweiter Faktor", "Second factor")
    };
    let otp_flag = if view.otp { "1" } else { "0" };
    let body = html! {
        h1 { (title) }
        (error_summary(view.errors))
        @if let Some(options) = view.passkey_options {
            h2 { (t("Mit Passkey", "With a passkey")) }
            p { (t(
                "Bestätigen Sie die Anmeldung mit dem Passkey auf Ihrem Gerät oder Sicherheitsschlüssel.",
                "Confirm the sign-in with the passkey on your device or security key.",
            )) }
            (passkey_form(PasskeyForm {
                action: paths::PASSKEY,
                create: false,
                options,
                form_token: view.form_token,
                hidden: &[("challenge", view.challenge), ("next", view.next), ("otp", otp_flag)],
                fields: html! {},
                button: t("Mit Passkey anmelden", "Sign in with a passkey"),
            }))
            h2 { @if view.otp { (t("Oder mit Code", "Or with a code")) } @else { (t("Oder mit Wiederherstellungscode", "Or with a recovery code")) } }
        }
        @if let Some((secret, uri)) = view.enrolment {
            p { (t(
                "Ihr Konto braucht einen zweiten Faktor. Scannen Sie den QR-Code mit einer Authenticator-App (oder geben Sie den Schlüssel ein) und bestätigen Sie mit dem angezeigten Code.",
                "Your account needs a second factor. Scan the QR code with an authenticator app (or type in the key) and confirm with the code it shows.",
            )) }
            @if let Some(svg) = qr_code(uri) {
                div class="qr" role="img" aria-label=(t("QR-Code für die Authenticator-App", "QR code for the authenticator app")) { (svg) }
            }
            p { (t("Schlüssel", "Key")) ": " code class="secret" id="otp-secret" { (secret) } }
        } @else if view.otp {
            p { (t(
                "Geben Sie den sechsstelligen Code aus Ihrer Authenticator-App ein oder einen Ihrer Wiederherstellungscodes.",
                "Enter the six-digit code from your authenticator app, or one of your recovery codes.",
            )) }
        } @else {
            p { (t(
                "Ohne Passkey: geben Sie einen Ihrer Wiederherstellungscodes ein.",
                "Without the passkey: enter one of your recovery codes.",
            )) }
        }
        form method="post" action=(paths::SECOND_FACTOR) novalidate {
            (form_token_field(view.form_token))
            input type="hidden" name="challenge" value=(view.challenge);
            input type="hidden" name="next" value=(view.next);
            input type="hidden" name="otp" value=(otp_flag);
            @if let Some(options) = view.passkey_options {
                input type="hidden" name="passkey_options" value=(options);
            }
            label for="code" { @if view.otp { (t("Code", "Code")) } @else { (t("Wiederherstellungscode", "Recovery code")) } }
            @if let Some(e) = code_error { p class="field-error" id="code-error" { (e) } }
            input type="text" id="code" name="code" inputmode=[view.otp.then_some("numeric")] autocomplete="one-time-code" required
                aria-invalid=[code_error.map(|_| "true")] aria-describedby=[code_error.map(|_| "code-error")];
            button type="submit" class=[view.passkey_options.map(|_| "secondary")] { (t("Bestätigen", "Confirm")) }
        }
    };
    let page = Page::new(title, body).narrow();
    if view.passkey_options.is_some() {
        page.passkey_script()
    } else {
        page
    }
}

async fn second_factor(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<SecondFactorForm>,
) -> Response {
    let next = paths::safe_next(form.next.as_deref()).to_string();
    let challenge = form.challenge.unwrap_or_default();
    let input = OtpInput {
        challenge: Some(challenge.clone()),
        code: form.code,
    };
    match s.auth.verify_otp(input).await {
        Ok(tokens) => match &tokens.recovery_codes {
            None => see_other(&next, &session_cookies(&tokens)),
            Some(codes) => {
                let mut page = recovery_codes_view(codes, &next);
                for cookie in session_cookies(&tokens) {
                    page = page.set_cookie(cookie);
                }
                page.into_response()
            }
        },
        Err(Error::Unauthenticated(_)) => {
            tracing::warn!(target: "regrooter::auth", event = "sign_in_refused", step = "otp", "refused");
            // The challenge stays usable for its few minutes; after too many wrong codes the
            // domain refuses it and the person starts over at the sign-in. An enrolment shows
            // its key again: the person may not have added it to the app yet.
            let enrolment = match s.auth.pending_enrolment(&challenge).await {
                Ok(pending) => pending,
                Err(e) => return crate::web::PageError(e).into_response(),
            };
            second_factor_refused(
                &form_token,
                &challenge,
                &next,
                &form.otp,
                form.passkey_options.as_deref(),
                enrolment.as_ref(),
                t(
                    "Der Code stimmt nicht oder ist abgelaufen. Versuchen Sie es erneut oder melden Sie sich neu an.",
                    "The code is wrong or has expired. Try again, or sign in anew.",
                ),
            )
        }
        Err(e) => crate::web::PageError(e).into_response(),
    }
}

/// The second-factor page again after a refused step, with `message` at the code field; the
/// forms keep what they carried (whether the code is taken, the passkey options).
fn second_factor_refused(
    form_token: &str,
    challenge: &str,
    next: &str,
    otp: &Option<String>,
    passkey_options: Option<&str>,
    enrolment: Option<&OtpSetup>,
    message: &str,
) -> Response {
    let errors = vec![("code".to_string(), message.to_string())];
    second_factor_view(SecondFactorView {
        form_token,
        challenge,
        next,
        enrolment: enrolment.map(|e| (e.secret.as_str(), e.otpauth_uri.as_str())),
        otp: otp.as_deref() != Some("0"),
        passkey_options,
        errors: &errors,
    })
    .status(StatusCode::UNAUTHORIZED)
    .into_response()
}

async fn passkey_sign_in(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<PasskeySignInForm>,
) -> Response {
    let next = paths::safe_next(form.next.as_deref()).to_string();
    let challenge = form.challenge.unwrap_or_default();
    let input = PasskeyInput {
        challenge: Some(challenge.clone()),
        credential: form.credential,
    };
    match s.auth.verify_passkey(input).await {
        Ok(tokens) => see_other(&next, &session_cookies(&tokens)),
        Err(Error::Unauthenticated(_)) => {
            tracing::warn!(target: "regrooter::auth", event = "sign_in_refused", step = "passkey", "refused");
            // A used or expired challenge has no passkey state left: sign in anew.
            second_factor_refused(
                &form_token,
                &challenge,
                &next,
                &form.otp,
                form.passkey_options.as_deref(),
                None,
                t(
                    "Der Passkey wurde nicht angenommen, oder die Anmeldung ist abgelaufen. Melden Sie sich neu an.",
                    "The passkey was not accepted, or the sign-in has expired. Please sign in anew.",
                ),
            )
        }
        Err(e) => crate::web::PageError(e).into_response(),
    }
}

pub fn recovery_codes_view(codes: &[String], next: &str) -> Page {
    let body = html! {
        h1 { (t("Ihre Wiederherstellungscodes", "Your recovery codes")) }
        p { (t(
            "Der zweite Faktor ist eingerichtet. Bewahren Sie diese Codes sicher auf: jeder ersetzt einmal den Code der App, falls Sie Ihr Gerät verlieren. Sie werden nur jetzt angezeigt.",
            "The second factor is set up. Keep these codes safe: each replaces the app's code once, should you lose your device. They are shown only now.",
        )) }
        ul class="codes" id="recovery-codes" {
            @for code in codes { li { code { (code) } } }
        }
        p { a class="button" href=(next) { (t("Weiter zum Portal", "Continue to the portal")) } }
    };
    Page::new(t("Wiederherstellungscodes", "Recovery codes"), body).narrow()
}

#[derive(Debug, Default, Deserialize)]
struct ActivateQuery {
    token: Option<String>,
}

fn activate_view(form_token: &str, token: &str, errors: &[(String, String)]) -> Page {
    let body = html! {
        h1 { (t("Konto aktivieren", "Activate your account")) }
        p { (password_rule()) }
        (new_password_form(paths::ACTIVATE, form_token, token, errors, t("Aktivieren", "Activate")))
    };
    Page::new(t("Konto aktivieren", "Activate your account"), body).narrow()
}

async fn activate_page(
    Extension(FormToken(form_token)): Extension<FormToken>,
    Query(query): Query<ActivateQuery>,
) -> Page {
    activate_view(&form_token, query.token.as_deref().unwrap_or_default(), &[])
}

async fn activate(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<ActivateForm>,
) -> Response {
    let token = form.token.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    if form.password_again.as_deref() != Some(password.as_str()) {
        let errors = vec![(
            "password_again".to_string(),
            t(
                "Die beiden Passwörter sind nicht gleich.",
                "The two passwords differ.",
            )
            .to_string(),
        )];
        return activate_view(&form_token, &token, &errors)
            .status(StatusCode::UNPROCESSABLE_ENTITY)
            .into_response();
    }
    let input = ActivateInput {
        token: Some(token.clone()),
        password: Some(password),
    };
    match s.auth.activate(input).await {
        Ok(_) => see_other(&format!("{}?activated=1", paths::SIGN_IN), &[]),
        Err(Error::Validation(fields)) => {
            // The domain's words for the password rule, under the field they concern.
            let errors: Vec<(String, String)> = fields
                .into_iter()
                .map(|f| (f.pointer.trim_start_matches('/').to_string(), f.detail))
                .collect();
            activate_view(&form_token, &token, &errors)
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response()
        }
        Err(Error::Unauthenticated(_) | Error::NotFound(_)) => {
            let errors = vec![("password".to_string(), t(
                "Dieser Einladungslink ist ungültig oder abgelaufen. Bitten Sie um eine neue Einladung.",
                "This invitation link is invalid or has expired. Please ask for a new invitation.",
            ).to_string())];
            activate_view(&form_token, &token, &errors)
                .status(StatusCode::UNAUTHORIZED)
                .into_response()
        }
        Err(e) => crate::web::PageError(e).into_response(),
    }
}

/// Renews the access token from the refresh cookie (rotated as on `/auth/refresh`) and goes back;
/// without one, or with one no longer valid, on to the sign-in.
async fn refresh(
    State(s): State<Arc<Services>>,
    headers: axum::http::HeaderMap,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = paths::safe_next(query.next.as_deref()).to_string();
    let to_sign_in = || {
        let encoded: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("{}?next={encoded}", paths::SIGN_IN)
    };
    let Some(refresh_token) =
        cookies::read(cookie_values(&headers), cookies::REFRESH_COOKIE).filter(|t| !t.is_empty())
    else {
        return see_other(&to_sign_in(), &[]);
    };
    match s
        .auth
        .refresh(RefreshInput {
            refresh_token: Some(refresh_token),
        })
        .await
    {
        Ok(tokens) => see_other(
            &next,
            &[
                cookies::session(&tokens.access_token, tokens.expires_in),
                cookies::refresh(
                    &tokens.refresh_token,
                    auth::service::REFRESH_TOKEN_DAYS * 24 * 3600,
                ),
                cookies::session_id(
                    &tokens.session,
                    auth::service::REFRESH_TOKEN_DAYS * 24 * 3600,
                ),
            ],
        ),
        Err(_) => see_other(&to_sign_in(), &cookies::cleared_session()),
    }
}

async fn sign_out(
    State(s): State<Arc<Services>>,
    headers: axum::http::HeaderMap,
    PageForm(_): PageForm<Empty>,
) -> Response {
    if let Some(refresh_token) = cookies::read(cookie_values(&headers), cookies::REFRESH_COOKIE) {
        // The refresh token is revoked; the access token ends within minutes and its cookie now.
        if let Err(e) = s
            .auth
            .sign_out(RefreshInput {
                refresh_token: Some(refresh_token),
            })
            .await
        {
            tracing::info!(target: "regrooter::auth", error = %e, "sign-out without a live session");
        }
    }
    let mut set = cookies::cleared_session().to_vec();
    set.push(cookies::form_token(&new_form_token()));
    see_other(&format!("{}?signed_out=1", paths::SIGN_IN), &set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_round_trip_through_the_form() {
        for account in [
            Account::Staff,
            Account::Customer {
                tenant: TenantId::new("acme").expect("tenant"),
            },
        ] {
            assert_eq!(
                parse_organisation(&organisation_value(&account)),
                Some(account)
            );
        }
        assert_eq!(parse_organisation("customer:"), None);
        assert_eq!(parse_organisation("root"), None);
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg =
            qr_code("otpauth://totp/regrooter:a%40b.example?secret=JBSWY3DPEHPK3PXP").expect("qr");
        assert!(svg.0.starts_with("<svg"), "{}", &svg.0[..40]);
        assert!(
            !svg.0.contains("style="),
            "the CSP refuses style attributes"
        );
    }
}

// ----- password reset by mail ---------------------------------------------------------------------

/// The password rule in the page's language, whatever the domain found wrong with it.
/// The new password twice, from a link's token (activation or reset); errors beside the fields.
fn new_password_form(
    action: &str,
    form_token: &str,
    token: &str,
    errors: &[(String, String)],
    button: &str,
) -> Markup {
    let password_error = field_error(errors, "password");
    let again_error = field_error(errors, "password_again");
    html! {
        (error_summary(errors))
        form method="post" action=(action) novalidate {
            (form_token_field(form_token))
            input type="hidden" name="token" value=(token);
            label for="password" { (t("Neues Passwort", "New password")) }
            @if let Some(e) = password_error { p class="field-error" id="password-error" { (e) } }
            input type="password" id="password" name="password" autocomplete="new-password" required
                aria-invalid=[password_error.map(|_| "true")] aria-describedby=[password_error.map(|_| "password-error")];
            label for="password_again" { (t("Passwort wiederholen", "Repeat the password")) }
            @if let Some(e) = again_error { p class="field-error" id="password_again-error" { (e) } }
            input type="password" id="password_again" name="password_again" autocomplete="new-password" required
                aria-invalid=[again_error.map(|_| "true")] aria-describedby=[again_error.map(|_| "password_again-error")];
            button type="submit" { (button) }
        }
    }
}

/// The password rule in words: the length is the domain's (one source), not a number here.
fn password_rule() -> String {
    format!(
        "{}{}{}",
        t(
            "Bitte wählen Sie ein Passwort, das schwer zu erraten ist: mindestens ",
            "Please choose a password that is hard to guess: at least "
        ),
        auth::passwords::MIN_LENGTH,
        t(
            " Zeichen, am besten mehrere Wörter, die nichts miteinander zu tun haben — nicht Ihr Name, nicht Ihre Adresse.",
            " characters, best several unrelated words — not your name, not your address."
        )
    )
}

#[derive(Debug, Default, Deserialize)]
struct ForgotForm {
    email: Option<String>,
}

fn forgot_view(form_token: &str, sent: bool) -> Page {
    let body = html! {
        h1 { (t("Passwort vergessen", "Forgot your password")) }
        @if sent {
            div class="notice" role="status" {
                p { (t(
                    "Wenn ein Konto diese Adresse hat, ist ein Link zum Zurücksetzen unterwegs. Er gilt eine Stunde und nur einmal.",
                    "If an account has this address, a link to reset the password is on its way. It works for an hour, once.",
                )) }
            }
        }
        p { (t(
            "Geben Sie die Adresse Ihres Kontos ein. Wir schicken einen Link, mit dem Sie ein neues Passwort wählen; danach sind alle Anmeldungen des Kontos beendet.",
            "Enter your account's address. We send a link with which you choose a new password; afterwards every session of the account is ended.",
        )) }
        form method="post" action=(paths::FORGOT) novalidate {
            (form_token_field(form_token))
            label for="email" { (t("E-Mail-Adresse", "E-mail address")) }
            input type="email" id="email" name="email" autocomplete="username" required;
            button type="submit" { (t("Link schicken", "Send the link")) }
        }
        p { a href=(paths::SIGN_IN) { (t("Zur Anmeldung", "Back to sign-in")) } }
    };
    Page::new(t("Passwort vergessen", "Forgot your password"), body).narrow()
}

async fn forgot_page(Extension(FormToken(form_token)): Extension<FormToken>) -> Page {
    forgot_view(&form_token, false)
}

/// Queues a link for each account with the address; the answer is the same either way.
async fn forgot(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<ForgotForm>,
) -> Response {
    let email = form.email.unwrap_or_default();
    match mail_reset_links(&s, &email).await {
        Ok(()) => forgot_view(&form_token, true).into_response(),
        Err(e) => crate::web::PageError(e).into_response(),
    }
}

async fn mail_reset_links(s: &Services, email: &str) -> Result<(), Error> {
    let reset_url = format!(
        "{}{}",
        s.config.public_url.trim_end_matches('/'),
        paths::RESET
    );
    for reset in s.auth.request_password_reset(email).await? {
        let organisation = match &reset.account {
            Account::Customer { tenant } => kernel::tenants::get(s.store.as_ref(), tenant)
                .await?
                .map_or_else(|| tenant.to_string(), |t| t.name),
            Account::Staff => "regrooter".to_string(),
        };
        let (subject, body) = auth::service::reset_message(&reset, &organisation, &reset_url);
        s.incidents
            .queue_platform_message(
                format!("reset-{}-{}", reset.user, reset.expires_at.as_second()),
                incidents::outbox::Purpose::PasswordReset {
                    user: reset.user.to_string(),
                },
                &kernel::crypto::Personal::new(reset.email.clone()),
                subject,
                &kernel::crypto::Personal::new(body),
            )
            .await?;
    }
    Ok(())
}

fn reset_view(form_token: &str, token: &str, errors: &[(String, String)]) -> Page {
    let body = html! {
        h1 { (t("Neues Passwort wählen", "Choose a new password")) }
        p { (password_rule()) }
        (new_password_form(paths::RESET, form_token, token, errors, t("Passwort setzen", "Set the password")))
    };
    Page::new(t("Neues Passwort wählen", "Choose a new password"), body).narrow()
}

#[derive(Debug, Default, Deserialize)]
struct ResetQuery {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ResetForm {
    token: Option<String>,
    password: Option<String>,
    password_again: Option<String>,
}

async fn reset_page(
    Extension(FormToken(form_token)): Extension<FormToken>,
    Query(query): Query<ResetQuery>,
) -> Page {
    reset_view(&form_token, query.token.as_deref().unwrap_or_default(), &[])
}

async fn reset(
    State(s): State<Arc<Services>>,
    Extension(FormToken(form_token)): Extension<FormToken>,
    PageForm(form): PageForm<ResetForm>,
) -> Response {
    let token = form.token.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let refused = |errors: Vec<(String, String)>, status| {
        reset_view(&form_token, &token, &errors)
            .status(status)
            .into_response()
    };
    if form.password_again.as_deref() != Some(password.as_str()) {
        return refused(
            vec![(
                "password_again".into(),
                t(
                    "Die beiden Passwörter sind nicht gleich.",
                    "The two passwords differ.",
                )
                .into(),
            )],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let input = auth::service::ResetInput {
        token: Some(token.clone()),
        password: Some(password),
    };
    match s.auth.reset_password(input).await {
        Ok(()) => see_other(&format!("{}?password_changed=1", paths::SIGN_IN), &[]),
        Err(Error::Validation(_)) => refused(
            vec![("password".into(), password_rule())],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Error::Unauthenticated(_)) => refused(
            vec![(
                "password".into(),
                t(
                    "Dieser Link ist ungültig, schon benutzt oder abgelaufen. Fordern Sie einen neuen an.",
                    "This link is invalid, used already or expired. Ask for a new one.",
                )
                .into(),
            )],
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => crate::web::PageError(e).into_response(),
    }
}
