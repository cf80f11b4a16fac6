//! The public security-report intake at the edge: an accessible form in German and English (no
//! script at all), parsing of JSON and form posts with the same limits as the origin, card
//! numbers scrubbed before anything leaves the edge, the confirmation page, and the reporter's
//! status page (tracking id and access code in a form; the answer in words).

use kernel::error::FieldError;
use kernel::report_limits::{CARDS_REMOVED_AT_EDGE, REPORT_LIMITS, limit_of};
use kernel::scrub;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub fn from_query(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        let asked = query.and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")));
        match asked {
            Some("en") => Lang::En,
            Some("de") => Lang::De,
            _ => match accept_language {
                Some(a) if a.trim_start().to_ascii_lowercase().starts_with("en") => Lang::En,
                _ => Lang::De,
            },
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
}

/// The five fields of the page, in order, with their labels and hints.
const FIELDS: [(&str, &str, &str, &str, &str); 5] = [
    (
        "description",
        "Beschreibung des Vorfalls",
        "Description of the incident",
        "Was ist passiert, wie haben Sie es bemerkt? Angriffsmuster und Code dürfen Sie zitieren.",
        "What happened and how did you notice? You may quote attack strings and code.",
    ),
    (
        "affected_parties",
        "Betroffene Unternehmen oder Nutzer",
        "Affected companies or users",
        "Namen der betroffenen Unternehmen oder Personen, soweit bekannt.",
        "Names of the companies or users affected, as far as you know.",
    ),
    (
        "personal_data_kind",
        "Art der personenbezogenen Daten",
        "Kind of personal data",
        "Zum Beispiel Namen, E-Mail-Adressen, Gesundheitsdaten.",
        "For example names, e-mail addresses, health data.",
    ),
    (
        "scope",
        "Umfang",
        "Scope",
        "Wie viele Personen oder Datensätze sind ungefähr betroffen?",
        "About how many people or records are affected?",
    ),
    (
        "impact_assessment",
        "Einschätzung der Auswirkungen auf die Rechte und Freiheiten der Betroffenen",
        "Assessment of the impact on people's rights and freedoms",
        "Welche Folgen befürchten Sie für die betroffenen Personen?",
        "What consequences do you fear for the people affected?",
    ),
];

/// What a security researcher may add about a vulnerability, all optional, with labels and
/// hints: (name, label de, label en, hint de, hint en, rows; 0 for a one-line field).
const VULNERABILITY_FIELDS: [(&str, &str, &str, &str, &str, u8); 3] = [
    (
        "affected_product",
        "Betroffenes Produkt oder betroffene URL",
        "Affected product or URL",
        "Zum Beispiel https://app.regrooter.de/export oder der Name der Funktion.",
        "For example https://app.regrooter.de/export or the feature's name.",
        0,
    ),
    (
        "steps_to_reproduce",
        "Schritte zum Nachvollziehen",
        "Steps to reproduce",
        "Wie wir die Schwachstelle nachvollziehen können; Anfragen und Code dürfen Sie zitieren.",
        "How we can reproduce the vulnerability; you may quote requests and code.",
        6,
    ),
    (
        "cvss_vector",
        "CVSS-v4.0-Vektor",
        "CVSS v4.0 vector",
        "Ihre Einschätzung, z. B. CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
        "Your rating, e.g. CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
        0,
    ),
];

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"{}\">\n</head>\n<body>\n<main>\n{}\n</main>\n</body>\n</html>\n",
        lang.code(),
        escape(title),
        web::assets::stylesheet_path(),
        body
    )
}

/// A form's mistakes as an alert listing each field by its label, linked to it (empty when
/// there are none).
fn mistakes_list(lang: Lang, mistakes: &[Mistake]) -> String {
    if mistakes.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<div role=\"alert\" class=\"errors\"><h2>{}</h2><ul>",
        if lang == Lang::De {
            "Bitte prüfen Sie Ihre Angaben"
        } else {
            "Please check your entries"
        }
    );
    for m in mistakes {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a>: {}</li>",
            escape(&m.field),
            escape(&m.label(lang)),
            escape(&m.detail(lang))
        ));
    }
    out.push_str("</ul></div>\n");
    out
}

