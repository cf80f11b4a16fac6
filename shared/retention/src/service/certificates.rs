//! Deletion certificates: their text in both languages, mailing them, and verifying one.

use kernel::error::Error;
use kernel::ids::TenantId;
use kernel::rbac::{Access, Permission, Scope};
use kernel::store::{Condition, Query, query_all};
use kernel::time::Timestamp;
use kernel::token::VerificationKey;

use super::RetentionService;
use crate::records::*;

/// What a stage covers in German, beside [`scope_text`] (the English words each certificate
/// signs): pages in German show these for a certificate whose signed scope is the current one.
pub fn scope_text_de(stage: Stage) -> &'static str {
    match stage {
        Stage::Stage1 => {
            "Stufe 1 (Leistungsende + 30 Tage): alle personenbezogenen Daten des Kunden in den \
             Primärspeichern des Datenverzeichnisses sowie die Primär- und Identitätsschlüssel des \
             Kunden (Crypto-Shredding: jede damit versiegelte Kopie, Sicherungen eingeschlossen, wird \
             unlesbar). Nicht erfasst: Exporte und Archive, die bis Stufe 2 für den Kunden bleiben; \
             Einträge unter einer Aufbewahrungspflicht (bleiben, neu versiegelt mit dem \
             Aufbewahrungsschlüssel); eigene Unterlagen des Unternehmens unter eigenen Pflichten \
             (Abrechnung, Vorfallakten, versandte Benachrichtigungen)."
        }
        Stage::Stage2 => {
            "Stufe 2 (ein weiteres Jahr später): alle verbleibenden Kopien der Daten des Kunden \
             (Exporte, Archive, alles nach Stufe 1 Verbliebene) und der Kopienschlüssel des Kunden. \
             Nicht erfasst: Einträge, die eine Aufbewahrungspflicht noch erfasst."
        }
        Stage::HoldRelease => {
            "Ende einer Aufbewahrungspflicht: die Einträge, die sie hielt, gelöscht, sobald keine \
             Pflicht sie mehr erfasst, und der Aufbewahrungsschlüssel des Kunden, sobald nichts \
             mehr von ihm Versiegeltes bleibt."
        }
    }
}

/// What a stage covers, as its certificates say (and sign).
pub fn scope_text(stage: Stage) -> &'static str {
    match stage {
        Stage::Stage1 => {
            "Stage 1 (service end + 30 days): every item of the tenant's personal data in the \
             primary stores of the data inventory, and the tenant's primary and identity data keys \
             (crypto-shredding: every copy they sealed, backups included, becomes unreadable). \
             Not covered: exports and archives kept for the customer until stage 2; items a legal \
             hold covers (kept, re-sealed under the legal-hold key); the company's own records \
             under its own duties (billing records, incident files, notifications sent)."
        }
        Stage::Stage2 => {
            "Stage 2 (a further year on): all remaining copies of the tenant's data (exports, \
             archives, anything kept after stage 1) and the tenant's copies key. Not covered: items \
             a legal hold still covers."
        }
        Stage::HoldRelease => {
            "Release of a legal hold: the items a hold kept, deleted once no hold covers them, and \
             the tenant's legal-hold key once nothing it sealed remains."
        }
    }
}

