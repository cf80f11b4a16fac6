//! `/console/staff`: the platform's staff accounts for operators — who, which roles, whether
//! activated, second factor and passkeys, disabled or not — a new staff member invited by mail
//! (the link goes to that person only), roles changed (the account's sessions end), an account
//! disabled (every token it holds stops at once) and enabled again, and a lost second factor
//! reset with four eyes: one operator asks, another approves, the person is told by mail.

use std::sync::Arc;

use auth::service::{NewUserInput, RolesInput, UserView};
use auth::{Account, UserId};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::rbac::BuiltinRole;
use maud::{Markup, html};
use serde::Deserialize;

use super::{done, field_errors, nav, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const STAFF: &str = "/console/staff";

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

/// A form whose button is the whole action (only the form token is posted).
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {}

fn role_label(role: &str) -> &'static str {
    match role {
        "security_officer" => t("Sicherheitsteam", "Security officer"),
        "data_protection_officer" => t("Datenschutzbeauftragte(r)", "Data protection officer"),
        "billing_admin" => t("Abrechnung", "Billing"),
        "read_only_support" => t("Support (nur lesen)", "Support (read only)"),
        "operator" => t("Betrieb", "Operator"),
        _ => t("unbekannte Rolle", "unknown role"),
    }
}

fn staff_roles() -> impl Iterator<Item = &'static str> {
    BuiltinRole::ALL
        .iter()
        .filter(|r| r.is_staff())
        .map(|r| r.as_str())
}

fn role_select(id: &str, chosen: &str) -> Markup {
    html! {
        select id=(id) name="role" {
            @for role in staff_roles() {
                option value=(role) selected[role == chosen] { (role_label(role)) }
            }
        }
    }
}