/// The report form. `errors` and `values` re-fill it after a rejected post.
pub fn form_page(lang: Lang, errors: &[Mistake], values: &Map<String, Value>) -> String {
    let de = lang == Lang::De;
    let mut body = String::new();
    body.push_str(if de {
        "<h1>Sicherheitsvorfall melden</h1>\n<p>Ihre Meldung wird vertraulich behandelt und verschlüsselt gespeichert. Die fünf Felder zum Vorfall sind Pflichtfelder, alle übrigen freiwillig.</p>\n<p>Was wir Meldenden zusagen und worum wir bitten: <a href=\"/security/policy?lang=de\">Richtlinie zur Meldung von Sicherheitslücken</a>. Was wir allen zusagen, mit Nachweis: <a href=\"/trust?lang=de\">Vertrauensseite</a>.</p>\n<p lang=\"en\"><a href=\"/security/report?lang=en\" hreflang=\"en\">English version</a></p>\n"
    } else {
        "<h1>Report a security incident</h1>\n<p>Your report is treated confidentially and stored encrypted. The five fields about the incident are required, all others optional.</p>\n<p>What we promise reporters and what we ask of them: <a href=\"/security/policy?lang=en\">vulnerability disclosure policy</a>. What we promise everyone, with evidence: <a href=\"/trust?lang=en\">trust page</a>.</p>\n<p lang=\"de\"><a href=\"/security/report?lang=de\" hreflang=\"de\">Deutsche Fassung</a></p>\n"
    });
    body.push_str(&mistakes_list(lang, errors));
    body.push_str("<form method=\"post\" action=\"/security/reports\" accept-charset=\"utf-8\">\n");
    let value = |name: &str| {
        values
            .get(name)
            .and_then(Value::as_str)
            .map(escape)
            .unwrap_or_default()
    };
    for (name, label_de, label_en, hint_de, hint_en) in FIELDS {
        let limit = limit_of(name);
        let invalid = errors.iter().any(|e| e.field == name);
        body.push_str(&format!(
            "<div class=\"field\">\n<label for=\"{name}\">{}</label>\n<p id=\"{name}-hint\" class=\"hint\">{}</p>\n<textarea id=\"{name}\" name=\"{name}\" required maxlength=\"{limit}\" rows=\"{}\" aria-describedby=\"{name}-hint\"{}>{}</textarea>\n</div>\n",
            if de { label_de } else { label_en },
            if de { hint_de } else { hint_en },
            if name == "description" { 8 } else { 3 },
            if invalid { " aria-invalid=\"true\"" } else { "" },
            value(name),
        ));
    }
    body.push_str(&format!(
        "<fieldset class=\"fields\">\n<legend>{}</legend>\n<p class=\"hint\">{}</p>\n",
        if de {
            "Für eine Schwachstelle (freiwillig)"
        } else {
            "For a vulnerability (optional)"
        },
        if de {
            "Wenn Sie eine Sicherheitslücke gefunden haben, helfen uns diese Angaben beim Nachvollziehen."
        } else {
            "If you found a vulnerability, these help us reproduce it."
        }
    ));
    for (name, label_de, label_en, hint_de, hint_en, rows) in VULNERABILITY_FIELDS {
        let limit = limit_of(name);
        let invalid = if errors.iter().any(|e| e.field == name) {
            " aria-invalid=\"true\""
        } else {
            ""
        };
        let label = if de { label_de } else { label_en };
        let hint = if de { hint_de } else { hint_en };
        let control = if rows == 0 {
            format!(
                "<input id=\"{name}\" name=\"{name}\" type=\"text\" maxlength=\"{limit}\" spellcheck=\"false\" aria-describedby=\"{name}-hint\"{invalid} value=\"{}\">",
                value(name)
            )
        } else {
            format!(
                "<textarea id=\"{name}\" name=\"{name}\" maxlength=\"{limit}\" rows=\"{rows}\" aria-describedby=\"{name}-hint\"{invalid}>{}</textarea>",
                value(name)
            )
        };
        body.push_str(&format!(
            "<div class=\"field\">\n<label for=\"{name}\">{label}</label>\n<p id=\"{name}-hint\" class=\"hint\">{hint}</p>\n{control}\n</div>\n"
        ));
    }
    body.push_str("</fieldset>\n");
    body.push_str(&format!(
        "<div class=\"field\">\n<label for=\"reporter_contact\">{}</label>\n<p id=\"reporter_contact-hint\" class=\"hint\">{}</p>\n<input id=\"reporter_contact\" name=\"reporter_contact\" type=\"text\" maxlength=\"320\" autocomplete=\"email\" aria-describedby=\"reporter_contact-hint\" value=\"{}\">\n</div>\n<input type=\"hidden\" name=\"language\" value=\"{}\">\n<button type=\"submit\">{}</button>\n</form>\n",
        CONTACT_LABEL[usize::from(!de)],
        if de {
            "Nur wenn wir Rückfragen stellen dürfen. Sie können auch anonym melden."
        } else {
            "Only if we may ask you questions. You may also report anonymously."
        },
        value("reporter_contact"),
        lang.code(),
        if de { "Meldung absenden" } else { "Send report" }
    ));
    page(
        lang,
        if de {
            "Sicherheitsvorfall melden"
        } else {
            "Report a security incident"
        },
        &body,
    )
}

use kernel::report_limits::{MESSAGE_LIMIT, MESSAGES_PER_REPORT};
/// The reporter's status page: a form for the tracking id and the access code, answered in words.
pub use kernel::report_limits::{STATUS_MESSAGES, STATUS_PAGE};

/// A status question from the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusQuestion {
    pub lang: Lang,
    pub tracking_id: String,
    pub access_code: String,
}

/// Whether `id` could be a tracking id (`rep_` and letters or digits): only such an id is put
/// back into a page or a path.
fn tracking_id_shaped(id: &str) -> bool {
    id.len() <= 64
        && id.starts_with("rep_")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The tracking id a link to the status page names (`?id=`), if it is one.
pub fn tracking_id_in(query: Option<&str>) -> String {
    query
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("id=")))
        .filter(|id| tracking_id_shaped(id))
        .unwrap_or_default()
        .to_string()
}

