//! The keyring: finds, creates, caches, rotates and destroys data keys, and seals and opens
//! fields with them. Wrapped data keys are stored as records (`data_key` for tenants,
//! `platform_data_key` for the platform) next to the data they protect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    CryptoError, DataKey, DataKeyId, FieldContext, KeyContext, KeyEncryption, KeyOwner, KeyPurpose,
    Personal, SealedField, WrappedKey,
};
use crate::inventory::RecordKind;
use crate::store::{Condition, Item, ItemKey, Query, Store, StoreError, query_all};
use crate::time::{Clock, SignedDuration, Timestamp};

/// How long an unwrapped key stays in memory before it is read again. Bounds how long another
/// process may keep using a key that has just been destroyed.
const CACHE_TTL: SignedDuration = SignedDuration::from_mins(5);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyRecord {
    purpose: KeyPurpose,
    version: u32,
    kek_id: String,
    /// The wrapped data key, base64.
    wrapped: String,
    created_at: Timestamp,
}

/// Data keys and their rotations (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFigures {
    pub data_keys: u32,
    /// Key versions created by a rotation in the period.
    pub rotations: u32,
}

struct Cached {
    key: Arc<DataKey>,
    loaded_at: Timestamp,
}

pub struct Keyring {
    kek: Arc<dyn KeyEncryption>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Mutex<HashMap<DataKeyId, Cached>>,
    current: Mutex<HashMap<(KeyOwner, KeyPurpose), (u32, Timestamp)>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("kek", &self.kek.kek_id())
            .finish_non_exhaustive()
    }
}

fn store_err(e: StoreError) -> CryptoError {
    CryptoError::Store(e.to_string())
}

fn partition(owner: &KeyOwner) -> String {
    match owner {
        KeyOwner::Tenant(t) => ItemKey::tenant_partition(t),
        KeyOwner::Platform => "PLATFORM".into(),
    }
}

fn sort_prefix(purpose: KeyPurpose) -> String {
    format!("KEY#{}#", purpose.as_str())
}

fn item_key(id: &DataKeyId) -> Result<ItemKey, CryptoError> {
    ItemKey::new(
        partition(&id.owner),
        format!("{}{:010}", sort_prefix(id.purpose), id.version),
    )
    .map_err(store_err)
}

impl Keyring {
    pub fn new(kek: Arc<dyn KeyEncryption>, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            kek,
            store,
            clock,
            keys: Mutex::new(HashMap::new()),
            current: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, loaded_at: Timestamp) -> bool {
        self.clock.now().duration_since(loaded_at) < CACHE_TTL
    }

    /// Seals `value` for a field with the owner's current key of `purpose`.
    pub async fn seal(
        &self,
        ctx: &FieldContext<'_>,
        purpose: KeyPurpose,
        value: &Personal<String>,
    ) -> Result<SealedField, CryptoError> {
        let key = self.current_key(ctx.owner, purpose).await?;
        key.seal(ctx, value.expose().as_bytes())
    }

    /// Opens a sealed field with whichever key version sealed it.
    pub async fn open(
        &self,
        ctx: &FieldContext<'_>,
        sealed: &SealedField,
    ) -> Result<Personal<String>, CryptoError> {
        let (purpose, version) = sealed.key_ref()?;
        let key = self
            .key(&DataKeyId {
                owner: ctx.owner.clone(),
                purpose,
                version,
            })
            .await?;
        let plain = key.open(ctx, sealed)?;
        String::from_utf8(plain.to_vec())
            .map(Personal::new)
            .map_err(|_| CryptoError::Malformed)
    }

    /// The newest key of `purpose`, created on first use.
    pub async fn current_key(
        &self,
        owner: &KeyOwner,
        purpose: KeyPurpose,
    ) -> Result<Arc<DataKey>, CryptoError> {
        let cached_version = {
            let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
            current
                .get(&(owner.clone(), purpose))
                .filter(|(_, at)| self.fresh(*at))
                .map(|(v, _)| *v)
        };
        let version = match cached_version {
            Some(v) => v,
            None => match self.latest_version(owner, purpose).await? {
                Some(v) => v,
                None => self.create_version(owner, purpose, 1).await?,
            },
        };
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((owner.clone(), purpose), (version, self.clock.now()));
        self.key(&DataKeyId {
            owner: owner.clone(),
            purpose,
            version,
        })
        .await
    }

    /// Adds a new key version; new seals use it, old values still open with their version.
    pub async fn rotate(&self, owner: &KeyOwner, purpose: KeyPurpose) -> Result<u32, CryptoError> {
        let next = self.latest_version(owner, purpose).await?.unwrap_or(0) + 1;
        let version = self.create_version(owner, purpose, next).await?;
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((owner.clone(), purpose), (version, self.clock.now()));
        Ok(version)
    }

    /// Every stored key of the owner for `purposes` (what a shred would destroy).
    pub async fn list_keys(
        &self,
        owner: &KeyOwner,
        purposes: &[KeyPurpose],
    ) -> Result<Vec<DataKeyId>, CryptoError> {
        let mut keys = Vec::new();
        for purpose in purposes {
            let items = query_all(
                self.store.as_ref(),
                Query::partition(partition(owner)).prefix(sort_prefix(*purpose)),
            )
            .await
            .map_err(store_err)?;
            for item in items {
                let record: KeyRecord = item.record().map_err(store_err)?;
                keys.push(DataKeyId {
                    owner: owner.clone(),
                    purpose: *purpose,
                    version: record.version,
                });
            }
        }
        Ok(keys)
    }

