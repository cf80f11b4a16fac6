//! The judges: from the figures each area reports to one evidence item with its status and its
//! finding in words. Pure functions, so each rule is tested on its own.

use auth::service::StaffFactorFigures;
use incidents::BreachFigures;
use kernel::crypto::{KekRotation, KeyFigures};
use kernel::inventory::{INVENTORY, RecordSpec};
use kernel::policy::{self, BasisPoints};
use kernel::time::{Period, Timestamp};
use retention::DeletionFigures;

use crate::published::{
    ADVISORY_AUDIT_MAX_AGE, AdvisoryAudit, Published, WAF_EVAL_MAX_AGE, WafEval,
};
use crate::statement::{Evidence, Fact, Status, Text, UptimeMonth};

fn evidence(
    id: &str,
    title: Text,
    status: Status,
    as_of: Option<Timestamp>,
    finding: Text,
) -> Evidence {
    Evidence {
        id: id.into(),
        title,
        status,
        as_of,
        finding,
        facts: Vec::new(),
        months: Vec::new(),
    }
}

impl Evidence {
    fn with(mut self, fact: Fact) -> Self {
        self.facts.push(fact);
        self
    }
}

/// `n` of `d` as a percentage with one decimal, rounded down, in each language's notation.
pub fn share(n: u32, d: u32) -> Text {
    if d == 0 {
        return Text::new("–", "–");
    }
    let tenths = u64::from(n) * 1000 / u64::from(d);
    Text::new(
        format!("{},{} %", tenths / 10, tenths % 10),
        format!("{}.{} %", tenths / 10, tenths % 10),
    )
}

/// Basis points as a percentage with two decimals: 9 500 → "95,00 %" / "95.00 %".
pub fn basis_points(bp: BasisPoints) -> Text {
    let (whole, cents) = (bp.0 / 100, bp.0 % 100);
    Text::new(
        format!("{whole},{cents:02} %"),
        format!("{whole}.{cents:02} %"),
    )
}

/// A period in hours where it is counted in hours ("48 Stunden" / "48 hours").
pub fn hours(p: Period) -> Text {
    match p {
        Period::Hours(h) => Text::new(format!("{h} Stunden"), format!("{h} hours")),
        other => period(other),
    }
}

fn count(n: u32) -> String {
    n.to_string()
}

/// A period in words, days where it is whole days ("7 Tage" / "7 days").
pub fn period(p: Period) -> Text {
    match p {
        Period::Hours(h) if h % 24 == 0 => {
            let d = h / 24;
            Text::new(format!("{d} Tage"), format!("{d} days"))
        }
        Period::Hours(h) => Text::new(format!("{h} Stunden"), format!("{h} hours")),
        Period::Days(d) => Text::new(format!("{d} Tage"), format!("{d} days")),
        Period::Months(m) => Text::new(format!("{m} Monate"), format!("{m} months")),
        Period::Years(1) => Text::new("1 Jahr", "1 year"),
        Period::Years(y) => Text::new(format!("{y} Jahre"), format!("{y} years")),
    }
}

fn too_old(at: Timestamp, max_age: Period, now: Timestamp) -> bool {
    max_age.after(at).map_or(true, |limit| limit < now)
}

// ----- SLA ---------------------------------------------------------------------------------------

/// The platform's monthly uptime: held when every complete, measured month kept the target;
/// failing when one did not; missing when no month was measured.
pub fn uptime(months: Vec<UptimeMonth>, target: BasisPoints, now: Timestamp) -> Evidence {
    let complete: Vec<&UptimeMonth> = months
        .iter()
        .filter(|m| m.complete && m.uptime_basis_points.is_some())
        .collect();
    let missed: Vec<&str> = complete
        .iter()
        .filter(|m| m.met == Some(false))
        .map(|m| m.month.as_str())
        .collect();
    let measured = complete.len() as u32;
    let (status, finding) = if complete.is_empty() {
        (
            Status::Missing,
            Text::new(
                "Für keinen abgeschlossenen Monat der letzten zwölf liegen Messungen vor.",
                "There are no measurements for any complete month of the last twelve.",
            ),
        )
    } else if missed.is_empty() {
        (
            Status::Held,
            Text::new(
                format!(
                    "In allen {measured} gemessenen Monaten der letzten zwölf lag die Verfügbarkeit bei mindestens {}.",
                    basis_points(target).de
                ),
                format!(
                    "Uptime was at least {} in each of the {measured} measured months of the last twelve.",
                    basis_points(target).en
                ),
            ),
        )
    } else {
        let list = missed.join(", ");
        (
            Status::Failing,
            Text::new(
                format!(
                    "In {} von {measured} gemessenen Monaten lag die Verfügbarkeit unter {} ({list}); für diese Monate steht Kunden eine Gutschrift zu.",
                    missed.len(),
                    basis_points(target).de
                ),
                format!(
                    "Uptime fell below {} in {} of {measured} measured months ({list}); customers are owed a credit for those months.",
                    basis_points(target).en,
                    missed.len()
                ),
            ),
        )
    };
    let windows: u32 = months.iter().map(|m| m.planned_maintenance_windows).sum();
    let mut e = evidence(
        "sla.uptime",
        Text::new("Monatliche Verfügbarkeit", "Monthly uptime"),
        status,
        Some(now),
        finding,
    )
    .with(Fact::new(
        Text::new("Zugesagt", "Promised"),
        Text::new(
            format!("mindestens {} je Kalendermonat", basis_points(target).de),
            format!("at least {} per calendar month", basis_points(target).en),
        ),
    ))
    .with(Fact::plain(
        Text::new(
            "Angekündigte geplante Wartungen (12 Monate)",
            "Announced planned maintenance (12 months)",
        ),
        count(windows),
    ));
    e.months = months;
    e
}

