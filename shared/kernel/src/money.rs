//! Money as integer minor units (cents) with its currency. No floating point anywhere near money.

use serde::{Deserialize, Serialize};

use crate::policy::BasisPoints;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("'{0}' is not a three-letter ISO 4217 currency code")]
    BadCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

/// An ISO 4217 code, stored lowercase as Stripe sends it (`eur`), shown uppercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const EUR: Currency = Currency(*b"eur");

    pub fn new(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        let lower = code.to_ascii_lowercase();
        let b = lower.as_bytes();
        Ok(Currency([b[0], b[1], b[2]]))
    }

    /// Lowercase, as Stripe's API uses it.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code().to_ascii_uppercase())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::new(&s).map_err(serde::de::Error::custom)
    }
}

/// How a fraction of a cent is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Half a cent and more rounds away from zero (commercial rounding).
    HalfUp,
    /// Fractions are dropped, towards zero.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for EUR).
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `share` of this amount, in whole minor units, settled by `rounding`.
    pub fn share(self, share: BasisPoints, rounding: Rounding) -> Result<Money, MoneyError> {
        let product = i128::from(self.minor) * i128::from(share.0);
        let whole = product / 10_000;
        let remainder = product % 10_000;
        let rounded = match rounding {
            Rounding::Down => whole,
            Rounding::HalfUp if remainder.abs() >= 5_000 => whole + product.signum(),
            Rounding::HalfUp => whole,
        };
        let minor = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_percent_rounds_half_up_to_whole_cents() {
        let fee = Money::new(4_990, Currency::EUR); // 49.90 EUR
        assert_eq!(
            fee.share(BasisPoints(500), Rounding::HalfUp)
                .expect("ok")
                .minor,
            250
        ); // 249.5 -> 250
        assert_eq!(
            fee.share(BasisPoints(500), Rounding::Down)
                .expect("ok")
                .minor,
            249
        );
        let fee = Money::new(1_009, Currency::EUR);
        assert_eq!(
            fee.share(BasisPoints(500), Rounding::HalfUp)
                .expect("ok")
                .minor,
            50
        ); // 50.45
        assert_eq!(
            Money::new(-4_990, Currency::EUR)
                .share(BasisPoints(500), Rounding::HalfUp)
                .expect("ok")
                .minor,
            -250
        );
    }

    #[test]
    fn currencies_do_not_mix() {
        let eur = Money::new(100, Currency::EUR);
        let usd = Money::new(100, Currency::new("USD").expect("usd"));
        assert_eq!(
            eur.checked_add(usd),
            Err(MoneyError::CurrencyMismatch(Currency::EUR, usd.currency))
        );
        assert_eq!(eur.checked_add(eur).expect("same").minor, 200);
        assert_eq!(
            Currency::new("EURO"),
            Err(MoneyError::BadCurrency("EURO".into()))
        );
        assert_eq!(eur.to_string(), "1.00 EUR");
    }
}
