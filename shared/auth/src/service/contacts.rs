//! Whom the platform writes to on a tenant's behalf: its customer admins (sub-processor change
//! notices). A system read with no caller: the addresses leave only into the sealed outbox.

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::rbac::BuiltinRole;
use kernel::store::query_all;

use super::{Account, AuthService, UserId};
use crate::records::{UserRecord, users_query};

impl AuthService {
    /// The tenant's customer admins who can sign in (activated, not disabled), with their
    /// addresses opened.
    pub async fn admin_contacts(&self, tenant: &TenantId) -> Result<Vec<(UserId, String)>, Error> {
        let mut out = Vec::new();
        for item in query_all(
            self.store.as_ref(),
            users_query(&Account::Customer {
                tenant: tenant.clone(),
            }),
        )
        .await?
        {
            let user: UserRecord = item.record()?;
            if user.disabled
                || user.password.is_none()
                || !user
                    .roles
                    .iter()
                    .any(|r| r == BuiltinRole::CustomerAdmin.as_str())
            {
                continue;
            }
            let view = self.view(&user).await?;
            out.push((view.id, view.email));
        }
        Ok(out)
    }
}
