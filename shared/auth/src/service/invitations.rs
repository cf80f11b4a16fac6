//! A tenant's first customer admin: no staff role may act inside a tenant, so an operator's
//! invitation is the one way a company gets its first account. The activation link goes to the
//! invited person by mail only — the operator never holds it.

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::rbac::{Access, BuiltinRole, Permission, Scope};
use kernel::store::query_all;
use kernel::time::in_company_time;

use super::{Account, AuthService, CreatedUser, NewUserInput};
use crate::records::{UserRecord, users_query};

impl AuthService {
    /// Refused when the tenant has an admin already (disabled ones aside): its admins invite
    /// further users themselves.
    pub async fn invite_first_admin(
        &self,
        access: &Access,
        tenant: &TenantId,
        email: Option<String>,
        name: Option<String>,
    ) -> Result<CreatedUser, Error> {
        access.require(Permission::TenantsManage, Scope::Platform)?;
        for item in query_all(
            self.store.as_ref(),
            users_query(&Account::Customer {
                tenant: tenant.clone(),
            }),
        )
        .await?
        {
            let user: UserRecord = item.record()?;
            if !user.disabled
                && user
                    .roles
                    .iter()
                    .any(|r| r == BuiltinRole::CustomerAdmin.as_str())
            {
                return Err(Error::Conflict(format!(
                    "tenant {tenant} has an admin already; its admins invite further users"
                )));
            }
        }
        self.create(
            access.principal(),
            Account::Customer {
                tenant: tenant.clone(),
            },
            NewUserInput {
                email,
                name,
                roles: Some(vec![BuiltinRole::CustomerAdmin.as_str().to_string()]),
            },
        )
        .await
    }
}

/// The invitation mail of a tenant's user: subject and bilingual body with the activation link,
/// its expiry, and the role it is for (the admin's, or a user's of the company).
pub fn invitation_message(
    created: &CreatedUser,
    company: &str,
    activation_url: &str,
) -> (String, String) {
    let link = format!("{activation_url}?token={}", created.activation_token);
    let until = in_company_time(created.activation_expires_at)
        .strftime("%d.%m.%Y %H:%M %Z")
        .to_string();
    let subject =
        "Einladung zum regrooter-Kundenportal / Invitation to the regrooter customer portal"
            .to_string();
    let admin = created
        .user
        .roles
        .iter()
        .any(|r| r == BuiltinRole::CustomerAdmin.as_str());
    let (as_de, as_en) = if admin {
        ("als Administrator für", "as the admin of")
    } else {
        ("für", "for")
    };
    let body = format!(
        "Guten Tag {name},\n\nSie sind {as_de} {company} in das regrooter-Kundenportal eingeladen. Wählen Sie Ihr Passwort über diesen Link (gültig bis {until}, nur einmal):\n\n{link}\n\nSie haben keine Einladung erwartet? Dann ignorieren Sie diese Nachricht; ohne den Link entsteht kein Zugang.\n\n— regrooter GmbH\n\n----\n\nHello {name},\n\nyou are invited to the regrooter customer portal {as_en} {company}. Choose your password with this link (valid until {until}, once):\n\n{link}\n\nNot expecting an invitation? Then ignore this message; without the link there is no access.\n\n— regrooter GmbH\n",
        name = created.user.name,
    );
    (subject, body)
}

/// The invitation mail of a new staff member: subject and bilingual body with the activation
/// link, its expiry, and that the first sign-in sets up the second factor.
pub fn staff_invitation_message(created: &CreatedUser, activation_url: &str) -> (String, String) {
    let link = format!("{activation_url}?token={}", created.activation_token);
    let until = in_company_time(created.activation_expires_at)
        .strftime("%d.%m.%Y %H:%M %Z")
        .to_string();
    let subject =
        "Ihr Zugang zur regrooter-Konsole / Your access to the regrooter staff console".to_string();
    let body = format!(
        "Guten Tag {name},\n\nfür Sie ist ein Zugang zur regrooter-Konsole eingerichtet. Wählen Sie Ihr Passwort über diesen Link (gültig bis {until}, nur einmal); bei der ersten Anmeldung richten Sie den zweiten Faktor ein, ohne den die Konsole sich nicht öffnet:\n\n{link}\n\n— regrooter GmbH\n\n----\n\nHello {name},\n\nan account for the regrooter staff console has been set up for you. Choose your password with this link (valid until {until}, once); at the first sign-in you set up the second factor, without which the console does not open:\n\n{link}\n\n— regrooter GmbH\n",
        name = created.user.name,
    );
    (subject, body)
}
