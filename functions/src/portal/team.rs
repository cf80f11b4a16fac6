//! `/portal/team`: the company's portal users — who they are, their roles, whether they have
//! activated their account and set up a second factor — the invitation of new ones (the
//! activation link goes to the person by mail; the admin never holds it), and disabling an account (its sessions end at
//! once: tokens issued before are refused).

use std::sync::Arc;

use auth::service::NewUserInput;
use auth::{Account, UserId};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeSet;

use kernel::Error;
use kernel::rbac::{Grantable, Permission};
use maud::{Markup, html};
use serde::Deserialize;

use super::{nav, tenant_of};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Text, Viewer};

pub const TEAM: &str = "/portal/team";
pub const INVITE: &str = "/portal/team/invite";
pub const PASSKEY_RULE: &str = "/portal/team/passkeys";

/// The built-in customer roles, as the invitation offers them.
const BUILTIN_ROLES: &[(&str, Text, Text)] = &[
    (
        "customer_member",
        Text::new("Mitglied", "Member"),
        Text::new(
            "liest Vorfälle, die Ihr Unternehmen betreffen, SLA-Berichte und den Löschstand",
            "reads incidents that affect your company, SLA reports and the deletion state",
        ),
    ),
    (
        "customer_admin",
        Text::new("Administration", "Administrator"),
        Text::new(
            "dazu: Gutschriften beantragen, Abrechnung lesen, Benutzer und Rollen verwalten, Datenexport und endgültige Löschung verlangen",
            "also: claims credits, reads billing, manages users and roles, asks for data exports and final deletion",
        ),
    ),
];

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Debug, Deserialize)]
pub struct PasskeyRuleForm {
    required: Option<String>,
}

fn role_label(role: &str) -> String {
    BUILTIN_ROLES
        .iter()
        .find(|(name, _, _)| *name == role)
        .map_or_else(
            || role.strip_prefix("custom:").unwrap_or(role).to_string(),
            |(_, label, _)| label.get().to_string(),
        )
}