// ----- breaches ----------------------------------------------------------------------------------

/// Customer notices within 48 h: held when every notice whose time has come went out on time;
/// failing when one was late or missed. No incident is no evidence against the promise, and is
/// shown as held with the count zero.
pub fn breaches(f: &BreachFigures, now: Timestamp) -> Evidence {
    let late = f.customer_notices_late + f.customer_notices_missed;
    let within = hours(policy::CUSTOMER_NOTIFICATION);
    let (status, finding) = if late > 0 {
        (
            Status::Failing,
            Text::new(
                format!(
                    "{late} von {} fälligen Kundeninformationen gingen nicht innerhalb von {} hinaus.",
                    f.customer_notices_due, within.de
                ),
                format!(
                    "{late} of {} customer notices due did not go out within {}.",
                    f.customer_notices_due, within.en
                ),
            ),
        )
    } else if f.customer_notices_due == 0 {
        (
            Status::Held,
            Text::new(
                format!(
                    "{} Vorfälle in den letzten zwölf Monaten; keine Kundeninformation war fällig.",
                    f.incidents
                ),
                format!(
                    "{} incidents in the last twelve months; no customer notice was due.",
                    f.incidents
                ),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Alle {} fälligen Kundeninformationen gingen innerhalb von {} hinaus.",
                    f.customer_notices_due, within.de
                ),
                format!(
                    "All {} customer notices due went out within {}.",
                    f.customer_notices_due, within.en
                ),
            ),
        )
    };
    evidence(
        "breaches.customer_notices",
        Text::new(
            "Datenschutzverletzungen und Kundeninformation",
            "Breaches and customer notices",
        ),
        status,
        Some(now),
        finding,
    )
    .with(Fact::plain(
        Text::new("Vorfälle (12 Monate)", "Incidents (12 months)"),
        count(f.incidents),
    ))
    .with(Fact::plain(
        Text::new("davon mit Kundendaten", "of them with customers' data"),
        count(f.with_customer_data),
    ))
    .with(Fact::new(
        Text::new(
            format!("Kundeninformationen innerhalb von {}", within.de),
            format!("Customer notices within {}", within.en),
        ),
        {
            let s = share(f.customer_notices_on_time, f.customer_notices_due);
            Text::new(
                format!(
                    "{} ({} von {})",
                    s.de, f.customer_notices_on_time, f.customer_notices_due
                ),
                format!(
                    "{} ({} of {})",
                    s.en, f.customer_notices_on_time, f.customer_notices_due
                ),
            )
        },
    ))
    .with(Fact::plain(
        Text::new("noch nicht fällig", "not yet due"),
        count(f.customer_notices_pending),
    ))
}

// ----- retention ---------------------------------------------------------------------------------