/// The mail that brings a certificate to the tenant's breach contact: what was deleted when,
/// in both languages, the signed certificate itself (a JWS, verifiable with the published
/// keys) and where to check it. After stage 1 the customer's accounts are gone, so this mail
/// is how the proof reaches the customer.
pub fn certificate_message(stored: &StoredCertificate, verify_url: &str) -> (String, String) {
    let c = &stored.certificate;
    let at = |t: Timestamp| {
        kernel::time::in_company_time(t)
            .strftime("%d.%m.%Y %H:%M %Z")
            .to_string()
    };
    let (stage_de, stage_en) = match c.stage {
        Stage::Stage1 => ("Stufe 1", "stage 1"),
        Stage::Stage2 => ("Stufe 2 (letzte Stufe)", "stage 2 (the last stage)"),
        Stage::HoldRelease => ("Ende einer Aufbewahrungspflicht", "release of a legal hold"),
    };
    let deleted: u64 = c.deleted.values().sum();
    let keys = c.keys_destroyed.len();
    let subject = format!(
        "Löschbescheinigung {} / Deletion certificate {}",
        c.id, c.id
    );
    let body = format!(
        "Guten Tag,\n\nfür {tenant} ist die Löschung abgeschlossen: {stage_de}, beendet am {finished}. \
         Gelöschte Einträge: {deleted}; vernichtete Schlüssel: {keys}. Die letzte Sicherung mit diesen \
         Daten läuft ab am {backups}.\n\n{scope_de}\n\nDie unterschriebene Bescheinigung steht unten \
         (JWS); prüfen Sie sie hier: {verify_url}\n\n— regrooter GmbH\n\n----\n\nHello,\n\nthe deletion \
         for {tenant} is done: {stage_en}, finished on {finished}. Items deleted: {deleted}; keys \
         destroyed: {keys}. The last backup holding this data expires on {backups}.\n\n{scope_en}\n\n\
         The signed certificate follows (JWS); check it here: {verify_url}\n\n— regrooter GmbH\n\n----\n\n{jws}\n",
        tenant = c.tenant,
        finished = at(c.finished_at),
        backups = at(c.backups_expire_by),
        scope_de = scope_text_de(c.stage),
        scope_en = c.scope,
        jws = stored.jws,
    );
    (subject, body)
}

/// Checks a certificate's signature with one of the published keys; returns what it certifies.
pub fn verify_certificate(
    jws: &str,
    keys: &[VerificationKey],
    issuer: &str,
) -> Result<DeletionCertificate, Error> {
    let mut last = None;
    for key in keys {
        match key.verify_document::<DeletionCertificate>(issuer, jws.trim()) {
            Ok((certificate, subject)) if subject == certificate.tenant.as_str() => {
                return Ok(certificate);
            }
            Ok(_) => last = Some("the certificate's subject is not its tenant".to_string()),
            Err(e) => last = Some(e.to_string()),
        }
    }
    Err(Error::BadRequest(format!(
        "the certificate does not verify: {}",
        last.unwrap_or_else(|| "no key to check it with".into())
    )))
}

impl RetentionService {
    /// The certificates still to be mailed, with their recipient opened: for the workflow that
    /// queues the mail and then calls [`Self::certificate_sent`].
    pub async fn certificates_to_send(
        &self,
    ) -> Result<Vec<(StoredCertificate, kernel::crypto::Personal<String>)>, Error> {
        let mut out = Vec::new();
        for item in query_all(self.store.as_ref(), Query::gsi1(STATES_INDEX).limit(1_000)).await? {
            let state: RetentionState = item.record()?;
            let tenant = state.tenant;
            for cert in query_all(
                self.store.as_ref(),
                Query::partition(partition(&tenant)).prefix("CERT#"),
            )
            .await?
            {
                let stored: StoredCertificate = cert.record()?;
                if let Some(sealed) = &stored.deliver_to {
                    let to = self
                        .keyring
                        .open(&Self::recipient_context(&tenant), sealed)
                        .await?;
                    out.push((stored, to));
                }
            }
        }
        Ok(out)
    }

    /// A certificate's mail is queued: its copy of the recipient goes.
    pub async fn certificate_sent(
        &self,
        tenant: &TenantId,
        id: &CertificateId,
    ) -> Result<(), Error> {
        let key = certificate_key(tenant, id)?;
        let Some(item) = self.store.get(&key).await? else {
            return Ok(());
        };
        let mut stored: StoredCertificate = item.record()?;
        if stored.deliver_to.take().is_none() {
            return Ok(());
        }
        self.store
            .put(certificate_item(&stored)?, Condition::Version(item.version))
            .await?;
        Ok(())
    }

    /// The tenant's deletion certificates, each with its signed form for download.
    pub async fn certificates(
        &self,
        access: &Access,
        tenant: &TenantId,
    ) -> Result<Vec<StoredCertificate>, Error> {
        access.require(Permission::RetentionRead, Scope::Tenant(tenant))?;
        let items = query_all(
            self.store.as_ref(),
            Query::partition(partition(tenant)).prefix("CERT#"),
        )
        .await?;
        items
            .iter()
            .map(|i| i.record::<StoredCertificate>().map_err(Error::from))
            .collect()
    }
}
