//! The incident file: drafting, creating, changing it (facts, measures, status), each change
//! stored with its audit entry in one transaction.

use std::collections::BTreeSet;

use kernel::audit::{self, AuditHead, Stamp};
use kernel::crypto::Personal;
use kernel::error::{Error, FieldError};
use kernel::ids::TenantId;
use kernel::inventory::{DataCategory, RecordKind};
use kernel::policy::EffectivePolicy;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::store::{Condition, WriteOp};
use kernel::tenants;
use kernel::time::{Clock, SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::english::{self, EnglishInput};
use super::views::IncidentView;
use super::{IncidentService, clean, conflict};
use crate::assessment::BreachType;
use crate::deadlines;
use crate::model::*;
use crate::records::{incident_key, link_item, link_key};

/// A new incident.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentDraft {
    pub title: String,
    /// What the affected customers read as the title (none: the portal names the incident by
    /// its date).
    #[serde(default)]
    pub customer_title: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub discovered_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub aware_at: Timestamp,
    pub breach_types: BTreeSet<BreachType>,
    #[schema(value_type = String)]
    pub nature_and_scope: Personal<String>,
    #[serde(default)]
    pub data_categories: BTreeSet<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    #[schema(value_type = String)]
    pub likely_consequences: Personal<String>,
    pub data_sets: Vec<AffectedDataSet>,
    /// A significant incident under NIS2: its early warning (24 h), notification (72 h) and
    /// final report (a month later) are owed as well.
    #[serde(default)]
    pub nis2_significant: bool,
    /// What customers read, in English (the file itself in German).
    #[serde(default)]
    pub english: EnglishInput,
}

/// Changes to an incident's documentation; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    pub title: Option<String>,
    pub customer_title: Option<String>,
    pub breach_types: Option<BTreeSet<BreachType>>,
    #[schema(value_type = Option<String>)]
    pub nature_and_scope: Option<Personal<String>>,
    pub data_categories: Option<BTreeSet<DataCategory>>,
    pub approx_data_subjects: Option<Approx>,
    pub approx_records: Option<Approx>,
    #[schema(value_type = Option<String>)]
    pub likely_consequences: Option<Personal<String>>,
    pub data_sets: Option<Vec<AffectedDataSet>>,
    pub nis2_significant: Option<bool>,
    /// English texts to set (an empty one removes it).
    #[serde(default)]
    pub english: EnglishInput,
}

