//! Legal holds: a statutory duty that keeps named data categories of a tenant past its
//! retention, each with its audit chain.

use std::collections::BTreeSet;

use kernel::audit::{self, AuditHead, Stamp};
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::DataCategory;
use kernel::rbac::{Access, Permission, Scope};
use kernel::time::{Clock, Timestamp};
use serde::Deserialize;

use super::RetentionService;
use crate::records::*;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    pub legal_basis: Option<String>,
    pub categories: Option<BTreeSet<DataCategory>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

/// What is wrong with a legal hold, every field at once.
pub fn check_hold(input: &HoldInput, now: Timestamp) -> Result<(), Error> {
    let mut errors = Vec::new();
    let basis = input.legal_basis.as_deref().unwrap_or_default().trim();
    if basis.chars().count() < 3 || basis.chars().count() > 500 {
        errors.push(FieldError::new(
            "/legal_basis",
            "name the statutory duty (3 to 500 characters)",
        ));
    }
    if input.categories.as_ref().is_none_or(BTreeSet::is_empty) {
        errors.push(FieldError::new(
            "/categories",
            "name at least one data category",
        ));
    }
    match input.until {
        Some(until) if until > now => {}
        Some(_) => errors.push(FieldError::new("/until", "must lie in the future")),
        None => errors.push(FieldError::new("/until", "is required")),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

pub(super) fn summary(h: &LegalHold) -> HoldSummary {
    HoldSummary {
        id: h.id,
        legal_basis: h.legal_basis.clone(),
        categories: h.categories.clone(),
        until: h.until,
    }
}

impl RetentionService {
    /// The DPO sets a legal hold: legal basis, categories, until when.
    pub async fn set_hold(
        &self,
        access: &Access,
        tenant: &TenantId,
        input: HoldInput,
    ) -> Result<LegalHold, Error> {
        access.require(Permission::LegalHoldsManage, Scope::Tenant(tenant))?;
        let now = self.clock.now();
        check_hold(&input, now)?;
        let basis = input.legal_basis.unwrap_or_default().trim().to_string();
        let categories = input.categories.unwrap_or_default();
        let id = HoldId::generate(now);
        let change = (basis.clone(), categories.clone(), input.until);
        let mut hold = LegalHold {
            id,
            tenant: tenant.clone(),
            legal_basis: kernel::scrub::scrub(&basis).0,
            categories,
            until: input.until.unwrap_or(now),
            set_by: access.principal().subject.clone(),
            set_at: now,
            lifted_at: None,
            lifted_by: None,
            audit: AuditHead::default(),
        };
        let set = Stamp {
            at: now,
            by: access.principal(),
            action: "legal_hold.set",
        };
        let ops = audit::create_ops(&mut hold, set, &change)?;
        self.store.transact(ops).await?;
        Ok(hold)
    }

    pub async fn lift_hold(
        &self,
        access: &Access,
        tenant: &TenantId,
        id: &HoldId,
    ) -> Result<LegalHold, Error> {
        access.require(Permission::LegalHoldsManage, Scope::Tenant(tenant))?;
        let item = self
            .store
            .get(&hold_key(tenant, id)?)
            .await?
            .ok_or_else(|| Error::NotFound(format!("legal hold {id}")))?;
        let mut hold: LegalHold = item.record()?;
        if hold.lifted_at.is_some() {
            return Err(Error::Conflict("the hold was lifted already".into()));
        }
        let now = self.clock.now();
        hold.lifted_at = Some(now);
        hold.lifted_by = Some(access.principal().subject.clone());
        let lifted = Stamp {
            at: now,
            by: access.principal(),
            action: "legal_hold.lifted",
        };
        let change = hold.lifted_at;
        let ops = audit::update_ops(&mut hold, item.version, lifted, &change)?;
        self.store.transact(ops).await?;
        Ok(hold)
    }

    pub async fn list_holds(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<LegalHold>, Error> {
        access.require(Permission::RetentionRead, Scope::Tenant(tenant))?;
        self.holds_of(tenant).await
    }

    /// Every tenant's legal holds, newest first (the data protection officer's overview).
    pub async fn all_holds(&self, access: &Access) -> Result<Vec<LegalHold>, Error> {
        access.require(Permission::RetentionRead, Scope::Platform)?;
        let mut holds = Vec::new();
        for tenant in kernel::tenants::all(self.store.as_ref()).await? {
            holds.extend(self.holds_of(&tenant.id).await?);
        }
        holds.sort_by_key(|h| std::cmp::Reverse(h.set_at));
        Ok(holds)
    }
}
