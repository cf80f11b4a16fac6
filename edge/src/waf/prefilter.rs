//! A sound prefilter for the rule automata, read off each pattern's syntax tree: for each of its
//! top-level alternatives, literal factors of which every match contains one, and a set of
//! bytes of which every match contains one (`needs`). A group of patterns none of whose
//! alternatives finds what it needs in a value cannot match it, so its DFA does not run over
//! the value. Alternatives that match only at the start of a text are split off
//! (`split_anchored`): the WAF walks them anchored, where they end within a few bytes.
//!
//! Soundness is structural, not statistical: a concatenation's match contains a match of each
//! part, an alternation's a match of one branch, a repetition with a minimum of one a match of
//! its body; a part that can match the empty string (a look-around assertion, `x*`, `x?`)
//! requires nothing. Of the parts of a concatenation the rarest set is kept (punctuation is
//! rarer than letters in ordinary text), so most groups are skipped on ordinary values.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

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

    /// How many bytes the set holds.
    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn intersects(&self, other: &ByteSet) -> bool {
        self.0.iter().zip(other.0.iter()).any(|(a, b)| a & b != 0)
    }

    /// The bytes present in `text`, in one pass.
    pub fn of(text: &[u8]) -> ByteSet {
        let mut out = ByteSet::default();
        if text.len() < 256 {
            for &b in text {
                out.insert(b);
            }
            return out;
        }
        // On long texts a flag per byte value is one store per input byte (no read-modify-write
        // chain on four words); the flags become bits once at the end.
        let mut present = [false; 256];
        for &b in text {
            present[usize::from(b)] = true;
        }
        for (b, _) in (0..=255u8).zip(present).filter(|(_, p)| *p) {
            out.insert(b);
        }
        out
    }

    /// How often the set's bytes turn up in ordinary text: letters, digits and spaces are in
    /// nearly every value, punctuation in few. (Weights by class, counted a word at a time:
    /// `Waf::new` asks this for every node of every pattern.)
    fn commonness(&self) -> u32 {
        let count = |class: &ByteSet| -> u32 {
            self.0
                .iter()
                .zip(class.0)
                .map(|(a, b)| (a & b).count_ones())
                .sum()
        };
        let words = count(&WORDLIKE);
        let punctuation = count(&COMMON_PUNCTUATION);
        let high = count(&HIGH_BYTES);
        let rest = self.len() as u32 - words - punctuation - high;
        40 * words + 12 * punctuation + 4 * high + 2 * rest
    }
}

/// The classes `ByteSet::commonness` weighs.
const WORDLIKE: ByteSet =
    ByteSet::of_ranges(&[(b'a', b'z'), (b'A', b'Z'), (b'0', b'9'), (b' ', b' ')]);
const COMMON_PUNCTUATION: ByteSet = ByteSet::of_ranges(&[
    (b'.', b'.'),
    (b',', b','),
    (b'-', b'-'),
    (b':', b':'),
    (b'/', b'/'),
    (b'_', b'_'),
    (b'\n', b'\n'),
    (b'\r', b'\r'),
    (b'\t', b'\t'),
]);
const HIGH_BYTES: ByteSet = ByteSet::of_ranges(&[(0x80, 0xff)]);

impl ByteSet {
    /// The bytes of inclusive ranges, at compile time.
    const fn of_ranges(ranges: &[(u8, u8)]) -> ByteSet {
        let mut words = [0u64; 4];
        let mut r = 0;
        while r < ranges.len() {
            let (start, end) = ranges[r];
            let mut b = start as usize;
            while b <= end as usize {
                words[b >> 6] |= 1 << (b & 63);
                b += 1;
            }
            r += 1;
        }
        ByteSet(words)
    }
}

/// The bytes a match of `hir` can begin with; `None` when a match may be empty (then it can
/// begin with anything, or with nothing). A pattern anchored at the start of a text matches
/// only a text that begins with one of them.
pub fn first_bytes(hir: &Hir) -> Option<ByteSet> {
    let (bytes, may_be_empty) = first_of(hir);
    (!may_be_empty).then_some(bytes)
}

