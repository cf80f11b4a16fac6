//! Idempotent creates: a client names a request with an `Idempotency-Key`; the first request with
//! that key runs, and every later one with the same key and the same request gets the first one's
//! response again instead of creating a second time.
//!
//! The record is claimed with a conditional put (condition: absent) before the request runs, so
//! of several concurrent requests with one key exactly one runs; the others find the claim and
//! wait for its response. Keys belong to the caller who sent them (the scope), are bounded in
//! length, and are stored only as a digest; the response is sealed (it may hold personal data)
//! and the record expires after [`KEY_LIFETIME_HOURS`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{FieldContext, KeyOwner, KeyPurpose, Keyring, Personal, SealedField};
use crate::error::Error;
use crate::inventory::GuardedStore;
use crate::inventory::RecordKind;
use crate::store::{Condition, Item, ItemKey, Store, StoreError};
use crate::time::{Clock, SignedDuration, Timestamp};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header marking a replayed response (Stripe's name for it).
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// Longest key accepted (Stripe's bound).
pub const MAX_KEY_LEN: usize = 255;
/// How long a key is remembered.
pub const KEY_LIFETIME_HOURS: i64 = 24;
/// A claim older than this whose request never finished was interrupted (a crash mid-request).
pub const IN_PROGRESS_LEASE_SECONDS: i64 = 60;

/// A validated key: 1 to 255 printable ASCII characters.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdempotencyKey({} bytes)", self.0.len())
    }
}

impl IdempotencyKey {
    pub fn parse(raw: &[u8]) -> Result<Self, Error> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN {
            return Err(Error::BadRequest(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY_LEN} characters"
            )));
        }
        if !raw.iter().all(|b| (0x20..=0x7e).contains(b)) {
            return Err(Error::BadRequest(
                "the Idempotency-Key header must be printable ASCII".into(),
            ));
        }
        String::from_utf8(raw.to_vec())
            .map(Self)
            .map_err(|_| Error::BadRequest("the Idempotency-Key header must be ASCII".into()))
    }
}

/// The digest a request is recognised by: method, path with query, and body.
pub fn request_digest(method: &str, path: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.update(body);
    crate::hex::encode(&hash.finalize())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// The first request is running.
    InProgress,
    /// The first request answered; its response is stored.
    Completed,
}

/// What is stored under a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyRecord {
    pub request_digest: String,
    pub state: RecordState,
    pub started_at: Timestamp,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    /// The response body, base64 inside the seal.
    pub response: Option<SealedField>,
}

/// A stored response, to send again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// The claim on a key by the request that runs.
#[derive(Debug, Clone)]
pub struct Ticket {
    key: ItemKey,
    record_id: String,
    version: u64,
    record: IdempotencyRecord,
}

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// The first request with this key: run it, then [`Idempotency::complete`] or
    /// [`Idempotency::release`].
    Run(Ticket),
    /// The same request ran already: send its response again.
    Replay(StoredResponse),
    /// The same request is running now.
    InProgress,
    /// The same request started but never finished (interrupted); whether it took effect is
    /// unknown.
    Interrupted,
    /// The key was used with a different request.
    Mismatch,
}

pub struct Idempotency {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

fn record_id(scope: &str, key: &IdempotencyKey) -> String {
    let mut hash = Sha256::new();
    hash.update((scope.len() as u64).to_be_bytes());
    hash.update(scope.as_bytes());
    hash.update(key.0.as_bytes());
    crate::hex::encode(&hash.finalize())
}

fn context<'a>(owner: &'a KeyOwner, record_id: &'a str) -> FieldContext<'a> {
    FieldContext {
        owner,
        kind: RecordKind::IdempotencyRecord,
        record_id,
        field: "response",
    }
}

impl Idempotency {
    pub fn new(store: GuardedStore, keyring: Arc<Keyring>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store: store.shared(),
            keyring,
            clock,
        }
    }

    fn item(&self, key: &ItemKey, record: &IdempotencyRecord) -> Result<Item, StoreError> {
        Item::new(key.clone(), RecordKind::IdempotencyRecord)
            .with_expiry(record.started_at + SignedDuration::from_hours(KEY_LIFETIME_HOURS))
            .with_record(record)
    }

