//! Identifiers. Tenants carry a human-chosen slug (it appears in Stripe metadata and URLs);
//! everything else gets a generated, time-ordered id with a type prefix (`inc_…`, `rep_…`).

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {kind}: {reason}")]
pub struct IdError {
    pub kind: &'static str,
    pub reason: String,
}

/// A customer (tenant) of the platform: lowercase letters, digits and hyphens, 2–63 characters,
/// starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        let err = |reason: &str| IdError {
            kind: "tenant id",
            reason: reason.to_string(),
        };
        if !(2..=63).contains(&value.len()) {
            return Err(err("must be 2 to 63 characters long"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("may contain only a-z, 0-9 and '-'"));
        }
        if value.starts_with('-') || value.ends_with('-') {
            return Err(err("must not start or end with '-'"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TenantId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        TenantId::new(value)
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> String {
        id.0
    }
}

impl std::str::FromStr for TenantId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        TenantId::new(s)
    }
}

/// Declares a generated id type: a UUIDv7 (millisecond time + 74 random bits) shown as
/// `<prefix>_<32 hex digits>`, so ids sort by creation time and say what they name.
#[macro_export]
macro_rules! generated_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(u128);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id for something created at `now`.
            pub fn generate(now: $crate::time::Timestamp) -> Self {
                Self($crate::ids::uuid_v7(now))
            }

            pub fn parse(s: &str) -> Result<Self, $crate::ids::IdError> {
                $crate::ids::parse_prefixed(s, $prefix).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}_{:032x}", $prefix, self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ids::IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Describes generated id types in the OpenAPI document (for crates that use `utoipa`): a string
/// with the type's prefix and 32 hex digits.
#[macro_export]
macro_rules! id_schema {
    ($($name:ident),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(format!("^{}_[0-9a-f]{{32}}$", $name::PREFIX)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

#[doc(hidden)]
pub fn uuid_v7(now: Timestamp) -> u128 {
    let millis = u64::try_from(now.as_millisecond()).unwrap_or(0);
    let random: [u8; 10] = crate::random::bytes();
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .as_u128()
}

#[doc(hidden)]
pub fn parse_prefixed(s: &str, prefix: &'static str) -> Result<u128, IdError> {
    let err = |reason: String| IdError {
        kind: prefix,
        reason,
    };
    let hex = s
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .ok_or_else(|| err(format!("'{s}' does not start with '{prefix}_'")))?;
    if hex.len() != 32
        || !hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(err(
            "expected 32 lowercase hex digits after the prefix".into()
        ));
    }
    u128::from_str_radix(hex, 16).map_err(|e| err(e.to_string()))
}

generated_id!(
    /// A request passing through the edge; returned to clients on errors and blocks.
    RequestId,
    "req"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::new("acme-gmbh").is_ok());
        let refused = |reason: &str| {
            Err(IdError {
                kind: "tenant id",
                reason: reason.to_string(),
            })
        };
        assert_eq!(
            TenantId::new("a"),
            refused("must be 2 to 63 characters long")
        );
        assert_eq!(
            TenantId::new("Acme"),
            refused("may contain only a-z, 0-9 and '-'")
        );
        assert_eq!(
            TenantId::new("-acme"),
            refused("must not start or end with '-'")
        );
        assert_eq!(
            TenantId::new("acme#x"),
            refused("may contain only a-z, 0-9 and '-'")
        );
    }

    #[test]
    fn generated_ids_round_trip_and_sort_by_time() {
        let t1: Timestamp = "2026-01-01T00:00:00Z".parse().expect("ts");
        let t2: Timestamp = "2026-01-01T00:00:01Z".parse().expect("ts");
        let a = RequestId::generate(t1);
        let b = RequestId::generate(t2);
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
        assert_eq!(RequestId::parse(&a.to_string()), Ok(a));
        assert_eq!(
            RequestId::parse("inc_0000"),
            Err(IdError {
                kind: "req",
                reason: "'inc_0000' does not start with 'req_'".into(),
            })
        );
        assert_ne!(RequestId::generate(t1), RequestId::generate(t1));
    }
}
