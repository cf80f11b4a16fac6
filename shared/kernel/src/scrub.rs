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

/// Most separator characters written between two digit groups ("4111  1111", "4111 - 1111").
const MAX_SEPARATOR_RUN: usize = 3;
/// An alphanumeric token at least this long made only of hex digits is a digest or key id (audit
/// hashes, key ids), not text around a card number.
const MIN_DIGEST_LEN: usize = 32;

/// The value of a decimal digit in any of the scripts card numbers get typed in: ASCII,
/// full-width (CJK input methods), Arabic-Indic, Persian, Devanagari, Bengali, and the
/// mathematical digits (bold, double-struck, …) that copy-paste tricks use.
fn digit_value(c: char) -> Option<u8> {
    let code = u32::from(c);
    let from = |zero: u32| u8::try_from(code - zero).ok();
    match code {
        0x30..=0x39 => from(0x30),
        0xFF10..=0xFF19 => from(0xFF10),
        0x0660..=0x0669 => from(0x0660),
        0x06F0..=0x06F9 => from(0x06F0),
        0x0966..=0x096F => from(0x0966),
        0x09E6..=0x09EF => from(0x09E6),
        0x1D7CE..=0x1D7FF => u8::try_from((code - 0x1D7CE) % 10).ok(),
        _ => None,
    }
}

/// Characters written between digit groups: any space, hyphens and dashes, dots (full-width
/// forms included).
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' | '\u{FF0E}' | '\u{30FB}'
        )
}

/// A maximal run of digits, by character positions.
struct Group {
    start: usize,
    end: usize,
    digits: Vec<u8>,
}

/// Returns `text` with every card-like number replaced, and how many were replaced.
///
/// A number is a chain of digit groups with short separator runs between them. Any run of whole
/// groups holding 13 to 19 digits, starting with an issuer digit (1–6) and passing the Luhn
/// check, is a card number — so digits written before or after a card (an expiry, a reference)
/// do not hide it. A chain is not text around a card when it continues into letters or digits
/// (`4111…ab`: an identifier), when it lies inside a hex digest, or when it is a valid IBAN.
/// Letters glued before the number do not hide it. Each character is looked at a bounded
/// number of times: the scrubber is linear in its input.
pub fn scrub_card_numbers(text: &str) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut replaced = 0;
    let mut copied = 0; // chars[..copied] are in `out` (or replaced)
    let mut i = 0;
    // The digest check's verdict for the alphanumeric token ending at `.0`.
    let mut token: Option<(usize, bool)> = None;
    while i < chars.len() {
        let starts_chain =
            digit_value(chars[i]).is_some() && (i == 0 || digit_value(chars[i - 1]).is_none());
        if !starts_chain {
            i += 1;
            continue;
        }
        let glued = i > 0 && chars[i - 1].is_alphanumeric();
        if glued {
            let (end, is_digest) = match token {
                Some((end, verdict)) if end > i => (end, verdict),
                _ => {
                    let verdict = digest_token(&chars, i);
                    token = Some(verdict);
                    verdict
                }
            };
            if is_digest {
                i = end;
                continue;
            }
        }
        let groups = chain(&chars, i);
        let Some(last) = groups.last() else {
            i += 1;
            continue;
        };
        let chain_end = last.end;
        let continues_into_word = chars.get(chain_end).is_some_and(|c| c.is_alphanumeric());
        if !is_iban(&chars, i, &groups) {
            let mut g = 0;
            while g < groups.len() {
                match card_at(&groups, g, continues_into_word) {
                    Some(h) => {
                        out.extend(&chars[copied..groups[g].start]);
                        out.push_str(CARD_MARKER);
                        copied = groups[h].end;
                        replaced += 1;
                        g = h + 1;
                    }
                    None => g += 1,
                }
            }
        }
        i = chain_end;
    }
    out.extend(&chars[copied..]);
    (out, replaced)
}

/// The end of the alphanumeric token around `i` and whether it is a hex digest.
fn digest_token(chars: &[char], i: usize) -> (usize, bool) {
    let mut start = i;
    while start > 0 && chars[start - 1].is_ascii_alphanumeric() {
        start -= 1;
    }
    let mut end = i;
    while end < chars.len() && chars[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let is_digest =
        end - start >= MIN_DIGEST_LEN && chars[start..end].iter().all(char::is_ascii_hexdigit);
    (end, is_digest)
}

/// The digit groups of the chain starting at `i`.
fn chain(chars: &[char], i: usize) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut j = i;
    loop {
        let start = j;
        let mut digits = Vec::new();
        while let Some(d) = chars.get(j).copied().and_then(digit_value) {
            digits.push(d);
            j += 1;
        }
        groups.push(Group {
            start,
            end: j,
            digits,
        });
        let mut k = j;
        while k < chars.len() && k - j < MAX_SEPARATOR_RUN && is_separator(chars[k]) {
            k += 1;
        }
        if k == j || chars.get(k).copied().and_then(digit_value).is_none() {
            return groups;
        }
        j = k;
    }
}