impl IncidentPatch {
    /// Whether the patch changes nothing (the service refuses such a change).
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.customer_title.is_none()
            && self.breach_types.is_none()
            && self.nature_and_scope.is_none()
            && self.data_categories.is_none()
            && self.approx_data_subjects.is_none()
            && self.approx_records.is_none()
            && self.likely_consequences.is_none()
            && self.data_sets.is_none()
            && self.nis2_significant.is_none()
            && self.english.is_empty()
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureInput {
    pub kind: MeasureKind,
    #[schema(value_type = String)]
    pub what: Personal<String>,
    /// The same in English (optional).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub what_en: Option<Personal<String>>,
    pub owner: String,
    pub status: MeasureStatus,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
}

impl IncidentService {
    /// Checks a draft as creating the incident would, writing nothing: every failing field at
    /// once (a form that could not even read some fields adds this for the others).
    pub async fn validate_draft(&self, draft: &IncidentDraft, now: Timestamp) -> Result<(), Error> {
        let mut errors = Vec::new();
        if draft.title.trim().is_empty() || draft.title.chars().count() > 200 {
            errors.push(FieldError::new("/title", "must be 1 to 200 characters"));
        }
        if let Some(title) = &draft.customer_title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "/customer_title",
                "must be 1 to 200 characters",
            ));
        }
        errors.extend(draft.english.errors());
        let skew = now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now);
        if draft.discovered_at > skew {
            errors.push(FieldError::new("/discovered_at", "lies in the future"));
        }
        if draft.aware_at > skew {
            errors.push(FieldError::new("/aware_at", "lies in the future"));
        }
        if draft.aware_at < draft.discovered_at {
            errors.push(FieldError::new(
                "/aware_at",
                "cannot lie before the discovery",
            ));
        }
        if draft.breach_types.is_empty() {
            errors.push(FieldError::new(
                "/breach_types",
                "name at least one breach type",
            ));
        }
        let text = |errors: &mut Vec<FieldError>, field: &str, v: &Personal<String>| {
            if v.expose().trim().is_empty() || v.expose().chars().count() > 20_000 {
                errors.push(FieldError::new(
                    format!("/{field}"),
                    "must be 1 to 20000 characters",
                ));
            }
        };
        text(&mut errors, "nature_and_scope", &draft.nature_and_scope);
        text(
            &mut errors,
            "likely_consequences",
            &draft.likely_consequences,
        );
        for (field, approx) in [
            ("approx_data_subjects", draft.approx_data_subjects),
            ("approx_records", draft.approx_records),
        ] {
            if approx.min > approx.max {
                errors.push(FieldError::new(
                    format!("/{field}/min"),
                    "must not exceed max",
                ));
            }
        }
        errors.extend(self.check_data_sets(&draft.data_sets).await?);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    pub(super) async fn check_data_sets(
        &self,
        data_sets: &[AffectedDataSet],
    ) -> Result<Vec<FieldError>, Error> {
        let mut errors = Vec::new();
        if data_sets.is_empty() {
            errors.push(FieldError::new(
                "/data_sets",
                "name at least one affected data set",
            ));
        }
        for (i, set) in data_sets.iter().enumerate() {
            if set.name.trim().is_empty() || set.name.chars().count() > 200 {
                errors.push(FieldError::new(
                    format!("/data_sets/{i}/name"),
                    "must be 1 to 200 characters",
                ));
            }
            match (&set.tenant, set.role) {
                (None, Role::Processor) => errors.push(FieldError::new(
                    format!("/data_sets/{i}/tenant"),
                    "data we process for a customer must name the customer",
                )),
                (Some(_), Role::Controller) => errors.push(FieldError::new(
                    format!("/data_sets/{i}/tenant"),
                    "our own data (controller) belongs to no customer",
                )),
                (Some(tenant), Role::Processor) => {
                    if tenants::get(self.store.as_ref(), tenant).await?.is_none() {
                        errors.push(FieldError::new(
                            format!("/data_sets/{i}/tenant"),
                            "no such tenant",
                        ));
                    }
                }
                (None, Role::Controller) => {}
            }
        }
        Ok(errors)
    }

    /// Builds a new incident and the writes that store it (record, tenant links, audit entry).
    pub(super) async fn new_incident(
        &self,
        access: &Access,
        draft: IncidentDraft,
        source_report: Option<ReportId>,
        now: Timestamp,
    ) -> Result<(IncidentRecord, Vec<WriteOp>), Error> {
        self.validate_draft(&draft, now).await?;
        let id = IncidentId::generate(now);
        let iid = id.to_string();
        let mut english = StoredEnglish::default();
        self.apply_english(&iid, &mut english, draft.english)
            .await?;
        let mut record = IncidentRecord {
            id,
            title: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "title",
                    &Personal::new(clean(&draft.title)),
                )
                .await?,
            customer_title: match &draft.customer_title {
                Some(title) => Some(
                    self.seal(
                        RecordKind::Incident,
                        &iid,
                        "customer_title",
                        &Personal::new(clean(title)),
                    )
                    .await?,
                ),
                None => None,
            },
            status: IncidentStatus::Open,
            discovered_at: draft.discovered_at,
            aware_at: draft.aware_at,
            breach_types: draft.breach_types,
            nature_and_scope: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "nature_and_scope",
                    &draft.nature_and_scope,
                )
                .await?,
            data_categories: draft.data_categories,
            approx_data_subjects: draft.approx_data_subjects,
            approx_records: draft.approx_records,
            likely_consequences: self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "likely_consequences",
                    &draft.likely_consequences,
                )
                .await?,
            english,
            data_sets: self.seal_data_sets(&iid, draft.data_sets).await?,
            measures: vec![],
            assessment: None,
            notices: vec![],
            alerts: vec![],
            source_report,
            created_at: now,
            created_by: access.principal().subject.clone(),
            closed_at: None,
            nis2_significant: draft.nis2_significant,
            audit: AuditHead::default(),
        };
        let created = Stamp {
            at: now,
            by: access.principal(),
            action: "incident.created",
        };
        let mut ops = audit::create_ops(&mut record, created, &iid)?;
        for tenant in record.customer_tenants() {
            ops.push(WriteOp::Put {
                item: link_item(&tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        Ok((record, ops))
    }

    pub async fn create_incident(
        &self,
        access: &Access,
        draft: IncidentDraft,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let now = self.clock.now();
        let (record, ops) = self.new_incident(access, draft, None, now).await?;
        self.store.transact(ops).await?;
        self.staff_view(record, 1).await
    }

    pub(crate) async fn load_incident(
        &self,
        id: &IncidentId,
    ) -> Result<(IncidentRecord, u64), Error> {
        let item = self
            .store
            .get(&incident_key(id)?)
            .await?
            .ok_or_else(|| Error::NotFound("incident".into()))?;
        Ok((item.record()?, item.version))
    }

    /// `save` for a change staff make, answering with the incident as staff see it.
    pub(super) async fn save_for_staff(
        &self,
        access: &Access,
        record: IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<IncidentView, Error> {
        let (record, version) = self
            .save(
                access.principal(),
                record,
                version,
                action,
                change,
                previous_tenants,
            )
            .await?;
        self.staff_view(record, version).await
    }

    /// Stores a changed incident with its audit entry (and tenant links), failing on a
    /// concurrent change.
    pub(super) async fn save(
        &self,
        principal: &Principal,
        record: IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<(IncidentRecord, u64), Error> {
        let mut record = record;
        let ops = self.save_ops(
            principal,
            &mut record,
            version,
            action,
            change,
            previous_tenants,
        )?;
        self.store.transact(ops).await.map_err(conflict)?;
        Ok((record, version + 1))
    }

    /// The writes of [`Self::save`] (the record gets its new audit head), for a caller that
    /// adds its own to the same transaction.
    pub(crate) fn save_ops(
        &self,
        principal: &Principal,
        record: &mut IncidentRecord,
        version: u64,
        action: &str,
        change: &impl Serialize,
        previous_tenants: &BTreeSet<TenantId>,
    ) -> Result<Vec<WriteOp>, Error> {
        let stamp = Stamp {
            at: self.clock.now(),
            by: principal,
            action,
        };
        let mut ops = audit::update_ops(record, version, stamp, change)?;
        let tenants_now = record.customer_tenants();
        for tenant in tenants_now.difference(previous_tenants) {
            ops.push(WriteOp::Put {
                item: link_item(tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        for tenant in previous_tenants.difference(&tenants_now) {
            ops.push(WriteOp::Delete {
                key: link_key(tenant, &record.id)?,
                condition: Condition::Always,
            });
        }
        Ok(ops)
    }

    /// The staff view of an incident for someone who may change its file (the console's form).
    pub async fn file_to_change(
        &self,
        access: &Access,
        id: &IncidentId,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (record, version) = self.load_incident(id).await?;
        self.staff_view(record, version).await
    }

    pub async fn update_incident(
        &self,
        access: &Access,
        id: &IncidentId,
        patch: IncidentPatch,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        if record.status == IncidentStatus::Closed {
            return Err(Error::Conflict(
                "a closed incident can no longer be changed".into(),
            ));
        }
        let mut errors = Vec::new();
        if let Some(title) = &patch.title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new("/title", "must be 1 to 200 characters"));
        }
        if let Some(title) = &patch.customer_title
            && (title.trim().is_empty() || title.chars().count() > 200)
        {
            errors.push(FieldError::new(
                "/customer_title",
                "must be 1 to 200 characters",
            ));
        }
        if patch.breach_types.as_ref().is_some_and(BTreeSet::is_empty) {
            errors.push(FieldError::new(
                "/breach_types",
                "name at least one breach type",
            ));
        }
        for (field, value) in [
            ("nature_and_scope", &patch.nature_and_scope),
            ("likely_consequences", &patch.likely_consequences),
        ] {
            if value.as_ref().is_some_and(|v| {
                v.expose().trim().is_empty() || v.expose().chars().count() > 20_000
            }) {
                errors.push(FieldError::new(
                    format!("/{field}"),
                    "must be 1 to 20000 characters",
                ));
            }
        }
        for (field, value) in [
            ("approx_data_subjects", patch.approx_data_subjects),
            ("approx_records", patch.approx_records),
        ] {
            if value.is_some_and(|a| a.min > a.max) {
                errors.push(FieldError::new(
                    format!("/{field}/min"),
                    "must not exceed max",
                ));
            }
        }
        if let Some(sets) = &patch.data_sets {
            errors.extend(self.check_data_sets(sets).await?);
        }
        errors.extend(patch.english.errors());
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let before = record.customer_tenants();
        let iid = id.to_string();
        let mut changed = Vec::new();
        if let Some(title) = patch.title {
            record.title = self
                .seal(
                    RecordKind::Incident,
                    &iid,
                    "title",
                    &Personal::new(clean(&title)),
                )
                .await?;
            changed.push("title");
        }
        if let Some(title) = patch.customer_title {
            record.customer_title = Some(
                self.seal(
                    RecordKind::Incident,
                    &iid,
                    "customer_title",
                    &Personal::new(clean(&title)),
                )
                .await?,
            );
            changed.push("customer_title");
        }
        if let Some(v) = patch.breach_types {
            record.breach_types = v;
            changed.push("breach_types");
        }
        if let Some(v) = &patch.nature_and_scope {
            record.nature_and_scope = self
                .seal(RecordKind::Incident, &iid, "nature_and_scope", v)
                .await?;
            changed.push("nature_and_scope");
        }
        if let Some(v) = patch.data_categories {
            record.data_categories = v;
            changed.push("data_categories");
        }
        if let Some(v) = patch.approx_data_subjects {
            record.approx_data_subjects = v;
            changed.push("approx_data_subjects");
        }
        if let Some(v) = patch.approx_records {
            record.approx_records = v;
            changed.push("approx_records");
        }
        if let Some(v) = &patch.likely_consequences {
            record.likely_consequences = self
                .seal(RecordKind::Incident, &iid, "likely_consequences", v)
                .await?;
            changed.push("likely_consequences");
        }
        let english_changed = self
            .apply_english(&iid, &mut record.english, patch.english)
            .await?;
        changed.extend(english_changed);
        if let Some(v) = patch.data_sets {
            record.data_sets = self.seal_data_sets(&iid, v).await?;
            changed.push("data_sets");
        }
        if let Some(v) = patch.nis2_significant {
            record.nis2_significant = v;
            changed.push("nis2_significant");
        }
        if changed.is_empty() {
            return Err(Error::validation("", "the change names no field"));
        }
        // Facts the assessment read from the file follow it: the engine decides again, and the
        // change says what it decided before and now (an override stays, with its reasons).
        let reassessed = self.reassess_from_file(&mut record, &changed)?;
        let change = serde_json::json!({
            "fields": changed,
            "record": &record,
            "reassessed": reassessed,
        });
        self.save_for_staff(
            access,
            record,
            version,
            "incident.updated",
            &change,
            &before,
        )
        .await
    }

    pub async fn add_measure(
        &self,
        access: &Access,
        id: &IncidentId,
        input: MeasureInput,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let mut errors = Vec::new();
        if input.what.expose().trim().is_empty() || input.what.expose().chars().count() > 5_000 {
            errors.push(FieldError::new("/what", "must be 1 to 5000 characters"));
        }
        if input
            .what_en
            .as_ref()
            .is_some_and(|w| w.expose().chars().count() > 5_000)
        {
            errors.push(FieldError::new(
                "/what_en",
                "must be at most 5000 characters",
            ));
        }
        if input.owner.trim().is_empty() || input.owner.chars().count() > 100 {
            errors.push(FieldError::new(
                "/owner",
                "must be 1 to 100 characters (a role or team)",
            ));
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let (mut record, version) = self.load_incident(id).await?;
        if record.status == IncidentStatus::Closed {
            return Err(Error::Conflict(
                "a closed incident can no longer be changed".into(),
            ));
        }
        let now = self.clock.now();
        let measure = Measure {
            id: MeasureId::generate(now),
            kind: input.kind,
            what: self
                .seal(
                    RecordKind::Incident,
                    &id.to_string(),
                    "measures[].what",
                    &input.what,
                )
                .await?,
            what_en: match &input.what_en {
                Some(text) => {
                    self.seal_optional(&id.to_string(), english::MEASURE, text)
                        .await?
                }
                None => None,
            },
            owner: self
                .seal(
                    RecordKind::Incident,
                    &id.to_string(),
                    "measures[].owner",
                    &Personal::new(clean(&input.owner)),
                )
                .await?,
            at: input.at.unwrap_or(now),
            status: input.status,
        };
        record.measures.push(measure.clone());
        let before = record.customer_tenants();
        self.save_for_staff(access, record, version, "measure.added", &measure, &before)
            .await
    }

    pub async fn set_measure_status(
        &self,
        access: &Access,
        id: &IncidentId,
        measure: &MeasureId,
        status: MeasureStatus,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        let m = record
            .measures
            .iter_mut()
            .find(|m| m.id == *measure)
            .ok_or_else(|| Error::NotFound("measure".into()))?;
        m.status = status;
        m.at = self.clock.now();
        let change = serde_json::json!({ "measure": measure, "status": status });
        let before = record.customer_tenants();
        self.save_for_staff(access, record, version, "measure.status", &change, &before)
            .await
    }

    pub async fn transition(
        &self,
        access: &Access,
        id: &IncidentId,
        to: IncidentStatus,
    ) -> Result<IncidentView, Error> {
        access.require(Permission::IncidentsManage, Scope::Platform)?;
        let (mut record, version) = self.load_incident(id).await?;
        if !record.status.can_become(to) {
            return Err(Error::Conflict(format!(
                "an incident cannot go from {} to {}",
                record.status.as_str(),
                to.as_str()
            )));
        }
        if to == IncidentStatus::Closed {
            let now = self.clock.now();
            let policies = self.policies(&record).await?;
            let open: Vec<String> = deadlines::deadlines(&record, now, |t| {
                policies
                    .get(t)
                    .cloned()
                    .unwrap_or_else(EffectivePolicy::page)
            })
            .map_err(|e| Error::Internal(e.to_string()))?
            .into_iter()
            .filter(|d| d.met_at.is_none())
            .map(|d| d.duty.to_string())
            .collect();
            if record.assessment.is_none() {
                return Err(Error::Conflict(
                    "assess the incident before closing it".into(),
                ));
            }
            if !open.is_empty() {
                return Err(Error::Conflict(format!(
                    "notifications still owed: {}",
                    open.join(", ")
                )));
            }
            record.closed_at = Some(now);
        }
        let from = record.status;
        record.status = to;
        let change = serde_json::json!({ "from": from, "to": to });
        let before = record.customer_tenants();
        let mut ops = self.save_ops(
            access.principal(),
            &mut record,
            version,
            "incident.status",
            &change,
            &before,
        )?;
        // The report the incident was opened from follows it to the end, in the same
        // transaction: closed, on its own chain, and its reporter told why.
        if to == IncidentStatus::Closed
            && let Some(report_id) = record.source_report
        {
            let (mut report, report_version) = self.load_report(&report_id).await?;
            if report.status != ReportStatus::Closed {
                report.status = ReportStatus::Closed;
                let because = serde_json::json!({
                    "because": ClosedBecause::IncidentClosed,
                    "incident": record.id,
                });
                ops.extend(
                    self.report_change_ops(
                        &mut report,
                        report_version,
                        self.clock.now(),
                        access.principal(),
                        "report.closed",
                        &because,
                    )
                    .await?,
                );
            }
        }
        self.store.transact(ops).await.map_err(conflict)?;
        self.staff_view(record, version + 1).await
    }
}
