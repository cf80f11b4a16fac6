//! The trust page's sections in its own words, each with the evidence that shows whether it
//! holds. Pure: [`statement`] arranges figures gathered elsewhere ([`crate::gather`]).

use auth::service::StaffFactorFigures;
use incidents::BreachFigures;
use kernel::crypto::{KekRotation, KeyFigures};
use kernel::policy;
use kernel::time::Timestamp;
use retention::DeletionFigures;

use crate::evidence;
use crate::published::{AdvisoryAudit, Published, WafEval};
use crate::statement::{Evidence, FORMAT, Section, Text, TrustStatement, UptimeMonth};

/// Everything the statement is made from.
#[derive(Debug, Clone)]
pub struct Figures {
    pub now: Timestamp,
    pub period_start: Timestamp,
    pub environment: String,
    /// The AWS region the statement was made in (none outside AWS).
    pub region: Option<String>,
    /// The deployed backup plan's retention (none without one).
    pub backup_retention_days: Option<u32>,
    pub dpo_contact: String,
    pub security_contact: String,
    /// The month before this one and the eleven before it, oldest first, then this month so far.
    pub months: Vec<UptimeMonth>,
    pub probe_targets: usize,
    pub month_unmeasured_seconds: i64,
    pub month_elapsed_seconds: i64,
    /// Where this month's probes looked from: `region`, `edge`.
    pub vantages: Vec<String>,
    pub breaches: BreachFigures,
    pub deletions: DeletionFigures,
    pub certificate_keys: Vec<String>,
    pub keys: KeyFigures,
    pub kek: Result<KekRotation, String>,
    pub staff: StaffFactorFigures,
    pub waf: Published<WafEval>,
    pub advisory_audit: Published<AdvisoryAudit>,
}

fn section(id: &str, title: Text, promise: Text, evidence: Vec<Evidence>) -> Section {
    Section {
        id: id.into(),
        title,
        promise,
        evidence,
    }
}

