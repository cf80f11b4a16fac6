//! Tenant-defined roles (fine-grained permissions a customer assigns) and the access a
//! signed-in principal's roles grant.

use std::collections::BTreeSet;

use kernel::audit::{AuditHead, Stamp, create_ops, update_ops};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::rbac::{Access, Actor, CustomRole, Permission, Principal, Scope as AccessScope};
use kernel::store::query_all;
use kernel::time::{Clock, Timestamp};
use serde::Deserialize;

use super::{Account, AuthService, UserId};
use crate::records::{RoleRecord, role_key, roles_query, user_key};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub permissions: Option<BTreeSet<Permission>>,
}

impl AuthService {
    /// A tenant admin defines (or redefines) a role of their tenant from tenant permissions.
    pub async fn put_role(
        &self,
        access: &Access,
        tenant: &TenantId,
        name: &str,
        input: RoleInput,
    ) -> Result<CustomRole, Error> {
        access.require(Permission::TenantRolesManage, AccessScope::Tenant(tenant))?;
        let permissions = input.permissions.unwrap_or_default();
        // Every failing field at once: the name and the permissions are checked apart.
        let mut errors = Vec::new();
        if let Err(e) = CustomRole::slug(name) {
            errors.push(FieldError::new("/name", e.to_string()));
        }
        if let Err(e) = CustomRole::check_permissions(&permissions) {
            errors.push(FieldError::new("/permissions", e.to_string()));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let role = CustomRole::new(tenant.clone(), name, permissions)
            .map_err(|e| Error::validation("/permissions", e.to_string()))?;
        let stamp = Stamp {
            at: self.clock.now(),
            by: access.principal(),
            action: "role.defined",
        };
        let ops = match self.store.get(&role_key(tenant, &role.name)?).await? {
            Some(existing) => {
                let mut record: RoleRecord = existing.record()?;
                record.role = role.clone();
                update_ops(&mut record, existing.version, stamp, &role)?
            }
            None => {
                let mut record = RoleRecord {
                    role: role.clone(),
                    audit: AuditHead::default(),
                };
                create_ops(&mut record, stamp, &role)?
            }
        };
        self.store.transact(ops).await?;
        Ok(role)
    }

    /// A tenant's custom roles, for those who manage them.
    pub async fn custom_roles(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<CustomRole>, Error> {
        access.require(Permission::TenantRolesManage, AccessScope::Tenant(tenant))?;
        self.roles(tenant).await
    }

    /// A tenant's custom roles (for resolving them; no access check).
    pub async fn roles(&self, tenant: &TenantId) -> Result<Vec<CustomRole>, Error> {
        query_all(self.store.as_ref(), roles_query(tenant))
            .await?
            .iter()
            .map(|i| {
                i.record::<RoleRecord>()
                    .map(|r| r.role)
                    .map_err(Error::from)
            })
            .collect()
    }

    /// Who the caller is, with the tenant's custom roles resolved; refuses tokens of disabled
    /// accounts and tokens issued before an account's revocation.
    pub async fn access_for(
        &self,
        principal: Principal,
        issued_at: Option<Timestamp>,
    ) -> Result<Access, Error> {
        if let Ok(id) = UserId::parse(&principal.subject) {
            let account = match &principal.actor {
                Actor::Staff => Some(Account::Staff),
                Actor::Customer { tenant } => Some(Account::Customer {
                    tenant: tenant.clone(),
                }),
                Actor::System => None,
            };
            if let Some(account) = account {
                let refused = || Error::Unauthenticated("the account's tokens were revoked".into());
                match self.load(&user_key(&account, &id)?).await? {
                    None => return Err(refused()),
                    Some((user, _, _)) => {
                        if user.disabled {
                            return Err(refused());
                        }
                        if let (Some(before), Some(issued)) = (user.revoked_before, issued_at)
                            // At or before: a token's `iat` is whole seconds, so one issued
                            // in the second of the revocation cannot be told apart.
                            && issued <= before
                        {
                            return Err(refused());
                        }
                    }
                }
            }
        }
        let custom = match &principal.actor {
            Actor::Customer { tenant }
                if principal
                    .roles
                    .iter()
                    .any(|r| r.starts_with(CustomRole::PREFIX)) =>
            {
                self.roles(tenant).await?
            }
            _ => vec![],
        };
        Ok(Access::resolve(principal, &custom))
    }
}
