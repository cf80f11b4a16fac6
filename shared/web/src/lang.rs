//! German and English. A page's language comes from, in order: `?lang=` (the switch on every
//! page, which the pages then remember in a cookie), that cookie, the browser's
//! `Accept-Language` (by its weights), and German, the company's language.

/// The cookie that remembers the switch (not a secret: no `HttpOnly` needed, still `__Host-`).
pub const LANG_COOKIE: &str = "__Host-regrooter-lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    De,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::De, Lang::En];

    /// The BCP 47 tag (`lang` attribute, cookie value, `?lang=`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// The language's name in itself (for the switch).
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim() {
            c if c.eq_ignore_ascii_case("de") => Some(Lang::De),
            c if c.eq_ignore_ascii_case("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// `?lang=` of a query string.
    pub fn from_query(query: Option<&str>) -> Option<Lang> {
        query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .and_then(Lang::parse)
    }

    /// The best of our two languages for an `Accept-Language` header: the highest weight wins,
    /// the earlier on a tie; `de-AT` counts as `de`; `q=0` means "not this one".
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(u16, Lang)> = None;
        // Bounded: a hostile header of thousands of entries is read only so far.
        for entry in header.split(',').take(32) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(1000, quality);
            if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The page's language from the query, the remembered cookie and the header.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        Lang::from_query(query)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::De)
    }

    /// Picks the German or the English text.
    pub fn pick<T>(self, de: T, en: T) -> T {
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }
}

/// An RFC 9110 weight (`0`, `0.8`, `1.000`) in thousandths; unreadable counts as 0.
fn quality(raw: &str) -> u16 {
    let raw = raw.trim();
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let digits = format!("{frac:0<3}");
    match (int, digits.parse::<u16>()) {
        ("1", Ok(0)) => 1000,
        ("0", Ok(f)) => f,
        _ => 0,
    }
}

/// An instant as people read it, in the company's time with its offset: "20.11.2026, 10:00
/// (UTC+01:00)" / "20 Nov 2026, 10:00 (UTC+01:00)" — on the pages and on the edge's status page.
pub fn date_time(lang: Lang, at: kernel::time::Timestamp) -> String {
    let zoned = kernel::time::in_company_time(at);
    let pattern = lang.pick("%d.%m.%Y, %H:%M (UTC%:z)", "%-d %b %Y, %H:%M (UTC%:z)");
    zoned.strftime(pattern).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_read_by_weight() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, de;q=0.8"),
            Some(Lang::De)
        );
        assert_eq!(Lang::from_accept_language("de-AT"), Some(Lang::De));
        assert_eq!(
            Lang::from_accept_language("en;q=0, de;q=0.1"),
            Some(Lang::De)
        );
        assert_eq!(Lang::from_accept_language("en;q=0"), None);
        assert_eq!(Lang::from_accept_language("fr, it"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=2, de;q=0.3"),
            Some(Lang::De)
        );
        assert_eq!(Lang::from_accept_language("*"), None);
    }

    #[test]
    fn the_switch_beats_the_cookie_beats_the_header() {
        assert_eq!(
            Lang::negotiate(Some("a=1&lang=en"), Some("de"), Some("de")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("en"), Some("de")), Lang::En);
        assert_eq!(
            Lang::negotiate(Some("lang=xx"), Some("zz"), Some("en-US")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, None, None), Lang::De);
    }
}
