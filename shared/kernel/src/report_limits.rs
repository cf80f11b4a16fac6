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

/// A message between a reporter and the security team (the status page's reply field), at most
/// this many characters.
pub const MESSAGE_LIMIT: usize = 5_000;

/// At most this many messages on one report (both directions together): the conversation is
/// stored with the report, and past this a new report is the way on.
pub const MESSAGES_PER_REPORT: usize = 40;

/// Where the status page's reply form posts (the edge reads it and asks the incidents function
/// at the same path).
pub const STATUS_MESSAGES: &str = "/security/reports/status/messages";

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
