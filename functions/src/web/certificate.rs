//! A deletion certificate in words: the stage, when, what was deleted (counts by kind of
//! record), what a legal hold kept, the keys destroyed and the backups' expiry. Printable (the
//! stylesheet hides navigation and forms in print).

use maud::{Markup, html};
use retention::{DeletionCertificate, Stage};

use super::context::{current_lang, t};
use super::format::{date, date_time, record_kind};

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Stage1 => t(
            "Stufe 1: personenbezogene Daten (30 Tage nach Dienstende)",
            "Stage 1: personal data (30 days after the service ended)",
        ),
        Stage::Stage2 => t(
            "Stufe 2: verbleibende Kopien (ein weiteres Jahr danach)",
            "Stage 2: remaining copies (a further year on)",
        ),
        Stage::HoldRelease => t(
            "Nach Ende einer Aufbewahrungspflicht",
            "After a legal hold ended",
        ),
    }
}

/// A certificate's scope in the page's language: the German words where the signed English
/// ones are the stage's current text; otherwise exactly what was signed.
pub fn scope(c: &DeletionCertificate) -> &str {
    let stage = c.stage;
    if c.scope == retention::service::scope_text(stage) {
        t(
            retention::service::scope_text_de(stage),
            retention::service::scope_text(stage),
        )
    } else {
        &c.scope
    }
}

pub fn certificate(c: &DeletionCertificate) -> Markup {
    let lang = current_lang();
    let total: u64 = c.deleted.values().sum();
    html! {
        p class="lead" { (stage_name(c.stage)) }
        dl {
            dt { (t("Unternehmen", "Company")) } dd { (c.tenant) }
            dt { (t("Bescheinigung", "Certificate")) } dd { code { (c.id) } }
            dt { (t("Dienstende", "Service ended")) } dd { (date_time(lang, c.service_ended_at)) }
            dt { (t("Löschung begonnen", "Deletion started")) } dd { (date_time(lang, c.started_at)) }
            dt { (t("Löschung abgeschlossen", "Deletion finished")) } dd { (date_time(lang, c.finished_at)) }
            dt { (t("Letzte Sicherung läuft ab", "Last backup expires")) } dd { (date_time(lang, c.backups_expire_by)) }
            dt { (t("Endgültige Löschung verlangt", "Final deletion asked for")) }
            dd { (if c.final_deletion_requested { t("ja", "yes") } else { t("nein", "no") }) }
        }
        h2 { (t("Umfang", "Scope")) }
        p class="prose" { (scope(c)) }
        h2 { (t("Gelöscht", "Deleted")) }
        p { (total) " " (t("Einträge insgesamt.", "items in all.")) }
        @if !c.deleted.is_empty() {
            table {
                caption class="muted" { (t("Gelöschte Einträge nach Art", "Items deleted by kind")) }
                thead { tr {
                    th scope="col" { (t("Art", "Kind")) }
                    th scope="col" class="num" { (t("Anzahl", "Count")) }
                } }
                tbody {
                    @for (kind, count) in &c.deleted {
                        tr { td { (record_kind(lang, *kind)) } td class="num" { (count) } }
                    }
                }
            }
        }
        @if !c.kept_under_hold.is_empty() || !c.holds.is_empty() {
            h2 { (t("Wegen Aufbewahrungspflicht behalten", "Kept under a legal hold")) }
            ul {
                @for (kind, count) in &c.kept_under_hold {
                    li { (record_kind(lang, *kind)) ": " (count) }
                }
                @for hold in &c.holds {
                    li { (hold.legal_basis) " – " (t("bis ", "until ")) (date(lang, hold.until)) }
                }
            }
        }
        h2 { (t("Vernichtete Schlüssel", "Keys destroyed")) }
        p { (t(
            "Mit diesen Datenschlüsseln ist jede Kopie unlesbar geworden, die sie verschlüsselt hatten – auch in Sicherungen:",
            "With these data keys destroyed, every copy they encrypted is unreadable, backups included:",
        )) }
        @if c.keys_destroyed.is_empty() {
            p class="muted" { (t("keine", "none")) }
        } @else {
            ul { @for key in &c.keys_destroyed { li { code { (key) } } } }
        }
    }
}