/// Deletion on time: held when no stage is overdue; failing when one is.
pub fn deletions(f: &DeletionFigures, certificate_keys: &[String], now: Timestamp) -> Evidence {
    let (status, finding) = if f.stages_overdue > 0 {
        (
            Status::Failing,
            Text::new(
                format!("{} Löschstufen sind überfällig.", f.stages_overdue),
                format!("{} deletion stages are overdue.", f.stages_overdue),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Keine Löschstufe ist überfällig; {} Stufen wurden in den letzten zwölf Monaten abgeschlossen, jede mit signierter Löschbescheinigung.",
                    f.stages_completed
                ),
                format!(
                    "No deletion stage is overdue; {} stages were completed in the last twelve months, each with a signed deletion certificate.",
                    f.stages_completed
                ),
            ),
        )
    };
    let mut e = evidence(
        "retention.deletions",
        Text::new(
            "Löschung nach Vertragsende",
            "Deletion after the service ends",
        ),
        status,
        Some(now),
        finding,
    )
    .with(Fact::new(
        Text::new(
            "Personenbezogene Daten gelöscht nach Vertragsende",
            "Personal data deleted after the service ends",
        ),
        period(policy::DELETION_AFTER_SERVICE_END),
    ))
    .with(Fact::new(
        Text::new(
            "Verbleibende Kopien gelöscht nach weiteren",
            "Remaining copies deleted after a further",
        ),
        period(policy::REMAINING_COPIES_RETENTION),
    ))
    .with(Fact::plain(
        Text::new(
            "Abgeschlossene Löschstufen (12 Monate)",
            "Deletion stages completed (12 months)",
        ),
        count(f.stages_completed),
    ))
    .with(Fact::plain(
        Text::new(
            "Ausgestellte Löschbescheinigungen (12 Monate)",
            "Deletion certificates issued (12 months)",
        ),
        count(f.certificates_issued),
    ));
    e = e.with(Fact::plain(
        Text::new("Schlüssel der Bescheinigungen", "Certificate keys"),
        if certificate_keys.is_empty() {
            "–".to_string()
        } else {
            certificate_keys.join(", ")
        },
    ));
    e
}

// ----- encryption --------------------------------------------------------------------------------

fn personal_kinds() -> Vec<&'static RecordSpec> {
    INVENTORY
        .iter()
        .filter(|s| !s.personal.is_empty())
        .collect()
}

/// Personal data only encrypted: the inventory names every personal field of every record kind,
/// and the store refuses a record whose personal field is not sealed or whose other strings are
/// not declared clear. Held by construction; the figures show its extent.
pub fn sealed_fields(now: Timestamp) -> Evidence {
    let kinds = personal_kinds();
    let fields: usize = kinds.iter().map(|s| s.personal.len()).sum();
    evidence(
        "encryption.fields",
        Text::new("Personenbezogene Daten nur verschlüsselt", "Personal data only encrypted"),
        Status::Held,
        Some(now),
        Text::new(
            format!(
                "Alle {fields} personenbezogenen Felder in {} Datensatzarten werden mit AES-256-GCM einzeln verschlüsselt gespeichert; einen Datensatz mit unverschlüsseltem personenbezogenem Feld weist der Speicher zurück.",
                kinds.len()
            ),
            format!(
                "All {fields} personal fields in {} kinds of record are stored sealed one by one with AES-256-GCM; the store refuses a record with a personal field in clear.",
                kinds.len()
            ),
        ),
    )
    .with(Fact::plain(Text::new("Feldverschlüsselung", "Field encryption"), "AES-256-GCM"))
    .with(Fact::plain(
        Text::new("Signaturen (Tokens, Bescheinigungen, diese Erklärung)", "Signatures (tokens, certificates, this statement)"),
        "Ed25519 (EdDSA)",
    ))
    .with(Fact::plain(Text::new("Transport", "Transport"), "TLS (HTTPS only, HSTS)"))
}

