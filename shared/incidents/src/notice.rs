//! The customer notification: generated in German and English from the incident, with the four
//! contents the page lists (measures taken or planned to contain the breach and reduce the risk;
//! technical and organisational improvements; changes to incident management; updates to
//! processes) and what Art. 33(3) GDPR requires (nature of the breach, categories and
//! approximate numbers of people and records, the data protection officer's contact, likely
//! consequences, measures).

use super::model::{
    Alert, AlertKind, Approx, ClosedBecause, Duty, IncidentId, Language, MeasureKind,
    MeasureStatus, ReportId, ReportStatus,
};
use kernel::inventory::DataCategory;
use kernel::time::{Timestamp, in_company_time};
use serde::Serialize;

/// The opened content a notification is written from.
#[derive(Debug, Clone)]
pub struct NoticeContent {
    /// The first notice, an update, or the final report (Art. 33(4): information in phases).
    pub kind: NoticeKind,
    /// When the customer was first told (updates and the final report refer to it).
    pub first_sent_at: Option<Timestamp>,
    /// When the incident was closed (the final report says so).
    pub closed_at: Option<Timestamp>,
    pub incident: String,
    /// The title staff wrote for customers, when there is one: the subject names it.
    pub title: Option<String>,
    pub customer_name: String,
    pub aware_at: Timestamp,
    pub nature_and_scope: String,
    pub data_categories: Vec<DataCategory>,
    pub approx_data_subjects: Approx,
    pub approx_records: Approx,
    pub likely_consequences: String,
    pub measures: Vec<NoticeMeasure>,
    /// The English wording of the free text above, where staff wrote it.
    pub english: crate::service::EnglishText,
    pub dpo_contact: String,
}

/// A measure as a notice states it.
#[derive(Debug, Clone)]
pub struct NoticeMeasure {
    pub kind: MeasureKind,
    /// As written (German).
    pub what: String,
    /// In English, where staff gave it.
    pub what_en: Option<String>,
    pub status: MeasureStatus,
}

/// A free text in `lang`: German as written; in English the English wording where staff gave
/// one, else the German text, said to be German — never a silent mix of languages.
pub fn in_language(german: &str, english: Option<&str>, lang: Language) -> String {
    match (lang, english) {
        (Language::De, _) => german.to_string(),
        (Language::En, Some(english)) => english.to_string(),
        (Language::En, None) => format!("[in German] {german}"),
    }
}

impl NoticeContent {
    /// The title customers read, in `lang` (the English one where given).
    fn title_in(&self, lang: Language) -> Option<String> {
        match (lang, &self.english.customer_title) {
            (Language::En, Some(english)) => Some(english.clone()),
            _ => self.title.clone(),
        }
    }

    fn nature_in(&self, lang: Language) -> String {
        in_language(
            &self.nature_and_scope,
            self.english.nature_and_scope.as_deref(),
            lang,
        )
    }

    fn consequences_in(&self, lang: Language) -> String {
        in_language(
            &self.likely_consequences,
            self.english.likely_consequences.as_deref(),
            lang,
        )
    }
}

/// Which notice a customer gets: the first, within its notice period; then updates as more is
/// known (Art. 33(4) GDPR allows the information in phases); the final report once closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Initial,
    Update,
    Final,
}

/// A data category in words (the notice's and the portal's).
pub fn category(c: DataCategory, lang: Language) -> &'static str {
    use DataCategory::*;
    match (c, lang) {
        (Contact, Language::De) => "Kontaktdaten",
        (Contact, Language::En) => "contact data",
        (Identification, Language::De) => "Identifikationsdaten",
        (Identification, Language::En) => "identification data",
        (NationalId, Language::De) => "amtliche Kennnummern",
        (NationalId, Language::En) => "national identification numbers",
        (Financial, Language::De) => "Finanzdaten",
        (Financial, Language::En) => "financial data",
        (Health, Language::De) => "Gesundheitsdaten",
        (Health, Language::En) => "health data",
        (SpecialCategory, Language::De) => {
            "besondere Kategorien personenbezogener Daten (Art. 9 DSGVO)"
        }
        (SpecialCategory, Language::En) => "special categories of personal data (Art. 9 GDPR)",
        (Credentials, Language::De) => "Zugangsdaten",
        (Credentials, Language::En) => "credentials",
        (Employment, Language::De) => "Beschäftigtendaten",
        (Employment, Language::En) => "employment data",
        (Children, Language::De) => "Daten von Kindern",
        (Children, Language::En) => "data of children",
        (Location, Language::De) => "Standortdaten",
        (Location, Language::En) => "location data",
        (CommunicationContent, Language::De) => "Kommunikationsinhalte",
        (CommunicationContent, Language::En) => "content of communications",
        (Other, Language::De) => "sonstige personenbezogene Daten",
        (Other, Language::En) => "other personal data",
    }
}

