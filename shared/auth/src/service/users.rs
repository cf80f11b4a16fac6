//! Account administration: creating accounts (and the first staff account), disabling and
//! enabling them, their roles, and the four-eyes reset of a second factor.

use kernel::audit::{AuditHead, Stamp, create_ops};
use kernel::crypto::{KeyOwner, KeyPurpose, Personal};
use kernel::error::{Error, FieldError};
use kernel::inventory::RecordKind;
use kernel::rbac::{Access, BuiltinRole, CustomRole, Permission, Principal, Scope as AccessScope};
use kernel::store::{Condition, ItemKey, query_all};
use kernel::time::{Clock, SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{
    ACTIVATION_HOURS, Account, AuthService, UserId, UserView, later, not_on_own_account,
    random_token, valid_email,
};
use crate::records::{
    Activation, LinkPointer, PendingReset, UserRecord, UserWithLogin, activation_pointer, digest,
    login_key, organisation_partition, role_key, user_key, users_query,
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesInput {
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUser {
    pub user: UserView,
    /// Sent to the new user (once): with it they choose their password at `/auth/activate`.
    pub activation_token: String,
    pub activation_expires_at: Timestamp,
}

impl AuthService {
    /// Staff with `staff:manage` onboard staff; tenant admins their own users. The new account
    /// is activated with the returned token (the user chooses the password).
    pub async fn create_user(
        &self,
        access: &Access,
        account: Account,
        input: NewUserInput,
    ) -> Result<CreatedUser, Error> {
        match &account {
            Account::Staff => access.require(Permission::StaffManage, AccessScope::Platform)?,
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?
            }
        }
        self.create(access.principal(), account, input).await
    }

    /// The first staff account of an environment (production refuses development tokens, so
    /// nobody could make it otherwise). Refused as soon as any staff account exists.
    pub async fn bootstrap_staff(&self, input: NewUserInput) -> Result<CreatedUser, Error> {
        let existing = self
            .store
            .query(users_query(&Account::Staff).limit(1))
            .await?;
        if !existing.items.is_empty() {
            return Err(Error::Conflict(
                "staff accounts exist: onboard through an operator instead".into(),
            ));
        }
        self.create(&Principal::system("bootstrap"), Account::Staff, input)
            .await
    }

    pub(super) async fn create(
        &self,
        who: &Principal,
        account: Account,
        input: NewUserInput,
    ) -> Result<CreatedUser, Error> {
        let mut errors = Vec::new();
        let email = input.email.unwrap_or_default().trim().to_lowercase();
        if !valid_email(&email) {
            errors.push(FieldError::new("/email", "must be an email address"));
        }
        let name = input.name.unwrap_or_default().trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("/name", "1 to 200 characters"));
        }
        let roles = input.roles.unwrap_or_default();
        if roles.is_empty() {
            errors.push(FieldError::new("/roles", "name at least one role"));
        }
        for (i, role) in roles.iter().enumerate() {
            if let Err(reason) = self.check_role(&account, role).await? {
                errors.push(FieldError::new(format!("/roles/{i}"), reason));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Account::Customer { tenant } = &account
            && kernel::tenants::get(self.store.as_ref(), tenant)
                .await?
                .is_none()
        {
            return Err(Error::NotFound(format!("tenant {tenant}")));
        }
        // Unique within the organisation only: other tenants' and the staff's accounts must not
        // change the answer (nor be found out, nor block an address).
        let organisation = organisation_partition(&account);
        if self
            .keys_with_email(&email)
            .await?
            .iter()
            .any(|key| key.pk == organisation)
        {
            return Err(Error::Conflict(
                "an account with this address exists".into(),
            ));
        }
        let now = self.clock.now();
        let id = UserId::generate(now);
        let key = user_key(&account, &id)?;
        let owner = match &account {
            Account::Staff => KeyOwner::Platform,
            Account::Customer { tenant } => KeyOwner::Tenant(tenant.clone()),
        };
        let kind = match account {
            Account::Staff => RecordKind::StaffUser,
            Account::Customer { .. } => RecordKind::TenantUser,
        };
        let sealed_email = self
            .keyring
            .seal(
                &Self::field_context(&owner, &key.sk, "email", kind),
                KeyPurpose::Identity,
                &Personal::new(email.clone()),
            )
            .await?;
        let sealed_name = self
            .keyring
            .seal(
                &Self::field_context(&owner, &key.sk, "name", kind),
                KeyPurpose::Identity,
                &Personal::new(name),
            )
            .await?;
        let activation_token = random_token();
        let activation_expires_at = later(now, SignedDuration::from_hours(ACTIVATION_HOURS))?;
        let change = (account.clone(), roles.clone());
        let mut user = UserRecord {
            id,
            account,
            email: sealed_email,
            name: sealed_name,
            roles,
            password: None,
            activation: Some(Activation {
                token_hash: digest(&activation_token),
                expires_at: activation_expires_at,
            }),
            otp_secret: None,
            otp_confirmed: false,
            reset: None,
            otp_last_step: None,
            recovery_codes: vec![],
            passkeys: vec![],
            failed_attempts: 0,
            locked_until: None,
            disabled: false,
            revoked_before: None,
            second_factor_reset: None,
            created_at: now,
            updated_at: now,
            audit: AuditHead::default(),
        };
        let login = login_key(&self.email_index(&email)?, &user.id)?;
        let stamp = Stamp {
            at: now,
            by: who,
            action: "user.created",
        };
        let mut stored = UserWithLogin {
            user: &mut user,
            login: &login,
        };
        self.store
            .transact(create_ops(&mut stored, stamp, &change)?)
            .await?;
        // The activation token is looked up by its hash.
        let pointer = LinkPointer::item(
            activation_pointer(&activation_token)?,
            &user,
            activation_expires_at,
        )?;
        self.store.put(pointer, Condition::NotExists).await?;
        Ok(CreatedUser {
            user: self.view(&user).await?,
            activation_token,
            activation_expires_at,
        })
    }

    /// Whether `role` may be given to an account of this kind (`Ok(Err(reason))` if not).
    pub(super) async fn check_role(
        &self,
        account: &Account,
        role: &str,
    ) -> Result<Result<(), String>, Error> {
        if let Ok(builtin) = role.parse::<BuiltinRole>() {
            let staff = builtin.is_staff();
            return Ok(match (account, staff) {
                (Account::Staff, true) | (Account::Customer { .. }, false) => Ok(()),
                (Account::Staff, false) => Err(format!("'{role}' is a customer role")),
                (Account::Customer { .. }, true) => Err(format!("'{role}' is a staff role")),
            });
        }
        match account {
            Account::Customer { tenant } if role.starts_with(CustomRole::PREFIX) => {
                if self.store.get(&role_key(tenant, role)?).await?.is_some() {
                    Ok(Ok(()))
                } else {
                    Ok(Err(format!("the tenant has no role '{role}'")))
                }
            }
            _ => Ok(Err(format!("unknown role '{role}'"))),
        }
    }

    pub(super) async fn user_for(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<(UserRecord, u64, ItemKey), Error> {
        match account {
            Account::Staff => access.require(Permission::StaffManage, AccessScope::Platform)?,
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?
            }
        }
        self.load(&user_key(account, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {id}")))
    }

    /// An administrator's change to an account, saved with its audit entry (`action`), and the
    /// account as the administrator now sees it.
    pub(super) async fn save_and_view(
        &self,
        user: &UserRecord,
        version: u64,
        login: &ItemKey,
        access: &Access,
        action: &str,
    ) -> Result<UserView, Error> {
        let user = self
            .save(user, version, login, Some((access.principal(), action)))
            .await?;
        self.view(&user).await
    }

    /// Offboarding: the account is disabled and every token it holds stops working at once.
    pub async fn disable_user(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot disable your own account")?;
        let now = self.clock.now();
        user.disabled = true;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.disabled")
            .await
    }

    /// A disabled account works again; tokens from before it was disabled stay refused.
    pub async fn enable_user(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        if !user.disabled {
            return self.view(&user).await;
        }
        user.disabled = false;
        user.failed_attempts = 0;
        user.locked_until = None;
        user.updated_at = self.clock.now();
        self.save_and_view(&user, version, &login, access, "user.enabled")
            .await
    }

    /// New roles for an account. They take effect at once: the account's sessions end (a token
    /// carries the roles it was issued with), and it signs in again with the new ones. Nobody
    /// changes their own roles (an administrator cannot lock the organisation out by mistake).
    pub async fn set_roles(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
        input: RolesInput,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot change your own roles")?;
        let roles = input.roles.unwrap_or_default();
        let mut errors = Vec::new();
        if roles.is_empty() {
            errors.push(FieldError::new("/roles", "give at least one role"));
        }
        for (i, role) in roles.iter().enumerate() {
            if let Err(why) = self.check_role(&user.account, role).await? {
                errors.push(FieldError::new(format!("/roles/{i}"), why));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let mut roles = roles;
        roles.sort();
        roles.dedup();
        if roles == user.roles {
            return self.view(&user).await;
        }
        let now = self.clock.now();
        user.roles = roles;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.roles_changed")
            .await
    }

    /// First half of a second-factor reset: one administrator asks, nothing changes yet.
    /// Nobody asks for their own account; asking twice keeps the first request.
    pub async fn request_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        not_on_own_account(access, &user, "you cannot reset your own second factor")?;
        let me = access.principal().subject.clone();
        if user.second_factor_reset.is_some() {
            return self.view(&user).await;
        }
        let now = self.clock.now();
        user.second_factor_reset = Some(PendingReset {
            requested_by: me,
            requested_at: now,
        });
        user.updated_at = now;
        self.save_and_view(
            &user,
            version,
            &login,
            access,
            "user.second_factor_reset_requested",
        )
        .await
    }

    /// Second half, by another administrator: the app's secret, the recovery codes and every
    /// passkey are removed and every session ends; at the next sign-in the person sets up a
    /// second factor again (staff must, before any page opens).
    pub async fn approve_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        let me = access.principal().subject.clone();
        let Some(pending) = &user.second_factor_reset else {
            return Err(Error::Conflict(
                "no second-factor reset was asked for".into(),
            ));
        };
        if pending.requested_by == me {
            return Err(Error::Conflict(
                "a second administrator must approve the reset you asked for".into(),
            ));
        }
        not_on_own_account(access, &user, "you cannot reset your own second factor")?;
        let now = self.clock.now();
        user.second_factor_reset = None;
        user.otp_secret = None;
        user.otp_confirmed = false;
        user.otp_last_step = None;
        user.recovery_codes.clear();
        user.passkeys.clear();
        user.failed_attempts = 0;
        user.locked_until = None;
        user.revoked_before = Some(now);
        user.updated_at = now;
        self.save_and_view(&user, version, &login, access, "user.second_factor_reset")
            .await
    }

    /// A waiting second-factor reset withdrawn (by any administrator who may manage the account).
    pub async fn withdraw_second_factor_reset(
        &self,
        access: &Access,
        account: &Account,
        id: &UserId,
    ) -> Result<UserView, Error> {
        let (mut user, version, login) = self.user_for(access, account, id).await?;
        if user.second_factor_reset.is_none() {
            return self.view(&user).await;
        }
        user.second_factor_reset = None;
        user.updated_at = self.clock.now();
        self.save_and_view(
            &user,
            version,
            &login,
            access,
            "user.second_factor_reset_withdrawn",
        )
        .await
    }

    pub async fn users(&self, access: &Access, account: &Account) -> Result<Vec<UserView>, Error> {
        match account {
            Account::Staff => access.require(Permission::StaffManage, AccessScope::Platform)?,
            Account::Customer { tenant } => {
                access.require(Permission::TenantUsersManage, AccessScope::Tenant(tenant))?
            }
        }
        let mut out = Vec::new();
        for item in query_all(self.store.as_ref(), users_query(account)).await? {
            out.push(self.view(&item.record()?).await?);
        }
        Ok(out)
    }
}