/// Reads the status form; a mistake sends the form back with what was typed (never the code).
pub fn parse_status_form(body: &[u8]) -> Result<StatusQuestion, (Lang, String, Vec<Mistake>)> {
    let fields = form_fields(body);
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let lang = if text("language") == "en" {
        Lang::En
    } else {
        Lang::De
    };
    let (tracking_id, access_code) = (text("tracking_id"), text("access_code"));
    let mut mistakes = Vec::new();
    if tracking_id.is_empty() {
        mistakes.push(Mistake::new("tracking_id", MistakeKind::Required));
    } else if !tracking_id_shaped(&tracking_id) {
        mistakes.push(Mistake::new("tracking_id", MistakeKind::NotValid));
    }
    if access_code.is_empty() {
        mistakes.push(Mistake::new("access_code", MistakeKind::Required));
    } else if access_code.len() > 128 || !access_code.bytes().all(|b| b.is_ascii_hexdigit()) {
        mistakes.push(Mistake::new("access_code", MistakeKind::NotValid));
    }
    let shown_id = if tracking_id_shaped(&tracking_id) {
        tracking_id.clone()
    } else {
        String::new()
    };
    if mistakes.is_empty() {
        Ok(StatusQuestion {
            lang,
            tracking_id,
            access_code,
        })
    } else {
        Err((lang, shown_id, mistakes))
    }
}

/// The status form, with the tracking id filled in when a link named it, the mistakes of a
/// rejected post, or a notice (an unknown id or a wrong code: one answer for both).
pub fn status_form_page(
    lang: Lang,
    tracking_id: &str,
    mistakes: &[Mistake],
    notice: Option<&str>,
) -> String {
    let de = lang == Lang::De;
    let mut body = String::new();
    body.push_str(if de {
        "<h1>Stand Ihrer Sicherheitsmeldung</h1>\n<p>Geben Sie die Vorgangsnummer und den Zugangscode ein, die Ihnen nach dem Absenden angezeigt wurden.</p>\n"
    } else {
        "<h1>Status of your security report</h1>\n<p>Enter the tracking id and the access code you were shown after sending your report.</p>\n"
    });
    body.push_str(&format!(
        "<p lang=\"{0}\"><a href=\"{STATUS_PAGE}?lang={0}\" hreflang=\"{0}\">{1}</a></p>\n",
        if de { "en" } else { "de" },
        if de {
            "English version"
        } else {
            "Deutsche Fassung"
        }
    ));
    if let Some(notice) = notice {
        body.push_str(&format!(
            "<div role=\"alert\" class=\"errors\"><p>{}</p></div>\n",
            escape(notice)
        ));
    }
    body.push_str(&mistakes_list(lang, mistakes));
    let invalid = |field: &str| {
        if mistakes.iter().any(|m| m.field == field) {
            " aria-invalid=\"true\""
        } else {
            ""
        }
    };
    let id_label = Mistake::new("tracking_id", MistakeKind::Required).label(lang);
    let code_label = Mistake::new("access_code", MistakeKind::Required).label(lang);
    body.push_str(&format!(
        "<form method=\"post\" action=\"{STATUS_PAGE}\" accept-charset=\"utf-8\">\n\
         <div class=\"field\">\n<label for=\"tracking_id\">{}</label>\n\
         <input id=\"tracking_id\" name=\"tracking_id\" type=\"text\" required maxlength=\"64\" autocomplete=\"off\" spellcheck=\"false\" value=\"{}\"{}>\n</div>\n\
         <div class=\"field\">\n<label for=\"access_code\">{}</label>\n\
         <input id=\"access_code\" name=\"access_code\" type=\"password\" required maxlength=\"128\" autocomplete=\"off\" spellcheck=\"false\"{}>\n</div>\n\
         <input type=\"hidden\" name=\"language\" value=\"{}\">\n\
         <button type=\"submit\">{}</button>\n</form>\n",
        escape(&id_label),
        escape(tracking_id),
        invalid("tracking_id"),
        escape(&code_label),
        invalid("access_code"),
        lang.code(),
        if de { "Stand abrufen" } else { "Show the status" }
    ));
    page(lang, status_title(lang), &body)
}

fn status_title(lang: Lang) -> &'static str {
    if lang == Lang::De {
        "Stand Ihrer Sicherheitsmeldung"
    } else {
        "Status of your security report"
    }
}

/// A message of the conversation, as the status page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub at: kernel::time::Timestamp,
    pub from_team: bool,
    pub text: String,
}

/// What the status page answers: the report's status in words (the platform's sentence, the
/// status mail's), the conversation with the security team and, while the report is open, the
/// form to write to them — carrying the id and the code again, so they never go into a URL.
pub struct StatusAnswer<'a> {
    pub question: &'a StatusQuestion,
    pub says: &'a str,
    pub messages: &'a [StatusMessage],
    pub may_write: bool,
    /// Said above the form: the message arrived, or why it could not be taken.
    pub notice: Option<&'a str>,
    pub mistakes: &'a [Mistake],
    /// What was typed into the form, kept when it is refused.
    pub typed: &'a str,
}

