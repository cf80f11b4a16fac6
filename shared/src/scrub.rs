//! Card data never reaches a store: the scrubber replaces anything card-like in free text —
//! digit runs of 13 to 19 digits (spaces and hyphens allowed between digits) that pass the Luhn
//! check, and card verification codes written next to their name (CVC, CVV, security code,
//! Kartenprüfnummer) — with a marker. It runs on every text the platform stores, security
//! reports included: the intake and the services scrub before sealing, and the store's
//! inventory guard scrubs every plain string of every record written.

use std::sync::LazyLock;

/// What a card verification code is replaced with.
pub const CODE_MARKER: &str = "[card code removed]";

static CARD_CODE: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)\b(cvc2?|cvv2?|cvn|csc|card\s+security\s+code|security\s+code|sicherheitscode|kartenprüfnummer|prüfnummer|prüfziffer)\b([\s:=#\-]{0,4}(?:is\s+|ist\s+|lautet\s+)?)(\d{3,4})\b",
    )
    .ok()
});

/// Everything card-like removed: card numbers and card verification codes.
pub fn scrub(text: &str) -> (String, usize) {
    let (text, numbers) = scrub_card_numbers(text);
    let (text, codes) = scrub_card_codes(&text);
    (text, numbers + codes)
}

/// Replaces card verification codes that follow their name.
pub fn scrub_card_codes(text: &str) -> (String, usize) {
    let Some(re) = CARD_CODE.as_ref() else {
        return (text.to_string(), 0);
    };
    let mut count = 0;
    let out = re.replace_all(text, |caps: &regex::Captures<'_>| {
        count += 1;
        format!("{}{}{CODE_MARKER}", &caps[1], &caps[2])
    });
    (out.into_owned(), count)
}

/// What a scrubbed card number is replaced with.
pub const CARD_MARKER: &str = "[card number removed]";

/// Returns `text` with every card-like number replaced, and how many were replaced.
pub fn scrub_card_numbers(text: &str) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut replaced = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) {
            // The longest run of digits with single spaces or hyphens between them.
            let mut digits = Vec::new();
            let mut j = i;
            let mut end = i;
            while j < chars.len() {
                if chars[j].is_ascii_digit() {
                    digits.push(chars[j]);
                    j += 1;
                    end = j;
                } else if (chars[j] == ' ' || chars[j] == '-')
                    && j + 1 < chars.len()
                    && chars[j + 1].is_ascii_digit()
                    && digits.len() < 19
                {
                    j += 1;
                } else {
                    break;
                }
            }
            let followed_by_word = end < chars.len() && chars[end].is_ascii_alphanumeric();
            if let Some(len) = card_prefix(&digits).filter(|_| !followed_by_word) {
                // Consume exactly the characters holding `len` digits.
                let mut seen = 0;
                let mut k = i;
                while seen < len {
                    if chars[k].is_ascii_digit() {
                        seen += 1;
                    }
                    k += 1;
                }
                out.push_str(CARD_MARKER);
                replaced += 1;
                i = k;
                continue;
            }
            for c in &chars[i..end] {
                out.push(*c);
            }
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, replaced)
}

/// The length of a card number the digit run consists of: the whole run, 13–19 digits, passing
/// the Luhn check.
fn card_prefix(digits: &[char]) -> Option<usize> {
    let len = digits.len();
    ((13..=19).contains(&len) && luhn(digits)).then_some(len)
}

fn luhn(digits: &[char]) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.iter().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap_or(0);
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_removed_in_any_common_spelling() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "378282246310005",
            "6011000990139424",
        ] {
            let (out, n) = scrub_card_numbers(&format!("paid with {card}, thanks"));
            assert_eq!(n, 1, "{card}");
            assert_eq!(out, format!("paid with {CARD_MARKER}, thanks"));
            assert!(!out.contains("1111"));
        }
    }

    #[test]
    fn other_numbers_stay() {
        for text in [
            "order 4111111111111112 (fails Luhn)",
            "call +49 30 1234567",
            "IBAN DE89 3704 0044 0532 0130 00",
            "CVE-2024-3094 and 2026-11-27",
            "id abc4111111111111111",
            "12345",
        ] {
            let (out, n) = scrub_card_numbers(text);
            assert_eq!(n, 0, "{text}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn card_codes_next_to_their_name_are_removed() {
        for (text, expected) in [
            ("CVC: 123", format!("CVC: {CODE_MARKER}")),
            ("cvv2=4567 please", format!("cvv2={CODE_MARKER} please")),
            (
                "security code is 999.",
                format!("security code is {CODE_MARKER}."),
            ),
            (
                "Die Kartenprüfnummer lautet 321",
                format!("Die Kartenprüfnummer lautet {CODE_MARKER}"),
            ),
        ] {
            assert_eq!(scrub(text), (expected, 1), "{text}");
        }
        for text in ["CVE-2024-3094", "port 443", "cvc 12345", "csc12 345"] {
            assert_eq!(scrub(text), (text.to_string(), 0), "{text}");
        }
    }

    #[test]
    fn several_cards_and_unicode_around_them() {
        let (out, n) =
            scrub_card_numbers("Karten: 4111111111111111 und 5555 5555 5555 4444 — bitte löschen");
        assert_eq!(n, 2);
        assert_eq!(
            out,
            format!("Karten: {CARD_MARKER} und {CARD_MARKER} — bitte löschen")
        );
    }
}