/// The four-eyes reset of a staff member's second factor: ask, or (another operator) approve,
/// or withdraw a waiting request.
fn second_factor_reset(viewer: &Viewer, user: &UserView, staff: &[UserView], me: &str) -> Markup {
    let action = |path: &str| format!("{STAFF}/{}/second-factor-reset{path}", user.id);
    html! {
        @match &user.second_factor_reset {
            None => @if user.second_factor {
                form class="inline" method="post" action=(action("")) {
                    (form_token_field(&viewer.form_token))
                    button type="submit" class="secondary" aria-label={ (t("Zweiten Faktor zurücksetzen: ", "Reset the second factor: ")) (user.name) } {
                        (t("Zweiten Faktor zurücksetzen", "Reset the second factor"))
                    }
                }
            },
            Some(pending) => {
                @let asker = staff.iter().find(|u| u.id.to_string() == pending.requested_by).map_or("?", |u| u.name.as_str());
                p class="pending" {
                    @if pending.requested_by == me {
                        (t("Sie haben am ", "You asked on "))
                        (date_time(current_lang(), pending.requested_at))
                        (t(" beantragt, den zweiten Faktor zurückzusetzen; eine zweite Person aus dem Betrieb muss zustimmen.", " to reset the second factor; a second operator must approve."))
                    } @else {
                        (asker) (t(" hat am ", " asked on "))
                        (date_time(current_lang(), pending.requested_at))
                        (t(" beantragt, den zweiten Faktor zurückzusetzen. Zustimmen nur, wenn die Person ihre Identität auf anderem Weg bestätigt hat.", " to reset the second factor. Approve only once the person has confirmed who they are another way."))
                    }
                }
                @if pending.requested_by != me {
                    form class="inline" method="post" action=(action("/approval")) {
                        (form_token_field(&viewer.form_token))
                        button type="submit" aria-label={ (t("Zurücksetzen freigeben: ", "Approve the reset: ")) (user.name) } { (t("Zurücksetzen freigeben", "Approve the reset")) }
                    }
                }
                form class="inline" method="post" action=(action("/withdrawal")) {
                    (form_token_field(&viewer.form_token))
                    button type="submit" class="secondary" aria-label={ (t("Antrag zurückziehen: ", "Withdraw the request: ")) (user.name) } { (t("Antrag zurückziehen", "Withdraw the request")) }
                }
            }
        }
    }
}

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &InviteForm::default(), &[], None).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    form: &InviteForm,
    errors: &[(String, String)],
    notice: Option<Markup>,
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let mut users = s.auth.users(&viewer.access, &Account::Staff).await?;
    users.sort_by_key(|u| u.name.to_lowercase());
    let me = viewer.access.principal().subject.clone();
    let name_error = field_error(errors, "name");
    let email_error = field_error(errors, "email");
    let body = html! {
        h1 { (t("Mitarbeitende", "Staff")) }
        @if let Some(notice) = notice { (notice) }
        table id="staff" {
            thead { tr {
                th scope="col" { (t("Name", "Name")) }
                th scope="col" { (t("Rollen", "Roles")) }
                th scope="col" { (t("Stand", "State")) }
                th scope="col" { (t("Aktion", "Action")) }
            } }
            tbody {
                @for user in &users {
                    @let own = user.id.to_string() == me;
                    tr id={ "user-" (user.id) } {
                        th scope="row" { (user.name) br; span class="muted" { (user.email) } }
                        td { (user.roles.iter().map(|r| role_label(r)).collect::<Vec<_>>().join(", ")) }
                        td {
                            @if user.disabled {
                                span class="status bad" { (t("gesperrt", "disabled")) }
                            } @else if !user.activated {
                                span class="status warn" { (t("eingeladen", "invited")) }
                            } @else if !user.second_factor {
                                span class="status warn" { (t("ohne zweiten Faktor", "no second factor")) }
                            } @else {
                                span class="status good" { (t("aktiv", "active")) }
                            }
                            br; span class="muted" {
                                (t("Passkeys: ", "Passkeys: ")) (user.passkeys)
                                @if let Some(until) = user.locked_until { "; " (t("gesperrt bis ", "locked until ")) (date_time(lang, until)) }
                            }
                        }
                        td {
                            @if own {
                                span class="muted" { (t("Ihr eigenes Konto", "Your own account")) }
                            } @else {
                                details class="roles" {
                                    summary { (t("Rollen ändern", "Change roles")) span class="visually-hidden" { ": " (user.name) } }
                                    form method="post" action={ (STAFF) "/" (user.id) "/roles" } {
                                        (form_token_field(&viewer.form_token))
                                        fieldset {
                                            legend { (t("Rollen von ", "Roles of ")) (user.name) }
                                            @for role in staff_roles() {
                                                @let id = format!("roles-{}-{}", user.id, role);
                                                div {
                                                    input type="checkbox" id=(id) name={ "role." (role) } value="1" checked[user.roles.iter().any(|r| r == role)];
                                                    label for=(id) class="inline-label" { (role_label(role)) }
                                                }
                                            }
                                        }
                                        p class="hint" { (t("Die Sitzungen der Person enden; mit der nächsten Anmeldung gelten die neuen Rollen.", "Their sessions end; the new roles apply from their next sign-in.")) }
                                        button type="submit" { (t("Rollen speichern", "Save roles")) }
                                    }
                                }
                                form class="inline" method="post" action={ (STAFF) "/" (user.id) @if user.disabled { "/enable" } @else { "/disable" } } {
                                    (form_token_field(&viewer.form_token))
                                    button type="submit" class="secondary" aria-label={ @if user.disabled { (t("Wieder freischalten: ", "Enable again: ")) } @else { (t("Sperren: ", "Disable: ")) } (user.name) } {
                                        @if user.disabled { (t("Wieder freischalten", "Enable again")) } @else { (t("Sperren", "Disable")) }
                                    }
                                }
                                (second_factor_reset(viewer, user, &users, &me))
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("Neue Mitarbeiterin, neuer Mitarbeiter", "New staff member")) }
        p class="hint" { (t(
            "Der Aktivierungslink geht per E-Mail an die Person; bei der ersten Anmeldung richtet sie den zweiten Faktor ein.",
            "The activation link goes to the person by e-mail; at the first sign-in they set up the second factor.",
        )) }
        (error_summary(errors))
        form method="post" action=(STAFF) novalidate {
            (form_token_field(&viewer.form_token))
            label for="name" { (t("Name", "Name")) }
            @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
            input type="text" id="name" name="name" value=(form.name.as_deref().unwrap_or_default()) autocomplete="off" aria-invalid=[name_error.map(|_| "true")];
            label for="email" { (t("E-Mail", "E-mail")) }
            @if let Some(e) = email_error { p class="field-error" id="email-error" { (e) } }
            input type="email" id="email" name="email" value=(form.email.as_deref().unwrap_or_default()) autocomplete="off" aria-invalid=[email_error.map(|_| "true")];
            label for="role" { (t("Rolle", "Role")) }
            (role_select("role", form.role.as_deref().unwrap_or("read_only_support")))
            button type="submit" { (t("Einladen", "Invite")) }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("Mitarbeitende", "Staff"), body)
        .nav(nav(viewer))
        .status(status))
}

fn message(field: &str) -> String {
    match field {
        "email" => t(
            "Bitte eine gültige E-Mail-Adresse angeben, die noch kein Konto hat.",
            "Please give a valid e-mail address that has no account yet.",
        ),
        "name" => t(
            "Bitte einen Namen angeben (1 bis 200 Zeichen).",
            "Please give a name (1 to 200 characters).",
        ),
        _ => t(
            "Bitte mindestens eine Rolle wählen.",
            "Please choose at least one role.",
        ),
    }
    .to_string()
}

pub async fn invite(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<InviteForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let input = NewUserInput {
        email: form.email.clone(),
        name: form.name.clone(),
        roles: Some(vec![form.role.clone().unwrap_or_default()]),
    };
    match s.invite_staff(&viewer.access, input).await {
        Ok(created) => {
            let text = format!(
                "{} {} {}",
                created.user.name,
                t(
                    "ist eingeladen; der Aktivierungslink ging per E-Mail an",
                    "is invited; the activation link went by e-mail to"
                ),
                created.user.email
            );
            Ok(
                render(&s, &viewer, &InviteForm::default(), &[], Some(done(&text)))
                    .await?
                    .status(StatusCode::CREATED)
                    .into_response(),
            )
        }
        Err(Error::Validation(fields)) => {
            let failing: Vec<String> = field_errors(fields).into_iter().map(|(f, _)| f).collect();
            let errors: Vec<(String, String)> = ["name", "email", "roles"]
                .iter()
                .filter(|f| {
                    failing
                        .iter()
                        .any(|x| x == *f || (**f == "roles" && x.parse::<usize>().is_ok()))
                })
                .map(|f| (f.to_string(), message(f)))
                .collect();
            Ok(render(&s, &viewer, &form, &errors, None)
                .await?
                .into_response())
        }
        Err(Error::Conflict(_)) => {
            let errors = vec![("email".to_string(), message("email"))];
            Ok(render(&s, &viewer, &form, &errors, None)
                .await?
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

fn own_account() -> &'static str {
    t(
        "Nicht möglich: das eigene Konto lässt sich hier weder sperren noch in seinen Rollen oder seinem zweiten Faktor ändern.",
        "Not possible: your own account cannot be disabled here, nor its roles or second factor changed.",
    )
}

/// The staff account an action names, for staff only.
fn target(viewer: &Viewer, raw: &str) -> PageResult<UserId> {
    staff_only(viewer)?;
    UserId::parse(raw).map_err(|_| PageError(Error::NotFound("user".into())))
}

/// After an action on one account: the page again, saying "<name>: `done`", or why not
/// (`refused`: what to say when the action is not possible, a conflict).
async fn after(
    s: &Services,
    viewer: &Viewer,
    result: Result<UserView, Error>,
    done_text: &str,
    refused: &str,
) -> PageResult<Response> {
    let notice = match result {
        Ok(user) => done(&format!("{}: {done_text}", user.name)),
        Err(Error::Conflict(_)) => html! { div class="errors" role="alert" { p { (refused) } } },
        Err(Error::Validation(_)) => {
            html! { div class="errors" role="alert" { p { (message("roles")) } } }
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(s, viewer, &InviteForm::default(), &[], Some(notice))
        .await?
        .into_response())
}

pub async fn disable(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<ActionForm>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let result = s
        .auth
        .disable_user(&viewer.access, &Account::Staff, &id)
        .await;
    let text = t(
        "gesperrt; alle Sitzungen sind beendet.",
        "disabled; every session has ended.",
    );
    after(&s, &viewer, result, text, own_account()).await
}

pub async fn enable(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<ActionForm>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let result = s
        .auth
        .enable_user(&viewer.access, &Account::Staff, &id)
        .await;
    let text = t("wieder freigeschaltet.", "enabled again.");
    after(&s, &viewer, result, text, own_account()).await
}

/// The role checkboxes post `role.<name>=1`, one per role ticked.
pub async fn set_roles(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(form): PageForm<std::collections::BTreeMap<String, String>>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let input = RolesInput {
        roles: Some(
            form.keys()
                .filter_map(|k| k.strip_prefix("role."))
                .map(str::to_string)
                .collect(),
        ),
    };
    let result = s
        .auth
        .set_roles(&viewer.access, &Account::Staff, &id, input)
        .await;
    let text = t(
        "neue Rollen; die Sitzungen enden, die nächste Anmeldung trägt sie.",
        "new roles; the sessions end and the next sign-in carries them.",
    );
    after(&s, &viewer, result, text, own_account()).await
}

pub async fn request_reset(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<ActionForm>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let result = s
        .auth
        .request_second_factor_reset(&viewer.access, &Account::Staff, &id)
        .await;
    let text = t(
        "Zurücksetzen des zweiten Faktors beantragt; es geschieht, sobald eine zweite Person aus dem Betrieb zustimmt.",
        "reset of the second factor asked for; it happens once a second operator approves.",
    );
    after(&s, &viewer, result, text, own_account()).await
}

pub async fn approve_reset(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<ActionForm>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let result = s
        .approve_second_factor_reset(&viewer.access, &Account::Staff, &id)
        .await;
    let text = t(
        "zweiter Faktor zurückgesetzt, alle Sitzungen beendet; die Person ist per E-Mail informiert und richtet bei der nächsten Anmeldung einen neuen ein.",
        "second factor reset, every session ended; the person is told by e-mail and sets up a new one at the next sign-in.",
    );
    let refused = t(
        "Nicht möglich: freigeben kann nur eine andere Person aus dem Betrieb als die, die das Zurücksetzen beantragt hat, und nur solange der Antrag offen ist; das eigene Konto nie.",
        "Not possible: only an operator other than the one who asked can approve, only while the request is open, and never for their own account.",
    );
    after(&s, &viewer, result, text, refused).await
}

pub async fn withdraw_reset(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<ActionForm>,
) -> PageResult<Response> {
    let id = target(&viewer, &user)?;
    let result = s
        .auth
        .withdraw_second_factor_reset(&viewer.access, &Account::Staff, &id)
        .await;
    let text = t(
        "kein Zurücksetzen mehr beantragt.",
        "no reset asked for any more.",
    );
    after(&s, &viewer, result, text, own_account()).await
}