    /// How many data keys `owners` hold and how many versions were created by a rotation
    /// (version 2 and later) from `since` on — for the trust statement.
    pub async fn key_figures(
        &self,
        owners: &[KeyOwner],
        since: Timestamp,
    ) -> Result<KeyFigures, CryptoError> {
        let mut figures = KeyFigures::default();
        for owner in owners {
            let items = query_all(
                self.store.as_ref(),
                Query::partition(partition(owner)).prefix("KEY#"),
            )
            .await
            .map_err(store_err)?;
            for item in items {
                let record: KeyRecord = item.record().map_err(store_err)?;
                figures.data_keys += 1;
                if record.version > 1 && record.created_at >= since {
                    figures.rotations += 1;
                }
            }
        }
        Ok(figures)
    }

    /// The key-encryption key's own rotation (KMS automatic rotation).
    pub async fn kek_rotation(&self) -> Result<super::KekRotation, CryptoError> {
        self.kek.rotation().await
    }

    /// Crypto-shredding: destroys every version of the owner's keys for `purposes`, so anything
    /// they sealed — wherever a copy survives — can no longer be opened. Returns the keys
    /// destroyed. Idempotent: destroying what is already gone destroys nothing more.
    pub async fn shred(
        &self,
        owner: &KeyOwner,
        purposes: &[KeyPurpose],
    ) -> Result<Vec<DataKeyId>, CryptoError> {
        let mut destroyed = Vec::new();
        for purpose in purposes {
            let items = query_all(
                self.store.as_ref(),
                Query::partition(partition(owner)).prefix(sort_prefix(*purpose)),
            )
            .await
            .map_err(store_err)?;
            for item in items {
                let record: KeyRecord = item.record().map_err(store_err)?;
                // Deleting one by one keeps the result exact: only keys that were there count.
                if self
                    .store
                    .delete(&item.key, Condition::Always)
                    .await
                    .map_err(store_err)?
                {
                    destroyed.push(DataKeyId {
                        owner: owner.clone(),
                        purpose: *purpose,
                        version: record.version,
                    });
                }
            }
            self.current
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&(owner.clone(), *purpose));
        }
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| !(id.owner == *owner && purposes.contains(&id.purpose)));
        Ok(destroyed)
    }

    async fn latest_version(
        &self,
        owner: &KeyOwner,
        purpose: KeyPurpose,
    ) -> Result<Option<u32>, CryptoError> {
        let page = self
            .store
            .query(
                Query::partition(partition(owner))
                    .prefix(sort_prefix(purpose))
                    .descending()
                    .limit(1),
            )
            .await
            .map_err(store_err)?;
        match page.items.first() {
            Some(item) => Ok(Some(item.record::<KeyRecord>().map_err(store_err)?.version)),
            None => Ok(None),
        }
    }

    /// Creates `version` unless another process created it first, in which case that one wins.
    async fn create_version(
        &self,
        owner: &KeyOwner,
        purpose: KeyPurpose,
        version: u32,
    ) -> Result<u32, CryptoError> {
        let (material, wrapped) = self
            .kek
            .generate_data_key(KeyContext { owner, purpose })
            .await?;
        let id = DataKeyId {
            owner: owner.clone(),
            purpose,
            version,
        };
        let now = self.clock.now();
        let record = KeyRecord {
            purpose,
            version,
            kek_id: wrapped.kek_id.clone(),
            wrapped: STANDARD.encode(&wrapped.blob),
            created_at: now,
        };
        let mut item = Item::new(item_key(&id)?, key_kind(owner))
            .with_record(&record)
            .map_err(store_err)?;
        if let KeyOwner::Tenant(t) = owner {
            item = item.with_tenant(t.clone());
        }
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => {
                self.remember(DataKey::new(id, &material));
                Ok(version)
            }
            Err(StoreError::ConditionFailed(_)) => Ok(version),
            Err(e) => Err(store_err(e)),
        }
    }

    async fn key(&self, id: &DataKeyId) -> Result<Arc<DataKey>, CryptoError> {
        {
            let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = keys.get(id).filter(|c| self.fresh(c.loaded_at)) {
                return Ok(cached.key.clone());
            }
        }
        let item = self
            .store
            .get(&item_key(id)?)
            .await
            .map_err(store_err)?
            .ok_or_else(|| CryptoError::KeyDestroyed(id.to_string()))?;
        let record: KeyRecord = item.record().map_err(store_err)?;
        let wrapped = WrappedKey {
            kek_id: record.kek_id,
            blob: STANDARD
                .decode(record.wrapped)
                .map_err(|_| CryptoError::Malformed)?,
        };
        let material: Zeroizing<[u8; 32]> = self
            .kek
            .decrypt_data_key(
                &wrapped,
                KeyContext {
                    owner: &id.owner,
                    purpose: id.purpose,
                },
            )
            .await?;
        Ok(self.remember(DataKey::new(id.clone(), &material)))
    }

    fn remember(&self, key: DataKey) -> Arc<DataKey> {
        let key = Arc::new(key);
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).insert(
            key.id().clone(),
            Cached {
                key: key.clone(),
                loaded_at: self.clock.now(),
            },
        );
        key
    }
}

fn key_kind(owner: &KeyOwner) -> RecordKind {
    match owner {
        KeyOwner::Tenant(_) => RecordKind::DataKey,
        KeyOwner::Platform => RecordKind::PlatformDataKey,
    }
}

/// Stored data keys, as a real run wrote them, still read and write the same.
#[cfg(test)]
mod golden {
    use super::*;

    #[test]
    fn stored_keys_read_and_write_as_stored() {
        crate::testkit::golden_record::<KeyRecord>(RecordKind::DataKey);
        crate::testkit::golden_record::<KeyRecord>(RecordKind::PlatformDataKey);
        crate::testkit::golden_record::<crate::idempotency::IdempotencyRecord>(
            RecordKind::IdempotencyRecord,
        );
    }
}
