//! The `Authorization` header's bearer credentials, read one way wherever they are read (the
//! edge's token gate, the functions' caller, the report status page).
//!
//! RFC 9110 §11.1 and §11.6.2: the scheme is case-insensitive; RFC 6750 §2.1: `Bearer`, one
//! space, then the token in token68 syntax. Anything else is refused, never guessed at: a header
//! the edge accepts but the function reads differently would let the two disagree on who acts.

/// Why a request carries no usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the Authorization header uses another scheme than Bearer")]
    OtherScheme,
    #[error("the Authorization header is malformed")]
    Malformed,
}

/// The bearer token of a request, given every value of its `Authorization` header.
pub fn bearer_token<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<&'a str, BearerError> {
    let mut values = values.into_iter();
    let value = values.next().ok_or(BearerError::Missing)?;
    if values.next().is_some() {
        return Err(BearerError::Malformed);
    }
    let value = std::str::from_utf8(value).map_err(|_| BearerError::Malformed)?;
    let Some((scheme, token)) = value.split_once(' ') else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            BearerError::Malformed
        } else {
            BearerError::OtherScheme
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::OtherScheme);
    }
    if is_token68(token) {
        Ok(token)
    } else {
        Err(BearerError::Malformed)
    }
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_token68(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<&str, BearerError> {
        bearer_token([value.as_bytes()])
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_is_token68() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(
                parse(&format!("{scheme} a.b-c_d~e+f/g==")),
                Ok("a.b-c_d~e+f/g==")
            );
        }
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(bearer_token([]), Err(BearerError::Missing));
        assert_eq!(parse("Basic dXNlcjpwdw=="), Err(BearerError::OtherScheme));
        assert_eq!(parse("Bearertoken"), Err(BearerError::OtherScheme));
        assert_eq!(parse("Bearer\ttoken"), Err(BearerError::OtherScheme));
        for malformed in [
            "Bearer",
            "Bearer ",
            "Bearer  token",
            "Bearer token ",
            "Bearer token extra",
            "Bearer to=ken",
            "Bearer ===",
            "Bearer tök",
        ] {
            assert_eq!(
                parse(malformed),
                Err(BearerError::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(
            bearer_token([b"Bearer a".as_slice(), b"Bearer b".as_slice()]),
            Err(BearerError::Malformed),
            "two Authorization headers"
        );
        assert_eq!(
            bearer_token([b"Bearer \xff".as_slice()]),
            Err(BearerError::Malformed)
        );
    }
}
