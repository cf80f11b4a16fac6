//! Field-level envelope encryption with AES-256-GCM.
//!
//! * Each owner (a tenant, or the platform for its own records) has data keys per
//!   [`KeyPurpose`], with versions for rotation. Data keys are wrapped by a key-encryption key
//!   behind the [`KeyEncryption`] port: AWS KMS in production, a local master key for the
//!   embedded default.
//! * Associated data binds every ciphertext to owner, record kind, record id, field name, purpose
//!   and key version, so a sealed value copied to another record or tenant does not open.
//! * Nonces are 96 random bits per seal.
//! * Personal data travels as [`Personal`] (no `Serialize`, redacted `Debug`) and is stored only
//!   as [`SealedField`]: by construction it cannot reach a store in clear.
//! * Crypto-shredding = destroying an owner's data keys (see [`Keyring::shred`]).

mod kek;
mod keyring;

use aes_gcm::aead::{AeadInOut, KeyInit, Tag};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use kek::{KekRotation, KeyContext, KeyEncryption, LocalKeyEncryption, WrappedKey};
pub use keyring::{KeyFigures, Keyring};

use crate::ids::TenantId;
use crate::inventory::RecordKind;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value does not authenticate (tampered, or opened in the wrong place)")]
    Authentication,
    #[error("the data key {0} no longer exists: it was destroyed (crypto-shredded)")]
    KeyDestroyed(String),
    #[error("key encryption failed: {0}")]
    KeyEncryption(String),
    #[error("key store: {0}")]
    Store(String),
}

/// Whose data a key protects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyOwner {
    Tenant(TenantId),
    /// The platform's own records (security reports, incident files).
    Platform,
}

impl KeyOwner {
    /// A label that cannot collide: tenant ids never contain '@'.
    pub fn label(&self) -> String {
        match self {
            KeyOwner::Tenant(t) => format!("tenant:{t}"),
            KeyOwner::Platform => "@platform".into(),
        }
    }
}

/// What a data key protects. Separate purposes let retention destroy exactly one scope: live
/// data in stage 1, the remaining copies in stage 2, and data under a legal hold only when the
/// hold ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    /// Live personal data in the primary stores.
    Primary,
    /// Exports and archives kept after the first deletion stage.
    Copies,
    /// Data kept under a statutory retention duty.
    LegalHold,
    /// Identity data of sign-in accounts (emails, names, second factors).
    Identity,
    /// Security reports and incident files (platform owner).
    Reports,
}

impl KeyPurpose {
    pub const ALL: &'static [KeyPurpose] = &[
        KeyPurpose::Primary,
        KeyPurpose::Copies,
        KeyPurpose::LegalHold,
        KeyPurpose::Identity,
        KeyPurpose::Reports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Primary => "primary",
            KeyPurpose::Copies => "copies",
            KeyPurpose::LegalHold => "legal_hold",
            KeyPurpose::Identity => "identity",
            KeyPurpose::Reports => "reports",
        }
    }

    fn code(self) -> u8 {
        match self {
            KeyPurpose::Primary => 1,
            KeyPurpose::Copies => 2,
            KeyPurpose::LegalHold => 3,
            KeyPurpose::Identity => 4,
            KeyPurpose::Reports => 5,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        KeyPurpose::ALL.iter().copied().find(|p| p.code() == code)
    }
}

/// Identifies one data key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataKeyId {
    pub owner: KeyOwner,
    pub purpose: KeyPurpose,
    pub version: u32,
}

impl std::fmt::Display for DataKeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/v{}",
            self.owner.label(),
            self.purpose.as_str(),
            self.version
        )
    }
}

/// Where a sealed value belongs. All of it goes into the associated data.
#[derive(Debug, Clone, Copy)]
pub struct FieldContext<'a> {
    pub owner: &'a KeyOwner,
    pub kind: RecordKind,
    pub record_id: &'a str,
    pub field: &'a str,
}

const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 1 + 1 + 4; // format, purpose, key version
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const AAD_DOMAIN: &[u8] = b"regrooter/sealed-field/v1\0";

/// An unwrapped AES-256 data key. Its key schedule is wiped on drop.
pub struct DataKey {
    id: DataKeyId,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    pub fn new(id: DataKeyId, material: &Zeroizing<[u8; 32]>) -> Self {
        let key = Key::<Aes256Gcm>::from(**material);
        Self {
            id,
            cipher: Aes256Gcm::new(&key),
        }
    }

    pub fn id(&self) -> &DataKeyId {
        &self.id
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let v = self.id.version.to_be_bytes();
        [FORMAT_V1, self.id.purpose.code(), v[0], v[1], v[2], v[3]]
    }