pub fn status_answer_page(answer: &StatusAnswer<'_>) -> String {
    let lang = answer.question.lang;
    let de = lang == Lang::De;
    let web_lang = if de { web::Lang::De } else { web::Lang::En };
    let id = &answer.question.tracking_id;
    let mut body = format!(
        "<h1>{}</h1>\n<p>{} <code>{}</code> {}</p>\n",
        status_title(lang),
        if de {
            "Ihre Sicherheitsmeldung"
        } else {
            "Your security report"
        },
        escape(id),
        escape(answer.says),
    );
    if !answer.messages.is_empty() {
        body.push_str(&format!(
            "<h2 id=\"messages\">{}</h2>\n<ol class=\"messages\">\n",
            if de { "Nachrichten" } else { "Messages" }
        ));
        for message in answer.messages {
            let who = match (message.from_team, de) {
                (true, true) => "Sicherheitsteam",
                (true, false) => "Security team",
                (false, true) => "Sie",
                (false, false) => "You",
            };
            let text = escape(&message.text).replace('\n', "<br>");
            body.push_str(&format!(
                "<li class=\"{}\"><p class=\"meta\"><strong>{who}</strong> · {}</p><p>{text}</p></li>\n",
                if message.from_team { "from-team" } else { "from-you" },
                escape(&web::lang::date_time(web_lang, message.at)),
            ));
        }
        body.push_str("</ol>\n");
    }
    if let Some(notice) = answer.notice {
        body.push_str(&format!(
            "<p role=\"status\" class=\"notice\">{}</p>\n",
            escape(notice)
        ));
    }
    if answer.may_write {
        body.push_str(&format!(
            "<h2 id=\"write\">{}</h2>\n",
            if de {
                "Dem Sicherheitsteam schreiben"
            } else {
                "Write to the security team"
            }
        ));
        body.push_str(&mistakes_list(lang, answer.mistakes));
        let invalid = answer.mistakes.iter().any(|m| m.field == "text");
        body.push_str(&format!(
            "<form method=\"post\" action=\"{STATUS_MESSAGES}\" accept-charset=\"utf-8\">\n\
             <input type=\"hidden\" name=\"tracking_id\" value=\"{}\">\n\
             <input type=\"hidden\" name=\"access_code\" value=\"{}\">\n\
             <input type=\"hidden\" name=\"language\" value=\"{}\">\n\
             <div class=\"field\">\n<label for=\"text\">{}</label>\n<p class=\"hint\" id=\"text-hint\">{}</p>\n\
             <textarea id=\"text\" name=\"text\" rows=\"6\" required maxlength=\"{MESSAGE_LIMIT}\" aria-describedby=\"text-hint\"{}>{}</textarea>\n</div>\n\
             <button type=\"submit\">{}</button>\n</form>\n",
            escape(id),
            escape(&answer.question.access_code),
            lang.code(),
            escape(&Mistake::new("text", MistakeKind::Required).label(lang)),
            if de {
                format!("Eine Antwort auf eine Frage oder was Sie seither herausgefunden haben; höchstens {MESSAGE_LIMIT} Zeichen. Nur das Sicherheitsteam liest sie.")
            } else {
                format!("An answer to a question, or what you have found out since; at most {MESSAGE_LIMIT} characters. Only the security team reads it.")
            },
            if invalid { " aria-invalid=\"true\"" } else { "" },
            escape(answer.typed),
            if de { "Nachricht senden" } else { "Send the message" }
        ));
    } else if answer.messages.len() >= MESSAGES_PER_REPORT {
        body.push_str(if de {
            "<p>Diese Meldung hat die höchste Zahl an Nachrichten erreicht. Für Weiteres senden Sie bitte eine neue Meldung.</p>\n"
        } else {
            "<p>This report holds as many messages as it can. For anything further, please send a new report.</p>\n"
        });
    }
    body.push_str(&format!(
        "<p><a href=\"{STATUS_PAGE}?lang={}\">{}</a></p>\n",
        lang.code(),
        if de {
            "Eine andere Meldung abrufen"
        } else {
            "Look up another report"
        }
    ));
    page(lang, status_title(lang), &body)
}

/// A post of the status page's reply form: the question (id and code) and the message, with
/// what is wrong with the message (the id and code are checked as the status form's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub question: StatusQuestion,
    pub text: String,
    pub mistakes: Vec<Mistake>,
}

/// Reads the reply form; an unreadable id or code sends the status form back, as its own post.
pub fn parse_reply_form(body: &[u8]) -> Result<Reply, (Lang, String, Vec<Mistake>)> {
    let question = parse_status_form(body)?;
    let text = form_fields(body)
        .get("text")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let mut mistakes = Vec::new();
    if text.is_empty() {
        mistakes.push(Mistake::new("text", MistakeKind::Required));
    } else if text.chars().count() > MESSAGE_LIMIT {
        mistakes.push(Mistake::new("text", MistakeKind::TooLong(MESSAGE_LIMIT)));
    }
    Ok(Reply {
        question,
        text,
        mistakes,
    })
}