/// The bytes a match of `hir` can begin with, and whether it may be empty.
fn first_of(hir: &Hir) -> (ByteSet, bool) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => (ByteSet::default(), true),
        HirKind::Literal(lit) => match lit.0.first() {
            Some(b) => (single(*b), false),
            None => (ByteSet::default(), true),
        },
        HirKind::Class(class) => (class_bytes(class), false),
        HirKind::Repetition(rep) => {
            let (bytes, empty) = first_of(&rep.sub);
            (bytes, empty || rep.min == 0)
        }
        HirKind::Capture(cap) => first_of(&cap.sub),
        HirKind::Concat(parts) => {
            let mut bytes = ByteSet::default();
            for part in parts {
                let (first, empty) = first_of(part);
                bytes = bytes.union(first);
                if !empty {
                    return (bytes, false);
                }
            }
            (bytes, true)
        }
        HirKind::Alternation(branches) => branches
            .iter()
            .map(first_of)
            .fold((ByteSet::default(), false), |(bytes, empty), (b, e)| {
                (bytes.union(b), empty || e)
            }),
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

/// At most this many strings in a set of exact strings (cross products grow fast).
const EXACT_MAX: usize = 16;
/// Classes of at most this many bytes are exact (`['"`]`, `\s`); larger ones end a run.
const CLASS_MAX: usize = 6;
/// A factor set with a string shorter than this is no filter (one byte is what the byte
/// gates already do).
const FACTOR_MIN_LEN: usize = 2;

/// What a part of a pattern says about its matches: `exact`, the finite set of strings it
/// matches (when small), and `inner`, strings of which every match contains one.
#[derive(Debug, Clone, Default)]
struct Literals {
    exact: Option<Vec<Vec<u8>>>,
    inner: Option<Vec<Vec<u8>>>,
}

impl Literals {
    fn exact(strings: Vec<Vec<u8>>) -> Self {
        Self {
            exact: Some(strings),
            inner: None,
        }
    }

    /// The better of the node's sets as a filter.
    fn best(&self) -> Option<Vec<Vec<u8>>> {
        better(self.exact.clone(), self.inner.clone())
    }
}

/// How good a set of factors is as a filter: its shortest string's length (longer strings
/// turn up less often by chance), then fewer strings. `None` for a set that filters nothing.
fn quality(set: &[Vec<u8>]) -> Option<(usize, std::cmp::Reverse<usize>)> {
    let shortest = set.iter().map(Vec::len).min()?;
    (shortest >= FACTOR_MIN_LEN).then_some((shortest, std::cmp::Reverse(set.len())))
}

fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    let qa = a.as_deref().and_then(quality);
    let qb = b.as_deref().and_then(quality);
    match (qa, qb) {
        (Some(x), Some(y)) if y > x => b,
        (Some(_), _) => a,
        (None, Some(_)) => b,
        (None, None) => None,
    }
}

/// The union of the sets, sorted and without repeats; `None` when any of them is `None`.
fn union_of_all(sets: impl Iterator<Item = Option<Vec<Vec<u8>>>>) -> Option<Vec<Vec<u8>>> {
    let mut union = Vec::new();
    for set in sets {
        union.extend(set?);
    }
    union.sort();
    union.dedup();
    Some(union)
}

