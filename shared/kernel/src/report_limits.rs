//! The security-report form's field limits, in characters: one source for the edge, which
//! refuses an over-long field before anything is stored, and for the incidents area, which
//! checks every submission again.

/// Each field of the public report form with its longest accepted length: the five the trust
/// page names (required), the contact, and what a security researcher may add (optional).
pub const REPORT_LIMITS: [(&str, usize); 9] = [
    ("description", 20_000),
    ("affected_parties", 5_000),
    ("personal_data_kind", 2_000),
    ("scope", 5_000),
    ("impact_assessment", 10_000),
    ("reporter_contact", 320),
    ("affected_product", 2_000),
    ("steps_to_reproduce", 20_000),
    ("cvss_vector", 200),
];

/// A CVSS v4.0 base score with its severity, from a reporter's vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CvssScore {
    pub score: f64,
    /// `none`, `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
}

/// Reads a CVSS v4.0 vector (`CVSS:4.0/AV:N/AC:L/…`, the base metrics at least) and scores it
/// (RustSec's `cvss`); anything longer than the field's limit is refused before it is parsed.
pub fn cvss_v4(vector: &str) -> Result<CvssScore, String> {
    let vector = vector.trim();
    if vector.chars().count() > limit_of("cvss_vector") {
        return Err("is longer than a CVSS vector".into());
    }
    let parsed: cvss::v4::Vector = vector
        .parse()
        .map_err(|e| format!("is not a CVSS v4.0 vector ({e})"))?;
    let severity = parsed.score().severity().as_str();
    Ok(CvssScore {
        score: parsed.score().value(),
        severity,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cvss_v4_vector_is_scored_and_anything_else_refused() {
        // A published CVSS v4.0 record (JSON schema form, as NVD lists it) gives this vector
        // `"baseScore": 9.3, "baseSeverity": "CRITICAL"`.
        let scored = cvss_v4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")
            .expect("a base vector");
        assert_eq!(scored.severity, "critical");
        assert!((scored.score - 9.3).abs() < 1e-9, "{scored:?}");
        for bad in [
            "",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N",
            "CVSS:4.0/AV:X/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "' OR 1=1 --",
        ] {
            assert!(cvss_v4(bad).is_err(), "{bad}");
        }
        assert!(cvss_v4(&"CVSS:4.0/".repeat(100)).is_err());
    }
}
