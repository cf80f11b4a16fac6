//! Aggregates for the public trust statement: whether every staff account that can sign in has
//! its second factor, and how many have a passkey. Counts only, never an account.

use serde::{Deserialize, Serialize};

use super::{Account, AuthService};
use crate::records::{UserRecord, users_query};
use kernel::error::Error;
use kernel::store::query_all;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffFactorFigures {
    /// Staff accounts that can sign in: activated (a password chosen) and not disabled.
    pub staff: u32,
    /// Of them, with a second factor (authenticator app or passkey).
    pub with_second_factor: u32,
    /// Of them, with at least one passkey (phishing-resistant).
    pub with_passkey: u32,
}

impl AuthService {
    pub async fn staff_factor_figures(&self) -> Result<StaffFactorFigures, Error> {
        let mut figures = StaffFactorFigures::default();
        for item in query_all(self.store.as_ref(), users_query(&Account::Staff)).await? {
            let user: UserRecord = item.record()?;
            if user.disabled || user.password.is_none() {
                continue;
            }
            figures.staff += 1;
            if user.has_second_factor() {
                figures.with_second_factor += 1;
            }
            if !user.passkeys.is_empty() {
                figures.with_passkey += 1;
            }
        }
        Ok(figures)
    }
}
