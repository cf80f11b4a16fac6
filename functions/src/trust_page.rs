//! The trust page (`/trust`): the latest signed statement, checked against the published keys
//! and rendered — each promise in the page's words beside its evidence, the SLA's twelve months
//! as a chart. What the page shows is what the signature covers: it renders the verified
//! payload, never the stored copy beside it.

use maud::{Markup, html};
use trust::{Evidence, Section, Status, StoredStatement, TrustStatement, UptimeMonth};
use web::Lang;

use crate::routes::keys::CERTIFICATE_KEYS;
use crate::web::Page;
use crate::web::context::{current_lang, t};
use crate::web::format;

pub const TRUST: &str = "/trust";
pub const STATEMENT: &str = "/trust/statement.json";
pub const SUBPROCESSORS: &str = "/trust/subprocessors";
pub const SUBPROCESSORS_JSON: &str = "/trust/subprocessors.json";
pub const SUBPROCESSORS_FEED: &str = "/trust/subprocessors.atom";

/// Statements are made every 15 minutes (`schedules.json`); one older than this is stale, and
/// the page says so.
pub const STALE_AFTER: kernel::time::Period = kernel::time::Period::Hours(2);

/// A text of the trust crate in the page's language.
pub(crate) fn pick(text: &trust::Text) -> &str {
    match current_lang() {
        Lang::De => &text.de,
        Lang::En => &text.en,
    }
}

fn status_badge(status: Option<Status>) -> Markup {
    // Shape and words carry the status, not the colour alone.
    let (class, mark, label) = match status {
        Some(Status::Held) => ("status held", "✓", t("belegt", "shown to hold")),
        Some(Status::Failing) => ("status failing", "✗", t("nicht eingehalten", "not held")),
        Some(Status::Missing) => (
            "status missing",
            "?",
            t("Nachweis fehlt", "evidence missing"),
        ),
        None => (
            "status statement",
            "§",
            t("Zusage ohne Messung", "commitment, not measured"),
        ),
    };
    html! { span class=(class) { span aria-hidden="true" { (mark) " " } (label) } }
}

/// What the page says when there is no statement to show.
pub fn unavailable(reason: Markup) -> Page {
    let body = html! {
        h1 { (t("Vertrauen und Sicherheit", "Trust and security")) }
        div class="errors" role="status" { (reason) }
        p { (t("Jede Zusage wird erst mit ihrem Nachweis gezeigt.", "No promise is shown without its evidence.")) }
    };
    Page::new(t("Vertrauen und Sicherheit", "Trust and security"), body)
}

pub fn page(
    statement: &TrustStatement,
    stored: &StoredStatement,
    now: kernel::time::Timestamp,
) -> Page {
    let lang = current_lang();
    let (held, failing, missing) = statement.counts();
    let stale = STALE_AFTER
        .after(statement.issued_at)
        .map_or(true, |limit| limit < now);
    let body = html! {
        h1 { (t("Vertrauen und Sicherheit", "Trust and security")) }
        p class="lead" {
            (t("Jede Zusage unserer Vertrauensseite steht hier neben dem Nachweis, den das laufende System für sie liefert. ",
               "Each promise of our trust page stands here beside the evidence the running system gives for it. "))
            (t("Ein fehlender oder fehlschlagender Nachweis wird als solcher gezeigt, nie als eingehalten.",
               "Evidence that is missing or failing is shown as such, never as held."))
        }
        p {
            (t("Stand: ", "As of: ")) strong { (format::date_time(lang, statement.issued_at)) } ". "
            (t("Zeitraum der Zahlen: ", "Counts cover: ")) (format::date(lang, statement.period_start)) " – " (format::date(lang, statement.issued_at)) ". "
            (t("Die Erklärung ist signiert (EdDSA): ", "The statement is signed (EdDSA): "))
            a href=(STATEMENT) { (t("signierte Erklärung (JWS)", "signed statement (JWS)")) }
            (t(", prüfbar mit den ", ", verifiable with the "))
            a href=(CERTIFICATE_KEYS) { (t("veröffentlichten Schlüsseln", "published keys")) }
            " (" code { (stored.kid) } ")."
        }
        @if statement.environment != "production" {
            div class="errors" role="note" {
                p { strong { (t("Keine Produktionsumgebung: ", "Not the production environment: ")) }
                    (t("Diese Erklärung stammt aus der Umgebung ", "This statement comes from the environment "))
                    code { (statement.environment) } "." }
            }
        }
        @if stale {
            div class="errors" role="status" {
                p { strong { (t("Veraltet: ", "Stale: ")) }
                    (t("Die letzte Erklärung ist älter als ", "The latest statement is older than "))
                    (pick(&trust::evidence::hours(STALE_AFTER)))
                    (t("; sie wird sonst alle 15 Minuten erneuert.", "; it is otherwise renewed every 15 minutes.")) }
            }
        }
        section aria-labelledby="summary-title" {
            h2 id="summary-title" { (t("Zusammenfassung", "Summary")) }
            ul class="legend" {
                li { (status_badge(Some(Status::Held))) " " (held) }
                li { (status_badge(Some(Status::Failing))) " " (failing) }
                li { (status_badge(Some(Status::Missing))) " " (missing) }
            }
            nav aria-label=(t("Abschnitte", "Sections")) {
                ul class="toc" {
                    @for section in &statement.sections {
                        li { a href={ "#" (section.id) } { (pick(&section.title)) } " " (status_badge(section.status())) }
                    }
                }
            }
        }
        @for section in &statement.sections {
            (section_markup(section))
        }
        p class="muted" {
            (t("Sicherheitsproblem gefunden? ", "Found a security problem? "))
            a href="/security/report" { (t("Vertraulich melden", "Report it confidentially")) }
            " · " a href="/.well-known/security.txt" { "security.txt" }
        }
    };
    Page::new(t("Vertrauen und Sicherheit", "Trust and security"), body)
}