/// The statement of the figures, section by section in the page's order.
pub fn statement(f: Figures) -> TrustStatement {
    let now = f.now;
    let target = policy::MONTHLY_UPTIME_TARGET;
    let credit = evidence::basis_points(policy::SLA_CREDIT);
    let customers = evidence::hours(policy::CUSTOMER_NOTIFICATION);
    let authority = evidence::hours(policy::SUPERVISORY_AUTHORITY_NOTIFICATION);
    let deletion = evidence::period(policy::DELETION_AFTER_SERVICE_END);
    let copies = evidence::period(policy::REMAINING_COPIES_RETENTION);
    let backups = evidence::period(policy::BACKUP_RETENTION);
    let sections = vec![
        section(
            "roles",
            Text::new("Verarbeitungsrollen", "Processing roles"),
            Text::new(
                "Für die personenbezogenen Daten der Beschäftigten unserer Kunden sind wir Auftragsverarbeiter (Art. 28 DSGVO), für unsere eigenen Daten Verantwortlicher. Die Rolle entscheidet, wer bei einer Datenschutzverletzung zu informieren ist: als Auftragsverarbeiter unsere Kunden, als Verantwortlicher die Aufsichtsbehörde und die betroffenen Personen.",
                "For the personal data of our customers' employees we are processor (Art. 28 GDPR), for our own data controller. The role decides who must be told of a breach: as processor our customers, as controller the supervisory authority and the people affected.",
            ),
            Vec::new(),
        ),
        section(
            "dpo",
            Text::new("Datenschutzbeauftragter", "Data protection officer"),
            Text::new(
                "Unser Datenschutzbeauftragter ist für Sie und für die Aufsichtsbehörde erreichbar.",
                "Our data protection officer can be reached by you and by the supervisory authority.",
            ),
            vec![evidence::contact(
                "dpo.contact",
                Text::new("Kontakt", "Contact"),
                &f.dpo_contact,
                now,
            )],
        ),
        section(
            "breaches",
            Text::new(
                "Umgang mit Datenschutzverletzungen",
                "Handling of personal data breaches",
            ),
            Text::new(
                format!(
                    "Jede Verletzung wird dokumentiert: Art und Umfang, Datenkategorien, ungefähre Zahl der Personen und Datensätze, wahrscheinliche Folgen und Eindämmung. Wir prüfen, ob die Aufsichtsbehörde binnen {} und die Betroffenen bei hohem Risiko zu benachrichtigen sind, und informieren unsere Kunden innerhalb von {} mit den ergriffenen Maßnahmen, technischen und organisatorischen Verbesserungen und Änderungen an Vorfallmanagement und Prozessen.",
                    authority.de, customers.de
                ),
                format!(
                    "Each breach is documented: nature and scope, data categories, approximate number of persons and records, likely consequences and containment. We assess whether the supervisory authority must be notified within {} and the people affected when the risk is high, and inform our customers within {} with the measures taken, technical and organisational improvements and changes to incident management and to processes.",
                    authority.en, customers.en
                ),
            ),
            vec![evidence::breaches(&f.breaches, now)],
        ),
        section(
            "report",
            Text::new("Sicherheitsprobleme melden", "Reporting security problems"),
            Text::new(
                "Wer ein Sicherheitsproblem findet, kann es uns über das Meldeformular vertraulich melden: Beschreibung, betroffene Unternehmen und Nutzer, Art der personenbezogenen Daten, Umfang und Einschätzung der Folgen für die Rechte der Betroffenen. Die Kontaktdaten stehen auch in security.txt.",
                "Anyone who finds a security problem can report it to us confidentially through the report form: description, affected companies and users, kind of personal data, scope and an assessment of the impact on people's rights. The contact is also in security.txt.",
            ),
            vec![evidence::contact(
                "report.contact",
                Text::new(
                    "Sicherheitskontakt (security.txt)",
                    "Security contact (security.txt)",
                ),
                &f.security_contact,
                now,
            )],
        ),
        section(
            "product-security",
            Text::new("Produktsicherheit", "Product security"),
            Text::new(
                "Vor der Anwendung stehen eine Web Application Firewall, Ratenbegrenzung und ein Schutz gegen das Durchprobieren von Passwörtern.",
                "In front of the application stand a web application firewall, rate limiting and a defence against password guessing.",
            ),
            vec![evidence::waf(&f.waf, now)],
        ),
        section(
            "infrastructure",
            Text::new("Cloud-Infrastruktur", "Cloud infrastructure"),
            Text::new(
                "Wir hosten in Deutschland, ausschließlich in der EU (AWS eu-central-1, Frankfurt am Main). Entwicklung, Test und Produktion sind getrennt.",
                "We host in Germany, in the EU only (AWS eu-central-1, Frankfurt am Main). Development, test and production are kept apart.",
            ),
            vec![evidence::region(f.region.as_deref(), now)],
        ),
        section(
            "encryption",
            Text::new("Verschlüsselung", "Encryption"),
            Text::new(
                "Daten werden per TLS übertragen und verschlüsselt gespeichert; personenbezogene Daten werden ausschließlich verschlüsselt gespeichert (AES-256-GCM, je Feld).",
                "Data travels over TLS and is stored encrypted; personal data is stored only encrypted (AES-256-GCM, field by field).",
            ),
            vec![
                evidence::sealed_fields(now),
                evidence::keys(&f.keys, &f.kek, now),
            ],
        ),
        section(
            "retention",
            Text::new("Aufbewahrung und Löschung", "Retention and deletion"),
            Text::new(
                format!(
                    "Personenbezogene Daten löschen wir {} nach Ende des Vertrags, verbleibende Kopien nach Ablauf einer weiteren Frist von {} — es sei denn, eine gesetzliche Aufbewahrungspflicht besteht oder der Kunde verlangt die endgültige Löschung früher. Jede Löschung bescheinigen wir signiert.",
                    deletion.de, copies.de
                ),
                format!(
                    "We delete personal data {} after the service ends, remaining copies after a further period of {} — unless a legal retention duty applies or the customer asks for final deletion earlier. We certify each deletion, signed.",
                    deletion.en, copies.en
                ),
            ),
            vec![evidence::deletions(&f.deletions, &f.certificate_keys, now)],
        ),
        section(
            "monitoring",
            Text::new("Überwachung", "Monitoring"),
            Text::new(
                "Wir messen die Verfügbarkeit des Dienstes jede Minute aus zwei Blickwinkeln — aus unserer AWS-Region und aus dem Netz von Cloudflare — und halten jeden Ausfall fest.",
                "We measure the service's availability every minute from two vantage points — our AWS region and Cloudflare's network — and record every outage.",
            ),
            vec![evidence::monitoring(
                f.probe_targets,
                &f.vantages,
                f.month_unmeasured_seconds,
                f.month_elapsed_seconds,
                now,
            )],
        ),
        section(
            "development",
            Text::new("Sichere Entwicklung", "Secure development"),
            Text::new(
                "Geheimnisse stehen nie im Code; jede Änderung durchläuft automatische Prüfungen, darunter die Prüfung aller Abhängigkeiten auf bekannte Schwachstellen.",
                "Secrets are never in code; every change passes automated checks, among them the audit of every dependency for known vulnerabilities.",
            ),
            vec![evidence::advisory_audit(&f.advisory_audit, now)],
        ),
        section(
            "access",
            Text::new("Kontosicherheit", "Account security"),
            Text::new(
                "Zugriff nach Rollen, in denen Kunden ihren Nutzern feingranulare Berechtigungen geben; Mitarbeitende brauchen immer einen zweiten Faktor und erhalten nur die Rechte, die ihre Aufgabe verlangt.",
                "Access by roles, in which customers give their users fine-grained permissions; staff always need a second factor and get only the rights their task needs.",
            ),
            vec![evidence::staff_factors(&f.staff, now)],
        ),
        section(
            "payments",
            Text::new("Zahlungen", "Payments"),
            Text::new(
                "Zahlungen laufen ausschließlich über Stripe; Kartendaten speichern wir nie.",
                "Payments go through Stripe only; we never store card data.",
            ),
            Vec::new(),
        ),
        section(
            "sla",
            Text::new("Verfügbarkeit (SLA)", "Availability (SLA)"),
            Text::new(
                format!(
                    "Wir sichern eine monatliche Verfügbarkeit von mindestens {}. Liegt sie darunter, erhalten Sie {} der Monatsgebühr als Gutschrift auf künftige Rechnungen. Der Antrag ist über das Kundenportal mit Datum und Uhrzeit jedes Ausfalls einzureichen; geplante Wartung, höhere Gewalt sowie Handlungen des Kunden oder Dritter und deren Infrastruktur sind ausgenommen.",
                    evidence::basis_points(target).de,
                    credit.de
                ),
                format!(
                    "We commit to a monthly uptime of at least {}. Below it, you receive {} of the monthly fee as a credit on future invoices. Claims are filed through the customer portal with the date and time of every outage; planned maintenance, force majeure and acts of the customer or of third parties and their infrastructure are excluded.",
                    evidence::basis_points(target).en,
                    credit.en
                ),
            ),
            vec![evidence::uptime(f.months, target, now)],
        ),
        section(
            "backups",
            Text::new("Datensicherung", "Backups"),
            Text::new(
                format!(
                    "Sicherungen bewahren wir {} auf, verschlüsselt und in der EU.",
                    backups.de
                ),
                format!(
                    "We keep backups for {}, encrypted and in the EU.",
                    backups.en
                ),
            ),
            vec![evidence::backups(f.backup_retention_days, now)],
        ),
    ];
    TrustStatement {
        format: FORMAT,
        issued_at: now,
        environment: f.environment,
        period_start: f.period_start,
        sections,
    }
}
