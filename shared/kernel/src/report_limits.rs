//! The security-report form's field limits, in characters: one source for the edge, which
//! refuses an over-long field before anything is stored, and for the incidents area, which
//! checks every submission again.

/// Each field of the public report form with its longest accepted length.
pub const REPORT_LIMITS: [(&str, usize); 6] = [
    ("description", 20_000),
    ("affected_parties", 5_000),
    ("personal_data_kind", 2_000),
    ("scope", 5_000),
    ("impact_assessment", 10_000),
    ("reporter_contact", 320),
];

/// The reporter's status page (the edge serves it; mails to reporters link to it with `?id=`).
pub const STATUS_PAGE: &str = "/security/reports/status";

/// The field the edge adds to a report it forwards: how many card numbers it removed from the
/// text (the function sees only the clean text). Never a field a reporter sends.
pub const CARDS_REMOVED_AT_EDGE: &str = "card_numbers_removed_at_edge";

/// The limit for fields the form does not list (for example the language tag).
pub const OTHER_FIELD_LIMIT: usize = 1_000;

/// The limit of one field of the report form.
pub fn limit_of(field: &str) -> usize {
    REPORT_LIMITS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(OTHER_FIELD_LIMIT, |(_, l)| *l)
}