fn cross(left: &[Vec<u8>], right: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if left.len().saturating_mul(right.len()) > EXACT_MAX {
        return None;
    }
    let mut out: Vec<Vec<u8>> = left
        .iter()
        .flat_map(|l| right.iter().map(move |r| [l.as_slice(), r].concat()))
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

fn literals(hir: &Hir) -> Literals {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Literals::exact(vec![Vec::new()]),
        HirKind::Literal(lit) => Literals::exact(vec![lit.0.to_vec()]),
        HirKind::Class(class) => {
            let set = class_bytes(class);
            let members: Vec<Vec<u8>> = (0..=255u8)
                .filter(|b| set.contains(*b))
                .map(|b| vec![b])
                .collect();
            if members.len() <= CLASS_MAX {
                Literals::exact(members)
            } else {
                Literals::default()
            }
        }
        HirKind::Capture(cap) => literals(&cap.sub),
        HirKind::Repetition(rep) => {
            let sub = literals(&rep.sub);
            match (rep.min, rep.max) {
                (1, Some(1)) => sub,
                // `x?`: x or nothing.
                (0, Some(1)) => Literals {
                    exact: sub.exact.and_then(|mut e| {
                        e.push(Vec::new());
                        e.sort();
                        e.dedup();
                        (e.len() <= EXACT_MAX).then_some(e)
                    }),
                    inner: None,
                },
                (0, _) => Literals::default(),
                // At least once: every match contains a match of the body.
                _ => Literals {
                    exact: None,
                    inner: sub.best(),
                },
            }
        }
        HirKind::Concat(parts) => {
            // Runs of exact parts multiply out; a part that is not exact ends a run. The
            // factors are the best of the runs and of the parts' own inner sets.
            let mut run: Option<Vec<Vec<u8>>> = Some(vec![Vec::new()]);
            let mut whole_exact = true;
            let mut best: Option<Vec<Vec<u8>>> = None;
            for part in parts.iter().map(literals) {
                match (&run, &part.exact) {
                    (Some(r), Some(e)) => match cross(r, e) {
                        Some(joined) => run = Some(joined),
                        None => {
                            whole_exact = false;
                            best = better(best, run.take());
                            run = Some(e.clone());
                        }
                    },
                    _ => {
                        whole_exact = false;
                        best = better(best, run.take());
                        best = better(best, part.best());
                        run = part.exact.clone().or(Some(vec![Vec::new()]));
                    }
                }
            }
            if whole_exact {
                Literals {
                    exact: run,
                    inner: best,
                }
            } else {
                Literals {
                    exact: None,
                    inner: better(best, run),
                }
            }
        }
        HirKind::Alternation(branches) => {
            let all: Vec<Literals> = branches.iter().map(literals).collect();
            let exact =
                union_of_all(all.iter().map(|l| l.exact.clone())).filter(|e| e.len() <= EXACT_MAX);
            // A match is a match of one branch: it contains one of that branch's factors.
            let inner = union_of_all(all.iter().map(Literals::best));
            Literals { exact, inner }
        }
    }
}

/// Strings of which every match of `hir` contains one (each at least two bytes), for a
/// literal prefilter; `None` when the pattern has no such set.
pub fn factors(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let set = literals(hir).best()?;
    // A string that contains another of the set adds nothing (where it is, the other is too):
    // fewer strings, fewer matches to report.
    let minimal = set
        .iter()
        .filter(|s| {
            !set.iter()
                .any(|t| t != *s && s.windows(t.len()).any(|w| w == t.as_slice()))
        })
        .cloned()
        .collect();
    Some(minimal)
}

/// A pattern split in two: the alternatives that can match only at the start of a text
/// (`^…`), and the rest. `(?:^|[;&|])\s*cmd` is `^\s*cmd` or `[;&|]\s*cmd`: the first need
/// only be tried at the start (an anchored walk ends within a few bytes of most texts), and the
/// second needs a separator, which most texts lack. The two together match what the pattern
/// matches (a concatenation distributes over an alternation at its front).
pub fn split_anchored(hir: &Hir) -> (Option<Hir>, Option<Hir>) {
    // Most patterns have no anchored alternative: they are kept as they are, not rebuilt.
    if !leads_with_start(hir) {
        return (None, Some(hir.clone()));
    }
    match hir.kind() {
        HirKind::Look(Look::Start) => (Some(hir.clone()), None),
        HirKind::Capture(cap) => split_anchored(&cap.sub),
        HirKind::Alternation(branches) => {
            let (mut anchored, mut rest) = (Vec::new(), Vec::new());
            for branch in branches {
                let (a, r) = split_anchored(branch);
                anchored.extend(a);
                rest.extend(r);
            }
            let join = |parts: Vec<Hir>| (!parts.is_empty()).then(|| Hir::alternation(parts));
            (join(anchored), join(rest))
        }
        HirKind::Concat(parts) => match parts.split_first() {
            Some((first, tail))
                if matches!(
                    first.kind(),
                    HirKind::Alternation(_) | HirKind::Capture(_) | HirKind::Look(Look::Start)
                ) =>
            {
                let (a, r) = split_anchored(first);
                let then = |head: Hir| {
                    let mut joined = vec![head];
                    joined.extend(tail.iter().cloned());
                    Hir::concat(joined)
                };
                (a.map(then), r.map(then))
            }
            _ => (None, Some(hir.clone())),
        },
        _ => (None, Some(hir.clone())),
    }
}