    /// Encrypts `plaintext` for the field described by `ctx`.
    pub fn seal(
        &self,
        ctx: &FieldContext<'_>,
        plaintext: &[u8],
    ) -> Result<SealedField, CryptoError> {
        if ctx.owner != &self.id.owner {
            return Err(CryptoError::KeyEncryption(
                "data key of another owner".into(),
            ));
        }
        let header = self.header();
        let nonce_bytes: [u8; NONCE_LEN] = crate::random::bytes();
        let aad = associated_data(ctx, &header);
        // One buffer: header, nonce, then the plaintext encrypted in place, then the tag.
        let mut raw = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&nonce_bytes);
        raw.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &Nonce::from(nonce_bytes),
                &aad,
                (&mut raw[HEADER_LEN + NONCE_LEN..]).into(),
            )
            .map_err(|_| CryptoError::Authentication)?;
        raw.extend_from_slice(&tag);
        Ok(SealedField::from_raw(&raw))
    }

    /// Decrypts a value sealed for the field described by `ctx`.
    pub fn open(
        &self,
        ctx: &FieldContext<'_>,
        sealed: &SealedField,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut raw = Zeroizing::new(sealed.raw()?);
        let parsed = ParsedSealed::parse(&raw)?;
        if parsed.purpose != self.id.purpose
            || parsed.version != self.id.version
            || ctx.owner != &self.id.owner
        {
            return Err(CryptoError::Authentication);
        }
        let aad = associated_data(ctx, parsed.header);
        let nonce: [u8; NONCE_LEN] = parsed
            .nonce
            .try_into()
            .map_err(|_| CryptoError::Malformed)?;
        let body_end = raw.len() - TAG_LEN;
        let tag =
            Tag::<Aes256Gcm>::try_from(&raw[body_end..]).map_err(|_| CryptoError::Malformed)?;
        self.cipher
            .decrypt_inout_detached(
                &Nonce::from(nonce),
                &aad,
                (&mut raw[HEADER_LEN + NONCE_LEN..body_end]).into(),
                &tag,
            )
            .map_err(|_| CryptoError::Authentication)?;
        // Keep only the plaintext, in place.
        raw.truncate(body_end);
        raw.drain(..HEADER_LEN + NONCE_LEN);
        Ok(raw)
    }
}

fn associated_data(ctx: &FieldContext<'_>, header: &[u8]) -> Vec<u8> {
    let (owner_prefix, owner): (&[u8], &[u8]) = match ctx.owner {
        KeyOwner::Tenant(t) => (b"tenant:", t.as_str().as_bytes()),
        KeyOwner::Platform => (b"", b"@platform"),
    };
    let parts: [&[u8]; 3] = [
        ctx.kind.as_str().as_bytes(),
        ctx.record_id.as_bytes(),
        ctx.field.as_bytes(),
    ];
    let mut aad = Vec::with_capacity(128);
    aad.extend_from_slice(AAD_DOMAIN);
    // Length prefixes make the encoding unambiguous ("ab"+"c" differs from "a"+"bc").
    let owner_len = owner_prefix.len() + owner.len();
    aad.extend_from_slice(&u32::try_from(owner_len).unwrap_or(u32::MAX).to_be_bytes());
    aad.extend_from_slice(owner_prefix);
    aad.extend_from_slice(owner);
    for part in parts {
        aad.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad.extend_from_slice(header);
    aad
}

struct ParsedSealed<'a> {
    header: &'a [u8],
    purpose: KeyPurpose,
    version: u32,
    nonce: &'a [u8],
}

impl<'a> ParsedSealed<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, CryptoError> {
        if raw.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || raw[0] != FORMAT_V1 {
            return Err(CryptoError::Malformed);
        }
        let purpose = KeyPurpose::from_code(raw[1]).ok_or(CryptoError::Malformed)?;
        let version = u32::from_be_bytes([raw[2], raw[3], raw[4], raw[5]]);
        Ok(Self {
            header: &raw[..HEADER_LEN],
            purpose,
            version,
            nonce: &raw[HEADER_LEN..HEADER_LEN + NONCE_LEN],
        })
    }
}

/// An encrypted field as stored: `enc:v1:` followed by base64url of header, nonce and
/// ciphertext with tag. The only form in which personal data may be written to a store.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SealedField(String);

impl std::fmt::Debug for SealedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedField({} bytes)", self.0.len())
    }
}

impl SealedField {
    pub const PREFIX: &'static str = "enc:v1:";

    fn from_raw(raw: &[u8]) -> Self {
        let mut text = String::with_capacity(Self::PREFIX.len() + raw.len().div_ceil(3) * 4);
        text.push_str(Self::PREFIX);
        URL_SAFE_NO_PAD.encode_string(raw, &mut text);
        Self(text)
    }