pub async fn team(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &InviteForm::default(), &[], None).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    form: &InviteForm,
    errors: &[(String, String)],
    invited: Option<Markup>,
) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let lang = current_lang();
    let users = s
        .auth
        .users(
            &viewer.access,
            &Account::Customer {
                tenant: tenant.clone(),
            },
        )
        .await?;
    let custom_roles = s.auth.roles(&tenant).await?;
    let passkeys_required = kernel::tenants::get(s.store.as_ref(), &tenant)
        .await?
        .map(|record| record.passkeys_required);
    let me = viewer.access.principal().subject.clone();
    let chosen = form.role.as_deref().unwrap_or("customer_member");
    let email_error = field_error(errors, "email");
    let name_error = field_error(errors, "name");
    let body = html! {
        h1 { (t("Team", "Team")) }
        @if let Some(invited) = invited { (invited) }
        @if errors.iter().any(|(field, _)| field == "users") { (error_summary(errors)) }
        table id="users" {
            caption class="muted" { (t("Benutzer Ihres Unternehmens im Portal", "Your company's portal users")) }
            thead { tr {
                th scope="col" { (t("Name", "Name")) }
                th scope="col" { (t("E-Mail", "E-mail")) }
                th scope="col" { (t("Rollen", "Roles")) }
                th scope="col" { (t("Stand", "State")) }
                th scope="col" { (t("Aktion", "Action")) }
            } }
            tbody {
                @for user in &users {
                    tr {
                        td { (user.name) }
                        td { (user.email) }
                        td { (user.roles.iter().map(|r| role_label(r)).collect::<Vec<_>>().join(", ")) }
                        td {
                            @if user.disabled {
                                span class="status bad" { (t("gesperrt", "disabled")) }
                            } @else if !user.activated {
                                span class="status warn" { (t("eingeladen", "invited")) }
                            } @else {
                                span class="status good" { (t("aktiv", "active")) }
                                @if user.passkeys > 0 {
                                    " " (t("mit Passkey", "with a passkey"))
                                } @else if user.second_factor {
                                    " " (t("mit Authenticator-App", "with an authenticator app"))
                                } @else {
                                    " " (t("ohne zweiten Faktor", "without a second factor"))
                                }
                            }
                            br;
                            span class="muted" { (t("seit", "since")) " " (date_time(lang, user.created_at)) }
                        }
                        td {
                            @if user.id.to_string() != me {
                                @if user.disabled {
                                    form class="inline" method="post" action={ (TEAM) "/" (user.id) "/enable" } {
                                        (form_token_field(&viewer.form_token))
                                        button type="submit" class="secondary" aria-label={ (t("Entsperren: ", "Re-enable: ")) (user.name) } { (t("Entsperren", "Re-enable")) }
                                    }
                                } @else {
                                    form class="inline" method="post" action={ (TEAM) "/" (user.id) "/disable" } {
                                        (form_token_field(&viewer.form_token))
                                        button type="submit" class="secondary" aria-label={ (t("Sperren: ", "Disable: ")) (user.name) } { (t("Sperren", "Disable")) }
                                    }
                                }
                                details class="roles" {
                                    summary { (t("Rollen ändern", "Change roles")) span class="visually-hidden" { ": " (user.name) } }
                                    form method="post" action={ (TEAM) "/" (user.id) "/roles" } {
                                        (form_token_field(&viewer.form_token))
                                        fieldset {
                                            legend { (t("Rollen von ", "Roles of ")) (user.name) }
                                            @for (name, label, _) in BUILTIN_ROLES {
                                                @let id = format!("roles-{}-{}", user.id, name);
                                                div {
                                                    input type="checkbox" id=(id) name={ "role." (name) } value="1" checked[user.roles.iter().any(|r| r == name)];
                                                    label for=(id) class="inline-label" { (label.get()) }
                                                }
                                            }
                                            @for role in &custom_roles {
                                                @let value = format!("custom:{}", role.name);
                                                @let id = format!("roles-{}-custom-{}", user.id, role.name);
                                                div {
                                                    input type="checkbox" id=(id) name={ "role." (value) } value="1" checked[user.roles.contains(&value)];
                                                    label for=(id) class="inline-label" { (role.name) }
                                                }
                                            }
                                        }
                                        p class="hint" { (t("Die Sitzungen der Person enden; mit der nächsten Anmeldung gelten die neuen Rollen.", "Their sessions end; the new roles apply from their next sign-in.")) }
                                        button type="submit" { (t("Rollen speichern", "Save roles")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(required) = passkeys_required {
            h2 id="passkeys" { (t("Passkeys verlangen", "Require passkeys")) }
            p { (t(
                "Verlangt Ihr Unternehmen Passkeys, meldet sich jeder Benutzer mit Passkey an (Wiederherstellungscodes bleiben als Notweg); wer noch keinen hat, sieht nach der Anmeldung nur sein Konto, bis er einen einrichtet.",
                "When your company requires passkeys, every user signs in with a passkey (recovery codes stay as the way out); whoever has none yet sees only their account after signing in, until they add one.",
            )) }
            form method="post" action=(PASSKEY_RULE) {
                (form_token_field(&viewer.form_token))
                @if required {
                    p class="good" { (t("Passkeys sind verlangt.", "Passkeys are required.")) }
                    input type="hidden" name="required" value="0";
                    button type="submit" class="secondary" { (t("Nicht mehr verlangen", "Stop requiring them")) }
                } @else {
                    p { (t("Passkeys sind freiwillig.", "Passkeys are optional.")) }
                    input type="hidden" name="required" value="1";
                    button type="submit" { (t("Passkeys verlangen", "Require passkeys")) }
                }
            }
        }
        @if viewer.access.permissions().contains(Permission::TenantRolesManage) {
            p { a href=(ROLES) { (t("Eigene Rollen festlegen", "Define custom roles")) } }
        }
        h2 id="invite" { (t("Jemanden einladen", "Invite someone")) }
        @if !errors.iter().any(|(field, _)| field == "users") { (error_summary(errors)) }
        form method="post" action=(INVITE) novalidate {
            (form_token_field(&viewer.form_token))
            label for="name" { (t("Name", "Name")) }
            @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
            input type="text" id="name" name="name" value=(form.name.as_deref().unwrap_or_default()) autocomplete="off" required
                aria-invalid=[name_error.map(|_| "true")] aria-describedby=[name_error.map(|_| "name-error")];
            label for="email" { (t("E-Mail-Adresse", "E-mail address")) }
            @if let Some(e) = email_error { p class="field-error" id="email-error" { (e) } }
            input type="email" id="email" name="email" value=(form.email.as_deref().unwrap_or_default()) autocomplete="off" required
                aria-invalid=[email_error.map(|_| "true")] aria-describedby=[email_error.map(|_| "email-error")];
            fieldset {
                legend { (t("Rolle", "Role")) }
                @for (name, label, description) in BUILTIN_ROLES {
                    div {
                        input type="radio" id={ "role-" (name) } name="role" value=(name) checked[chosen == *name];
                        label for={ "role-" (name) } class="inline-label" { (label.get()) }
                        p class="hint" { (description.get()) }
                    }
                }
                @for role in &custom_roles {
                    @let value = format!("custom:{}", role.name);
                    div {
                        input type="radio" id={ "role-custom-" (role.name) } name="role" value=(value) checked[chosen == value];
                        label for={ "role-custom-" (role.name) } class="inline-label" { (role.name) }
                        p class="hint" { (role.permissions.iter().map(|p| permission_words(*p)).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
            button type="submit" { (t("Einladen", "Invite")) }
        }
    };
    Ok(Page::new(t("Team", "Team"), body).nav(nav(viewer, &tenant)))
}

pub async fn invite(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<InviteForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let input = NewUserInput {
        email: form.email.clone(),
        name: form.name.clone(),
        roles: Some(vec![
            form.role
                .clone()
                .unwrap_or_else(|| "customer_member".into()),
        ]),
    };
    match s.invite_tenant_user(&viewer.access, &tenant, input).await {
        Ok(created) => {
            let lang = current_lang();
            let invited = html! {
                div class="notice" role="status" {
                    p { strong { (created.user.name) } " " (t("ist eingeladen.", "is invited.")) }
                    p { (t(
                        "Der Aktivierungslink ging per E-Mail an ",
                        "The activation link went by e-mail to ",
                    )) (created.user.email) (t("; er gilt bis ", "; it is valid until ")) (date_time(lang, created.activation_expires_at)) "." }
                }
            };
            Ok(
                render(&s, &viewer, &InviteForm::default(), &[], Some(invited))
                    .await?
                    .status(StatusCode::CREATED)
                    .into_response(),
            )
        }
        Err(Error::Validation(fields)) => {
            let errors: Vec<(String, String)> = fields
                .into_iter()
                .map(|f| {
                    let field = f
                        .pointer
                        .trim_start_matches('/')
                        .split('/')
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let text = match field.as_str() {
                        "email" => t(
                            "Bitte eine gültige E-Mail-Adresse angeben.",
                            "Please give a valid e-mail address.",
                        )
                        .to_string(),
                        "name" => t(
                            "Bitte einen Namen angeben (1 bis 200 Zeichen).",
                            "Please give a name (1 to 200 characters).",
                        )
                        .to_string(),
                        _ => f.detail,
                    };
                    (
                        if field == "roles" {
                            "role".to_string()
                        } else {
                            field
                        },
                        text,
                    )
                })
                .collect();
            Ok(render(&s, &viewer, &form, &errors, None)
                .await?
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(Error::Conflict(_)) => {
            let errors = vec![(
                "email".to_string(),
                t(
                    "Für diese Adresse gibt es in Ihrem Unternehmen schon ein Konto.",
                    "There already is an account for this address in your company.",
                )
                .to_string(),
            )];
            Ok(render(&s, &viewer, &form, &errors, None)
                .await?
                .status(StatusCode::CONFLICT)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn enable(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Response> {
    let (account, user) = member(&viewer, &user)?;
    s.auth.enable_user(&viewer.access, &account, &user).await?;
    Ok(see_other(TEAM, &[]))
}

/// The company's account named in the path.
fn member(viewer: &Viewer, user: &str) -> Result<(Account, UserId), PageError> {
    let tenant = tenant_of(viewer)?;
    let user = UserId::parse(user).map_err(|_| PageError(Error::NotFound("user".into())))?;
    Ok((Account::Customer { tenant }, user))
}

/// The role checkboxes post `role.<name>=1`, one per role ticked.
pub async fn set_roles(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(form): PageForm<std::collections::BTreeMap<String, String>>,
) -> PageResult<Response> {
    let (account, user) = member(&viewer, &user)?;
    let roles: Vec<String> = form
        .keys()
        .filter_map(|k| k.strip_prefix("role."))
        .map(str::to_string)
        .collect();
    match s
        .auth
        .set_roles(
            &viewer.access,
            &account,
            &user,
            auth::service::RolesInput { roles: Some(roles) },
        )
        .await
    {
        Ok(_) => Ok(see_other(TEAM, &[])),
        Err(Error::Validation(_)) => {
            // Listed at the form's top; its link leads to the users' table.
            let errors = vec![(
                "users".to_string(),
                t(
                    "Bitte wählen Sie mindestens eine Rolle dieses Unternehmens.",
                    "Please choose at least one of this company's roles.",
                )
                .to_string(),
            )];
            Ok(render(&s, &viewer, &InviteForm::default(), &errors, None)
                .await?
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn disable(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(user): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult<Response> {
    let (account, user) = member(&viewer, &user)?;
    s.auth.disable_user(&viewer.access, &account, &user).await?;
    Ok(see_other(TEAM, &[]))
}

pub async fn passkey_rule(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<PasskeyRuleForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let required = match form.required.as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => {
            return Err(PageError(Error::validation(
                "/required",
                "is 1 (require passkeys) or 0 (optional)",
            )));
        }
    };
    kernel::tenants::set_passkeys_required(
        s.store.as_ref(),
        &viewer.access,
        &tenant,
        required,
        s.clock.now(),
    )
    .await?;
    Ok(see_other(&format!("{TEAM}#passkeys"), &[]))
}

pub const ROLES: &str = "/portal/team/roles";

/// The permissions a company may put into its own roles, in the order the domain lists them.
fn grantable() -> impl Iterator<Item = Permission> {
    Permission::ALL
        .iter()
        .copied()
        .filter(|p| p.grantable() == Grantable::Tenant)
}

fn permission_words(permission: Permission) -> &'static str {
    let (de, en) = permission.words();
    current_lang().pick(de, en)
}

/// `/portal/team/roles`: the company's own roles, each permission in words, and the form that
/// defines a role (or changes one of the same name).
pub async fn roles_page(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    roles_view(&s, &viewer, &RoleForm::default(), &[]).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    name: Option<String>,
    #[serde(flatten)]
    rest: std::collections::BTreeMap<String, String>,
}

async fn roles_view(
    s: &Services,
    viewer: &Viewer,
    form: &RoleForm,
    errors: &[(String, String)],
) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let roles = s.auth.custom_roles(&viewer.access, &tenant).await?;
    let name_error = field_error(errors, "name");
    let permissions_error = field_error(errors, "permissions");
    let chosen = |p: Permission| form.rest.contains_key(&format!("permission.{p}"));
    let body = html! {
        p { a href=(TEAM) { (t("← Zum Team", "← Back to the team")) } }
        h1 { (t("Eigene Rollen", "Custom roles")) }
        p { (t(
            "Neben „Mitglied“ und „Administration“ kann Ihr Unternehmen eigene Rollen mit genau den Berechtigungen festlegen, die jemand braucht.",
            "Beside “Member” and “Administrator”, your company can define roles of its own with exactly the permissions someone needs.",
        )) }
        @if roles.is_empty() {
            p class="muted" { (t("Noch keine eigene Rolle.", "No custom role yet.")) }
        }
        @for role in &roles {
            section class="card" {
                h2 { (role.name.strip_prefix("custom:").unwrap_or(&role.name)) }
                ul { @for p in &role.permissions { li { (permission_words(*p)) } } }
            }
        }
        h2 id="define" { (t("Rolle festlegen", "Define a role")) }
        p class="hint" { (t(
            "Ein vorhandener Name ändert diese Rolle, sofort für alle, die sie haben.",
            "An existing name changes that role, at once for everyone who has it.",
        )) }
        (error_summary(errors))
        form method="post" action=(ROLES) novalidate {
            (form_token_field(&viewer.form_token))
            label for="name" { (t("Name (Kleinbuchstaben, Ziffern, - und _)", "Name (lower-case letters, digits, - and _)")) }
            @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
            input type="text" id="name" name="name" value=(form.name.as_deref().unwrap_or_default()) maxlength="48" autocomplete="off" required
                aria-invalid=[name_error.map(|_| "true")] aria-describedby=[name_error.map(|_| "name-error")];
            fieldset id="permissions" aria-describedby=[permissions_error.map(|_| "permissions-error")] {
                legend { (t("Berechtigungen", "Permissions")) }
                @if let Some(e) = permissions_error { p class="field-error" id="permissions-error" { (e) } }
                @for p in grantable() {
                    @let id = format!("permission-{p}").replace(':', "-");
                    div {
                        input type="checkbox" id=(id) name={ "permission." (p) } value="1" checked[chosen(p)];
                        label for=(id) class="inline-label" { (permission_words(p)) }
                    }
                }
            }
            button type="submit" { (t("Rolle speichern", "Save the role")) }
        }
    };
    Ok(Page::new(t("Eigene Rollen", "Custom roles"), body).nav(nav(viewer, &tenant)))
}

pub async fn define_role(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<RoleForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let permissions: BTreeSet<Permission> = form
        .rest
        .keys()
        .filter_map(|k| k.strip_prefix("permission."))
        .filter_map(|p| p.parse().ok())
        .collect();
    let name = form.name.clone().unwrap_or_default();
    match s
        .auth
        .put_role(
            &viewer.access,
            &tenant,
            name.trim(),
            auth::service::RoleInput {
                permissions: Some(permissions),
            },
        )
        .await
    {
        Ok(_) => Ok(see_other(ROLES, &[])),
        Err(Error::Validation(fields)) => {
            let errors: Vec<(String, String)> = fields
                .into_iter()
                .map(|f| {
                    let field = f.pointer.trim_start_matches('/').to_string();
                    let text = if field == "name" {
                        t(
                            "Bitte 1 bis 48 Kleinbuchstaben, Ziffern, - oder _.",
                            "Please 1 to 48 lower-case letters, digits, - or _.",
                        )
                    } else {
                        t(
                            "Bitte wählen Sie mindestens eine Berechtigung.",
                            "Please choose at least one permission.",
                        )
                    };
                    (field, text.to_string())
                })
                .collect();
            Ok(roles_view(&s, &viewer, &form, &errors)
                .await?
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}
