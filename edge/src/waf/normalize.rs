//! Normalisation: attackers hide payloads behind encodings, so every value is decoded and
//! canonicalised before the rules look at it. Each function is a pure transformation of a `&str`
//! (a `Cow` where most texts come back unchanged); the WAF combines them into the views its rules
//! need.

use std::borrow::Cow;

/// Percent-decoding to a fixed point (at most four rounds, so double and triple encoding are
/// undone), including IIS-style `%uXXXX`, overlong UTF-8 of any length (`%c0%ae`, `%e0%80%ae`,
/// `%f0%80%80%af`, …) and look-alike characters (see [`fold_char`]). Invalid escapes stay as
/// literals. Every round is one linear pass. `plus_is_space` applies to query strings and form
/// bodies (first round only: a `+` that was encoded is a plus).
pub fn url_decode_repeated(input: &str, plus_is_space: bool) -> String {
    if !(input.contains('%') || plus_is_space && input.contains('+')) {
        return fold_str(input);
    }
    let mut current = input.to_string();
    for round in 0..4 {
        let Some(next) = url_decode_once(&current, plus_is_space && round == 0) else {
            // Nothing to decode: what a round would still do is fold the look-alikes (ASCII
            // has none).
            if !current.is_ascii() {
                current = fold_str(&current);
            }
            break;
        };
        if next == current {
            break;
        }
        current = next;
        if !current.contains('%') {
            break;
        }
    }
    current
}