fn section_markup(section: &Section) -> Markup {
    html! {
        section class="promise" aria-labelledby={ (section.id) "-title" } {
            h2 id=(section.id) { span id={ (section.id) "-title" } { (pick(&section.title)) } " " (status_badge(section.status())) }
            p class="promise-text" { (pick(&section.promise)) }
            @for evidence in &section.evidence {
                (evidence_markup(evidence))
            }
        }
    }
}

fn evidence_markup(evidence: &Evidence) -> Markup {
    let lang = current_lang();
    let heading_id = format!("evidence-{}", evidence.id.replace('.', "-"));
    html! {
        article class={ "evidence " (match evidence.status { Status::Held => "held", Status::Failing => "failing", Status::Missing => "missing" }) }
            aria-labelledby=(heading_id) {
            h3 id=(heading_id) { (pick(&evidence.title)) " " (status_badge(Some(evidence.status))) }
            p { (pick(&evidence.finding)) }
            @if !evidence.months.is_empty() {
                (uptime_figure(&evidence.months))
            }
            @if !evidence.facts.is_empty() {
                dl {
                    @for fact in &evidence.facts {
                        dt { (pick(&fact.label)) }
                        dd { (pick(&fact.value)) }
                    }
                }
            }
            p class="muted" {
                @match evidence.as_of {
                    Some(at) => { (t("Nachweis vom ", "Evidence of ")) (format::date_time(lang, at)) }
                    None => { (t("Kein Nachweis vorhanden.", "No evidence available.")) }
                }
            }
        }
    }
}

fn month_label(month: &str) -> String {
    let mut parts = month.splitn(2, '-');
    match (
        parts.next().and_then(|y| y.parse::<i16>().ok()),
        parts.next().and_then(|m| m.parse::<i8>().ok()),
    ) {
        (Some(year), Some(m)) => format::month_name(current_lang(), year, m),
        _ => month.to_string(),
    }
}

fn uptime_figure(months: &[UptimeMonth]) -> Markup {
    let target = kernel::policy::MONTHLY_UPTIME_TARGET;
    let target_percent = f64::from(target.0) / 100.0;
    let title = t(
        "Monatliche Verfügbarkeit, letzte zwölf Monate und dieser Monat",
        "Monthly uptime, the last twelve months and this month",
    );
    let description = t(
        "Ein Balken je Monat; rot unter der Zusage, grün darüber, grau ohne Messung; gestrichelt die zugesagte Linie. Die Tabelle darunter nennt dieselben Zahlen.",
        "One bar per month; red below the promise, green above it, grey without measurements; dashed, the promised line. The table below gives the same figures.",
    );
    html! {
        figure class="chart" {
            (crate::portal::chart::year_chart(months, target_percent, title, description))
            figcaption {
                ul class="legend" {
                    li { span class="swatch up" {} (t("zugesagte Verfügbarkeit erreicht", "promised uptime met")) }
                    li { span class="swatch down" {} (t("unter der Zusage", "below the promise")) }
                    li { span class="swatch future" {} (t("laufender Monat (bisher)", "this month (so far)")) }
                    li { span class="swatch none" {} (t("keine Messung", "no measurements")) }
                }
            }
        }
        table {
            caption class="visually-hidden" { (title) }
            thead { tr {
                th scope="col" { (t("Monat", "Month")) }
                th scope="col" class="num" { (t("Verfügbarkeit", "Uptime")) }
                th scope="col" { (t("Zusage", "Promise")) }
                th scope="col" class="num" { (t("Geplante Wartung", "Planned maintenance")) }
            } }
            tbody {
                @for month in months {
                    tr {
                        th scope="row" { (month_label(&month.month)) @if !month.complete { " " (t("(bisher)", "(so far)")) } }
                        td class="num" { @match &month.uptime { Some(u) => { (localised_percent(u)) }, None => { "–" } } }
                        td {
                            @match (month.met, month.uptime.is_some()) {
                                (Some(true), _) => { span class="good" { "✓ " (t("eingehalten", "met")) } }
                                (Some(false), _) => { span class="bad" { "✗ " (t("verfehlt", "missed")) } }
                                (None, true) => { span class="muted" { (t("läuft noch", "still running")) } }
                                (None, false) => { span class="muted" { (t("keine Messung", "no measurements")) } }
                            }
                        }
                        td class="num" { @if month.planned_maintenance_windows > 0 { (format::duration(month.planned_maintenance_seconds)) " (" (month.planned_maintenance_windows) ")" } @else { "–" } }
                    }
                }
            }
        }
    }
}