/// Data keys and the key-encryption key's rotation: held when KMS rotates the key-encryption key
/// automatically; failing when rotation is off; missing when the key cannot tell.
pub fn keys(f: &KeyFigures, kek: &Result<KekRotation, String>, now: Timestamp) -> Evidence {
    let (status, finding, state) = match kek {
        Ok(KekRotation::Automatic { period_days, .. }) => (
            Status::Held,
            Text::new(
                "Der Hauptschlüssel in AWS KMS wird automatisch rotiert.",
                "The master key in AWS KMS rotates automatically.",
            ),
            period_days.map_or_else(
                || Text::new("automatisch", "automatic"),
                |d| {
                    Text::new(
                        format!("automatisch, alle {d} Tage"),
                        format!("automatic, every {d} days"),
                    )
                },
            ),
        ),
        Ok(KekRotation::Off) => (
            Status::Failing,
            Text::new(
                "Die automatische Rotation des Hauptschlüssels ist ausgeschaltet.",
                "Automatic rotation of the master key is switched off.",
            ),
            Text::new("aus", "off"),
        ),
        Ok(KekRotation::NotAvailable { why }) => (
            Status::Missing,
            Text::new(
                format!("Kein Nachweis der Schlüsselrotation: {why}."),
                format!("No evidence of key rotation: {why}."),
            ),
            Text::new("nicht verfügbar", "not available"),
        ),
        Err(e) => (
            Status::Missing,
            Text::new(
                format!("Der Rotationsstatus des Hauptschlüssels war nicht abrufbar: {e}."),
                format!("The master key's rotation state could not be read: {e}."),
            ),
            Text::new("unbekannt", "unknown"),
        ),
    };
    let mut e = evidence(
        "encryption.keys",
        Text::new("Schlüssel und Rotation", "Keys and rotation"),
        status,
        Some(now),
        finding,
    )
    .with(Fact::new(
        Text::new("Rotation des Hauptschlüssels", "Master key rotation"),
        state,
    ));
    if let Ok(KekRotation::Automatic {
        next_rotation: Some(next),
        ..
    }) = kek
    {
        e = e.with(Fact::plain(
            Text::new("Nächste Rotation", "Next rotation"),
            kernel::time::in_company_time(*next).date().to_string(),
        ));
    }
    e.with(Fact::plain(
        Text::new("Datenschlüssel", "Data keys"),
        count(f.data_keys),
    ))
    .with(Fact::plain(
        Text::new(
            "Rotierte Datenschlüssel (12 Monate)",
            "Data keys rotated (12 months)",
        ),
        count(f.rotations),
    ))
}

// ----- access ------------------------------------------------------------------------------------

/// Mandatory second factor for staff: held when every staff account that can sign in has one;
/// failing when one has not; missing when there is no staff account.
pub fn staff_factors(f: &StaffFactorFigures, now: Timestamp) -> Evidence {
    let without = f.staff - f.with_second_factor.min(f.staff);
    let (status, finding) = if f.staff == 0 {
        (
            Status::Missing,
            Text::new(
                "Es gibt kein Mitarbeiterkonto.",
                "There is no staff account.",
            ),
        )
    } else if without > 0 {
        (
            Status::Failing,
            Text::new(
                format!(
                    "{without} von {} Mitarbeiterkonten haben noch keinen zweiten Faktor (sie erreichen keine Daten, bevor sie einen einrichten).",
                    f.staff
                ),
                format!(
                    "{without} of {} staff accounts have no second factor yet (they reach no data before they set one up).",
                    f.staff
                ),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Alle {} Mitarbeiterkonten haben einen zweiten Faktor.",
                    f.staff
                ),
                format!("All {} staff accounts have a second factor.", f.staff),
            ),
        )
    };
    evidence(
        "access.staff_second_factor",
        Text::new(
            "Zweiter Faktor für Mitarbeitende",
            "Second factor for staff",
        ),
        status,
        Some(now),
        finding,
    )
    .with(Fact::plain(
        Text::new("Mitarbeiterkonten", "Staff accounts"),
        count(f.staff),
    ))
    .with(Fact::plain(
        Text::new("mit zweitem Faktor", "with a second factor"),
        count(f.with_second_factor),
    ))
    .with(Fact::plain(
        Text::new(
            "mit Passkey (phishing-resistent)",
            "with a passkey (phishing-resistant)",
        ),
        count(f.with_passkey),
    ))
}

// ----- infrastructure ----------------------------------------------------------------------------

/// The region the statement was made in: held in eu-central-1 (Frankfurt); failing anywhere
/// else; missing outside AWS (the local platform).
pub fn region(region: Option<&str>, now: Timestamp) -> Evidence {
    let (status, finding, value) = match region {
        Some("eu-central-1") => (
            Status::Held,
            Text::new(
                "Die Dienste laufen in AWS eu-central-1 (Frankfurt am Main).",
                "The services run in AWS eu-central-1 (Frankfurt am Main).",
            ),
            "eu-central-1",
        ),
        Some(other) => (
            Status::Failing,
            Text::new(
                format!("Die Dienste laufen in {other}, nicht in eu-central-1."),
                format!("The services run in {other}, not in eu-central-1."),
            ),
            other,
        ),
        None => (
            Status::Missing,
            Text::new(
                "Diese Erklärung stammt nicht aus AWS; die Region ist nicht belegt.",
                "This statement was not made in AWS; the region is not shown.",
            ),
            "–",
        ),
    };
    evidence(
        "infrastructure.region",
        Text::new("Region", "Region"),
        status,
        Some(now),
        finding,
    )
    .with(Fact::plain(Text::new("AWS-Region", "AWS region"), value))
}