/// Appends `run` to `out`. Text dense with escapes has runs of a few bytes between them, and a
/// call to copy a few bytes costs more than the bytes: those go one by one.
#[inline]
fn append(out: &mut Vec<u8>, run: &[u8]) {
    if run.len() <= 16 {
        for &b in run {
            out.push(b);
        }
    } else {
        out.extend_from_slice(run);
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One round; `None` when there is nothing to decode (every `%` a literal, no `+` to read).
fn url_decode_once(input: &str, plus_is_space: bool) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut decoded = false;
    let mut i = 0;
    while i < bytes.len() {
        // What lies before the next `%` (or form `+`) is copied whole.
        let rest = &bytes[i..];
        let next = if plus_is_space {
            memchr::memchr2(b'%', b'+', rest)
        } else {
            memchr::memchr(b'%', rest)
        };
        let run = next.unwrap_or(rest.len());
        append(&mut out, &rest[..run]);
        i += run;
        let Some(&byte) = bytes.get(i) else { break };
        match byte {
            b'%' if i + 5 < bytes.len() && (bytes[i + 1] == b'u' || bytes[i + 1] == b'U') => {
                let code = (2..6).try_fold(0u32, |acc, k| {
                    hex_val(bytes[i + k]).map(|v| acc * 16 + u32::from(v))
                });
                match code.and_then(char::from_u32) {
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(fold_char(c).encode_utf8(&mut buf).as_bytes());
                        i += 6;
                        decoded = true;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'%' => {
                match (
                    bytes.get(i + 1).copied().and_then(hex_val),
                    bytes.get(i + 2).copied().and_then(hex_val),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                        decoded = true;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
                decoded = true;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    decoded.then(|| decode_bytes(&out))
}

/// Bytes to text the way a tolerant server would read them: valid UTF-8 as it is (look-alikes
/// folded), overlong encodings of ASCII of any length (2 to 6 bytes) as the ASCII character, a
/// two-byte lead (`c0`/`c1`) glued to an ASCII byte as that byte, and any other invalid byte as
/// its Latin-1 character, so nothing is silently dropped.
fn decode_bytes(bytes: &[u8]) -> String {
    // ASCII runs and whole characters are appended as bytes: the result is UTF-8 (checked once
    // at the end, not per run).
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let ascii = rest
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        append(&mut out, &rest[..ascii]);
        i += ascii;
        let Some(&b) = bytes.get(i) else { break };
        let (width, lead_bits) = match b {
            0xc0..=0xdf => (2, b & 0x1f),
            0xe0..=0xef => (3, b & 0x0f),
            0xf0..=0xf7 => (4, b & 0x07),
            0xf8..=0xfb => (5, b & 0x03),
            0xfc..=0xfd => (6, b & 0x01),
            _ => (0, 0),
        };
        if width > 0
            && let Some(tail) = bytes.get(i + 1..i + width)
            && tail.iter().all(|t| (0x80..0xc0).contains(t))
        {
            let code = tail.iter().fold(u32::from(lead_bits), |acc, t| {
                (acc << 6) | u32::from(t & 0x3f)
            });
            let shortest = match code {
                0..=0x7f => 1,
                0x80..=0x7ff => 2,
                0x800..=0xffff => 3,
                _ => 4,
            };
            if shortest < width && code < 0x80 {
                // Overlong: ASCII in disguise.
                out.push(code as u8);
                i += width;
                continue;
            }
            if let Ok(s) = std::str::from_utf8(&bytes[i..i + width]) {
                for c in s.chars() {
                    push_char(&mut out, fold_char(c));
                }
                i += width;
                continue;
            }
        }
        if (b == 0xc0 || b == 0xc1) && bytes.get(i + 1).is_some_and(|n| n.is_ascii_graphic()) {
            // `%c0%2e`: an IIS-era decoder masks the second byte; the lead is noise.
            i += 1;
            continue;
        }
        push_char(&mut out, char::from(b));
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Look-alikes folded to the ASCII they stand for: fullwidth forms, the private-use range
/// Windows maps to ASCII (U+F020..U+F07E), and the Unicode slashes, backslashes and dots that
/// path traversal uses (`∕`, `⁄`, `⧸`, `∖`, `﹨`, `․`, `﹒`, `。`, …).
pub fn fold_char(c: char) -> char {
    let code = c as u32;
    match code {
        0xff01..=0xff5e => char::from_u32(code - 0xfee0).unwrap_or(c),
        0xf020..=0xf07e => char::from_u32(code - 0xf000).unwrap_or(c),
        0x2215 | 0x2044 | 0x29f8 | 0x2571 | 0x1735 | 0x2cc6 | 0x3033 | 0x30ce | 0x4e3f => '/',
        0x2216 | 0x29f5 | 0x29f9 | 0xfe68 | 0x2572 | 0x3035 => '\\',
        0x2024 | 0xfe52 | 0x3002 | 0xff61 | 0x0701 | 0x0702 | 0xa4f8 | 0x2e31 => '.',
        0x2028 | 0x2029 | 0x0085 => '\n',
        // Circled digits (`①②⑦.⓪.⓪.①`), which some URL parsers read as digits.
        0x2460..=0x2468 => char::from_u32(code - 0x2460 + u32::from(b'1')).unwrap_or(c),
        0x24ea => '0',
        0x00a0 | 0x2000..=0x200a | 0x202f | 0x205f | 0x3000 => ' ',
        _ => c,
    }
}

fn fold_str(input: &str) -> String {
    fold_runs(input, false)
}

/// Look-alikes folded (see [`fold_char`]); for the canonical view also ASCII lowercased and NUL
/// dropped. Runs of ASCII (which never fold) go a run at a time, most of a value even where it
/// has an umlaut; the other characters one by one.
fn fold_runs(input: &str, canonical: bool) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut rest = input;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii() || (canonical && b == 0))
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(ascii);
        if canonical {
            out.extend(run.bytes().map(|b| b.to_ascii_lowercase()));
        } else {
            out.extend_from_slice(run.as_bytes());
        }
        let mut chars = tail.chars();
        // A NUL ends a run only for the canonical view, which drops it.
        if let Some(c) = chars.next()
            && c != '\0'
        {
            let folded = if canonical {
                fold_char(c).to_ascii_lowercase()
            } else {
                fold_char(c)
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(folded.encode_utf8(&mut buf).as_bytes());
        }
        rest = chars.as_str();
    }
    // Whole characters were copied or encoded: the bytes are UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Kept for callers outside the WAF: the same folding as [`fold_char`].
pub fn fullwidth_to_ascii(c: char) -> char {
    fold_char(c)
}

const NAMED_ENTITIES: &[(&str, &str)] = &[
    ("lt", "<"),
    ("gt", ">"),
    ("amp", "&"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", " "),
    ("tab", "\t"),
    ("newline", "\n"),
    ("colon", ":"),
    ("semi", ";"),
    ("lpar", "("),
    ("rpar", ")"),
    ("lbrace", "{"),
    ("rbrace", "}"),
    ("lcub", "{"),
    ("rcub", "}"),
    ("lsqb", "["),
    ("rsqb", "]"),
    ("lbrack", "["),
    ("rbrack", "]"),
    ("sol", "/"),
    ("bsol", "\\"),
    ("period", "."),
    ("comma", ","),
    ("excl", "!"),
    ("quest", "?"),
    ("equals", "="),
    ("plus", "+"),
    ("num", "#"),
    ("dollar", "$"),
    ("percnt", "%"),
    ("ast", "*"),
    ("grave", "`"),
    ("hat", "^"),
    ("lowbar", "_"),
    ("vert", "|"),
    ("verbar", "|"),
];

/// HTML character references: named (case-insensitive, with or without `;`), decimal and hex.
pub fn html_entity_decode(input: &str) -> String {
    if !input.contains('&') {
        return input.to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    // A byte search: `&` is ASCII, so every position found is a character boundary.
    while let Some(pos) = memchr::memchr(b'&', rest.as_bytes()) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(num) = after.strip_prefix('#') {
            let (digits, radix) = match num.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            // Browsers take any number of leading zeros (`&#0000000000123;` is `{`); each is
            // read once, so a long run costs its length and no more.
            let zeros = digits.bytes().take_while(|b| *b == b'0').count();
            let digits = &digits[zeros..];
            let len = digits
                .bytes()
                .take(9)
                .take_while(|b| {
                    if radix == 16 {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count()
                .min(8);
            let value = if len == 0 {
                // Only zeros: the NUL character (dropped later, like every NUL).
                (zeros > 0).then_some(0)
            } else {
                u32::from_str_radix(&digits[..len], radix).ok()
            };
            if let Some(c) = value.and_then(char::from_u32) {
                out.push(fullwidth_to_ascii(c));
                let consumed = 1 + (num.len() - digits.len()) + len;
                rest = &after[consumed..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
                continue;
            }
        } else {
            // The longest name we know is 8 characters; never lowercase more than that.
            let name_len = after
                .bytes()
                .take(9)
                .take_while(u8::is_ascii_alphanumeric)
                .count();
            // No allocation per `&` (a value of nothing but `&` is one hostile input).
            let name = &after[..name_len];
            if name_len > 1
                && let Some((_, value)) = NAMED_ENTITIES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                out.push_str(value);
                rest = &after[name_len..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
                continue;
            }
        }
        out.push('&');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// JavaScript, Java and C escapes: `\xHH`, `\uHHHH`, `\u{H…}` (at most six digits), and `\/`.
/// One pass; an escape that does not parse stays as it is.
pub fn escape_decode(input: &str) -> String {
    if !input.contains('\\') {
        return input.to_string();
    }
    let bytes = input.as_bytes();
    let hex = |from: usize, n: usize| -> Option<u32> {
        let digits = bytes.get(from..from + n)?;
        digits
            .iter()
            .try_fold(0u32, |acc, b| hex_val(*b).map(|v| acc * 16 + u32::from(v)))
    };
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        let decoded = match bytes[i + 1] {
            b'x' | b'X' => hex(i + 2, 2).and_then(char::from_u32).map(|c| (c, 4)),
            b'u' | b'U' if bytes.get(i + 2) == Some(&b'{') => bytes
                .get(i + 3..bytes.len().min(i + 10))
                .and_then(|window| window.iter().position(|b| *b == b'}'))
                .filter(|digits| *digits > 0)
                .and_then(|digits| {
                    hex(i + 3, digits)
                        .and_then(char::from_u32)
                        .map(|c| (fold_char(c), 4 + digits))
                }),
            b'u' | b'U' => hex(i + 2, 4)
                .and_then(char::from_u32)
                .map(|c| (fold_char(c), 6)),
            b'/' => Some(('/', 2)),
            _ => None,
        };
        match decoded {
            Some((c, consumed)) => {
                out.push_str(&input[copied..i]);
                out.push(c);
                i += consumed;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&input[copied..]);
    out
}

/// Lowercase, NUL bytes removed, fullwidth characters folded to ASCII.
pub fn canonical(input: &str) -> String {
    // The common case, ASCII without NUL bytes: one vectorised lowercasing copy.
    if input.is_ascii() && !input.as_bytes().contains(&0) {
        return input.to_ascii_lowercase();
    }
    fold_runs(input, true)
}

/// Removes C, SQL and HTML comments (replaced by a space), then collapses whitespace. One pass
/// over the text: a stray `*/` is a space, and MySQL's executable comments (`/*!50000 select */`)
/// keep their content. An unclosed comment is only its opener: the view serves SQL, markup and
/// templates alike, and what one language would ignore after an unclosed opener another runs
/// (`<!--' or 1=1--`, `/*<script>…`).
pub fn strip_comments(input: &str) -> String {
    let bytes = input.as_bytes();
    if !any_byte(bytes, |b| matches!(b, b'/' | b'<' | b'*')) {
        return collapse_whitespace(input).into_owned();
    }
    let mut out = String::with_capacity(input.len());
    let mut copied = 0;
    let mut i = 0;
    // Once no closer follows some position, none follows any later one: later openers do not
    // search again (the text stays one pass, however many openers it holds).
    let mut html_close_ahead = true;
    let mut c_close_ahead = true;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"/*") {
            out.push_str(&input[copied..i]);
            out.push(' ');
            if rest.get(2) == Some(&b'!') {
                i += 3;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            } else {
                i = closer_after(bytes, i + 2, b"*/", &mut c_close_ahead)
                    .map_or(i + 2, |end| end + 2);
            }
            copied = i;
        } else if rest.starts_with(b"<!--") {
            out.push_str(&input[copied..i]);
            out.push(' ');
            i = closer_after(bytes, i + 4, b"-->", &mut html_close_ahead)
                .map_or(i + 4, |end| end + 3);
            copied = i;
        } else if rest.starts_with(b"*/") {
            out.push_str(&input[copied..i]);
            out.push(' ');
            i += 2;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&input[copied..]);
    collapse_whitespace(&out).into_owned()
}

/// Whether any byte of `bytes` is `wanted`. Checked a block at a time with no early exit inside
/// a block, so that the compiler checks many bytes per instruction: values are long, and most
/// hold none of the bytes looked for.
pub fn any_byte(bytes: &[u8], wanted: impl Fn(u8) -> bool) -> bool {
    bytes
        .chunks(64)
        .any(|block| block.iter().fold(false, |seen, &b| seen | wanted(b)))
}

/// Whether `strip_comments` would remove a comment (or a stray closer) from `input`, not just
/// collapse its whitespace.
pub fn has_comment(input: &str) -> bool {
    input.contains("/*") || input.contains("*/") || input.contains("<!--")
}

/// A comment's closer at or after `from`, searched only while one may still come (`ahead`):
/// once a search found none, later openers of that kind get none without searching.
fn closer_after(haystack: &[u8], from: usize, closer: &[u8], ahead: &mut bool) -> Option<usize> {
    let found = if *ahead {
        find_from(haystack, from, closer)
    } else {
        None
    };
    *ahead = found.is_some();
    found
}

/// The first `needle` at or after `from` (a linear scan: the needles are two or three bytes).
fn find_from(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Runs of whitespace (and control characters) become one space.
pub fn collapse_whitespace(input: &str) -> Cow<'_, str> {
    // Whitespace and control characters among ASCII, NUL aside (it is dropped elsewhere).
    let is_space = |b: u8| (b != 0 && b <= b' ') || b == 0x7f;
    let bytes = input.as_bytes();
    // Most values have single spaces between words and none at the ends: a quick look, then
    // a copy.
    let clean = !any_byte(bytes, |b| !b.is_ascii() || (b != b' ' && is_space(b)))
        && !input.contains("  ")
        && !input.starts_with(' ')
        && !input.ends_with(' ');
    if clean {
        return Cow::Borrowed(input);
    }
    // Runs of other bytes are copied whole; a non-ASCII character is looked at whole.
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut pending = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let word = bytes[i..]
            .iter()
            .position(|&b| !b.is_ascii() || is_space(b))
            .unwrap_or(bytes.len() - i);
        let (space, width) = if word > 0 {
            (false, word)
        } else if b.is_ascii() {
            (true, 1)
        } else {
            let c = input.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
            (c.is_whitespace() || c.is_control(), c.len_utf8())
        };
        let end = (i + width).min(bytes.len());
        if space {
            pending = true;
        } else {
            if pending && !out.is_empty() {
                out.push(b' ');
            }
            pending = false;
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
    // Whole characters were copied and ASCII spaces added: the bytes are UTF-8.
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// A file path's view: every separator as `/` (the look-alikes are folded already), runs of
/// `/` as one, `/./` as `/`, and spaces around separators dropped (`.. /`).
pub fn path_view(input: &str) -> Cow<'_, str> {
    if !any_byte(input.as_bytes(), |b| matches!(b, b'/' | b'\\' | b'%')) {
        return Cow::Borrowed(input);
    }
    // Every byte looked at or dropped is ASCII, so the rest of a character is copied whole and
    // the result stays UTF-8. Bytes up to the next separator, `%` or space are copied a run at
    // a time.
    let special = |b: u8| matches!(b, b'\\' | b'%' | b'/' | b' ');
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .position(|&b| special(b))
            .unwrap_or(bytes.len() - i);
        out.extend_from_slice(&bytes[i..i + run]);
        i += run;
        let Some(&b) = bytes.get(i) else { break };
        i += 1;
        // `..%` climbs too: `%uF025` folds to `%`, which some servers take as a separator.
        let b = if b == b'\\' || (b == b'%' && out.ends_with(b"..")) {
            b'/'
        } else {
            b
        };
        if b == b'/' {
            while out.last() == Some(&b' ') {
                out.pop();
            }
            if out.ends_with(b"/.") {
                out.pop();
            }
            if out.last() == Some(&b'/') {
                continue;
            }
        } else if b == b' ' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(b);
    }
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

/// The shell's view: quotes, backslashes, carets and empty expansions removed, `${IFS}`-style
/// separators turned into spaces (`w'h'o"am"i` → `whoami`, `c^md` → `cmd`), and line breaks
/// as what they are to a shell: command separators (`x\nid` → `x;id`).
pub fn shell_view(input: &str) -> Cow<'_, str> {
    if !any_byte(input.as_bytes(), |b| {
        matches!(b, b'$' | b'\'' | b'"' | b'\\' | b'^' | b'`' | b'\n' | b'\r')
    }) {
        return Cow::Borrowed(input);
    }
    // One pass (a chain of `replace` calls costs a substring search per `$` per pattern, which
    // a value of nothing but `$` makes dense). Quotes and the like go wherever they are, so
    // `'$@'` leaves nothing, as `w'h'o` leaves `who`.
    const EMPTIES: &[&[u8]] = &[b"$@", b"$*", b"$()", b"${}", b"``"];
    let special = |b: u8| matches!(b, b'$' | b'\'' | b'"' | b'\\' | b'^' | b'`' | b'\n' | b'\r');
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // The bytes up to the next special one are copied whole.
        let run = bytes[i..]
            .iter()
            .position(|&b| special(b))
            .unwrap_or(bytes.len() - i);
        out.extend_from_slice(&bytes[i..i + run]);
        i += run;
        let rest = &bytes[i..];
        let Some(&byte) = rest.first() else { break };
        if !matches!(byte, b'$' | b'`') {
            // A quote or the like goes, a line break separates commands.
            if matches!(byte, b'\n' | b'\r') {
                out.push(b';');
            }
            i += 1;
        } else if rest.starts_with(b"${ifs}") {
            out.push(b' ');
            i += 6;
        } else if rest.starts_with(b"$ifs") {
            out.push(b' ');
            i += 4;
        } else if let Some(empty) = EMPTIES.iter().find(|e| rest.starts_with(e)) {
            i += empty.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Only ASCII bytes were removed or replaced by ASCII, so the result is UTF-8.
    Cow::Owned(String::from_utf8(out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_repeats_and_handles_iis_and_overlong_forms() {
        assert_eq!(url_decode_repeated("%252e%252e%252f", false), "../");
        assert_eq!(url_decode_repeated("a+b%20c", true), "a b c");
        assert_eq!(url_decode_repeated("%u002e%u002e/", false), "../");
        assert_eq!(url_decode_repeated("%c0%ae%c0%ae%c0%af", false), "../");
        assert_eq!(url_decode_repeated("100%", false), "100%");
        assert_eq!(url_decode_repeated("%zz", false), "%zz");
        assert_eq!(url_decode_repeated("caf%C3%A9", false), "café");
        // Look-alikes fold whether or not there is an escape to decode.
        assert_eq!(
            url_decode_repeated("50% ∕etc∕passwd", false),
            "50% /etc/passwd"
        );
        assert_eq!(url_decode_repeated("∕etc∕passwd", false), "/etc/passwd");
        assert_eq!(url_decode_repeated("%2e∕etc", false), "./etc");
    }

    #[test]
    fn entities_escapes_and_fullwidth() {
        assert_eq!(html_entity_decode("&lt;script&gt;"), "<script>");
        assert_eq!(
            html_entity_decode("ja&Tab;vascript&colon;"),
            "ja\tvascript:"
        );
        assert_eq!(html_entity_decode("&#106;&#x61;v"), "jav");
        assert_eq!(html_entity_decode("$&lbrace;jndi"), "${jndi");
        // Leading zeros, as many as a browser takes.
        assert_eq!(
            html_entity_decode(&format!("&#x24;&#{}123;jndi", "0".repeat(40))),
            "${jndi"
        );
        assert_eq!(html_entity_decode("&#000;x"), "\0x");
        assert_eq!(html_entity_decode("fish & chips"), "fish & chips");
        assert_eq!(escape_decode(r"$\u007Bjndi"), "${jndi");
        assert_eq!(escape_decode(r"\x3cscript"), "<script");
        assert_eq!(canonical("ＳＥＬＥＣＴ"), "select");
    }

    #[test]
    fn comments_and_shell_evasions() {
        assert_eq!(strip_comments("un/**/ion sel/*x*/ect"), "un ion sel ect");
        assert_eq!(strip_comments("/*!50000select*/ 1"), "select 1");
        assert_eq!(strip_comments("a<!-- b -->c"), "a c");
        assert_eq!(shell_view("w'h'o\"am\"i"), "whoami");
        assert_eq!(shell_view("c^m^d"), "cmd");
        assert_eq!(shell_view("cat${ifs}/etc/passwd"), "cat /etc/passwd");
    }

    #[test]
    fn overlong_utf8_of_any_length_and_look_alikes() {
        assert_eq!(url_decode_repeated("%e0%80%ae%e0%80%ae", false), "..");
        assert_eq!(url_decode_repeated("%f0%80%80%af", false), "/");
        assert_eq!(url_decode_repeated("%f8%80%80%80%ae", false), ".");
        assert_eq!(url_decode_repeated("%fc%80%80%80%80%af", false), "/");
        assert_eq!(url_decode_repeated("%c1%9c", false), "\\");
        assert_eq!(url_decode_repeated("%c0%2e", false), ".");
        assert_eq!(url_decode_repeated("%uff0e%u2215%u2216", false), "./\\");
        assert_eq!(url_decode_repeated("%uF025%uF032e", false), ".");
        assert_eq!(url_decode_repeated("%25252e", false), ".");
        assert_eq!(url_decode_repeated("50%+off", true), "50% off");
        // Valid UTF-8 stays as it is.
        assert_eq!(url_decode_repeated("Gr%C3%BC%C3%9Fe", false), "Grüße");
    }

    #[test]
    fn escapes_are_decoded_in_one_pass_and_bounded() {
        assert_eq!(escape_decode(r"\u{7b}\u{000000007b}"), r"{\u{000000007b}");
        assert_eq!(escape_decode(r"a\u{"), r"a\u{");
        assert_eq!(escape_decode(r"\x41\/\q"), r"A/\q");
        assert_eq!(escape_decode("ü\\x41ß"), "üAß");
    }

    #[test]
    fn comment_stripping_is_one_pass() {
        // An unclosed comment hides nothing: SQL does not know `<!--`, markup does not know `/*`.
        assert_eq!(strip_comments("a/*x"), "a x");
        assert_eq!(strip_comments("/*<script>"), "<script>");
        assert_eq!(strip_comments("a<!--x"), "a x");
        assert_eq!(strip_comments("<!--' or 1=1--"), "' or 1=1--");
        assert_eq!(strip_comments("<!--<!--x-->y"), "y");
        assert_eq!(strip_comments("a*/b"), "a b");
        assert_eq!(strip_comments("/**//**/<!--"), "");
    }

    #[test]
    fn the_path_view_folds_separators() {
        assert_eq!(path_view(r"..\..//./etc\passwd"), "../../etc/passwd");
        assert_eq!(path_view(".. / .. /etc"), "../../etc");
    }

    #[test]
    fn whitespace_collapses_to_single_spaces_between_words() {
        // The quick path (nothing to collapse) and the copying one agree with each other.
        for (input, expected) in [
            ("a b c", "a b c"),
            ("", ""),
            ("   ", ""),
            (" a", "a"),
            ("a ", "a"),
            ("a  b", "a b"),
            ("a\tb", "a b"),
            ("a\r\n\x0b\x7fb", "a b"),
            ("a\0b", "a\0b"),
            ("x\u{a0}  y", "x y"),
        ] {
            assert_eq!(collapse_whitespace(input), expected, "{input:?}");
        }
        let long = "word ".repeat(100);
        assert_eq!(collapse_whitespace(&long), long.trim_end());
    }

    #[test]
    fn a_byte_is_found_in_any_block() {
        let mut text = vec![b'a'; 300];
        assert!(!any_byte(&text, |b| b == b'%'));
        for at in [0, 63, 64, 65, 299] {
            text[at] = b'%';
            assert!(any_byte(&text, |b| b == b'%'), "at {at}");
            text[at] = b'a';
        }
    }

    #[test]
    fn comments_are_told_from_text_that_only_has_slashes() {
        assert!(has_comment("a/*b"));
        assert!(has_comment("b*/"));
        assert!(has_comment("<!-- x"));
        assert!(!has_comment("a/b * c <! d"));
    }

    #[test]
    fn run_at_a_time_folds_match_their_character_by_character_definitions() {
        // What `canonical` and `collapse_whitespace` mean, one character at a time.
        let canonical_by_char = |input: &str| -> String {
            input
                .chars()
                .filter(|c| *c != '\0')
                .map(|c| fold_char(c).to_ascii_lowercase())
                .collect()
        };
        let collapse_by_char = |input: &str| -> String {
            let mut out = String::new();
            let mut space = false;
            for c in input.chars() {
                if c.is_whitespace() || (c.is_control() && c != '\0') {
                    if !space {
                        out.push(' ');
                    }
                    space = true;
                } else {
                    out.push(c);
                    space = false;
                }
            }
            out.trim().to_string()
        };
        let mut samples: Vec<String> = [
            "Straße ÄÖÜ  ＳＥＬＥＣＴ\0x",
            "\u{a0}früh\u{2003}\u{85}da\t\n",
            "ｕｎｉｏｎ　ｓｅｌｅｃｔ ∕etc∕passwd",
            "\u{ff0e}\u{ff0e}\u{2215}",
            "plain ascii text",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        samples.push(crate::waf::hostile::shuffled_atoms(8 * 1024));
        // And the shell and path views, one byte at a time.
        let shell_by_byte = |input: &str| -> String {
            const EMPTIES: &[&[u8]] = &[b"$@", b"$*", b"$()", b"${}", b"``"];
            let bytes = input.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let rest = &bytes[i..];
                if rest.starts_with(b"${ifs}") {
                    out.push(b' ');
                    i += 6;
                } else if rest.starts_with(b"$ifs") {
                    out.push(b' ');
                    i += 4;
                } else if let Some(empty) = EMPTIES.iter().find(|e| rest.starts_with(e)) {
                    i += empty.len();
                } else {
                    match bytes[i] {
                        b'\'' | b'"' | b'\\' | b'^' => {}
                        b'\n' | b'\r' => out.push(b';'),
                        b => out.push(b),
                    }
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap_or_default()
        };
        let path_by_byte = |input: &str| -> String {
            let mut out: Vec<u8> = Vec::new();
            for &b in input.as_bytes() {
                let b = if b == b'\\' || (b == b'%' && out.ends_with(b"..")) {
                    b'/'
                } else {
                    b
                };
                if b == b'/' {
                    while out.last() == Some(&b' ') {
                        out.pop();
                    }
                    if out.ends_with(b"/.") {
                        out.pop();
                    }
                    if out.last() == Some(&b'/') {
                        continue;
                    }
                } else if b == b' ' && out.last() == Some(&b'/') {
                    continue;
                }
                out.push(b);
            }
            String::from_utf8(out).unwrap_or_default()
        };
        samples.push(r#"a'b"c\d^e`f$@g$*h$()i${}j``k${ifs}l$ifs m\nn\ro"#.replace("\\n", "\n"));
        samples.push(r"..\..//./etc\passwd .. / x %u ..%25 /. / ./".to_string());
        for sample in &samples {
            assert_eq!(shell_view(sample), shell_by_byte(sample), "{sample:?}");
            assert_eq!(path_view(sample), path_by_byte(sample), "{sample:?}");
            let folded: String = sample.chars().map(fold_char).collect();
            assert_eq!(fold_str(sample), folded, "{sample:?}");
            assert_eq!(canonical(sample), canonical_by_char(sample), "{sample:?}");
            assert_eq!(
                collapse_whitespace(sample),
                collapse_by_char(sample),
                "{sample:?}"
            );
        }
    }
}