    fn raw(&self) -> Result<Vec<u8>, CryptoError> {
        let body = self
            .0
            .strip_prefix(Self::PREFIX)
            .ok_or(CryptoError::Malformed)?;
        URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CryptoError::Malformed)
    }

    /// Whether a stored string is a sealed value: the prefix, base64url, and inside it the
    /// format, a known key purpose, a nonce and a tag (used by the inventory guard). A string
    /// that merely starts with the prefix is not sealed, and gets no pass for it.
    pub fn looks_sealed(s: &str) -> bool {
        let Some(body) = s.strip_prefix(Self::PREFIX) else {
            return false;
        };
        // Canonical base64url without padding only, so one value has one spelling.
        if body.is_empty()
            || !body
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        {
            return false;
        }
        URL_SAFE_NO_PAD
            .decode(body)
            .is_ok_and(|raw| ParsedSealed::parse(&raw).is_ok())
    }

    /// Which key (purpose and version) sealed this value.
    pub fn key_ref(&self) -> Result<(KeyPurpose, u32), CryptoError> {
        let raw = self.raw()?;
        let parsed = ParsedSealed::parse(&raw)?;
        Ok((parsed.purpose, parsed.version))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SealedField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if SealedField::looks_sealed(&s) {
            Ok(SealedField(s))
        } else {
            Err(serde::de::Error::custom(
                "expected a sealed field (enc:v1:...)",
            ))
        }
    }
}

/// Personal data in clear, in memory only. Not serialisable, redacted in logs; the way to store
/// it is [`Keyring::seal`], which turns it into a [`SealedField`].
#[derive(Clone, PartialEq, Eq)]
pub struct Personal<T>(T);