/// Backups kept 7 days: the deployed backup plan's retention against the page's figure.
pub fn backups(deployed_days: Option<u32>, now: Timestamp) -> Evidence {
    let promised = match policy::BACKUP_RETENTION {
        Period::Hours(h) => h / 24,
        Period::Days(d) => d,
        _ => 0,
    };
    let (status, finding) = match deployed_days {
        Some(d) if d == promised => (
            Status::Held,
            Text::new(
                format!(
                    "Der eingesetzte Sicherungsplan bewahrt Sicherungen {d} Tage auf, gesperrt gegen Änderung."
                ),
                format!("The deployed backup plan keeps backups {d} days, locked against change."),
            ),
        ),
        Some(d) => (
            Status::Failing,
            Text::new(
                format!(
                    "Der eingesetzte Sicherungsplan bewahrt Sicherungen {d} Tage auf, zugesagt sind {promised}."
                ),
                format!(
                    "The deployed backup plan keeps backups {d} days; {promised} are promised."
                ),
            ),
        ),
        None => (
            Status::Missing,
            Text::new(
                "Diese Umgebung hat keinen Sicherungsplan (lokaler Betrieb).",
                "This environment has no backup plan (local operation).",
            ),
        ),
    };
    evidence(
        "backups.retention",
        Text::new("Aufbewahrung der Sicherungen", "Backup retention"),
        status,
        Some(now),
        finding,
    )
    .with(Fact::new(
        Text::new("Zugesagt", "Promised"),
        period(policy::BACKUP_RETENTION),
    ))
}

