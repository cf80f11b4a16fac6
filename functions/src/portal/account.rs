//! `/portal/account`: the signed-in person's own sign-in security. Customers may sign in with a
//! password alone until they set up a second factor here — an authenticator app (TOTP, with a
//! QR code) or passkeys (WebAuthn; the one page with a script) — and from then on every sign-in
//! asks for one. A tenant can require passkeys: then a session without one only reaches this
//! page until a passkey is registered.

use std::sync::Arc;

use auth::service::{ConfirmOtpInput, PASSKEY_NAME_MAX, PasskeyRegistrationInput};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use maud::{Markup, html};
use serde::Deserialize;

use super::tenant_of;
use crate::http::{Path, Query};
use crate::routes::portal_session::{qr_code, recovery_codes_view};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::Nav;
use crate::web::layout::{
    PasskeyForm, error_summary, field_error, form_token_field, passkey_form, see_other,
};
use crate::web::{Page, PageForm, PageResult, Viewer};

pub const ACCOUNT: &str = "/portal/account";
pub const OTP_START: &str = "/portal/account/otp";
pub const OTP_CONFIRM: &str = "/portal/account/otp/confirm";
pub const PASSKEYS: &str = "/portal/account/passkeys";
pub const NEW_PASSKEY: &str = "/portal/account/passkeys/new";
pub const PASSWORD: &str = "/portal/account/password";
pub const SIGN_OUT_EVERYWHERE: &str = "/portal/account/sign-out-everywhere";
pub const SESSIONS: &str = "/portal/account/sessions";

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountQuery {
    passkey: Option<String>,
    session: Option<String>,
}