/// The last group of the longest card number starting at group `g`, if one does.
fn card_at(groups: &[Group], g: usize, continues_into_word: bool) -> Option<usize> {
    let first = *groups[g].digits.first()?;
    if !(1..=6).contains(&first) {
        return None;
    }
    let mut digits: Vec<u8> = Vec::with_capacity(19);
    let mut found = None;
    for (h, group) in groups.iter().enumerate().skip(g) {
        if digits.len() + group.digits.len() > 19 {
            break;
        }
        digits.extend(&group.digits);
        let bounded = h + 1 < groups.len() || !continues_into_word;
        if digits.len() >= 13 && bounded && luhn(&digits) {
            found = Some(h);
        }
    }
    found
}

/// Whether the chain at `i` is the digits of an IBAN whose country code is glued before it
/// (`DE89 3704 0044 0532 0130 00`) and whose check digits are right (ISO 13616, mod 97).
fn is_iban(chars: &[char], i: usize, groups: &[Group]) -> bool {
    if i < 2 || (i > 2 && chars[i - 3].is_alphanumeric()) {
        return false;
    }
    let (c1, c2) = (chars[i - 2], chars[i - 1]);
    if !(c1.is_ascii_uppercase() && c2.is_ascii_uppercase()) {
        return false;
    }
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|g| g.digits.iter().copied())
        .collect();
    if !(13..=32).contains(&digits.len()) {
        return false;
    }
    let letter = |c: char| u32::from(c) - u32::from('A') + 10;
    let mut rest = 0u32;
    let mut push = |n: u32| {
        rest = if n >= 10 {
            (rest * 100 + n) % 97
        } else {
            (rest * 10 + n) % 97
        };
    };
    for d in &digits[2..] {
        push(u32::from(*d));
    }
    push(letter(c1));
    push(letter(c2));
    push(u32::from(digits[0]));
    push(u32::from(digits[1]));
    rest == 1
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut d = u32::from(*d);
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
            "12345",
            "audit hash 9f2c4111111111111111e0b7a0c4d2e1f3a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2",
            "id 4111111111111111ab",
            "amounts 1.234.567 and 2.345.678, invoice 2026-0042",
            "IBAN AT61 1904 3002 3457 3201 and NL91 ABNA 0417 1643 00",
            "phones +49 30 1234567 / +49 89 7654321",
            "serial 12345678901234567890123",
        ] {
            let (out, n) = scrub_card_numbers(text);
            assert_eq!(n, 0, "{text}");
            assert_eq!(out, text);
        }
    }

    #[test]
    fn separators_scripts_and_glued_letters_do_not_hide_a_card() {
        for card in [
            "4111.1111.1111.1111",
            "4111  1111  1111  1111",
            "4111 - 1111 - 1111 - 1111",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "\u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}",
            "\u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff0e}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff0e}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff0e}\u{ff11}\u{ff11}\u{ff11}\u{ff11}",
            "x4111111111111111",
            "Karte:4111111111111111",
        ] {
            let (out, n) = scrub_card_numbers(&format!("paid with {card}, thanks"));
            assert_eq!(n, 1, "{card}: {out}");
            assert!(out.contains(CARD_MARKER), "{card}: {out}");
            assert!(
                !out.contains("1111") && !out.contains('\u{ff11}'),
                "{card}: {out}"
            );
        }
        // Digits written around the card (an expiry, a count) do not hide it either.
        let (out, n) = scrub_card_numbers("card 4111 1111 1111 1111 12 28, 3 tries");
        assert_eq!(
            (out.as_str(), n),
            ("card [card number removed] 12 28, 3 tries", 1)
        );
        let (out, n) = scrub_card_numbers("Nr. 7 4111 1111 1111 1111");
        assert_eq!((out.as_str(), n), ("Nr. 7 [card number removed]", 1));
    }

    #[test]
    fn hostile_input_takes_linear_time() {
        let started = std::time::Instant::now();
        for unit in ["1 ", "1", "a1", "4111 ", "\u{ff11}.", "DE1 "] {
            let text = unit.repeat(50_000);
            let _ = scrub(&text);
        }
        // Quadratic behaviour on 50 000 repetitions would take minutes, not a fraction of a second.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
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