/// The page a form reporter sees after sending: the tracking id and the secret, once.
pub fn confirmation_page(lang: Lang, tracking_id: &str, secret: &str) -> String {
    let body = if lang == Lang::De {
        format!(
            "<h1>Vielen Dank – Ihre Meldung ist eingegangen</h1>\n<p>Ihre Vorgangsnummer: <code>{}</code></p>\n<p>Ihr Zugangscode für den Bearbeitungsstand: <code>{}</code></p>\n<p>Bitte bewahren Sie beides auf. Der Zugangscode wird nur jetzt angezeigt. Den Stand (eingegangen, in Prüfung, abgeschlossen) können Sie <a href=\"{}?id={}&amp;lang=de\">auf der Statusseite</a> mit dem Zugangscode abrufen.</p>\n",
            escape(tracking_id),
            escape(secret),
            STATUS_PAGE,
            escape(tracking_id)
        )
    } else {
        format!(
            "<h1>Thank you – your report has been received</h1>\n<p>Your tracking id: <code>{}</code></p>\n<p>Your access code for the status: <code>{}</code></p>\n<p>Please keep both. The access code is shown only now. You can read the status (received, in review, closed) <a href=\"{}?id={}&amp;lang=en\">on the status page</a> with the access code.</p>\n",
            escape(tracking_id),
            escape(secret),
            STATUS_PAGE,
            escape(tracking_id)
        )
    };
    page(
        lang,
        if lang == Lang::De {
            "Meldung eingegangen"
        } else {
            "Report received"
        },
        &body,
    )
}

/// How a report arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Form,
}

/// A validated report, ready for the origin.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub format: Format,
    pub lang: Lang,
    /// The JSON the origin receives (card numbers already removed).
    pub json: Vec<u8>,
    pub card_numbers_removed: usize,
}

/// A report that cannot be accepted, with what the form needs to show it again.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub format: Format,
    pub lang: Lang,
    pub errors: Vec<Mistake>,
    pub values: Map<String, Value>,
}

/// What is wrong with a report: said in English for the API (problem+json) and in the form's
/// language on the page, where the field is named by its label, not its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    /// The field's key; empty for the body as a whole.
    pub field: String,
    pub kind: MistakeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MistakeKind {
    Required,
    TooLong(usize),
    NotText,
    NotAField,
    BadLanguage,
    NotAnObject,
    NotJson(String),
    UnsupportedType,
    NotValid,
}

impl Mistake {
    fn new(field: &str, kind: MistakeKind) -> Self {
        Self {
            field: field.to_string(),
            kind,
        }
    }

    /// `field` does not have the expected form.
    pub fn not_valid(field: &str) -> Self {
        Self::new(field, MistakeKind::NotValid)
    }

    /// The API's form: a JSON Pointer and an English sentence.
    pub fn to_field_error(&self) -> FieldError {
        let pointer = if self.field.is_empty() {
            String::new()
        } else {
            format!("/{}", self.field)
        };
        FieldError::new(pointer, self.detail(Lang::En))
    }

    /// What is wrong, in `lang`.
    pub fn detail(&self, lang: Lang) -> String {
        let de = lang == Lang::De;
        match &self.kind {
            MistakeKind::Required if de => "ist ein Pflichtfeld".into(),
            MistakeKind::Required => "is required".into(),
            MistakeKind::TooLong(limit) if de => {
                format!("darf höchstens {limit} Zeichen lang sein")
            }
            MistakeKind::TooLong(limit) => format!("must be at most {limit} characters"),
            MistakeKind::NotText if de => "muss Text sein".into(),
            MistakeKind::NotText => "must be text".into(),
            MistakeKind::NotAField if de => "ist kein Feld der Meldung".into(),
            MistakeKind::NotAField => "is not a field of the report".into(),
            MistakeKind::BadLanguage if de => "muss de oder en sein".into(),
            MistakeKind::BadLanguage => "must be de or en".into(),
            MistakeKind::NotAnObject if de => "Der Inhalt muss ein JSON-Objekt sein".into(),
            MistakeKind::NotAnObject => "the body must be a JSON object".into(),
            MistakeKind::NotJson(e) if de => format!("Der Inhalt ist kein gültiges JSON: {e}"),
            MistakeKind::NotJson(e) => format!("the body is not valid JSON: {e}"),
            MistakeKind::UnsupportedType if de => {
                "Bitte senden Sie application/json oder application/x-www-form-urlencoded".into()
            }
            MistakeKind::UnsupportedType => {
                "send application/json or application/x-www-form-urlencoded".into()
            }
            MistakeKind::NotValid if de => "hat nicht die erwartete Form".into(),
            MistakeKind::NotValid => "does not have the expected form".into(),
        }
    }

    /// The field's label in `lang` (its key when the form has no label for it).
    pub fn label(&self, lang: Lang) -> String {
        let de = lang == Lang::De;
        if let Some((_, label_de, label_en, ..)) = FIELDS.iter().find(|f| f.0 == self.field) {
            return if de { label_de } else { label_en }.to_string();
        }
        if let Some((_, label_de, label_en, ..)) =
            VULNERABILITY_FIELDS.iter().find(|f| f.0 == self.field)
        {
            return if de { label_de } else { label_en }.to_string();
        }
        match self.field.as_str() {
            "reporter_contact" => CONTACT_LABEL[usize::from(!de)].to_string(),
            "language" if de => "Sprache".into(),
            "language" => "Language".into(),
            "tracking_id" if de => "Vorgangsnummer".into(),
            "tracking_id" => "Tracking id".into(),
            "access_code" if de => "Zugangscode".into(),
            "access_code" => "Access code".into(),
            "text" if de => "Ihre Nachricht an das Sicherheitsteam".into(),
            "text" => "Your message to the security team".into(),
            other => other.to_string(),
        }
    }
}