/// Whether `split_anchored` would find an anchored alternative in `hir` (the same walk).
fn leads_with_start(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(Look::Start) => true,
        HirKind::Capture(cap) => leads_with_start(&cap.sub),
        HirKind::Alternation(branches) => branches.iter().any(leads_with_start),
        HirKind::Concat(parts) => parts.first().is_some_and(|first| {
            matches!(
                first.kind(),
                HirKind::Alternation(_) | HirKind::Capture(_) | HirKind::Look(Look::Start)
            ) && leads_with_start(first)
        }),
        _ => false,
    }
}

/// Whether a match of `hir` may run on over most bytes from its start (`^[^'"]*`, `^.*x`): a
/// walk anchored at the start of a text then does not end early, so anchoring saves it
/// nothing. What follows a part that must match something narrow first (`^\.\.(?:.*/)?`)
/// is reached only where the text starts so.
pub fn may_run_on(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let long = rep.max.is_none_or(|max| max > 32);
            let broad =
                matches!(rep.sub.kind(), HirKind::Class(class) if class_bytes(class).len() >= 128);
            long && broad || may_run_on(&rep.sub)
        }
        HirKind::Capture(cap) => may_run_on(&cap.sub),
        HirKind::Alternation(branches) => branches.iter().any(may_run_on),
        HirKind::Concat(parts) => {
            for part in parts {
                if may_run_on(part) {
                    return true;
                }
                // Past a part that needs a byte, the walk goes on only where the text has it.
                if part.properties().minimum_len() != Some(0) {
                    return false;
                }
            }
            false
        }
        _ => false,
    }
}

/// What one alternative of a pattern needs of a text to match in it: one of its literal
/// factors, and one of its required bytes (either may be unknown). A pattern may match where
/// any of its alternatives' needs are met; checking the two together, alternative by
/// alternative, keeps a rare need from being drowned by a common one (`\bunion\b…` beside
/// `['"]\s*--` would otherwise need only a `u`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub factors: Option<Vec<Vec<u8>>>,
    pub bytes: Option<ByteSet>,
}

impl Need {
    /// Neither a factor nor a byte: any text may match.
    pub fn is_none(&self) -> bool {
        self.factors.is_none() && self.bytes.is_none()
    }
}

/// The needs of `hir`'s top-level alternatives. When one alternative needs nothing, the
/// pattern as a whole does not either: one need, empty.
pub fn needs(hir: &Hir) -> Vec<Need> {
    let mut branches = Vec::new();
    top_level_branches(hir, &mut branches);
    let mut needs: Vec<Need> = Vec::new();
    for branch in branches {
        let need = Need {
            factors: factors(branch),
            bytes: required(branch),
        };
        if need.is_none() {
            return vec![need];
        }
        // Alike alternatives (`x'…|x"…`) need one check.
        if !needs.contains(&need) {
            needs.push(need);
        }
    }
    needs
}

