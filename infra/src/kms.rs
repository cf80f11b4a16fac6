//! AWS KMS as the key-encryption port: `GenerateDataKey` and `Decrypt` with an encryption
//! context of tenant and purpose, so a wrapped data key unwraps only for the owner and purpose it
//! was made for — and every unwrap appears in CloudTrail with both.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::ProvideErrorMetadata;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use kernel::crypto::{CryptoError, KekRotation, KeyContext, KeyEncryption, WrappedKey};
use zeroize::Zeroizing;

pub struct KmsKeyEncryption {
    client: Client,
    /// The customer-managed key (id, ARN or alias) new data keys are wrapped under.
    key_id: String,
}

impl std::fmt::Debug for KmsKeyEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsKeyEncryption")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KmsKeyEncryption {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

fn context(ctx: KeyContext<'_>) -> std::collections::HashMap<String, String> {
    ctx.encryption_context()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn kms_err<E: ProvideErrorMetadata>(operation: &str, e: &E) -> CryptoError {
    CryptoError::KeyEncryption(format!(
        "KMS {operation}: {} {}",
        e.code().unwrap_or("error"),
        e.message().unwrap_or_default()
    ))
}

fn key_material(plaintext: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let mut material = Zeroizing::new([0u8; 32]);
    if plaintext.len() != 32 {
        return Err(CryptoError::Malformed);
    }
    material.copy_from_slice(plaintext);
    Ok(material)
}

#[async_trait]
impl KeyEncryption for KmsKeyEncryption {
    fn kek_id(&self) -> &str {
        &self.key_id
    }

    async fn generate_data_key(
        &self,
        ctx: KeyContext<'_>,
    ) -> Result<(Zeroizing<[u8; 32]>, WrappedKey), CryptoError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context(ctx)))
            .send()
            .await
            .map_err(|e| kms_err("GenerateDataKey", &e))?;
        let plaintext = out.plaintext.ok_or(CryptoError::Malformed)?;
        let material = key_material(plaintext.as_ref())?;
        let blob = out
            .ciphertext_blob
            .ok_or(CryptoError::Malformed)?
            .into_inner();
        Ok((
            material,
            WrappedKey {
                kek_id: self.key_id.clone(),
                blob,
            },
        ))
    }

    async fn decrypt_data_key(
        &self,
        wrapped: &WrappedKey,
        ctx: KeyContext<'_>,
    ) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let out = self
            .client
            .decrypt()
            // Naming the key makes KMS refuse a blob wrapped under any other key.
            .key_id(&wrapped.kek_id)
            .ciphertext_blob(Blob::new(wrapped.blob.clone()))
            .set_encryption_context(Some(context(ctx)))
            .send()
            .await
            .map_err(|e| kms_err("Decrypt", &e))?;
        let plaintext = out.plaintext.ok_or(CryptoError::Malformed)?;
        key_material(plaintext.as_ref())
    }

    async fn rotation(&self) -> Result<KekRotation, CryptoError> {
        let out = self
            .client
            .get_key_rotation_status()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(|e| kms_err("GetKeyRotationStatus", &e))?;
        if !out.key_rotation_enabled {
            return Ok(KekRotation::Off);
        }
        let next_rotation = out
            .next_rotation_date
            .and_then(|d| kernel::time::Timestamp::from_second(d.secs()).ok());
        Ok(KekRotation::Automatic {
            period_days: out
                .rotation_period_in_days
                .and_then(|d| u32::try_from(d).ok()),
            next_rotation,
        })
    }
}