/// The contact field's label, German and English.
const CONTACT_LABEL: [&str; 2] = ["Ihre Kontaktangabe (freiwillig)", "Your contact (optional)"];

const ALLOWED: [&str; 10] = [
    "description",
    "affected_parties",
    "personal_data_kind",
    "scope",
    "impact_assessment",
    "reporter_contact",
    "affected_product",
    "steps_to_reproduce",
    "cvss_vector",
    "language",
];

/// The fields that may be left out (or sent as `null`, or empty from the form).
fn optional(name: &str) -> bool {
    name == "reporter_contact"
        || name == "language"
        || VULNERABILITY_FIELDS.iter().any(|f| f.0 == name)
}

/// Parses and validates a report post. Limits and rules match the origin's, so a report the edge
/// accepts is never refused for its shape there.
pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Parsed, Rejected> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (format, fields): (Format, Result<Map<String, Value>, Mistake>) = match mime.as_str() {
        "application/json" => (
            Format::Json,
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(Mistake::new("", MistakeKind::NotAnObject)),
                Err(e) => Err(Mistake::new("", MistakeKind::NotJson(e.to_string()))),
            },
        ),
        "application/x-www-form-urlencoded" => (Format::Form, Ok(form_fields(body))),
        _ => (
            Format::Json,
            Err(Mistake::new("", MistakeKind::UnsupportedType)),
        ),
    };
    let reject = |errors, values| Rejected {
        format,
        lang: Lang::De,
        errors,
        values,
    };
    let mut fields = match fields {
        Ok(f) => f,
        Err(e) => return Err(reject(vec![e], Map::new())),
    };
    let lang = match fields.get("language") {
        Some(Value::String(l)) if l == "en" => Lang::En,
        _ => Lang::De,
    };
    let mut errors = Vec::new();
    for (name, value) in &fields {
        if !ALLOWED.contains(&name.as_str()) {
            errors.push(Mistake::new(name, MistakeKind::NotAField));
            continue;
        }
        match value {
            Value::String(s) => {
                let limit = REPORT_LIMITS
                    .iter()
                    .find(|(f, _)| f == name)
                    .map_or(2, |(_, l)| *l);
                if name == "language" {
                    if s != "de" && s != "en" {
                        errors.push(Mistake::new(name, MistakeKind::BadLanguage));
                    }
                } else if s.chars().count() > limit {
                    errors.push(Mistake::new(name, MistakeKind::TooLong(limit)));
                } else if name == "cvss_vector"
                    && !s.trim().is_empty()
                    && kernel::report_limits::cvss_v4(s).is_err()
                {
                    errors.push(Mistake::new(name, MistakeKind::NotValid));
                }
            }
            Value::Null if optional(name) => {}
            _ => errors.push(Mistake::new(name, MistakeKind::NotText)),
        }
    }
    for (name, ..) in FIELDS {
        let present = fields
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !present && !errors.iter().any(|e| e.field == name) {
            errors.push(Mistake::new(name, MistakeKind::Required));
        }
    }
    // A form leaves an empty optional field empty (JSON may say null); the origin expects it
    // absent.
    fields.retain(|name, value| {
        !(optional(name)
            && name != "language"
            && match value {
                Value::String(s) => s.trim().is_empty(),
                Value::Null => true,
                _ => false,
            })
    });
    if !errors.is_empty() {
        return Err(Rejected {
            format,
            lang,
            errors,
            values: fields,
        });
    }
    let mut removed = 0;
    for value in fields.values_mut() {
        if let Value::String(s) = value {
            let (clean, n) = scrub::scrub(s);
            removed += n;
            *s = clean;
        }
    }
    // The function sees only clean text: it learns how many numbers the edge took out from the
    // edge (a client cannot send this field: it is not one of the report's).
    if removed > 0 {
        fields.insert(CARDS_REMOVED_AT_EDGE.into(), Value::from(removed));
    }
    let json = serde_json::to_vec(&Value::Object(fields)).unwrap_or_default();
    Ok(Parsed {
        format,
        lang,
        json,
        card_numbers_removed: removed,
    })
}

fn form_fields(body: &[u8]) -> Map<String, Value> {
    let text = String::from_utf8_lossy(body);
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            let spaced = s.replace('+', " ");
            crate::waf::normalize::url_decode_repeated(&spaced, false)
        };
        map.insert(decode(name), Value::String(decode(value)));
    }
    map
}

/// Where the disclosure policy lives on the edge (`Policy:` of `security.txt` points here).
pub const POLICY_PAGE: &str = "/security/policy";