/// How a session was signed in, in words (RFC 8176 `amr` values).
fn method_name(amr: &str) -> Option<&'static str> {
    match amr {
        "pwd" => Some(t("Passwort", "password")),
        "otp" => Some(t("App-Code", "app code")),
        "pop" => Some(t("Passkey", "passkey")),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: Option<String>,
    new: Option<String>,
    new_again: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PasskeyRegistrationForm {
    ceremony: Option<String>,
    name: Option<String>,
    credential: Option<String>,
    passkey_options: Option<String>,
}

/// Says that the tenant requires a passkey this session did not use.
pub fn passkey_required_notice() -> Markup {
    html! {
        div class="notice" role="status" { p { (t(
            "Ihr Unternehmen verlangt Passkeys. Richten Sie unter „Ihr Konto“ einen Passkey ein und melden Sie sich damit neu an; bis dahin sind die übrigen Seiten gesperrt.",
            "Your company requires passkeys. Add a passkey under “Your account” and sign in again with it; until then the other pages are closed.",
        )) } }
    }
}

/// The account pages serve customers and staff alike: each sees them inside its own navigation
/// (the portal's or the console's), as the pages are about the own account only.
fn own_nav(viewer: &Viewer) -> Result<Nav, crate::web::PageError> {
    match viewer.access.principal().actor {
        kernel::rbac::Actor::Staff => Ok(crate::console::nav(viewer)),
        _ => Ok(super::nav(viewer, &tenant_of(viewer)?)),
    }
}

pub async fn account(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Query(query): Query<AccountQuery>,
) -> PageResult<Page> {
    render(&s, &viewer, &query, &[]).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    query: &AccountQuery,
    errors: &[(String, String)],
) -> PageResult<Page> {
    let nav = own_nav(viewer)?;
    let current_error = field_error(errors, "current");
    let new_error = field_error(errors, "new");
    let again_error = field_error(errors, "new_again");
    let lang = current_lang();
    let me = s.auth.own(&viewer.access).await?;
    let passkeys = s.auth.passkeys(&viewer.access).await?;
    let needs_passkey = s.auth.needs_passkey(&viewer.access).await?;
    let sessions = s.auth.sessions(&viewer.access).await?;
    let body = html! {
        h1 { (t("Ihr Konto", "Your account")) }
        @if query.passkey.as_deref() == Some("added") {
            div class="notice" role="status" { p { (t("Der Passkey ist eingerichtet.", "The passkey is set up.")) } }
        } @else if query.passkey.as_deref() == Some("removed") {
            div class="notice" role="status" { p { (t("Der Passkey ist entfernt.", "The passkey is removed.")) } }
        }
        @if needs_passkey { (passkey_required_notice()) }
        p { (me.name) " · " (me.email) }
        h2 { (t("Passkeys", "Passkeys")) }
        p { (t(
            "Ein Passkey ist der sicherste zweite Faktor: Ihr Gerät oder Sicherheitsschlüssel bestätigt die Anmeldung, und er funktioniert nur auf dieser Website, nicht auf einer nachgemachten.",
            "A passkey is the safest second factor: your device or security key confirms the sign-in, and it works only on this website, never on an imitation of it.",
        )) }
        @if passkeys.is_empty() {
            p class="muted" { (t("Noch kein Passkey eingerichtet.", "No passkey set up yet.")) }
        } @else {
            table {
                caption class="muted" { (t("Ihre Passkeys", "Your passkeys")) }
                thead { tr {
                    th scope="col" { (t("Name", "Name")) }
                    th scope="col" { (t("Eingerichtet", "Added")) }
                    th scope="col" { (t("Zuletzt verwendet", "Last used")) }
                    th scope="col" { (t("Aktion", "Action")) }
                } }
                tbody {
                    @for passkey in &passkeys {
                        tr {
                            td { (passkey.name) }
                            td { (date_time(lang, passkey.created_at)) }
                            td { @match passkey.last_used_at {
                                Some(at) => { (date_time(lang, at)) }
                                None => { span class="muted" { (t("noch nie", "never")) } }
                            } }
                            td {
                                form class="inline" method="post" action={ (PASSKEYS) "/" (passkey.id) "/remove" } {
                                    (form_token_field(&viewer.form_token))
                                    button type="submit" class="secondary" aria-label={ (t("Entfernen: ", "Remove: ")) (passkey.name) } { (t("Entfernen", "Remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if s.auth.passkeys_available() {
            p { a class="button" href=(NEW_PASSKEY) { (t("Passkey hinzufügen", "Add a passkey")) } }
        } @else {
            p class="muted" { (t(
                "Passkeys brauchen eine Adresse mit Domainnamen (z. B. localhost statt 127.0.0.1).",
                "Passkeys need an address with a domain name (e.g. localhost rather than 127.0.0.1).",
            )) }
        }
        h2 { (t("Authenticator-App", "Authenticator app")) }
        @if me.otp {
            p class="good" { (t(
                "Eingerichtet: bei der Anmeldung können Sie den Code Ihrer Authenticator-App eingeben.",
                "Set up: at sign-in you can enter the code from your authenticator app.",
            )) }
        } @else {
            @if passkeys.is_empty() {
                p { (t(
                    "Noch nicht eingerichtet. Ein zweiter Faktor schützt Ihr Konto, auch wenn Ihr Passwort bekannt wird.",
                    "Not set up yet. A second factor protects your account even if your password becomes known.",
                )) }
            } @else {
                p { (t(
                    "Nicht eingerichtet. Neben Ihren Passkeys ist die App ein weiterer Weg, sich anzumelden.",
                    "Not set up. Beside your passkeys, the app is one more way to sign in.",
                )) }
            }
            form method="post" action=(OTP_START) {
                (form_token_field(&viewer.form_token))
                button type="submit" { (t("Authenticator-App einrichten", "Set up an authenticator app")) }
            }
        }
        h2 id="password" { (t("Passwort ändern", "Change the password")) }
        p {
            (t("Mindestens ", "At least ")) (auth::passwords::MIN_LENGTH)
            (t(" Zeichen. Danach enden alle Sitzungen, auch diese; Sie melden sich mit dem neuen Passwort an.", " characters. Afterwards every session ends, this one too; you sign in with the new password."))
        }
        (error_summary(errors))
        form method="post" action=(PASSWORD) novalidate {
            (form_token_field(&viewer.form_token))
            label for="current" { (t("Aktuelles Passwort", "Current password")) }
            @if let Some(e) = current_error { p class="field-error" id="current-error" { (e) } }
            input type="password" id="current" name="current" autocomplete="current-password" required
                aria-invalid=[current_error.map(|_| "true")] aria-describedby=[current_error.map(|_| "current-error")];
            label for="new" { (t("Neues Passwort", "New password")) }
            @if let Some(e) = new_error { p class="field-error" id="new-error" { (e) } }
            input type="password" id="new" name="new" autocomplete="new-password" required
                aria-invalid=[new_error.map(|_| "true")] aria-describedby=[new_error.map(|_| "new-error")];
            label for="new_again" { (t("Neues Passwort wiederholen", "Repeat the new password")) }
            @if let Some(e) = again_error { p class="field-error" id="new_again-error" { (e) } }
            input type="password" id="new_again" name="new_again" autocomplete="new-password" required
                aria-invalid=[again_error.map(|_| "true")] aria-describedby=[again_error.map(|_| "new_again-error")];
            button type="submit" { (t("Passwort ändern", "Change the password")) }
        }
        h2 id="sessions" { (t("Sitzungen", "Sessions")) }
        @if query.session.as_deref() == Some("ended") {
            div class="notice" role="status" { p { (t(
                "Die Sitzung ist beendet; sie kann sich nicht mehr erneuern und endet spätestens nach 10 Minuten.",
                "The session is ended: it can no longer renew itself and stops within 10 minutes at the latest.",
            )) } }
        }
        table {
            caption class="muted" { (t("Angemeldete Sitzungen, neueste zuerst (auch diese)", "Signed-in sessions, newest first (this one too)")) }
            thead { tr {
                th scope="col" { (t("Angemeldet", "Signed in")) }
                th scope="col" { (t("Mit", "With")) }
                th scope="col" { (t("Läuft ab", "Expires")) }
                th scope="col" { (t("Aktion", "Action")) }
            } }
            tbody {
                @for session in &sessions {
                    tr {
                        td {
                            (date_time(lang, session.started_at))
                            @if viewer.session.as_deref() == Some(session.id.as_str()) {
                                br; strong class="this-session" { (t("dieser Browser", "this browser")) }
                            }
                        }
                        td { (session.methods.iter().filter_map(|m| method_name(m)).collect::<Vec<_>>().join(" + ")) }
                        td { (date_time(lang, session.expires_at)) }
                        td {
                            form class="inline" method="post" action={ (SESSIONS) "/" (session.id) "/end" } {
                                (form_token_field(&viewer.form_token))
                                button type="submit" class="secondary" aria-label={ (t("Beenden: Sitzung vom ", "End: session of ")) (date_time(lang, session.started_at)) } { (t("Beenden", "End")) }
                            }
                        }
                    }
                }
            }
        }
        p { (t(
            "Haben Sie sich auf einem fremden Gerät angemeldet oder ein Gerät verloren? Beenden Sie alle Sitzungen Ihres Kontos, auch diese.",
            "Signed in on someone else's device, or lost one? End every session of your account, this one too.",
        )) }
        form method="post" action=(SIGN_OUT_EVERYWHERE) {
            (form_token_field(&viewer.form_token))
            button type="submit" class="secondary" { (t("Überall abmelden", "Sign out everywhere")) }
        }
    };
    Ok(Page::new(t("Ihr Konto", "Your account"), body).nav(nav))
}

/// Where a person goes whose sessions just ended: the sign-in, saying why.
fn to_sign_in(reason: &str) -> Response {
    let mut cookies = web::cookies::cleared_session().to_vec();
    cookies.push(web::cookies::form_token(
        &crate::web::context::new_form_token(),
    ));
    see_other(&format!("{}?{reason}=1", web::paths::SIGN_IN), &cookies)
}

pub async fn change_password(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<PasswordForm>,
) -> PageResult<Response> {
    let new = form.new.unwrap_or_default();
    let mut errors: Vec<(String, String)> = Vec::new();
    if form.new_again.as_deref() != Some(new.as_str()) {
        errors.push((
            "new_again".into(),
            t(
                "Die beiden neuen Passwörter sind nicht gleich.",
                "The two new passwords differ.",
            )
            .into(),
        ));
    }
    let result = if errors.is_empty() {
        s.auth
            .change_password(
                &viewer.access,
                auth::service::PasswordChangeInput {
                    current: form.current,
                    new: Some(new),
                },
            )
            .await
    } else {
        Ok(())
    };
    match result {
        Ok(()) if errors.is_empty() => return Ok(to_sign_in("password_changed")),
        Ok(()) => {}
        Err(Error::Validation(fields)) => {
            for f in fields {
                let field = f.pointer.trim_start_matches('/').to_string();
                let text = match field.as_str() {
                    "current" if f.detail.contains("wrong") => t(
                        "Das aktuelle Passwort stimmt nicht.",
                        "The current password is wrong.",
                    )
                    .to_string(),
                    "current" => t(
                        "Bitte geben Sie Ihr aktuelles Passwort ein.",
                        "Please enter your current password.",
                    )
                    .to_string(),
                    _ if f.detail.contains("differ") => t(
                        "Das neue Passwort muss sich vom aktuellen unterscheiden.",
                        "The new password must differ from the current one.",
                    )
                    .to_string(),
                    _ => format!(
                        "{}{}{}",
                        t("Mindestens ", "At least "),
                        auth::passwords::MIN_LENGTH,
                        t(
                            " Zeichen, nicht nur ein wiederholtes Zeichen.",
                            " characters, not one character repeated."
                        )
                    ),
                };
                errors.push((field, text));
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(render(&s, &viewer, &AccountQuery::default(), &errors)
        .await?
        .status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

pub async fn sign_out_everywhere(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Response> {
    s.auth.sign_out_everywhere(&viewer.access).await?;
    Ok(to_sign_in("signed_out"))
}

fn new_passkey_view(
    viewer: &Viewer,
    ceremony: &str,
    options: &str,
    name: &str,
    errors: &[(String, String)],
) -> Page {
    let name_error = field_error(errors, "name");
    let body = html! {
        h1 { (t("Passkey hinzufügen", "Add a passkey")) }
        p { (t(
            "Geben Sie dem Passkey einen Namen, an dem Sie ihn wiedererkennen (etwa das Gerät), und bestätigen Sie dann mit Ihrem Gerät oder Sicherheitsschlüssel.",
            "Give the passkey a name you will recognise it by (the device, say), then confirm on your device or security key.",
        )) }
        (error_summary(errors))
        (passkey_form(PasskeyForm {
            action: PASSKEYS,
            create: true,
            options,
            form_token: &viewer.form_token,
            hidden: &[("ceremony", ceremony)],
            fields: html! {
                label for="name" { (t("Name des Passkeys", "Name of the passkey")) }
                @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
                input type="text" id="name" name="name" value=(name) maxlength=(PASSKEY_NAME_MAX) required autocomplete="off"
                    aria-invalid=[name_error.map(|_| "true")] aria-describedby=[name_error.map(|_| "name-error")];
            },
            button: t("Passkey erstellen", "Create the passkey"),
        }))
        p { a href=(ACCOUNT) { (t("Zurück zum Konto", "Back to your account")) } }
    };
    Page::new(t("Passkey hinzufügen", "Add a passkey"), body).passkey_script()
}

pub async fn new_passkey(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    let nav = own_nav(&viewer)?;
    if !s.auth.passkeys_available() {
        let body = html! {
            h1 { (t("Passkey hinzufügen", "Add a passkey")) }
            p { (t(
                "Passkeys brauchen eine Adresse mit Domainnamen (z. B. localhost statt 127.0.0.1).",
                "Passkeys need an address with a domain name (e.g. localhost rather than 127.0.0.1).",
            )) }
            p { a href=(ACCOUNT) { (t("Zurück zum Konto", "Back to your account")) } }
        };
        return Ok(Page::new(t("Passkey hinzufügen", "Add a passkey"), body)
            .status(StatusCode::CONFLICT)
            .nav(nav.clone()));
    }
    let start = s.auth.start_passkey_registration(&viewer.access).await?;
    Ok(new_passkey_view(&viewer, &start.ceremony, &start.options, "", &[]).nav(nav.clone()))
}

pub async fn add_passkey(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<PasskeyRegistrationForm>,
) -> PageResult<Response> {
    let nav = own_nav(&viewer)?;
    let name = form.name.clone().unwrap_or_default();
    let ceremony = form.ceremony.clone().unwrap_or_default();
    let input = PasskeyRegistrationInput {
        ceremony: form.ceremony,
        name: form.name,
        credential: form.credential,
    };
    match s
        .auth
        .finish_passkey_registration(&viewer.access, input)
        .await
    {
        Ok(None) => Ok(see_other(&format!("{ACCOUNT}?passkey=added"), &[])),
        Ok(Some(codes)) => Ok(recovery_codes_view(&codes, ACCOUNT)
            .nav(nav.clone())
            .into_response()),
        Err(Error::Validation(fields)) => {
            // A refused or missing credential, or an expired step: a new ceremony. Only a wrong
            // name leaves the open one as it is.
            let restart = fields.iter().any(|f| f.pointer != "/name");
            let errors: Vec<(String, String)> = fields
                .into_iter()
                .map(|f| {
                    let field = f.pointer.trim_start_matches('/').to_string();
                    let detail = match field.as_str() {
                        "name" => format!(
                            "{}{PASSKEY_NAME_MAX}{}",
                            t(
                                "Bitte geben Sie einen Namen mit höchstens ",
                                "Please enter a name of at most "
                            ),
                            t(" Zeichen ein.", " characters.")
                        ),
                        "ceremony" => t(
                            "Dieser Schritt ist abgelaufen. Versuchen Sie es erneut.",
                            "This step has expired. Please try again.",
                        )
                        .to_string(),
                        _ => t(
                            "Der Passkey konnte nicht geprüft werden. Versuchen Sie es erneut.",
                            "The passkey could not be verified. Please try again.",
                        )
                        .to_string(),
                    };
                    // Errors sit next to a field the page has: the credential's by the name.
                    let field = if field == "name" {
                        field
                    } else {
                        "credential".into()
                    };
                    (field, detail)
                })
                .collect();
            if restart {
                let start = s.auth.start_passkey_registration(&viewer.access).await?;
                return Ok(new_passkey_view(
                    &viewer,
                    &start.ceremony,
                    &start.options,
                    &name,
                    &errors,
                )
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .nav(nav.clone())
                .into_response());
            }
            // The ceremony is still open (only the name was wrong): the same options again.
            let options = form.passkey_options.unwrap_or_default();
            Ok(
                new_passkey_view(&viewer, &ceremony, &options, &name, &errors)
                    .status(StatusCode::UNPROCESSABLE_ENTITY)
                    .nav(nav.clone())
                    .into_response(),
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_passkey(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Response> {
    s.auth.remove_passkey(&viewer.access, &id).await?;
    Ok(see_other(&format!("{ACCOUNT}?passkey=removed"), &[]))
}

pub async fn start_otp(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Page> {
    let nav = own_nav(&viewer)?;
    let setup = match s.auth.start_otp(&viewer.access).await {
        Ok(setup) => setup,
        Err(Error::Conflict(_)) => {
            let body = html! {
                h1 { (t("Zweiter Faktor", "Second factor")) }
                p { (t("Ihr Konto hat bereits einen zweiten Faktor.", "Your account already has a second factor.")) }
                p { a href=(ACCOUNT) { (t("Zurück zum Konto", "Back to your account")) } }
            };
            return Ok(Page::new(t("Zweiter Faktor", "Second factor"), body).nav(nav.clone()));
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
    .nav(nav.clone()))
}

pub async fn confirm_otp(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<CodeForm>,
) -> PageResult<Page> {
    let nav = own_nav(&viewer)?;
    match s
        .auth
        .confirm_otp(&viewer.access, ConfirmOtpInput { code: form.code })
        .await
    {
        Ok(codes) => Ok(recovery_codes_view(&codes, ACCOUNT).nav(nav.clone())),
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
                    .nav(nav.clone()),
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn end_session(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(id): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Response> {
    s.auth.end_session(&viewer.access, &id).await?;
    Ok(see_other(&format!("{ACCOUNT}?session=ended#sessions"), &[]))
}
