//! Times and money as people read them: Europe/Berlin with the offset shown
//! ("03.12.2026, 15:07 (UTC+01:00)" / "3 Dec 2026, 15:07 (UTC+01:00)"), euros as "1.234,56 €" /
//! "€1,234.56".

use kernel::money::Money;
use kernel::time::{Timestamp, company_time_zone, in_company_time};
use web::Lang;

/// A `datetime-local` value (`2026-11-03T10:15`) read as Europe/Berlin time; in the hour that
/// happens twice in October the earlier is taken.
pub fn local_time(raw: &str) -> Option<Timestamp> {
    let civil: jiff::civil::DateTime = raw.trim().parse().ok()?;
    company_time_zone().to_timestamp(civil).ok()
}

/// A time as a `datetime-local` field's value, in company time.
pub fn local_input(at: Timestamp) -> String {
    in_company_time(at).strftime("%Y-%m-%dT%H:%M").to_string()
}

/// How long from `from` to `to` (either order), as a countdown reads: "47 h 05 min" (hours up
/// to four days, the span of the 48- and 72-hour clocks), "12 min", beyond that "31 d 4 h".
pub fn remaining(from: Timestamp, to: Timestamp) -> String {
    let minutes = (to.as_second() - from.as_second()).unsigned_abs() / 60;
    let (hours, mins) = (minutes / 60, minutes % 60);
    if hours >= 96 {
        format!("{} d {} h", hours / 24, hours % 24)
    } else if hours > 0 {
        format!("{hours} h {mins:02} min")
    } else {
        format!("{mins} min")
    }
}

pub use web::lang::date_time;

pub fn date(lang: Lang, at: Timestamp) -> String {
    let zoned = in_company_time(at);
    zoned
        .strftime(lang.pick("%d.%m.%Y", "%-d %b %Y"))
        .to_string()
}

/// `2026-11` as "November 2026" (both languages).
pub fn month_name(lang: Lang, year: i16, month: i8) -> String {
    const DE: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let index = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    format!("{} {year}", lang.pick(DE, EN)[index])
}

pub fn money(lang: Lang, amount: &Money) -> String {
    let sign = if amount.minor < 0 { "-" } else { "" };
    let abs = amount.minor.unsigned_abs();
    let (whole, cents) = (abs / 100, abs % 100);
    let (group, decimal) = lang.pick(('.', ','), (',', '.'));
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let number = format!("{grouped}{decimal}{cents:02}");
    let code = amount.currency.code().to_ascii_uppercase();
    match (lang, code.as_str()) {
        (Lang::De, "EUR") => format!("{sign}{number}\u{a0}€"),
        (Lang::En, "EUR") => format!("{sign}€{number}"),
        (Lang::De, code) => format!("{sign}{number}\u{a0}{code}"),
        (Lang::En, code) => format!("{sign}{code}\u{a0}{number}"),
    }
}

