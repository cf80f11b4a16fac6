//! The key-encryption port: wraps and unwraps data keys. AWS KMS implements it in production
//! (`infra::kms`); [`LocalKeyEncryption`] implements it with a master key from the local data
//! directory for the embedded default.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use zeroize::Zeroizing;

use super::{CryptoError, KeyOwner, KeyPurpose};

/// What a data key is bound to. Sent to KMS as the encryption context, so a wrapped key only
/// unwraps for the same tenant and purpose (and every unwrap is logged with them in CloudTrail).
#[derive(Debug, Clone, Copy)]
pub struct KeyContext<'a> {
    pub owner: &'a KeyOwner,
    pub purpose: KeyPurpose,
}

impl KeyContext<'_> {
    pub fn encryption_context(&self) -> [(&'static str, String); 2] {
        [
            ("tenant", self.owner.label()),
            ("purpose", self.purpose.as_str().to_string()),
        ]
    }
}

/// A data key encrypted under a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Which key-encryption key wrapped it (a KMS key ARN, or `local:<id>`).
    pub kek_id: String,
    pub blob: Vec<u8>,
}

#[async_trait]
pub trait KeyEncryption: Send + Sync {
    /// Identifies the key-encryption key new data keys are wrapped with.
    fn kek_id(&self) -> &str;

    /// A fresh 256-bit data key, in clear and wrapped (KMS GenerateDataKey).
    async fn generate_data_key(
        &self,
        ctx: KeyContext<'_>,
    ) -> Result<(Zeroizing<[u8; 32]>, WrappedKey), CryptoError>;

    /// Unwraps a data key (KMS Decrypt). Fails when the context differs from the one it was
    /// wrapped with.
    async fn decrypt_data_key(
        &self,
        wrapped: &WrappedKey,
        ctx: KeyContext<'_>,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError>;

    /// Whether the key-encryption key rotates its material itself (KMS automatic rotation),
    /// for the trust statement.
    async fn rotation(&self) -> Result<KekRotation, CryptoError>;
}

/// The rotation state of the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KekRotation {
    /// The key service rotates the key material itself; old material still unwraps.
    Automatic {
        period_days: Option<u32>,
        next_rotation: Option<crate::time::Timestamp>,
    },
    /// Automatic rotation is switched off.
    Off,
    /// A key that cannot rotate itself (the local master key of the embedded default).
    NotAvailable { why: String },
}

/// Wraps data keys with AES-256-GCM under a local master key.
pub struct LocalKeyEncryption {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for LocalKeyEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeyEncryption")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

const LOCAL_AAD_DOMAIN: &[u8] = b"regrooter/local-kek/v1\0";

impl LocalKeyEncryption {
    pub fn new(id: &str, master: &Zeroizing<[u8; 32]>) -> Self {
        Self {
            id: format!("local:{id}"),
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(**master)),
        }
    }

    fn aad(&self, ctx: KeyContext<'_>) -> Vec<u8> {
        let mut aad = LOCAL_AAD_DOMAIN.to_vec();
        for (name, value) in ctx.encryption_context() {
            for part in [name.as_bytes(), value.as_bytes()] {
                aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
                aad.extend_from_slice(part);
            }
        }
        aad
    }
}

#[async_trait]
impl KeyEncryption for LocalKeyEncryption {
    fn kek_id(&self) -> &str {
        &self.id
    }

    async fn generate_data_key(
        &self,
        ctx: KeyContext<'_>,
    ) -> Result<(Zeroizing<[u8; 32]>, WrappedKey), CryptoError> {
        let material = Zeroizing::new(crate::random::bytes::<32>());
        let nonce: [u8; 12] = crate::random::bytes();
        let aad = self.aad(ctx);
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: material.as_slice(),
                    aad: &aad,
                },
            )
            .map_err(|_| CryptoError::KeyEncryption("wrapping failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok((
            material,
            WrappedKey {
                kek_id: self.id.clone(),
                blob,
            },
        ))
    }

    async fn decrypt_data_key(
        &self,
        wrapped: &WrappedKey,
        ctx: KeyContext<'_>,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        if wrapped.kek_id != self.id {
            return Err(CryptoError::KeyEncryption(format!(
                "data key was wrapped by '{}', this is '{}'",
                wrapped.kek_id, self.id
            )));
        }
        if wrapped.blob.len() < 12 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = wrapped.blob.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        let aad = self.aad(ctx);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| {
                    CryptoError::KeyEncryption(
                        "unwrapping failed: wrong master key or context".into(),
                    )
                })?,
        );
        let mut material = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(CryptoError::Malformed);
        }
        material.copy_from_slice(&plain);
        Ok(material)
    }

    async fn rotation(&self) -> Result<KekRotation, CryptoError> {
        Ok(KekRotation::NotAvailable {
            why: "the embedded default's local master key does not rotate itself".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TenantId;

    fn local(id: &str, byte: u8) -> LocalKeyEncryption {
        LocalKeyEncryption::new(id, &Zeroizing::new([byte; 32]))
    }

    #[tokio::test]
    async fn a_wrapped_key_unwraps_only_for_its_tenant_purpose_and_master_key() {
        let acme = KeyOwner::Tenant(TenantId::new("acme").expect("tenant"));
        let globex = KeyOwner::Tenant(TenantId::new("globex").expect("tenant"));
        let kek = local("test", 7);
        let ctx = |owner, purpose| KeyContext { owner, purpose };
        let (material, wrapped) = kek
            .generate_data_key(ctx(&acme, KeyPurpose::Primary))
            .await
            .expect("generated");
        assert_eq!(wrapped.kek_id, "local:test");
        let unwrapped = kek
            .decrypt_data_key(&wrapped, ctx(&acme, KeyPurpose::Primary))
            .await
            .expect("its own context");
        assert_eq!(*unwrapped, *material);

        // Another tenant or another purpose: the context is authenticated data.
        for (owner, purpose) in [
            (&globex, KeyPurpose::Primary),
            (&acme, KeyPurpose::Copies),
            (&acme, KeyPurpose::LegalHold),
        ] {
            let refused = kek.decrypt_data_key(&wrapped, ctx(owner, purpose)).await;
            assert!(
                matches!(refused, Err(CryptoError::KeyEncryption(_))),
                "{owner:?} {purpose:?}: {refused:?}"
            );
        }
        // Another master key under the same id, another key id, a changed or cut blob.
        let other_master = local("test", 8)
            .decrypt_data_key(&wrapped, ctx(&acme, KeyPurpose::Primary))
            .await;
        assert!(matches!(other_master, Err(CryptoError::KeyEncryption(_))));
        let other_id = local("other", 7)
            .decrypt_data_key(&wrapped, ctx(&acme, KeyPurpose::Primary))
            .await;
        assert!(
            matches!(&other_id, Err(CryptoError::KeyEncryption(why)) if why.contains("local:test")),
            "{other_id:?}"
        );
        let mut changed = wrapped.clone();
        changed.blob[20] ^= 1;
        assert!(matches!(
            kek.decrypt_data_key(&changed, ctx(&acme, KeyPurpose::Primary))
                .await,
            Err(CryptoError::KeyEncryption(_))
        ));
        let cut = WrappedKey {
            kek_id: wrapped.kek_id.clone(),
            blob: wrapped.blob[..8].to_vec(),
        };
        assert_eq!(
            kek.decrypt_data_key(&cut, ctx(&acme, KeyPurpose::Primary))
                .await,
            Err(CryptoError::Malformed)
        );
    }
}