/// An approximate number in words.
pub fn approx(a: Approx, lang: Language) -> String {
    match (a.min == a.max, lang) {
        (true, Language::De) => format!("ca. {}", a.min),
        (true, Language::En) => format!("approx. {}", a.min),
        (false, Language::De) => format!("zwischen {} und {}", a.min, a.max),
        (false, Language::En) => format!("between {} and {}", a.min, a.max),
    }
}

/// A measure's status in words.
pub fn status(s: MeasureStatus, lang: Language) -> &'static str {
    match (s, lang) {
        (MeasureStatus::Planned, Language::De) => "geplant",
        (MeasureStatus::Planned, Language::En) => "planned",
        (MeasureStatus::InProgress, Language::De) => "in Umsetzung",
        (MeasureStatus::InProgress, Language::En) => "in progress",
        (MeasureStatus::Done, Language::De) => "umgesetzt",
        (MeasureStatus::Done, Language::En) => "done",
    }
}

/// The heading a measure stands under (the page's four).
pub fn heading(kind: MeasureKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (MeasureKind::Containment, Language::De) => {
            "Ergriffene oder geplante Maßnahmen zur Eindämmung und Risikominderung"
        }
        (MeasureKind::Containment, Language::En) => {
            "Measures taken or planned to contain the breach and reduce the risk"
        }
        (MeasureKind::Improvement, Language::De) => {
            "Technische und organisatorische Verbesserungen"
        }
        (MeasureKind::Improvement, Language::En) => "Technical and organisational improvements",
        (MeasureKind::IncidentManagement, Language::De) => "Änderungen am Vorfallmanagement",
        (MeasureKind::IncidentManagement, Language::En) => "Changes to incident management",
        (MeasureKind::Process, Language::De) => "Aktualisierungen von Prozessen",
        (MeasureKind::Process, Language::En) => "Updates to processes",
    }
}