/// A duration in words: "2 h 5 min" / "45 s".
pub fn duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// What a stored record kind holds, in words (deletion certificates count by kind). Exhaustive:
/// a new kind of record needs its words here.
pub fn record_kind(lang: Lang, kind: kernel::inventory::RecordKind) -> &'static str {
    use kernel::inventory::RecordKind::*;
    let (de, en) = match kind {
        DataKey => ("Datenschlüssel", "data keys"),
        PlatformDataKey => ("Plattform-Datenschlüssel", "platform data keys"),
        Tenant => ("Unternehmensprofil", "company profile"),
        SecurityReport => ("Sicherheitsmeldungen", "security reports"),
        Incident => ("Vorfallakten", "incident files"),
        TenantIncidentLink => ("Verweise auf Vorfälle", "links to incidents"),
        OutboxMessage => ("Nachrichten", "messages"),
        AuditEntry => ("Protokolleinträge", "audit entries"),
        StripeEvent => ("Stripe-Ereignisse", "Stripe events"),
        StripeEventCount => ("Stripe-Ereigniszähler", "Stripe event counts"),
        StripeCustomer => ("Stripe-Kundenverknüpfung", "Stripe customer link"),
        StripeSubscription => ("Abonnements", "subscriptions"),
        StripeInvoice => ("Rechnungen", "invoices"),
        Credit => ("Gutschriften", "credits"),
        Export => ("Datenexporte", "data exports"),
        RetentionState => ("Löschplan", "deletion plan"),
        DeletionCertificate => ("Löschbescheinigungen", "deletion certificates"),
        LegalHold => ("Aufbewahrungspflichten", "legal holds"),
        SlaTarget => ("Messziele", "probe targets"),
        SlaProbeDay => ("Messtage", "measured days"),
        SlaOutage => ("Ausfälle", "outages"),
        SlaExclusion => ("SLA-Ausnahmen", "SLA exclusions"),
        SlaClaim => ("Gutschriftsanträge", "credit claims"),
        SlaMonthCredit => ("SLA-Monatsgutschriften", "SLA month credits"),
        SlaMonthSummary => ("SLA-Monatsberichte", "SLA month summaries"),
        TrustStatement => ("Vertrauenserklärung", "trust statement"),
        SubprocessorChange => (
            "Änderungen der Unterauftragsverarbeiter",
            "changes of sub-processors",
        ),
        SubprocessorObjection => (
            "Einsprüche gegen Unterauftragsverarbeiter",
            "objections to sub-processors",
        ),
        InstructionsAcknowledgement => ("bestätigte Weisungen", "acknowledged instructions"),
        StaffUser => ("Mitarbeiterkonten", "staff accounts"),
        TenantUser => ("Benutzerkonten", "user accounts"),
        TenantRole => ("eigene Rollen", "custom roles"),
        SignInChallenge => ("Anmeldeschritte", "sign-in steps"),
        RefreshToken => ("Sitzungsschlüssel", "session tokens"),
        TokenFamily => ("Sitzungen", "sessions"),
        IdempotencyRecord => ("Wiederholungsschutz", "retry records"),
        ServiceEndRequest => ("Anträge zum Dienstende", "service end requests"),
    };
    lang.pick(de, en)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::money::Currency;

    #[test]
    fn money_reads_as_in_each_language() {
        let fee = Money::new(2_495, Currency::EUR);
        assert_eq!(money(Lang::De, &fee), "24,95\u{a0}€");
        assert_eq!(money(Lang::En, &fee), "€24.95");
        let big = Money::new(123_456_789, Currency::EUR);
        assert_eq!(money(Lang::De, &big), "1.234.567,89\u{a0}€");
        assert_eq!(money(Lang::En, &big), "€1,234,567.89");
        assert_eq!(money(Lang::En, &Money::new(-5, Currency::EUR)), "-€0.05");
    }

    #[test]
    fn countdowns_read_in_hours_within_the_notification_clocks() {
        let at = |s: &str| -> Timestamp { s.parse().expect("time") };
        let now = at("2026-11-20T09:00:00Z");
        assert_eq!(remaining(now, at("2026-11-22T09:00:00Z")), "48 h 00 min");
        assert_eq!(remaining(now, at("2026-11-20T09:12:30Z")), "12 min");
        assert_eq!(remaining(now, at("2026-11-24T10:00:00Z")), "4 d 1 h");
        // Overdue reads the same way, from the other side.
        assert_eq!(remaining(at("2026-11-20T12:05:00Z"), now), "3 h 05 min");
    }

    #[test]
    fn times_are_berlin_time_with_the_offset() {
        let winter: Timestamp = "2026-12-03T14:07:00Z".parse().expect("time");
        assert_eq!(date_time(Lang::De, winter), "03.12.2026, 15:07 (UTC+01:00)");
        assert_eq!(date_time(Lang::En, winter), "3 Dec 2026, 15:07 (UTC+01:00)");
        let summer: Timestamp = "2026-07-01T10:00:00Z".parse().expect("time");
        assert_eq!(date_time(Lang::De, summer), "01.07.2026, 12:00 (UTC+02:00)");
        assert_eq!(month_name(Lang::De, 2026, 3), "März 2026");
        assert_eq!(duration(7_500), "2 h 5 min");
    }
}