fn top_level_branches<'h>(hir: &'h Hir, out: &mut Vec<&'h Hir>) {
    match hir.kind() {
        HirKind::Capture(cap) => top_level_branches(&cap.sub, out),
        HirKind::Alternation(branches) => {
            for branch in branches {
                top_level_branches(branch, out);
            }
        }
        _ => out.push(hir),
    }
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

    fn factors_of(pattern: &str) -> Option<Vec<String>> {
        let hir = syntax::parse_with(pattern, &syntax::Config::new().unicode(false).utf8(false))
            .expect("pattern");
        factors(&hir).map(|set| {
            set.into_iter()
                .map(|s| String::from_utf8_lossy(&s).into_owned())
                .collect()
        })
    }

    #[test]
    fn literal_factors_are_what_every_match_contains() {
        assert_eq!(
            factors_of(r"\bunion\s+select\("),
            Some(vec!["select(".into()])
        );
        assert_eq!(
            factors_of(r"<(?:script|svg)\b"),
            Some(vec!["<script".into(), "<svg".into()])
        );
        // Small classes multiply out; a run ends at a part that is not exact.
        assert_eq!(
            factors_of(r#"['"]or\s+1"#),
            Some(vec!["\"or".into(), "'or".into()])
        );
        assert_eq!(factors_of(r#"['"]\s*or\s+1"#), Some(vec!["or".into()]));
        assert_eq!(factors_of(r"\$\{[a-z]+\}"), Some(vec!["${".into()]));
        // An alternation needs a factor in every branch.
        assert_eq!(
            factors_of(r"select|<x"),
            Some(vec!["<x".into(), "select".into()])
        );
        assert_eq!(
            factors_of(r"select|[<>]"),
            None,
            "one branch has one byte only"
        );
        assert_eq!(
            factors_of(r"(?:select)?\d+"),
            None,
            "the literal is optional"
        );
        assert_eq!(factors_of(r"a.*b"), None, "single bytes are no factors");
        assert_eq!(factors_of(r"(?:ab)+c"), Some(vec!["ab".into()]));
        // `..` is in every `../`: the longer string is left out.
        assert_eq!(factors_of(r"\.\./|\.\.|x\.\."), Some(vec!["..".into()]));
    }

    fn parse(pattern: &str) -> Hir {
        syntax::parse_with(pattern, &syntax::Config::new().unicode(false).utf8(false))
            .expect("pattern")
    }

    /// The two parts of a split as patterns (`None` for a missing part).
    fn split(pattern: &str) -> (Option<String>, Option<String>) {
        let (anchored, rest) = split_anchored(&parse(pattern));
        (anchored.map(|h| h.to_string()), rest.map(|h| h.to_string()))
    }

    /// Whether `pattern` matches somewhere in `text`, by the same automata the WAF uses.
    fn finds(hir: &Hir, text: &str) -> bool {
        use regex_automata::hybrid::dfa::DFA;
        use regex_automata::nfa::thompson;
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().utf8(false))
            .build_from_hir(hir)
            .expect("nfa");
        let dfa = DFA::builder().build_from_nfa(nfa).expect("dfa");
        let mut cache = dfa.create_cache();
        dfa.try_search_fwd(&mut cache, &regex_automata::Input::new(text))
            .expect("search")
            .is_some()
    }

    #[test]
    fn start_anchored_alternatives_are_split_off_and_the_parts_match_what_the_whole_does() {
        let (anchored, rest) = split(r"(?:^|[;&|])\s*(?:env|set)\b");
        // (The syntax tree prints the start anchor as `\A`.)
        assert!(
            anchored.as_ref().is_some_and(|a| a.starts_with(r"(?:\A")),
            "anchored part {anchored:?}"
        );
        assert!(
            rest.is_some_and(|r| !r.contains(r"\A")),
            "the rest has no anchor"
        );
        assert_eq!(split(r"^\s*id$").1, None, "anchored as a whole");
        assert_eq!(split(r"<script").0, None, "nothing anchored");
        assert_eq!(
            split(r"x(?:^|y)").0,
            None,
            "an anchor after a byte is not at the start"
        );
        // Exact: on texts where the anchor and the separators matter, the two parts together
        // find what the whole pattern finds.
        let patterns = [
            r"(?:^|[;&|])\s*(?:env|set)\s*(?:;|$)",
            r"(?:^|/)\.{2,}/|(?:^|x)y",
            r"(?:(?:^|\s)or|and)\s+1",
            r"^(?:a|b)c|(?:^|[(])d",
        ];
        let texts = [
            "env", " env;", "a;env", "x env", "../", "a/../", "..", "xy", "y", "ay", "or 1",
            "x or 1", "xor 1", "and 1", "ac", "bc", "cac", "d", "(d", "ad", "",
        ];
        for pattern in patterns {
            let whole = parse(pattern);
            let (anchored, rest) = split_anchored(&whole);
            for text in texts {
                let parts = anchored.as_ref().is_some_and(|a| finds(a, text))
                    || rest.as_ref().is_some_and(|r| finds(r, text));
                assert_eq!(parts, finds(&whole, text), "{pattern} on {text:?}");
            }
        }
    }

    #[test]
    fn commonness_weighs_each_byte_by_its_class() {
        // The definition, byte by byte.
        let by_byte = |set: &ByteSet| -> u32 {
            (0..=255u8)
                .filter(|b| set.contains(*b))
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' => 40,
                    b'.' | b',' | b'-' | b':' | b'/' | b'_' | b'\n' | b'\r' | b'\t' => 12,
                    0x80..=0xff => 4,
                    _ => 2,
                })
                .sum()
        };
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let set = ByteSet([next() & next(), next(), next() & next() & next(), next()]);
            assert_eq!(set.commonness(), by_byte(&set));
        }
        assert_eq!(ByteSet::ALL.commonness(), by_byte(&ByteSet::ALL));
        assert_eq!(ByteSet::default().commonness(), 0);
    }

    #[test]
    fn each_alternative_needs_its_own_factor_and_byte() {
        let both = needs(&parse(r#"['"]\s*--|\bunion\s+select\b"#));
        assert_eq!(both.len(), 2);
        // The quote branch: `--` and a quote; the union branch: its factors (and a byte of
        // them).
        assert_eq!(both[0].factors, Some(vec![b"--".to_vec()]));
        assert!(
            both[0]
                .bytes
                .is_some_and(|b| b.contains(b'\'') && !b.contains(b'u'))
        );
        assert!(
            both[1]
                .factors
                .as_ref()
                .is_some_and(|f| f.contains(&b"select".to_vec()))
        );
        // An alternative that needs nothing makes the pattern need nothing.
        assert_eq!(
            needs(&parse(r"<x|(?s:.)")),
            vec![Need {
                factors: None,
                bytes: None
            }]
        );
    }

    #[test]
    fn a_match_begins_with_one_of_its_first_bytes() {
        let bytes = |pattern: &str| {
            first_bytes(&parse(pattern))
                .map(|s| (0..=255u8).filter(|b| s.contains(*b)).collect::<Vec<u8>>())
        };
        assert_eq!(bytes(r"^\.{2,}/"), Some(b".".to_vec()));
        assert_eq!(bytes(r"^(?:env|set)\b"), Some(b"es".to_vec()));
        assert_eq!(
            bytes(r"^ ?(?:ab|c)"),
            Some(b" ac".to_vec()),
            "past an optional part"
        );
        assert_eq!(bytes(r"^x*"), None, "may be empty");
        assert_eq!(bytes(r"^(?:a|)"), None, "one branch may be empty");
    }

    #[test]
    fn a_match_may_run_on_only_through_a_broad_repetition_before_anything_narrow() {
        assert!(may_run_on(&parse(r#"^[^'"]*['"]"#)));
        assert!(may_run_on(&parse(r"^\s*(?s:.)*x")));
        assert!(
            !may_run_on(&parse(r"^\s*(?:[\w.-]*/)?(?:7z|ab)\b")),
            "a word, then a slash"
        );
        assert!(
            !may_run_on(&parse(r"^\.{2,}(?:.*/)?x")),
            "only where the text starts `..`"
        );
        assert!(
            may_run_on(&parse(r"^(?:\.{2,})?.*x")),
            "an optional part needs nothing"
        );
    }

    #[test]
    fn a_repetition_of_at_least_one_needs_its_body() {
        assert_eq!(req(r"(?:\.\./)+"), Some(b".".to_vec()));
        assert_eq!(req(r"(?:\.\./)*etc"), Some(b"e".to_vec()));
    }
}