/// "99.512 %" as the page's language writes it.
fn localised_percent(text: &str) -> String {
    match current_lang() {
        Lang::De => text.replace('.', ","),
        Lang::En => text.to_string(),
    }
}

/// The sub-processors table (the public page and the portal share it).
pub fn subprocessors_table(list: &[trust::subprocessors::SubProcessor]) -> Markup {
    html! {
        table {
            caption class="visually-hidden" { (t("Unterauftragsverarbeiter", "Sub-processors")) }
            thead { tr {
                th scope="col" { (t("Unternehmen", "Company")) }
                th scope="col" { (t("Zweck", "Purpose")) }
                th scope="col" { (t("Daten", "Data")) }
                th scope="col" { (t("Ort", "Location")) }
                th scope="col" { (t("Übermittlung", "Transfer")) }
            } }
            tbody {
                @for p in list {
                    tr {
                        th scope="row" { (p.name) }
                        td { (pick(&p.purpose)) }
                        td { (pick(&p.data)) }
                        td { (pick(&p.location)) }
                        td { (pick(&p.transfer)) }
                    }
                }
            }
        }
    }
}

/// One announced change in words, with its dates.
pub fn change_markup(
    change: &trust::subprocessors::Change,
    everyone: &[trust::subprocessors::SubProcessor],
    now: kernel::time::Timestamp,
) -> Markup {
    let lang = current_lang();
    html! {
        h3 id=(change.id.to_string()) { (pick(&change.summary(everyone))) }
        p { (pick(&change.reason)) }
        p {
            (t("Angekündigt am ", "Announced on ")) (format::date(lang, change.announced_at)) "; "
            @if change.in_effect(now) {
                (t("wirksam seit ", "in effect since ")) (format::date_time(lang, change.effective_at)) "."
            } @else {
                strong { (t("wirksam ab ", "in effect from ")) (format::date_time(lang, change.effective_at)) }
                (t(" — bis dahin können Kunden im Kundenportal widersprechen.", " — until then customers can object in the customer portal."))
            }
        }
    }
}

/// `/trust/subprocessors`: today's list, planned and past changes, the feed and the JSON.
pub fn subprocessors_page(
    list: &[trust::subprocessors::SubProcessor],
    changes: &[trust::subprocessors::Change],
    now: kernel::time::Timestamp,
) -> Page {
    let everyone = trust::subprocessors::everyone(changes);
    let (planned, past): (Vec<_>, Vec<_>) = changes.iter().partition(|c| !c.in_effect(now));
    let body = html! {
        h1 { (t("Unterauftragsverarbeiter", "Sub-processors")) }
        p class="lead" { (t(
            "Diese Unternehmen verarbeiten in unserem Auftrag personenbezogene Daten unserer Kunden (Art. 28 Abs. 2 und 4 DSGVO). Eine Änderung kündigen wir jedem Administrator unserer Kunden vorab per E-Mail an; bis sie wirksam wird, können Kunden im Kundenportal widersprechen.",
            "These companies process our customers' personal data on our behalf (Art. 28(2) and (4) GDPR). We announce a change to every customer admin by e-mail in advance; until it takes effect, customers can object in the customer portal.",
        )) }
        p {
            (t("Maschinenlesbar: ", "Machine-readable: ")) a href=(SUBPROCESSORS_JSON) { "JSON" }
            " · " a href=(SUBPROCESSORS_FEED) { (t("Atom-Feed der Änderungen", "Atom feed of changes")) }
            " · " a href=(TRUST) { (t("Vertrauensseite", "Trust page")) }
        }
        h2 { (t("Heute", "Today")) }
        (subprocessors_table(list))
        h2 { (t("Geplante Änderungen", "Planned changes")) }
        @if planned.is_empty() {
            p { (t("Keine.", "None.")) }
        }
        @for change in &planned {
            (change_markup(change, &everyone, now))
        }
        @if !past.is_empty() {
            h2 { (t("Frühere Änderungen", "Earlier changes")) }
            @for change in past.iter().rev() {
                (change_markup(change, &everyone, now))
            }
        }
    };
    Page::new(t("Unterauftragsverarbeiter", "Sub-processors"), body)
}
