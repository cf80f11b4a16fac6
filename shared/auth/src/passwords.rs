//! Password hashes: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), in the PHC
//! string format, salted from our own random source.
//!
//! Argon2id costs tens of milliseconds of CPU by design; run on an async worker thread it stalls
//! every other request of that thread. So the work is reachable only through [`Passwords`],
//! which hands it to a [`HashingPool`] — in the functions, tokio's blocking pool
//! (`infra::blocking::BlockingPool`); `shared` itself stays free of any runtime.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use zeroize::Zeroizing;

use kernel::error::{Error, FieldError};

/// OWASP Password Storage Cheat Sheet: Argon2id, m = 19 456 KiB, t = 2, p = 1.
pub const MEMORY_KIB: u32 = 19_456;
pub const PASSES: u32 = 2;
pub const LANES: u32 = 1;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// A piece of CPU-heavy work (it reports its result itself).
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// Where password hashing runs: somewhere that does not hold up the async threads.
#[async_trait]
pub trait HashingPool: Send + Sync {
    /// Runs `job` to completion (an error if it could not run or panicked).
    async fn run(&self, job: Job) -> Result<(), Error>;
}

/// Runs the work on the calling thread: for callers without an async runtime to protect.
pub struct OnCallingThread;

#[async_trait]
impl HashingPool for OnCallingThread {
    async fn run(&self, job: Job) -> Result<(), Error> {
        job();
        Ok(())
    }
}

/// Password hashing and verification, done on a [`HashingPool`].
#[derive(Clone)]
pub struct Passwords {
    pool: Arc<dyn HashingPool>,
}

impl Passwords {
    pub fn new(pool: Arc<dyn HashingPool>) -> Self {
        Self { pool }
    }

    /// Runs `work` on the pool and hands back its result.
    async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        self.pool
            .run(Box::new(move || {
                let _ = sender.send(work());
            }))
            .await?;
        receiver
            .try_recv()
            .map_err(|_| Error::Internal("password work ended without a result".into()))
    }

    /// The PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String, Error> {
        let password = Zeroizing::new(password.to_string());
        self.on_pool(move || hash(&password)).await?
    }

    /// For each stored hash, whether `password` matches it; a `None` (no password set) gets the
    /// same work against a hash no password matches, so every candidate costs the same.
    pub async fn verify_each(
        &self,
        hashes: Vec<Option<String>>,
        password: &str,
    ) -> Result<Vec<bool>, Error> {
        let password = Zeroizing::new(password.to_string());
        self.on_pool(move || {
            hashes
                .iter()
                .map(|phc| match phc {
                    Some(phc) => verify(phc, &password),
                    None => {
                        verify_nothing(&password);
                        false
                    }
                })
                .collect()
        })
        .await
    }
}

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A new password must need at least this many guesses by zxcvbn's estimate: its top score, at
/// least 10^10 guesses, so that even a stolen Argon2id hash resists offline guessing for long.
/// (Score 3 starts at 10^8 and lets "name + year" passwords such as "AdaLovelace2026" through;
/// a passphrase of three or four ordinary words reaches 10^14 and more.)
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Four;

/// Checks a new password against the policy: 12 to 128 characters, not only one character, and
/// not easy to guess (zxcvbn, counting the account's own name and address as known words).
pub fn check_policy(password: &str, pointer: &str, known: &[&str]) -> Result<(), Error> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(Error::Validation(vec![FieldError::new(
            pointer,
            format!("must be {MIN_LENGTH} to {MAX_LENGTH} characters"),
        )]));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(Error::Validation(vec![FieldError::new(
            pointer,
            "must not repeat one character",
        )]));
    }
    // zxcvbn matches each known input as one dictionary word, so the name and the address go
    // in whole and in their parts ("Ada Admin" → "ada", "admin"; "ada@acme.example" → "ada", …).
    let mut words: Vec<&str> = known.to_vec();
    for input in known {
        words.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|part| part.chars().count() >= 3),
        );
    }
    if zxcvbn::zxcvbn(password, &words).score() < MIN_STRENGTH {
        return Err(Error::Validation(vec![FieldError::new(
            pointer,
            "is too easy to guess: use several unrelated words or more varied characters",
        )]));
    }
    Ok(())
}

