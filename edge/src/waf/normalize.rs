//! Normalisation: attackers hide payloads behind encodings, so every value is decoded and
//! canonicalised before the rules look at it. Each function is a pure `&str -> String`
//! transformation; the WAF combines them into the views its rules need.

/// Percent-decoding, repeated until the value stops changing (at most four rounds), including
/// IIS-style `%uXXXX` and overlong UTF-8 forms of `.`, `/` and `\` (`%c0%ae`, `%c0%af`, …).
/// `plus_is_space` applies to query strings and form bodies.
pub fn url_decode_repeated(input: &str, plus_is_space: bool) -> String {
    let mut current = input.to_string();
    for round in 0..4 {
        let next = url_decode_once(&current, plus_is_space && round == 0);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn url_decode_once(input: &str, plus_is_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 5 < bytes.len() && (bytes[i + 1] == b'u' || bytes[i + 1] == b'U') => {
                let code = (2..6).try_fold(0u32, |acc, k| {
                    hex_val(bytes[i + k]).map(|v| acc * 16 + u32::from(v))
                });
                match code.and_then(char::from_u32) {
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(
                            fullwidth_to_ascii(c).encode_utf8(&mut buf).as_bytes(),
                        );
                        i += 6;
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
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    fix_overlong(&out)
}

/// Overlong UTF-8 encodings of ASCII (`c0 ae` for `.`) become the ASCII byte; other invalid
/// bytes are kept as Latin-1 characters so nothing is silently dropped.
fn fix_overlong(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (b == 0xc0 || b == 0xc1) && i + 1 < bytes.len() && (0x80..0xc0).contains(&bytes[i + 1]) {
            out.push(char::from(((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f)));
            i += 2;
            continue;
        }
        if b == 0xe0
            && i + 2 < bytes.len()
            && bytes[i + 1] == 0x80
            && (0x80..0xc0).contains(&bytes[i + 2])
        {
            out.push(char::from(bytes[i + 2] & 0x3f));
            i += 3;
            continue;
        }
        let width = match b {
            0x00..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        if width > 0
            && let Some(chunk) = bytes.get(i..i + width)
            && let Ok(s) = std::str::from_utf8(chunk)
        {
            out.push_str(s);
            i += width;
            continue;
        }
        out.push(char::from(b));
        i += 1;
    }
    out
}

/// Fullwidth forms (U+FF01..U+FF5E) are ASCII in disguise.
pub fn fullwidth_to_ascii(c: char) -> char {
    let code = c as u32;
    if (0xff01..=0xff5e).contains(&code) {
        char::from_u32(code - 0xfee0).unwrap_or(c)
    } else {
        c
    }
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
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(num) = after.strip_prefix('#') {
            let (digits, radix) = match num.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (num, 10),
            };
            let len = digits
                .bytes()
                .take_while(|b| {
                    if radix == 16 {
                        b.is_ascii_hexdigit()
                    } else {
                        b.is_ascii_digit()
                    }
                })
                .count()
                .min(8);
            if len > 0
                && let Some(c) = u32::from_str_radix(&digits[..len], radix)
                    .ok()
                    .and_then(char::from_u32)
            {
                out.push(fullwidth_to_ascii(c));
                let consumed = 1 + (num.len() - digits.len()) + len;
                rest = &after[consumed..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
                continue;
            }
        } else {
            let name_len = after.bytes().take_while(u8::is_ascii_alphanumeric).count();
            let name = after[..name_len].to_ascii_lowercase();
            if let Some((_, value)) = NAMED_ENTITIES.iter().find(|(n, _)| *n == name) {
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

/// JavaScript, Java and C escapes: `\xHH`, `\uHHHH`, `\u{H…}`, and `\/`.
pub fn escape_decode(input: &str) -> String {
    if !input.contains('\\') {
        return input.to_string();
    }
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            let hex = |from: usize, n: usize| -> Option<u32> {
                let s: String = chars.get(from..from + n)?.iter().collect();
                if s.chars().all(|c| c.is_ascii_hexdigit()) {
                    u32::from_str_radix(&s, 16).ok()
                } else {
                    None
                }
            };
            match chars[i + 1] {
                'x' | 'X' => {
                    if let Some(c) = hex(i + 2, 2).and_then(char::from_u32) {
                        out.push(c);
                        i += 4;
                        continue;
                    }
                }
                'u' | 'U' => {
                    if chars.get(i + 2) == Some(&'{')
                        && let Some(end) = chars[i + 3..].iter().position(|c| *c == '}')
                        && let Some(c) = hex(i + 3, end).and_then(char::from_u32)
                    {
                        out.push(c);
                        i += 4 + end;
                        continue;
                    }
                    if let Some(c) = hex(i + 2, 4).and_then(char::from_u32) {
                        out.push(fullwidth_to_ascii(c));
                        i += 6;
                        continue;
                    }
                }
                '/' => {
                    out.push('/');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Lowercase, NUL bytes removed, fullwidth characters folded to ASCII.
pub fn canonical(input: &str) -> String {
    input
        .chars()
        .filter(|c| *c != '\0')
        .map(|c| fullwidth_to_ascii(c).to_ascii_lowercase())
        .collect()
}

/// Removes C, SQL and HTML comments (replaced by a space), then collapses whitespace.
pub fn strip_comments(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    loop {
        let c_style = rest.find("/*");
        let html = rest.find("<!--");
        let first_is_c = match (c_style, html) {
            (Some(a), Some(h)) => a < h,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => {
                out.push_str(rest);
                break;
            }
        };
        if first_is_c {
            let a = c_style.unwrap_or_default();
            out.push_str(&rest[..a]);
            out.push(' ');
            // MySQL's executable comments `/*!50000 select */` keep their content.
            let body = &rest[a + 2..];
            match body.strip_prefix('!') {
                Some(exec) => rest = exec.trim_start_matches(|c: char| c.is_ascii_digit()),
                None => match body.find("*/") {
                    Some(end) => rest = &body[end + 2..],
                    None => rest = "",
                },
            }
        } else {
            let h = html.unwrap_or_default();
            out.push_str(&rest[..h]);
            out.push(' ');
            match rest[h + 4..].find("-->") {
                Some(end) => rest = &rest[h + 4 + end + 3..],
                None => rest = "",
            }
        }
    }
    let out = out.replace("*/", " ");
    collapse_whitespace(&out)
}

/// Runs of whitespace (and control characters) become one space.
pub fn collapse_whitespace(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
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
}

/// The shell's view: quotes, backslashes, carets and empty expansions removed, `${IFS}`-style
/// separators turned into spaces (`w'h'o"am"i` → `whoami`, `c^md` → `cmd`).
pub fn shell_view(input: &str) -> String {
    let mut s = input
        .replace("${ifs}", " ")
        .replace("$ifs", " ")
        .replace("$@", "")
        .replace("$*", "");
    s = s.replace("''", "").replace("\"\"", "");
    s.chars()
        .filter(|c| !matches!(c, '\'' | '"' | '\\' | '^'))
        .collect()
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
}