/// Continuous measurement: the probe targets this month, from where, and the time without any
/// result. Held when measured from both vantage points; missing otherwise (one vantage is not
/// the measurement the page describes).
pub fn monitoring(
    targets: usize,
    vantages: &[String],
    unmeasured_seconds: i64,
    elapsed_seconds: i64,
    now: Timestamp,
) -> Evidence {
    let both = vantages.iter().any(|v| v == "region") && vantages.iter().any(|v| v == "edge");
    let (status, finding) = if targets == 0 {
        (
            Status::Missing,
            Text::new(
                "In diesem Monat wurde kein Messziel gemessen.",
                "No probe target was measured this month.",
            ),
        )
    } else if !both {
        (
            Status::Missing,
            Text::new(
                format!(
                    "Jede Minute gemessene Endpunkte: {targets}, in diesem Monat aber nur aus einem Blickwinkel."
                ),
                format!(
                    "Endpoints probed every minute: {targets}, but this month from one vantage point only."
                ),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Jede Minute gemessene Endpunkte: {targets}, aus der Region und vom Edge; eine Minute gilt nur als Ausfall, wenn beide ihn sahen."
                ),
                format!(
                    "Endpoints probed every minute: {targets}, from the region and from the edge; a minute is down only when both saw it down."
                ),
            ),
        )
    };
    let measured =
        u32::try_from((elapsed_seconds - unmeasured_seconds).max(0) / 60).unwrap_or(u32::MAX);
    let elapsed = u32::try_from(elapsed_seconds.max(0) / 60).unwrap_or(u32::MAX);
    let names = |de: bool| {
        if vantages.is_empty() {
            return "–".to_string();
        }
        vantages
            .iter()
            .map(|v| match (v.as_str(), de) {
                ("region", true) => "AWS-Region eu-central-1",
                ("region", false) => "AWS region eu-central-1",
                ("edge", _) => "Cloudflare",
                (other, _) => other,
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    evidence(
        "monitoring.probes",
        Text::new("Verfügbarkeitsmessung", "Uptime measurement"),
        status,
        Some(now),
        finding,
    )
    .with(Fact::plain(
        Text::new("Messziele", "Probe targets"),
        targets.to_string(),
    ))
    .with(Fact::new(
        Text::new("Blickwinkel in diesem Monat", "Vantage points this month"),
        Text::new(names(true), names(false)),
    ))
    .with(Fact::new(
        Text::new(
            "Anteil dieses Monats mit Messung",
            "Share of this month measured",
        ),
        share(measured, elapsed),
    ))
}

/// A contact the page names, as configured.
pub fn contact(id: &str, title: Text, address: &str, now: Timestamp) -> Evidence {
    let shown = address.trim().trim_start_matches("mailto:");
    let status = if shown.is_empty() {
        Status::Missing
    } else {
        Status::Held
    };
    evidence(
        id,
        title,
        status,
        Some(now),
        Text::new(
            format!("Erreichbar unter {shown}."),
            format!("Reachable at {shown}."),
        ),
    )
    .with(Fact::plain(Text::new("Adresse", "Address"), shown))
}

// ----- published at build time -------------------------------------------------------------------

/// The WAF's latest measurement against ModSecurity + CRS.
pub fn waf(published: &Published<WafEval>, now: Timestamp) -> Evidence {
    let title = Text::new(
        "Web Application Firewall, gemessen",
        "Web application firewall, measured",
    );
    let eval = match published {
        Published::Read(eval) => eval,
        Published::Absent => {
            return evidence(
                "security.waf",
                title,
                Status::Missing,
                None,
                Text::new(
                    "Mit diesem Stand wurden keine WAF-Messwerte veröffentlicht.",
                    "No WAF figures were published with this build.",
                ),
            );
        }
        Published::Unreadable(why) => {
            return evidence(
                "security.waf",
                title,
                Status::Missing,
                None,
                Text::new(
                    format!("Die veröffentlichten WAF-Messwerte sind nicht lesbar: {why}."),
                    format!("The published WAF figures cannot be read: {why}."),
                ),
            );
        }
    };
    let stale = too_old(eval.measured_at, WAF_EVAL_MAX_AGE, now);
    let (status, finding) = if stale {
        (
            Status::Failing,
            Text::new(
                format!(
                    "Die letzte Messung der WAF ist älter als {}.",
                    period(WAF_EVAL_MAX_AGE).de
                ),
                format!(
                    "The WAF's latest measurement is older than {}.",
                    period(WAF_EVAL_MAX_AGE).en
                ),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Gemessen auf Paranoia-Stufe {} im direkten Vergleich mit {}.",
                    eval.paranoia, eval.compared_with
                ),
                format!(
                    "Measured at paranoia level {} side by side with {}.",
                    eval.paranoia, eval.compared_with
                ),
            ),
        )
    };
    let mut e = evidence(
        "security.waf",
        title,
        status,
        Some(eval.measured_at),
        finding,
    );
    for row in &eval.rows {
        let ours = share(row.ours_blocked, row.requests);
        let theirs = row.theirs_blocked.map(|t| share(t, row.requests));
        let (what_de, what_en) = if row.kind == "attack" {
            ("Angriffe geblockt", "attacks blocked")
        } else {
            ("fälschlich geblockt", "wrongly blocked")
        };
        e = e.with(Fact::new(
            Text::new(
                format!("{} ({} Anfragen)", row.corpus_de, row.requests),
                format!("{} ({} requests)", row.corpus, row.requests),
            ),
            Text::new(
                format!(
                    "{} {what_de}{}",
                    ours.de,
                    theirs
                        .as_ref()
                        .map(|t| format!(" (Vergleich: {})", t.de))
                        .unwrap_or_default()
                ),
                format!(
                    "{} {what_en}{}",
                    ours.en,
                    theirs
                        .as_ref()
                        .map(|t| format!(" (comparison: {})", t.en))
                        .unwrap_or_default()
                ),
            ),
        ));
    }
    e
}

/// The latest clean dependency audit against the RustSec advisory database.
pub fn advisory_audit(published: &Published<AdvisoryAudit>, now: Timestamp) -> Evidence {
    let title = Text::new("Prüfung der Abhängigkeiten", "Dependency audit");
    let audit = match published {
        Published::Read(audit) => audit,
        Published::Absent => {
            return evidence(
                "development.advisory_audit",
                title,
                Status::Missing,
                None,
                Text::new(
                    "Mit diesem Stand wurde keine Prüfung der Abhängigkeiten veröffentlicht.",
                    "No dependency audit was published with this build.",
                ),
            );
        }
        Published::Unreadable(why) => {
            return evidence(
                "development.advisory_audit",
                title,
                Status::Missing,
                None,
                Text::new(
                    format!("Die veröffentlichte Prüfung ist nicht lesbar: {why}."),
                    format!("The published audit cannot be read: {why}."),
                ),
            );
        }
    };
    let (status, finding) = if audit.vulnerabilities > 0 {
        (
            Status::Failing,
            Text::new(
                format!(
                    "Die Prüfung fand {} bekannte Schwachstellen.",
                    audit.vulnerabilities
                ),
                format!(
                    "The audit found {} known vulnerabilities.",
                    audit.vulnerabilities
                ),
            ),
        )
    } else if too_old(audit.audited_at, ADVISORY_AUDIT_MAX_AGE, now) {
        (
            Status::Failing,
            Text::new(
                format!(
                    "Die letzte saubere Prüfung ist älter als {}.",
                    period(ADVISORY_AUDIT_MAX_AGE).de
                ),
                format!(
                    "The latest clean audit is older than {}.",
                    period(ADVISORY_AUDIT_MAX_AGE).en
                ),
            ),
        )
    } else {
        (
            Status::Held,
            Text::new(
                format!(
                    "Keine bekannte Schwachstelle in {} Rust-Paketen.",
                    audit.crates
                ),
                format!("No known vulnerability in {} Rust crates.", audit.crates),
            ),
        )
    };
    evidence(
        "development.advisory_audit",
        title,
        status,
        Some(audit.audited_at),
        finding,
    )
    .with(Fact::plain(
        Text::new("Werkzeug", "Tool"),
        audit.tool.clone(),
    ))
    .with(Fact::plain(
        Text::new("Stand der Datenbank", "Database as of"),
        kernel::time::in_company_time(audit.database_updated)
            .date()
            .to_string(),
    ))
    .with(Fact::plain(
        Text::new("Begründete Ausnahmen", "Written exceptions"),
        if audit.exceptions.is_empty() {
            "–".to_string()
        } else {
            audit.exceptions.join(", ")
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T08:00:00Z".parse().expect("time")
    }

    fn month(name: &str, complete: bool, bp: Option<u32>, met: Option<bool>) -> UptimeMonth {
        UptimeMonth {
            month: name.into(),
            complete,
            uptime_basis_points: bp,
            uptime: bp.map(|b| format!("{}.{:02} %", b / 100, b % 100)),
            met,
            planned_maintenance_seconds: 0,
            planned_maintenance_windows: 0,
        }
    }

    #[test]
    fn a_month_below_the_target_fails_the_uptime_and_is_named() {
        let target = policy::MONTHLY_UPTIME_TARGET;
        let held = uptime(
            vec![
                month("2026-10", true, Some(9_990), Some(true)),
                month("2026-11", true, Some(9_500), Some(true)),
                // This month so far is not judged, however low.
                month("2026-12", false, Some(1_000), None),
            ],
            target,
            now(),
        );
        assert_eq!(held.status, Status::Held);
        let failing = uptime(
            vec![
                month("2026-10", true, Some(9_990), Some(true)),
                month("2026-11", true, Some(9_499), Some(false)),
            ],
            target,
            now(),
        );
        assert_eq!(failing.status, Status::Failing);
        assert!(
            failing.finding.en.contains("2026-11"),
            "{:?}",
            failing.finding
        );
        // Months without measurements prove nothing.
        let missing = uptime(
            vec![
                month("2026-10", true, None, None),
                month("2026-12", false, Some(10_000), None),
            ],
            target,
            now(),
        );
        assert_eq!(missing.status, Status::Missing);
    }

    #[test]
    fn a_late_or_missed_customer_notice_fails_the_breach_promise() {
        let on_time = BreachFigures {
            incidents: 2,
            with_customer_data: 1,
            customer_notices_due: 3,
            customer_notices_on_time: 3,
            ..BreachFigures::default()
        };
        assert_eq!(breaches(&on_time, now()).status, Status::Held);
        let late = BreachFigures {
            customer_notices_on_time: 2,
            customer_notices_late: 1,
            ..on_time.clone()
        };
        assert_eq!(breaches(&late, now()).status, Status::Failing);
        let missed = BreachFigures {
            customer_notices_on_time: 2,
            customer_notices_missed: 1,
            ..on_time
        };
        let e = breaches(&missed, now());
        assert_eq!(e.status, Status::Failing);
        assert!(
            e.facts.iter().any(|f| f.value.en.starts_with("66.6 %")),
            "{:?}",
            e.facts
        );
        assert_eq!(
            breaches(&BreachFigures::default(), now()).status,
            Status::Held
        );
    }

    #[test]
    fn staff_without_a_second_factor_fail_and_no_staff_is_no_evidence() {
        let all = StaffFactorFigures {
            staff: 3,
            with_second_factor: 3,
            with_passkey: 1,
        };
        assert_eq!(staff_factors(&all, now()).status, Status::Held);
        let one_short = StaffFactorFigures {
            with_second_factor: 2,
            ..all
        };
        assert_eq!(staff_factors(&one_short, now()).status, Status::Failing);
        assert_eq!(
            staff_factors(&StaffFactorFigures::default(), now()).status,
            Status::Missing
        );
    }

    #[test]
    fn key_rotation_off_fails_and_a_key_that_cannot_tell_is_missing() {
        let figures = KeyFigures {
            data_keys: 4,
            rotations: 1,
        };
        let on = KekRotation::Automatic {
            period_days: Some(365),
            next_rotation: None,
        };
        assert_eq!(keys(&figures, &Ok(on), now()).status, Status::Held);
        assert_eq!(
            keys(&figures, &Ok(KekRotation::Off), now()).status,
            Status::Failing
        );
        let local = KekRotation::NotAvailable {
            why: "local".into(),
        };
        assert_eq!(keys(&figures, &Ok(local), now()).status, Status::Missing);
        assert_eq!(
            keys(&figures, &Err("timeout".into()), now()).status,
            Status::Missing
        );
    }

    #[test]
    fn monitoring_from_one_vantage_only_is_not_the_measurement_promised() {
        let both = ["region".to_string(), "edge".to_string()];
        assert_eq!(monitoring(1, &both, 0, 600, now()).status, Status::Held);
        assert_eq!(
            monitoring(1, &both[..1], 0, 600, now()).status,
            Status::Missing
        );
        assert_eq!(monitoring(0, &[], 600, 600, now()).status, Status::Missing);
    }

    #[test]
    fn region_backups_and_overdue_deletions() {
        assert_eq!(region(Some("eu-central-1"), now()).status, Status::Held);
        assert_eq!(region(Some("us-east-1"), now()).status, Status::Failing);
        assert_eq!(region(None, now()).status, Status::Missing);
        assert_eq!(backups(Some(7), now()).status, Status::Held);
        assert_eq!(backups(Some(35), now()).status, Status::Failing);
        assert_eq!(backups(None, now()).status, Status::Missing);
        let overdue = DeletionFigures {
            stages_overdue: 1,
            ..DeletionFigures::default()
        };
        assert_eq!(deletions(&overdue, &[], now()).status, Status::Failing);
        assert_eq!(
            deletions(&DeletionFigures::default(), &[], now()).status,
            Status::Held
        );
    }

    #[test]
    fn published_figures_are_judged_by_their_age() {
        let measured_at: Timestamp = "2026-11-01T00:00:00Z".parse().expect("time");
        let eval = WafEval {
            measured_at,
            paranoia: 1,
            compared_with: "ModSecurity".into(),
            rows: vec![crate::published::WafRow {
                corpus: "attacks".into(),
                corpus_de: "Angriffe".into(),
                kind: "attack".into(),
                requests: 200,
                ours_blocked: 190,
                theirs_blocked: Some(150),
            }],
        };
        let fresh = waf(&Published::Read(eval.clone()), now());
        assert_eq!(fresh.status, Status::Held);
        assert_eq!(
            fresh.facts[0].value.en,
            "95.0 % attacks blocked (comparison: 75.0 %)"
        );
        let later: Timestamp = "2027-03-01T00:00:00Z".parse().expect("time");
        assert_eq!(waf(&Published::Read(eval), later).status, Status::Failing);
        assert_eq!(waf(&Published::Absent, now()).status, Status::Missing);
        let audit = AdvisoryAudit {
            audited_at: measured_at,
            tool: "cargo-audit".into(),
            database_updated: "2026-11-30T00:00:00Z".parse().expect("time"),
            crates: 500,
            vulnerabilities: 0,
            exceptions: Vec::new(),
        };
        assert_eq!(
            advisory_audit(&Published::Read(audit.clone()), now()).status,
            Status::Failing,
            "older than 30 days"
        );
        let recent = AdvisoryAudit {
            audited_at: "2026-12-01T00:00:00Z".parse().expect("time"),
            ..audit
        };
        assert_eq!(
            advisory_audit(&Published::Read(recent.clone()), now()).status,
            Status::Held
        );
        let vulnerable = AdvisoryAudit {
            vulnerabilities: 1,
            ..recent
        };
        assert_eq!(
            advisory_audit(&Published::Read(vulnerable), now()).status,
            Status::Failing
        );
        assert_eq!(
            advisory_audit(&Published::Unreadable("x".into()), now()).status,
            Status::Missing
        );
    }

    #[test]
    fn shares_and_figures_in_both_notations() {
        assert_eq!(share(2, 3), Text::new("66,6 %", "66.6 %"));
        assert_eq!(share(0, 0), Text::new("–", "–"));
        assert_eq!(
            basis_points(BasisPoints(9_500)),
            Text::new("95,00 %", "95.00 %")
        );
        assert_eq!(
            period(policy::BACKUP_RETENTION),
            Text::new("7 Tage", "7 days")
        );
        assert_eq!(
            hours(policy::CUSTOMER_NOTIFICATION),
            Text::new("48 Stunden", "48 hours")
        );
    }
}