/// `security.txt` (RFC 9116). `Expires` lies a year ahead of `now`, so it is always in the future.
/// RFC 9116 has no field for a trust page; a comment names it, on the host of the canonical URL.
pub fn security_txt(
    contact: &str,
    policy: &str,
    canonical: &str,
    now: kernel::time::Timestamp,
) -> String {
    let expires = kernel::time::Period::Days(365)
        .after(now)
        .unwrap_or(now)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let trust = canonical
        .strip_suffix("/.well-known/security.txt")
        .map(|origin| format!("# Trust page, every promise with its evidence: {origin}/trust\n"))
        .unwrap_or_default();
    format!(
        "# regrooter GmbH: reports of security problems, treated confidentially.\n{trust}Contact: {contact}\nExpires: {expires}\nPreferred-Languages: de, en\nPolicy: {policy}\nCanonical: {canonical}\n"
    )
}

/// The vulnerability disclosure policy (`security.txt`'s `Policy`): how to report, what we
/// promise reporters, what we ask of them.
pub fn policy_page(lang: Lang) -> String {
    let hours = match kernel::policy::CUSTOMER_NOTIFICATION {
        kernel::time::Period::Hours(h) => h,
        _ => 48,
    };
    let body = if lang == Lang::De {
        format!(
            "<h1>Richtlinie zur Meldung von Sicherheitslücken</h1>
<p lang=\"en\"><a href=\"{POLICY_PAGE}?lang=en\" hreflang=\"en\">English version</a></p>
<h2>So melden Sie</h2>
<p>Über unser <a href=\"/security/report?lang=de\">Meldeformular</a> oder an die Adresse in <a href=\"/.well-known/security.txt\">security.txt</a>. Sie können anonym melden; eine Kontaktangabe brauchen wir nur für Rückfragen. Beschreiben Sie das Problem, wer betroffen ist, welche Art personenbezogener Daten, den Umfang und Ihre Einschätzung der Folgen für die Betroffenen.</p>
<h2>Was wir Ihnen zusagen</h2>
<ul>
<li>Sofort eine Vorgangsnummer und einen Zugangscode, mit denen Sie den <a href=\"{STATUS_PAGE}?lang=de\">Stand Ihrer Meldung</a> jederzeit abrufen.</li>
<li>Vertrauliche Behandlung: Ihre Meldung wird verschlüsselt gespeichert und nur vom Sicherheitsteam gelesen.</li>
<li>Wir prüfen jede Meldung darauf, ob sie eine Verletzung des Schutzes personenbezogener Daten ist; betroffene Kunden informieren wir innerhalb von {hours} Stunden.</li>
<li>Keine rechtlichen Schritte gegen Meldende, die in gutem Glauben und nach dieser Richtlinie handeln.</li>
</ul>
<h2>Worum wir Sie bitten</h2>
<ul>
<li>Testen Sie nur so weit, wie es zum Nachweis nötig ist; greifen Sie nicht auf fremde Daten zu, verändern oder speichern Sie sie nicht.</li>
<li>Keine Überlastungsangriffe, kein Social Engineering, keine physischen Angriffe.</li>
<li>Senden Sie keine Kartendaten (wir entfernen sie ohnehin) und nur so viele personenbezogene Daten wie nötig.</li>
<li>Veröffentlichen Sie Einzelheiten erst nach Absprache mit uns, wenn die Lücke behoben ist.</li>
</ul>
<p><a href=\"/trust?lang=de\">Vertrauensseite: unsere Zusagen mit Nachweis</a></p>"
        )
    } else {
        format!(
            "<h1>Vulnerability disclosure policy</h1>
<p lang=\"de\"><a href=\"{POLICY_PAGE}?lang=de\" hreflang=\"de\">Deutsche Fassung</a></p>
<h2>How to report</h2>
<p>Through our <a href=\"/security/report?lang=en\">report form</a> or to the address in <a href=\"/.well-known/security.txt\">security.txt</a>. You may report anonymously; we need a contact only to ask questions. Describe the problem, who is affected, the kind of personal data, the scope and your assessment of the impact on the people affected.</p>
<h2>What we promise you</h2>
<ul>
<li>At once a tracking id and an access code, with which you can read the <a href=\"{STATUS_PAGE}?lang=en\">status of your report</a> at any time.</li>
<li>Confidentiality: your report is stored encrypted and read by the security team only.</li>
<li>We assess every report for a personal data breach; customers affected are informed within {hours} hours.</li>
<li>No legal action against reporters who act in good faith and follow this policy.</li>
</ul>
<h2>What we ask of you</h2>
<ul>
<li>Test only as far as needed to show the problem; do not access, change or keep other people's data.</li>
<li>No denial of service, no social engineering, no physical attacks.</li>
<li>Send no card data (we remove it anyway) and no more personal data than needed.</li>
<li>Publish details only in agreement with us, once the problem is fixed.</li>
</ul>
<p><a href=\"/trust?lang=en\">Trust page: our promises with their evidence</a></p>"
        )
    };
    page(
        lang,
        if lang == Lang::De {
            "Richtlinie zur Meldung von Sicherheitslücken"
        } else {
            "Vulnerability disclosure policy"
        },
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Value {
        serde_json::json!({
            "description": "The filter takes ' OR 1=1 -- and my card 4111 1111 1111 1111 was shown",
            "affected_parties": "ACME", "personal_data_kind": "emails", "scope": "all", "impact_assessment": "high",
            "language": "en"
        })
    }

    #[test]
    fn json_and_form_reports_become_the_same_json() {
        let parsed = parse(Some("application/json"), full().to_string().as_bytes()).expect("valid");
        assert_eq!(parsed.format, Format::Json);
        assert_eq!(parsed.card_numbers_removed, 1);
        let json: Value = serde_json::from_slice(&parsed.json).expect("json");
        assert!(
            json["description"]
                .as_str()
                .expect("text")
                .contains("[card number removed]")
        );
        let form = "description=It%27s+broken%3A+%3Cscript%3E&affected_parties=A&personal_data_kind=B&scope=C&impact_assessment=D&reporter_contact=&language=de";
        let parsed =
            parse(Some("application/x-www-form-urlencoded"), form.as_bytes()).expect("valid form");
        assert_eq!((parsed.format, parsed.lang), (Format::Form, Lang::De));
        let json: Value = serde_json::from_slice(&parsed.json).expect("json");
        assert_eq!(json["description"], "It's broken: <script>");
        assert!(json.get("reporter_contact").is_none());
    }

    #[test]
    fn bad_reports_name_every_problem() {
        let mut bad = full();
        bad.as_object_mut().expect("object").remove("scope");
        bad["description"] = serde_json::json!(42);
        bad["language"] = serde_json::json!("fr");
        bad["priority"] = serde_json::json!("urgent");
        let rejected =
            parse(Some("application/json"), bad.to_string().as_bytes()).expect_err("invalid");
        let pointers: Vec<String> = rejected
            .errors
            .iter()
            .map(|e| e.to_field_error().pointer)
            .collect();
        for p in ["/scope", "/description", "/language", "/priority"] {
            assert!(pointers.iter().any(|q| q == p), "{p} in {pointers:?}");
        }
        let plain = parse(Some("text/plain"), b"hi").expect_err("not a form");
        assert_eq!(
            plain.errors[0].to_field_error(),
            FieldError::new(
                "",
                "send application/json or application/x-www-form-urlencoded"
            )
        );
        let array = parse(Some("application/json"), b"[1]").expect_err("not an object");
        assert_eq!(
            array.errors[0].to_field_error(),
            FieldError::new("", "the body must be a JSON object")
        );
    }

    #[test]
    fn the_form_escapes_what_it_shows_again() {
        let mut values = Map::new();
        values.insert(
            "description".into(),
            Value::String("<script>alert(1)</script>".into()),
        );
        let html = form_page(
            Lang::En,
            &[Mistake::new("scope", MistakeKind::Required)],
            &values,
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<html lang=\"en\">") && html.contains("role=\"alert\""));
        for (name, ..) in FIELDS {
            assert!(
                html.contains(&format!("<label for=\"{name}\">")),
                "{name} has a label"
            );
        }
        assert!(form_page(Lang::De, &[], &Map::new()).contains("Meldung absenden"));
    }

    #[test]
    fn the_german_form_names_its_mistakes_in_german() {
        let mut long = full();
        long["language"] = serde_json::json!("de");
        long["scope"] = serde_json::json!("x".repeat(limit_of("scope") + 1));
        long.as_object_mut().expect("object").remove("description");
        let form: String = long
            .as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| format!("{k}={}&", v.as_str().unwrap_or_default()))
            .collect();
        let rejected =
            parse(Some("application/x-www-form-urlencoded"), form.as_bytes()).expect_err("invalid");
        let html = form_page(rejected.lang, &rejected.errors, &rejected.values);
        for said in [
            "<a href=\"#scope\">Umfang</a>: darf höchstens 5000 Zeichen lang sein",
            "<a href=\"#description\">Beschreibung des Vorfalls</a>: ist ein Pflichtfeld",
        ] {
            assert!(html.contains(said), "{said} in {html}");
        }
        // The API says the same in English, by pointer.
        let api: Vec<FieldError> = rejected
            .errors
            .iter()
            .map(Mistake::to_field_error)
            .collect();
        assert!(api.contains(&FieldError::new(
            "/scope",
            "must be at most 5000 characters"
        )));
        assert!(api.contains(&FieldError::new("/description", "is required")));
    }

    #[test]
    fn security_txt_expires_a_year_ahead() {
        let now: kernel::time::Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        let txt = security_txt(
            "mailto:security@example.test",
            "https://x/policy",
            "https://x/.well-known/security.txt",
            now,
        );
        assert!(txt.contains("Expires: 2027-11-27T10:00:00Z"), "{txt}");
        assert!(txt.contains("Preferred-Languages: de, en"));
        assert!(txt.contains("\nContact: mailto:security@example.test\n"));
        assert!(txt.contains("Policy: https://x/policy\n"));
        assert!(txt.contains("# Trust page, every promise with its evidence: https://x/trust\n"));
        // Comments and fields only: every line is one or the other (RFC 9116, section 3).
        assert!(
            txt.lines().all(|l| l.starts_with("# ") || l.contains(": ")),
            "{txt}"
        );
    }
}