/// Subject and body in one language.
pub fn render(c: &NoticeContent, lang: Language) -> (String, String) {
    let de = lang == Language::De;
    let aware = in_company_time(c.aware_at)
        .strftime("%d.%m.%Y %H:%M %Z")
        .to_string();
    let named = match c.title_in(lang) {
        Some(title) => format!("{title} ({})", c.incident),
        None => c.incident.clone(),
    };
    let subject = match (c.kind, de) {
        (NoticeKind::Initial, true) => {
            format!("Meldung einer Verletzung des Schutzes personenbezogener Daten: {named}")
        }
        (NoticeKind::Initial, false) => format!("Notification of a personal data breach: {named}"),
        (NoticeKind::Update, true) => {
            format!("Aktualisierung: Verletzung des Schutzes personenbezogener Daten: {named}")
        }
        (NoticeKind::Update, false) => format!("Update: personal data breach: {named}"),
        (NoticeKind::Final, true) => {
            format!("Abschlussbericht: Verletzung des Schutzes personenbezogener Daten: {named}")
        }
        (NoticeKind::Final, false) => format!("Final report: personal data breach: {named}"),
    };
    let when = |at: Option<Timestamp>| {
        at.map(|at| {
            in_company_time(at)
                .strftime("%d.%m.%Y %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
    };
    let (first, closed) = (when(c.first_sent_at), when(c.closed_at));
    let phase = match (c.kind, de) {
        (NoticeKind::Initial, _) => String::new(),
        (NoticeKind::Update, true) => format!(
            "Dies ergänzt unsere Meldung vom {first}. Nachfolgend der Stand von jetzt, vollständig (Art. 33 Abs. 4 DSGVO).\n\n"
        ),
        (NoticeKind::Update, false) => format!(
            "This updates our notice of {first}. Below is the state as of now, complete (Art. 33(4) GDPR).\n\n"
        ),
        (NoticeKind::Final, true) => format!(
            "Der Vorfall ist seit {closed} abgeschlossen. Dies ist unser Abschlussbericht zu unserer Meldung vom {first}.\n\n"
        ),
        (NoticeKind::Final, false) => format!(
            "The incident was closed on {closed}. This is our final report on our notice of {first}.\n\n"
        ),
    };
    let categories = if c.data_categories.is_empty() {
        if de {
            "keine angegeben".to_string()
        } else {
            "none stated".to_string()
        }
    } else {
        c.data_categories
            .iter()
            .map(|k| category(*k, lang))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut body = String::new();
    if de {
        body.push_str(&format!(
            "Sehr geehrte Damen und Herren von {},\n\nwir informieren Sie als Auftragsverarbeiter (Art. 28, 33 Abs. 2 DSGVO) \
             über eine Verletzung des Schutzes personenbezogener Daten, die Daten betrifft, die wir in Ihrem Auftrag \
             verarbeiten. Wir haben am {aware} davon Kenntnis erlangt.\n\n{phase}",
            c.customer_name
        ));
        body.push_str(&format!(
            "Art und Umfang der Verletzung:\n{}\n\n",
            c.nature_in(lang)
        ));
        body.push_str(&format!(
            "Betroffene Kategorien personenbezogener Daten: {categories}\n"
        ));
        body.push_str(&format!(
            "Ungefähre Zahl betroffener Personen: {}\n",
            approx(c.approx_data_subjects, lang)
        ));
        body.push_str(&format!(
            "Ungefähre Zahl betroffener Datensätze: {}\n\n",
            approx(c.approx_records, lang)
        ));
        body.push_str(&format!(
            "Wahrscheinliche Folgen:\n{}\n",
            c.consequences_in(lang)
        ));
    } else {
        body.push_str(&format!(
            "Dear {},\n\nas your processor (Art. 28 and 33(2) GDPR) we inform you of a personal data breach affecting \
             data we process on your behalf. We became aware of it on {aware}.\n\n{phase}",
            c.customer_name
        ));
        body.push_str(&format!(
            "Nature and scope of the breach:\n{}\n\n",
            c.nature_in(lang)
        ));
        body.push_str(&format!(
            "Categories of personal data concerned: {categories}\n"
        ));
        body.push_str(&format!(
            "Approximate number of people concerned: {}\n",
            approx(c.approx_data_subjects, lang)
        ));
        body.push_str(&format!(
            "Approximate number of records concerned: {}\n\n",
            approx(c.approx_records, lang)
        ));
        body.push_str(&format!(
            "Likely consequences:\n{}\n",
            c.consequences_in(lang)
        ));
    }
    for kind in [
        MeasureKind::Containment,
        MeasureKind::Improvement,
        MeasureKind::IncidentManagement,
        MeasureKind::Process,
    ] {
        body.push_str(&format!("\n{}:\n", heading(kind, lang)));
        let of_kind: Vec<_> = c.measures.iter().filter(|m| m.kind == kind).collect();
        if of_kind.is_empty() {
            body.push_str(if de {
                "- derzeit keine\n"
            } else {
                "- none at this time\n"
            });
        }
        for m in of_kind {
            let what = in_language(&m.what, m.what_en.as_deref(), lang);
            body.push_str(&format!("- {what} ({})\n", status(m.status, lang)));
        }
    }
    let closing = match (c.kind, de) {
        (NoticeKind::Final, true) => "Für Rückfragen stehen wir Ihnen weiter zur Verfügung.",
        (NoticeKind::Final, false) => "We remain available for any questions.",
        (_, true) => "Wir halten Sie über weitere Erkenntnisse auf dem Laufenden.",
        (_, false) => "We will keep you informed of further findings.",
    };
    if de {
        body.push_str(&format!(
            "\nKontakt unseres Datenschutzbeauftragten: {}\n\n{closing}\n\n\
             Mit freundlichen Grüßen\nregrooter GmbH\n",
            c.dpo_contact
        ));
    } else {
        body.push_str(&format!(
            "\nContact of our data protection officer: {}\n\n{closing}\n\n\
             Kind regards\nregrooter GmbH\n",
            c.dpo_contact
        ));
    }
    (subject, body)
}

/// The notification to the supervisory authority for our own data (we are controller), written
/// from the file with what Art. 33(3) GDPR requires — (a) the nature of the breach with the
/// categories and approximate numbers of people and records, (b) the data protection officer's
/// contact, (c) the likely consequences, (d) the measures taken or proposed — for the DPO to
/// put into the authority's form or letter. Past the 72 hours it asks for the reasons for the
/// delay (Art. 33(1)); what is not known yet may follow in phases (Art. 33(4)).
pub fn authority_notice(
    c: &NoticeContent,
    breach_types: &[crate::assessment::BreachType],
    discovered_at: Timestamp,
    late: bool,
    lang: Language,
) -> String {
    use crate::assessment::BreachType;
    let de = lang == Language::De;
    let at = |t: Timestamp| in_company_time(t).strftime("%d.%m.%Y %H:%M %Z").to_string();
    let types = breach_types
        .iter()
        .map(|b| match (b, de) {
            (BreachType::Confidentiality, true) => "Verletzung der Vertraulichkeit",
            (BreachType::Confidentiality, false) => "breach of confidentiality",
            (BreachType::Integrity, true) => "Verletzung der Integrität",
            (BreachType::Integrity, false) => "breach of integrity",
            (BreachType::Availability, true) => "Verletzung der Verfügbarkeit",
            (BreachType::Availability, false) => "breach of availability",
        })
        .collect::<Vec<_>>()
        .join(", ");
    let categories = c
        .data_categories
        .iter()
        .map(|k| category(*k, lang))
        .collect::<Vec<_>>()
        .join(", ");
    let named = match c.title_in(lang) {
        Some(title) => format!("{title} ({})", c.incident),
        None => c.incident.clone(),
    };
    let mut text = String::new();
    let mut line = |s: String| {
        text.push_str(&s);
        text.push('\n');
    };
    if de {
        line("Meldung einer Verletzung des Schutzes personenbezogener Daten an die Aufsichtsbehörde (Art. 33 DSGVO)".into());
        line("Verantwortlicher: regrooter GmbH".into());
        line(format!("Vorgang: {named}"));
        line(format!(
            "Entdeckt am: {}; Kenntnis erlangt am: {}",
            at(discovered_at),
            at(c.aware_at)
        ));
        line(String::new());
        line(format!("a) Art der Verletzung: {types}"));
        line(c.nature_in(lang));
        line(format!(
            "Betroffene Kategorien personenbezogener Daten: {categories}"
        ));
        line(format!(
            "Ungefähre Zahl betroffener Personen: {}",
            approx(c.approx_data_subjects, lang)
        ));
        line(format!(
            "Ungefähre Zahl betroffener Datensätze: {}",
            approx(c.approx_records, lang)
        ));
        line(String::new());
        line(format!("b) Datenschutzbeauftragter: {}", c.dpo_contact));
        line(String::new());
        line("c) Wahrscheinliche Folgen:".into());
        line(c.consequences_in(lang));
        line(String::new());
        line("d) Ergriffene oder vorgeschlagene Maßnahmen, auch zur Abmilderung nachteiliger Auswirkungen:".into());
    } else {
        line(
            "Notification of a personal data breach to the supervisory authority (Art. 33 GDPR)"
                .into(),
        );
        line("Controller: regrooter GmbH".into());
        line(format!("Case: {named}"));
        line(format!(
            "Discovered: {}; became aware: {}",
            at(discovered_at),
            at(c.aware_at)
        ));
        line(String::new());
        line(format!("a) Nature of the breach: {types}"));
        line(c.nature_in(lang));
        line(format!(
            "Categories of personal data concerned: {categories}"
        ));
        line(format!(
            "Approximate number of people concerned: {}",
            approx(c.approx_data_subjects, lang)
        ));
        line(format!(
            "Approximate number of records concerned: {}",
            approx(c.approx_records, lang)
        ));
        line(String::new());
        line(format!("b) Data protection officer: {}", c.dpo_contact));
        line(String::new());
        line("c) Likely consequences:".into());
        line(c.consequences_in(lang));
        line(String::new());
        line(
            "d) Measures taken or proposed, including to mitigate possible adverse effects:".into(),
        );
    }
    if c.measures.is_empty() {
        line(
            if de {
                "- derzeit keine"
            } else {
                "- none at this time"
            }
            .into(),
        );
    }
    for m in &c.measures {
        line(format!(
            "- {} ({}; {})",
            in_language(&m.what, m.what_en.as_deref(), lang),
            heading(m.kind, lang),
            status(m.status, lang)
        ));
    }
    line(String::new());
    if late {
        line(
            if de {
                "Gründe für die Verzögerung (Art. 33 Abs. 1 Satz 2 DSGVO): [bitte ergänzen]"
            } else {
                "Reasons for the delay (Art. 33(1), second sentence, GDPR): [please add]"
            }
            .into(),
        );
    }
    line(if de {
        "Soweit Informationen noch nicht vorliegen, reichen wir sie schrittweise nach (Art. 33 Abs. 4 DSGVO)."
    } else {
        "Information not yet available will follow in phases (Art. 33(4) GDPR)."
    }
    .into());
    text
}

/// The message a customer receives: German first, then English.
pub fn render_bilingual(c: &NoticeContent) -> (String, String) {
    let (subject_de, body_de) = render(c, Language::De);
    let (subject_en, body_en) = render(c, Language::En);
    (
        format!("{subject_de} / {subject_en}"),
        format!("{body_de}{SEPARATOR}{body_en}"),
    )
}

const SEPARATOR: &str = "\n---------------------------------------- English ----------------------------------------\n\n";

/// The acknowledgement a reporter who left a contact receives: the tracking id and where to
/// read the status — never anything of the report itself (the mail may be read by others).
pub fn reporter_acknowledgement(report: &ReportId, status_page: &str) -> (String, String) {
    let subject = format!("Ihre Sicherheitsmeldung {report} / Your security report {report}");
    let body = format!(
        "Guten Tag,\n\nwir haben Ihre Sicherheitsmeldung erhalten und prüfen sie. Ihre Vorgangsnummer: {report}\n\n\
         Den Stand der Bearbeitung können Sie mit dem Zugangscode, der Ihnen bei der Meldung angezeigt wurde, hier abrufen:\n\
         {status_page}\n\nDiese Nachricht enthält den Inhalt Ihrer Meldung bewusst nicht. Wir schreiben Ihnen wieder, \
         wenn sich der Stand ändert.\n\nMit freundlichen Grüßen\nregrooter GmbH, Sicherheitsteam\n\
         {SEPARATOR}\
         Hello,\n\nwe have received your security report and are looking into it. Your tracking id: {report}\n\n\
         With the access code shown to you when you reported, you can read its status here:\n{status_page}\n\n\
         On purpose this message does not contain what you reported. We will write again when the status changes.\n\n\
         Kind regards\nregrooter GmbH, security team\n"
    );
    (subject, body)
}

/// The mail that tells a reporter the security team wrote to them: where to read and answer,
/// never the text (the same rule as every mail to a reporter).
pub fn reporter_new_message(report: &ReportId, status_page: &str) -> (String, String) {
    let subject = format!(
        "Neue Nachricht zu Ihrer Sicherheitsmeldung {report} / New message about your security report {report}"
    );
    let body = format!(
        "Guten Tag,\n\nunser Sicherheitsteam hat Ihnen zu Ihrer Meldung {report} geschrieben. Lesen und beantworten \
         Sie die Nachricht mit dem Zugangscode, der Ihnen bei der Meldung angezeigt wurde, hier:\n{status_page}\n\n\
         Diese E-Mail enthält die Nachricht bewusst nicht; Antworten auf diese E-Mail erreichen uns nicht.\n\n\
         Mit freundlichen Grüßen\nregrooter GmbH, Sicherheitsteam\n\
         {SEPARATOR}\
         Hello,\n\nour security team has written to you about your report {report}. Read and answer it with the \
         access code shown to you when you reported, here:\n{status_page}\n\n\
         On purpose this e-mail does not contain the message; replies to this e-mail do not reach us.\n\n\
         Kind regards\nregrooter GmbH, security team\n"
    );
    (subject, body)
}

/// The mail that tells the security team a reporter wrote: which report, not what (the text
/// stays sealed in the platform; the console's report page shows it).
pub fn team_new_message(report: &ReportId) -> (String, String) {
    let subject =
        format!("Nachricht des Meldenden zu {report} / Message from the reporter of {report}");
    let body = format!(
        "Der Meldende der Sicherheitsmeldung {report} hat geschrieben. Die Nachricht steht auf der Seite der \
         Meldung in der Konsole (Meldungen → {report}).\n\
         {SEPARATOR}\
         The reporter of security report {report} has written. The message is on the report's page in the \
         console (Reports → {report}).\n"
    );
    (subject, body)
}

/// A report's status as its reporter reads it, after "Your security report … ": the status and,
/// when closed, why (the status mail and the status page say the same).
pub fn status_sentence(
    status: ReportStatus,
    reason: Option<ClosedBecause>,
    lang: Language,
) -> String {
    let de = lang == Language::De;
    let status = match status {
        ReportStatus::Received if de => "ist eingegangen",
        ReportStatus::Received => "has been received",
        ReportStatus::InReview if de => "wird als möglicher Sicherheitsvorfall bearbeitet",
        ReportStatus::InReview => "is being handled as a possible security incident",
        ReportStatus::Closed if de => "ist abgeschlossen",
        ReportStatus::Closed => "has been closed",
    };
    match reason {
        Some(reason) => format!("{status}. {}", closed_because(reason, lang)),
        None => format!("{status}."),
    }
}

/// Why a report was closed, in words for its reporter.
pub fn closed_because(reason: ClosedBecause, lang: Language) -> &'static str {
    match (reason, lang) {
        (ClosedBecause::Spam, Language::De) => {
            "Sie enthielt nichts, dem wir als Sicherheitsproblem nachgehen konnten."
        }
        (ClosedBecause::Spam, Language::En) => {
            "It contained nothing we could follow up as a security problem."
        }
        (ClosedBecause::Duplicate, Language::De) => {
            "Dasselbe Problem wurde uns bereits gemeldet; es wird unter der früheren Meldung bearbeitet."
        }
        (ClosedBecause::Duplicate, Language::En) => {
            "The same problem had already been reported to us; it is handled under the earlier report."
        }
        (ClosedBecause::NotABreach, Language::De) => {
            "Nach unserer Prüfung liegt keine Verletzung des Schutzes personenbezogener Daten vor."
        }
        (ClosedBecause::NotABreach, Language::En) => {
            "Having looked into it, we found no breach of personal data."
        }
        (ClosedBecause::IncidentClosed, Language::De) => {
            "Der Sicherheitsvorfall, den wir aus Ihrer Meldung eröffnet haben, ist abgeschlossen. Danke für Ihre Meldung."
        }
        (ClosedBecause::IncidentClosed, Language::En) => {
            "The security incident we opened from your report has been closed. Thank you for reporting it."
        }
    }
}

/// The message a reporter receives when the report's status changes (with the reason when it
/// was closed).
pub fn reporter_status(
    report: &ReportId,
    status: ReportStatus,
    reason: Option<ClosedBecause>,
    status_page: &str,
) -> (String, String) {
    let de = status_sentence(status, reason, Language::De);
    let en = status_sentence(status, reason, Language::En);
    let subject = format!(
        "Stand Ihrer Sicherheitsmeldung {report} / Status of your security report {report}"
    );
    let body = format!(
        "Guten Tag,\n\nIhre Sicherheitsmeldung {report} {de}\n\nDen Stand können Sie mit Ihrem Zugangscode hier abrufen:\n\
         {status_page}\n\nMit freundlichen Grüßen\nregrooter GmbH, Sicherheitsteam\n\
         {SEPARATOR}\
         Hello,\n\nyour security report {report} {en}\n\nWith your access code you can read its status here:\n\
         {status_page}\n\nKind regards\nregrooter GmbH, security team\n"
    );
    (subject, body)
}

/// The mail the security team receives when the deadline watch raises alerts on an incident:
/// which duty, due when, and where the incident is. No facts of the incident (the team reads
/// them signed in); the subject names the incident and the most urgent alert.
pub fn staff_alert(
    incident: &IncidentId,
    alerts: &[Alert],
    incident_url: &str,
) -> (String, String) {
    let missed = alerts.iter().any(|a| a.kind == AlertKind::Missed);
    let subject = if missed {
        format!("Frist verpasst / Deadline missed: {incident}")
    } else {
        format!("Frist läuft ab / Deadline due soon: {incident}")
    };
    let local = |at: Timestamp| {
        in_company_time(at)
            .strftime("%d.%m.%Y %H:%M %Z")
            .to_string()
    };
    let duty_de = |d: &Duty| match d {
        Duty::Customer { tenant } => format!("Benachrichtigung des Kunden {tenant} (48 Stunden)"),
        Duty::SupervisoryAuthority => "Meldung an die Aufsichtsbehörde (72 Stunden)".to_string(),
        Duty::DataSubjects => {
            "Benachrichtigung der betroffenen Personen (unverzüglich)".to_string()
        }
        Duty::Nis2EarlyWarning => "NIS2-Frühwarnung an das CSIRT (24 Stunden)".to_string(),
        Duty::Nis2Notification => "NIS2-Meldung des Vorfalls (72 Stunden)".to_string(),
        Duty::Nis2FinalReport => "NIS2-Abschlussbericht (ein Monat nach der Meldung)".to_string(),
    };
    let duty_en = |d: &Duty| match d {
        Duty::Customer { tenant } => format!("notice to customer {tenant} (48 hours)"),
        Duty::SupervisoryAuthority => {
            "notification of the supervisory authority (72 hours)".to_string()
        }
        Duty::DataSubjects => "notice to the data subjects (without undue delay)".to_string(),
        Duty::Nis2EarlyWarning => "NIS2 early warning to the CSIRT (24 hours)".to_string(),
        Duty::Nis2Notification => "NIS2 incident notification (72 hours)".to_string(),
        Duty::Nis2FinalReport => "NIS2 final report (one month after the notification)".to_string(),
    };
    let mut de = String::new();
    let mut en = String::new();
    for alert in alerts {
        let (kind_de, kind_en) = match alert.kind {
            AlertKind::DueSoon => ("läuft bald ab", "is due soon"),
            AlertKind::Missed => ("ist verstrichen", "has passed"),
            AlertKind::Undelivered => (
                "ist wieder offen (nicht zugestellt)",
                "is open again (not delivered)",
            ),
        };
        de.push_str(&format!(
            "- {}: Frist {kind_de}, fällig {}\n",
            duty_de(&alert.duty),
            local(alert.due)
        ));
        en.push_str(&format!(
            "- {}: the deadline {kind_en}, due {}\n",
            duty_en(&alert.duty),
            local(alert.due)
        ));
    }
    let body = format!(
        "Die Fristenüberwachung meldet für den Vorfall {incident}:\n\n{de}\n\
         Der Vorfall: {incident_url}\n\
         {SEPARATOR}\
         The deadline watch reports for incident {incident}:\n\n{en}\n\
         The incident: {incident_url}\n"
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_text_holds_what_article_33_3_requires_and_asks_why_late() {
        use crate::assessment::BreachType;
        let discovered = "2026-03-27T20:00:00Z".parse().expect("ts");
        let text = authority_notice(
            &content(),
            &[BreachType::Confidentiality],
            discovered,
            false,
            Language::De,
        );
        for needle in [
            "Verantwortlicher: regrooter GmbH",
            "a) Art der Verletzung: Verletzung der Vertraulichkeit",
            "Ein falsch konfigurierter Export legte Personaldaten offen.",
            "Ungefähre Zahl betroffener Personen: zwischen 120 und 150",
            "Ungefähre Zahl betroffener Datensätze: ca. 300",
            "b) Datenschutzbeauftragter: dpo@example.test",
            "c) Wahrscheinliche Folgen:\nPhishing-Versuche.",
            "- Export abgeschaltet (",
            "Entdeckt am: 27.03.2026 21:00 CET; Kenntnis erlangt am: 28.03.2026 10:00 CET",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
        assert!(
            !text.contains("Verzögerung"),
            "on time: no reasons for a delay asked"
        );
        let late = authority_notice(
            &content(),
            &[BreachType::Availability],
            discovered,
            true,
            Language::En,
        );
        assert!(late.contains("Reasons for the delay (Art. 33(1)"), "{late}");
        assert!(
            late.contains("a) Nature of the breach: breach of availability"),
            "{late}"
        );
    }

    #[test]
    fn updates_and_the_final_report_name_the_first_notice_and_say_what_they_are() {
        let first = "2026-03-28T15:00:00Z".parse().expect("ts");
        let update = NoticeContent {
            kind: NoticeKind::Update,
            first_sent_at: Some(first),
            ..content()
        };
        let (subject, body) = render(&update, Language::De);
        assert!(subject.starts_with("Aktualisierung: "), "{subject}");
        assert!(
            body.contains("Dies ergänzt unsere Meldung vom 28.03.2026 16:00 CET"),
            "{body}"
        );
        assert!(body.contains("auf dem Laufenden"));
        let last = NoticeContent {
            kind: NoticeKind::Final,
            first_sent_at: Some(first),
            closed_at: Some("2026-04-02T10:00:00Z".parse().expect("ts")),
            ..content()
        };
        let (subject, body) = render(&last, Language::En);
        assert!(subject.starts_with("Final report: "), "{subject}");
        assert!(body.contains("closed on 02.04.2026 12:00 CEST"), "{body}");
        assert!(
            body.contains("our notice of 28.03.2026 16:00 CET"),
            "{body}"
        );
        assert!(
            !body.contains("keep you informed"),
            "a final report promises no more"
        );
        // The first notice says neither.
        let (subject, body) = render(&content(), Language::En);
        assert!(subject.starts_with("Notification of a personal data breach"));
        assert!(!body.contains("This updates") && !body.contains("final report"));
    }

    fn content() -> NoticeContent {
        NoticeContent {
            kind: NoticeKind::Initial,
            first_sent_at: None,
            closed_at: None,
            title: None,
            incident: "inc_1".into(),
            customer_name: "ACME GmbH".into(),
            aware_at: "2026-03-28T09:00:00Z".parse().expect("ts"),
            nature_and_scope: "Ein falsch konfigurierter Export legte Personaldaten offen.".into(),
            data_categories: vec![DataCategory::Contact, DataCategory::Employment],
            approx_data_subjects: Approx { min: 120, max: 150 },
            approx_records: Approx { min: 300, max: 300 },
            likely_consequences: "Phishing-Versuche.".into(),
            measures: vec![
                NoticeMeasure {
                    kind: MeasureKind::Containment,
                    what: "Export abgeschaltet".into(),
                    what_en: Some("Export disabled".into()),
                    status: MeasureStatus::Done,
                },
                NoticeMeasure {
                    kind: MeasureKind::Process,
                    what: "Vier-Augen-Prüfung für Exporte".into(),
                    what_en: None,
                    status: MeasureStatus::Planned,
                },
            ],
            english: crate::service::EnglishText {
                customer_title: None,
                nature_and_scope: Some("A misconfigured export exposed HR records.".into()),
                likely_consequences: Some("Phishing attempts.".into()),
            },
            dpo_contact: "dpo@example.test".into(),
        }
    }

    #[test]
    fn each_language_part_carries_its_own_free_text_and_the_title_in_its_language() {
        let titled = NoticeContent {
            title: Some("Offener Datenexport".into()),
            english: crate::service::EnglishText {
                customer_title: Some("Exposed data export".into()),
                ..content().english
            },
            ..content()
        };
        let (subject_de, body_de) = render(&titled, Language::De);
        let (subject_en, body_en) = render(&titled, Language::En);
        assert!(
            subject_de.ends_with("Offener Datenexport (inc_1)"),
            "{subject_de}"
        );
        assert!(
            subject_en.ends_with("Exposed data export (inc_1)"),
            "{subject_en}"
        );
        assert!(body_de.contains("Ein falsch konfigurierter Export"));
        assert!(
            !body_de.contains("misconfigured"),
            "no English in the German part"
        );
        assert!(body_en.contains("A misconfigured export exposed HR records."));
        assert!(
            !body_en.contains("falsch konfigurierter"),
            "no German where English was given"
        );
        // Without any English wording, the English part says the text is German.
        let german_only = NoticeContent {
            english: crate::service::EnglishText::default(),
            ..content()
        };
        let (_, body) = render(&german_only, Language::En);
        assert!(
            body.contains(
                "[in German] Ein falsch konfigurierter Export legte Personaldaten offen."
            ),
            "{body}"
        );
    }

    #[test]
    fn both_languages_carry_every_required_content() {
        let (subject, body) = render_bilingual(&content());
        assert!(subject.contains("Meldung") && subject.contains("Notification"));
        for needle in [
            "Art und Umfang",
            "Nature and scope",
            "zwischen 120 und 150",
            "between 120 and 150",
            "ca. 300",
            "approx. 300",
            "Kontaktdaten, Beschäftigtendaten",
            "contact data, employment data",
            "Phishing attempts.",
            "Phishing-Versuche.",
            "Measures taken or planned to contain the breach and reduce the risk",
            "Technical and organisational improvements",
            "Changes to incident management",
            "Updates to processes",
            "Maßnahmen zur Eindämmung",
            "Änderungen am Vorfallmanagement",
            "Export disabled (done)",
            "Export abgeschaltet (umgesetzt)",
            "Vier-Augen-Prüfung für Exporte (geplant)",
            // No English wording given: the German text, said to be German.
            "[in German] Vier-Augen-Prüfung für Exporte (planned)",
            "dpo@example.test",
            "28.03.2026 10:00 CET",
        ] {
            assert!(body.contains(needle), "missing {needle}");
        }
    }
}