impl<T> Personal<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Personal(<redacted>)")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Personal<T> {
    /// Personal data may arrive from outside (a request body), it just may not leave in clear.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Personal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(owner: &KeyOwner, version: u32) -> DataKey {
        DataKey::new(
            DataKeyId {
                owner: owner.clone(),
                purpose: KeyPurpose::Primary,
                version,
            },
            &Zeroizing::new(crate::random::bytes()),
        )
    }

    fn acme() -> KeyOwner {
        KeyOwner::Tenant(TenantId::new("acme").expect("tenant"))
    }

    fn ctx<'a>(owner: &'a KeyOwner, record: &'a str, field: &'a str) -> FieldContext<'a> {
        FieldContext {
            owner,
            kind: RecordKind::Tenant,
            record_id: record,
            field,
        }
    }

    #[test]
    fn seal_and_open() {
        let owner = acme();
        let k = key(&owner, 1);
        let sealed = k
            .seal(&ctx(&owner, "r1", "email"), b"jane@acme.example")
            .expect("seal");
        assert!(SealedField::looks_sealed(sealed.as_str()));
        assert!(!sealed.as_str().contains("jane"));
        let opened = k.open(&ctx(&owner, "r1", "email"), &sealed).expect("open");
        assert_eq!(opened.as_slice(), b"jane@acme.example");
        assert_eq!(sealed.key_ref(), Ok((KeyPurpose::Primary, 1)));
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let owner = acme();
        let k = key(&owner, 1);
        let sealed = k
            .seal(&ctx(&owner, "r1", "email"), b"jane@acme.example")
            .expect("seal");
        let mut raw = sealed.raw().expect("raw");
        for i in [HEADER_LEN + NONCE_LEN, raw.len() - 1, HEADER_LEN] {
            raw[i] ^= 0x01;
            let tampered = SealedField::from_raw(&raw);
            assert_eq!(
                k.open(&ctx(&owner, "r1", "email"), &tampered),
                Err(CryptoError::Authentication),
                "byte {i}"
            );
            raw[i] ^= 0x01;
        }
        // Flipping the key version in the header is caught as well.
        raw[5] ^= 0x01;
        assert_eq!(
            k.open(&ctx(&owner, "r1", "email"), &SealedField::from_raw(&raw)),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            k.open(
                &ctx(&owner, "r1", "email"),
                &SealedField("enc:v1:AAAA".into())
            ),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn wrong_associated_data_fails() {
        let owner = acme();
        let k = key(&owner, 1);
        let sealed = k
            .seal(&ctx(&owner, "r1", "email"), b"jane@acme.example")
            .expect("seal");
        assert_eq!(
            k.open(&ctx(&owner, "r2", "email"), &sealed),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            k.open(&ctx(&owner, "r1", "name"), &sealed),
            Err(CryptoError::Authentication)
        );
        let mut other_kind = ctx(&owner, "r1", "email");
        other_kind.kind = RecordKind::DataKey;
        assert_eq!(
            k.open(&other_kind, &sealed),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn a_value_opens_only_under_the_purpose_it_was_sealed_for() {
        // Purposes are what retention destroys one by one: a value sealed for live data must
        // not open under the key of another purpose, even with the same material and version.
        let owner = acme();
        let material = Zeroizing::new(crate::random::bytes::<32>());
        let under = |purpose| {
            DataKey::new(
                DataKeyId {
                    owner: owner.clone(),
                    purpose,
                    version: 1,
                },
                &material,
            )
        };
        let primary = under(KeyPurpose::Primary);
        let sealed = primary
            .seal(&ctx(&owner, "r1", "email"), b"jane@acme.example")
            .expect("seal");
        for purpose in KeyPurpose::ALL
            .iter()
            .filter(|p| **p != KeyPurpose::Primary)
        {
            assert_eq!(
                under(*purpose).open(&ctx(&owner, "r1", "email"), &sealed),
                Err(CryptoError::Authentication),
                "{purpose:?}"
            );
            // The purpose byte rewritten to match that key: the header is authenticated too.
            let mut raw = sealed.raw().expect("raw");
            raw[1] = purpose.code();
            let relabelled = SealedField::from_raw(&raw);
            assert_eq!(
                under(*purpose).open(&ctx(&owner, "r1", "email"), &relabelled),
                Err(CryptoError::Authentication),
                "{purpose:?} relabelled"
            );
        }
        assert_eq!(
            primary
                .open(&ctx(&owner, "r1", "email"), &sealed)
                .expect("its own purpose")
                .as_slice(),
            b"jane@acme.example"
        );
    }

    #[test]
    fn another_tenants_key_fails() {
        let owner = acme();
        let globex = KeyOwner::Tenant(TenantId::new("globex").expect("tenant"));
        let sealed = key(&owner, 1)
            .seal(&ctx(&owner, "r1", "email"), b"secret")
            .expect("seal");
        // Globex's key cannot open it, neither under Globex's context nor under ACME's.
        let theirs = key(&globex, 1);
        assert!(matches!(
            theirs.open(&ctx(&globex, "r1", "email"), &sealed),
            Err(CryptoError::Authentication)
        ));
        assert!(matches!(
            theirs.open(&ctx(&owner, "r1", "email"), &sealed),
            Err(CryptoError::Authentication)
        ));
        // A key with the same id but different material fails too.
        assert!(matches!(
            key(&owner, 1).open(&ctx(&owner, "r1", "email"), &sealed),
            Err(CryptoError::Authentication)
        ));
    }

    #[test]
    fn nonces_are_unique() {
        let owner = acme();
        let k = key(&owner, 1);
        let mut nonces = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let raw = k
                .seal(&ctx(&owner, "r", "f"), b"same")
                .expect("seal")
                .raw()
                .expect("raw");
            assert!(nonces.insert(raw[HEADER_LEN..HEADER_LEN + NONCE_LEN].to_vec()));
        }
    }

    #[test]
    fn personal_data_is_redacted_in_debug_output() {
        let p = Personal::new("jane@acme.example".to_string());
        assert_eq!(format!("{p:?}"), "Personal(<redacted>)");
    }

    #[test]
    fn sealed_fields_only_deserialize_from_the_sealed_form() {
        let clear = serde_json::from_str::<SealedField>("\"jane@acme.example\"");
        assert!(
            matches!(&clear, Err(e) if e.to_string().contains("expected a sealed field")),
            "{clear:?}"
        );
        let owner = acme();
        let sealed = key(&owner, 1)
            .seal(&ctx(&owner, "r1", "email"), b"jane@acme.example")
            .expect("seal");
        let json = serde_json::to_string(&sealed).expect("json");
        assert_eq!(
            serde_json::from_str::<SealedField>(&json).ok(),
            Some(sealed)
        );
    }

    #[test]
    fn only_a_real_sealed_structure_counts_as_sealed() {
        for fake in [
            "enc:v1:AAAA",
            "enc:v1:4111111111111111",
            "enc:v1:4111111111111111411111111111111141111111111111114111111111111111",
            "enc:v1:",
            "enc:v1:AQEAAAAB==",
        ] {
            assert!(!SealedField::looks_sealed(fake), "{fake}");
            let json = format!("\"{fake}\"");
            let parsed = serde_json::from_str::<SealedField>(&json);
            assert!(
                matches!(&parsed, Err(e) if e.to_string().contains("expected a sealed field")),
                "{fake}: {parsed:?}"
            );
        }
    }
}