    /// Claims `key` for this request (`scope`: who sent it), or says what became of the request
    /// that claimed it first.
    pub async fn begin(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        digest: &str,
    ) -> Result<Begin, Error> {
        let record_id = record_id(scope, key);
        let item_key = ItemKey::new(format!("IDEMPOTENCY#{record_id}"), "REQUEST")?;
        // A claim released between our put and our read leaves the key free again: try anew.
        for _ in 0..3 {
            let record = IdempotencyRecord {
                request_digest: digest.to_string(),
                state: RecordState::InProgress,
                started_at: self.clock.now(),
                status: None,
                content_type: None,
                response: None,
            };
            match self
                .store
                .put(self.item(&item_key, &record)?, Condition::NotExists)
                .await
            {
                Ok(version) => {
                    return Ok(Begin::Run(Ticket {
                        key: item_key,
                        record_id,
                        version,
                        record,
                    }));
                }
                Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e.into()),
            }
            if let Some(found) = self.look_up(&item_key, &record_id, digest).await? {
                return Ok(found);
            }
        }
        Err(Error::Conflict(
            "this Idempotency-Key is in use by requests that keep failing; retry later".into(),
        ))
    }

    /// What became of the request holding the key, if one still does.
    async fn look_up(
        &self,
        item_key: &ItemKey,
        record_id: &str,
        digest: &str,
    ) -> Result<Option<Begin>, Error> {
        let Some(item) = self.store.get(item_key).await? else {
            return Ok(None);
        };
        let record: IdempotencyRecord = item.record()?;
        if record.request_digest != digest {
            return Ok(Some(Begin::Mismatch));
        }
        match (record.state, record.status, &record.response) {
            (RecordState::Completed, Some(status), Some(sealed)) => {
                let opened = self
                    .keyring
                    .open(&context(&KeyOwner::Platform, record_id), sealed)
                    .await?;
                use base64::Engine as _;
                let body = base64::engine::general_purpose::STANDARD
                    .decode(opened.expose())
                    .map_err(|_| Error::Internal("a stored response is malformed".into()))?;
                Ok(Some(Begin::Replay(StoredResponse {
                    status,
                    content_type: record.content_type,
                    body,
                })))
            }
            (RecordState::Completed, ..) => Err(Error::Internal(
                "a completed idempotency record lacks its response".into(),
            )),
            (RecordState::InProgress, ..) => {
                let lease = SignedDuration::from_secs(IN_PROGRESS_LEASE_SECONDS);
                if self.clock.now().duration_since(record.started_at) > lease {
                    Ok(Some(Begin::Interrupted))
                } else {
                    Ok(Some(Begin::InProgress))
                }
            }
        }
    }

    /// Asks again about a key another request holds (while waiting for it).
    pub async fn poll(
        &self,
        scope: &str,
        key: &IdempotencyKey,
        digest: &str,
    ) -> Result<Begin, Error> {
        let record_id = record_id(scope, key);
        let item_key = ItemKey::new(format!("IDEMPOTENCY#{record_id}"), "REQUEST")?;
        match self.look_up(&item_key, &record_id, digest).await? {
            Some(found) => Ok(found),
            // Released (the first request failed): this one may run now.
            None => self.begin(scope, key, digest).await,
        }
    }

    /// Stores the response of the request that ran, for every later request with its key.
    pub async fn complete(&self, ticket: Ticket, response: &StoredResponse) -> Result<(), Error> {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&response.body);
        let sealed = self
            .keyring
            .seal(
                &context(&KeyOwner::Platform, &ticket.record_id),
                KeyPurpose::Primary,
                &Personal::new(encoded),
            )
            .await?;
        let record = IdempotencyRecord {
            state: RecordState::Completed,
            status: Some(response.status),
            content_type: response.content_type.clone(),
            response: Some(sealed),
            ..ticket.record
        };
        self.store
            .put(
                self.item(&ticket.key, &record)?,
                Condition::Version(ticket.version),
            )
            .await?;
        Ok(())
    }

    /// Frees the key: the request that ran created nothing (it was refused), so a retry with
    /// the same key may run.
    pub async fn release(&self, ticket: Ticket) -> Result<(), Error> {
        self.store
            .delete(&ticket.key, Condition::Version(ticket.version))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(IdempotencyKey::parse(b"credit-7f3a").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; MAX_KEY_LEN]).is_ok());
        let refused = |raw: &[u8], why: &str| {
            let err = IdempotencyKey::parse(raw).err();
            assert!(
                matches!(&err, Some(Error::BadRequest(m)) if m.contains(why)),
                "{raw:?}: {err:?}"
            );
        };
        refused(&[b'k'; MAX_KEY_LEN + 1], "1 to 255 characters");
        refused(b"", "1 to 255 characters");
        refused(b"bad\nkey", "printable ASCII");
        refused("schlüssel".as_bytes(), "printable ASCII");
    }

    #[test]
    fn the_digest_tells_requests_apart() {
        let a = request_digest("POST", "/api/credits/acme", b"{}");
        assert_eq!(a, request_digest("POST", "/api/credits/acme", b"{}"));
        assert_ne!(a, request_digest("POST", "/api/credits/acmf", b"{}"));
        assert_ne!(a, request_digest("POST", "/api/credits/acme", b"{ }"));
        // Length prefixes: moving a byte from path to body changes the digest.
        assert_ne!(
            request_digest("POST", "/a", b"b"),
            request_digest("POST", "/ab", b"")
        );
    }
}