/// The PHC string of `password` with a fresh salt.
fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::encode_b64(&kernel::random::bytes::<16>())
        .map_err(|e| Error::Internal(format!("salt: {e}")))?;
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Internal(format!("argon2: {e}")))?
        .to_string())
}

#[cfg(test)]
thread_local! {
    /// Argon2id verifications run on this thread (the tests count the work of a refusal).
    static VERIFICATIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether `password` matches `phc` (constant-time comparison inside the crate).
fn verify(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    #[cfg(test)]
    VERIFICATIONS.with(|n| n.set(n.get() + 1));
    argon2()
        .map(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Does the work of a verification against an account that does not exist, so an unknown
/// address takes as long to refuse as a wrong password.
fn verify_nothing(password: &str) {
    let phc = STAND_IN.get_or_init(|| hash("no account has this password").unwrap_or_default());
    let _ = verify(phc, password);
}

/// The hash a missing account is checked against (made once, with the real parameters).
static STAND_IN: OnceLock<String> = OnceLock::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_account_costs_the_same_argon2id_work_as_a_wrong_password() {
        // The stand-in hash has the parameters of a real one, and a missing account (`None`)
        // gets exactly one full verification against it, as an account with a hash does.
        let real = hash("correct horse battery").expect("hash");
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_string);
        verify_nothing("warm up the stand-in");
        let stand_in = params(STAND_IN.get().expect("stand-in made"));
        assert_eq!(stand_in, params(&real));
        assert_eq!(stand_in.as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1"));

        let passwords = Passwords::new(Arc::new(OnCallingThread));
        let counted = |hashes: Vec<Option<String>>| {
            let passwords = passwords.clone();
            async move {
                let before = VERIFICATIONS.with(std::cell::Cell::get);
                let matched = passwords
                    .verify_each(hashes, "a wrong password")
                    .await
                    .expect("verified");
                (matched, VERIFICATIONS.with(std::cell::Cell::get) - before)
            }
        };
        assert_eq!(counted(vec![None]).await, (vec![false], 1));
        assert_eq!(counted(vec![Some(real.clone())]).await, (vec![false], 1));
        assert_eq!(
            counted(vec![Some(real), None]).await,
            (vec![false, false], 2)
        );
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(&phc, "correct horse battery"));
        assert!(!verify(&phc, "correct horse battery!"));
        assert!(!verify("not a hash", "x"));
        assert_ne!(phc, hash("correct horse battery").expect("hash"), "salted");
    }

    #[test]
    fn the_policy_wants_length() {
        let short = check_policy("short", "/password", &[]);
        assert!(
            matches!(&short, Err(Error::Validation(e)) if e[0].pointer == "/password"),
            "{short:?}"
        );
        let repeated = check_policy("aaaaaaaaaaaaaaaa", "/password", &[]);
        assert!(
            matches!(&repeated, Err(Error::Validation(e)) if e[0].detail == "must not repeat one character"),
            "{repeated:?}"
        );
        assert!(check_policy("a long enough passphrase", "/password", &[]).is_ok());
        // Long enough, but a dictionary word with digits, a keyboard row, or the user's name.
        for guessable in [
            "password12345",
            "qwertyuiopasdf",
            "1234567890123",
            "AdaLovelace2026",
        ] {
            assert!(
                check_policy(guessable, "/password", &[]).is_err(),
                "{guessable}"
            );
        }
        // The account's own name counts as known: strong enough alone, guessable with it.
        assert!(check_policy("adalovelace1815", "/password", &[]).is_ok());
        assert!(
            check_policy(
                "adalovelace1815",
                "/password",
                &["ada@acme.example", "Ada Lovelace"]
            )
            .is_err()
        );
    }
}
