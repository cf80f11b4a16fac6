//! A sound byte prefilter for the rule automata: for each pattern, a set of bytes of which every
//! match contains at least one, read off the pattern's syntax tree. A group of patterns whose
//! sets share no byte with a value cannot match it, so its DFA does not run over the value.
//!
//! Soundness is structural, not statistical: a concatenation's match contains a match of each
//! part, an alternation's a match of one branch, a repetition with a minimum of one a match of
//! its body; a part that can match the empty string (a look-around assertion, `x*`, `x?`)
//! requires nothing. Of the parts of a concatenation the rarest set is kept (punctuation is
//! rarer than letters in ordinary text), so most groups are skipped on ordinary values.

use regex_syntax::hir::{Class, Hir, HirKind};

/// 256 bits: a set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub const ALL: ByteSet = ByteSet([u64::MAX; 4]);

    /// The set as words, for ordering sets.
    pub fn bits(&self) -> [u64; 4] {
        self.0
    }

    pub fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
    }

    pub fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }

    fn insert_range(&mut self, start: u8, end: u8) {
        for b in start..=end {
            self.insert(b);
        }
    }

    pub fn union(self, other: ByteSet) -> ByteSet {
        let mut out = self;
        for (a, b) in out.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        out
    }

    pub fn intersects(&self, other: &ByteSet) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    /// The bytes present in `text`, in one pass.
    pub fn of(text: &[u8]) -> ByteSet {
        let mut out = ByteSet::default();
        for &b in text {
            out.insert(b);
        }
        out
    }

    /// How often the set's bytes turn up in ordinary text: letters, digits and spaces are in
    /// nearly every value, punctuation in few.
    fn commonness(&self) -> u32 {
        (0..=255u8)
            .filter(|b| self.contains(*b))
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' => 40,
                b'.' | b',' | b'-' | b':' | b'/' | b'_' | b'\n' | b'\r' | b'\t' => 12,
                0x80..=0xff => 4,
                _ => 2,
            })
            .sum()
    }
}

/// Bytes every match of `hir` contains one of; `None` when a match may be empty or the set
/// would be every byte anyway.
pub fn required(hir: &Hir) -> Option<ByteSet> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => lit
            .0
            .iter()
            .map(|b| single(*b))
            .min_by_key(ByteSet::commonness),
        HirKind::Class(class) => Some(class_bytes(class)),
        HirKind::Repetition(rep) if rep.min == 0 => None,
        HirKind::Repetition(rep) => required(&rep.sub),
        HirKind::Capture(cap) => required(&cap.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(required)
            .min_by_key(ByteSet::commonness),
        HirKind::Alternation(branches) => branches
            .iter()
            .map(required)
            .try_fold(ByteSet::default(), |acc, set| set.map(|s| acc.union(s))),
    }
    .filter(|set| *set != ByteSet::ALL)
}

fn single(byte: u8) -> ByteSet {
    let mut set = ByteSet::default();
    set.insert(byte);
    set
}

fn class_bytes(class: &Class) -> ByteSet {
    let mut set = ByteSet::default();
    match class {
        Class::Bytes(bytes) => {
            for range in bytes.iter() {
                set.insert_range(range.start(), range.end());
            }
        }
        Class::Unicode(chars) => {
            for range in chars.iter() {
                let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                if start < 0x80 {
                    set.insert_range(start as u8, end.min(0x7f) as u8);
                }
                if end >= 0x80 {
                    // Any UTF-8 encoding of a non-ASCII character has its bytes in 0x80..=0xff.
                    set.insert_range(0x80, 0xff);
                }
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex_automata::util::syntax;

    fn req(pattern: &str) -> Option<Vec<u8>> {
        let hir = syntax::parse_with(pattern, &syntax::Config::new().unicode(false).utf8(false))
            .expect("pattern");
        required(&hir).map(|s| (0..=255u8).filter(|b| s.contains(*b)).collect())
    }

    #[test]
    fn the_rarest_part_of_a_concatenation_is_required() {
        assert_eq!(req(r"\bunion\s+select\("), Some(b"(".to_vec()));
        assert_eq!(req(r"<script"), Some(b"<".to_vec()));
        assert_eq!(req(r"\$\{[a-z]+\}"), Some(b"$".to_vec()));
    }

    #[test]
    fn alternations_need_one_branch_and_optional_parts_need_nothing() {
        assert_eq!(req(r"<svg|\$\{"), Some(b"$<".to_vec()));
        assert_eq!(req(r"<svg|select"), Some(b"<s".to_vec()));
        assert_eq!(req(r"(?:<)?script"), Some(b"s".to_vec()));
        assert_eq!(req(r"^|x"), None, "one branch matches the empty string");
        assert_eq!(req(r"(?s:.)"), None, "every byte is no filter");
    }

    #[test]
    fn a_repetition_of_at_least_one_needs_its_body() {
        assert_eq!(req(r"(?:\.\./)+"), Some(b".".to_vec()));
        assert_eq!(req(r"(?:\.\./)*etc"), Some(b"e".to_vec()));
    }
}
