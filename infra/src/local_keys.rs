//! Key material of the local platform, kept in its data directory:
//!
//! * `master.key` — the local key-encryption key (32 random bytes) that wraps every data key of
//!   the embedded default. Created with mode 0600 on first start; refused if anyone but the owner
//!   can read it. Never logged (its type redacts itself).
//! * `dev-signing.key` — the Ed25519 key that signs development tokens.
//!
//! Production uses neither: data keys are wrapped by AWS KMS and tokens are signed by the `auth`
//! function's keys.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kernel::token::SigningKey;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("the data directory {path} is open to others (mode {mode:o}); run `chmod 700 {path}`")]
    DirectoryTooOpen { path: PathBuf, mode: u32 },
    #[error("{path} is not a valid key file: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates the data directory (mode 0700) if it does not exist; refuses one that others may
/// enter (it holds the keys and the store), as key files readable by others are refused.
pub fn ensure_data_dir(dir: &Path) -> Result<(), KeyFileError> {
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    let mode = fs::metadata(dir).map_err(io_err(dir))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::DirectoryTooOpen {
            path: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Reads a secret file, or creates it with `make` (mode 0600, never overwriting) when absent.
fn load_or_create(
    path: &Path,
    make: impl FnOnce() -> Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            let secret = make();
            file.write_all(&secret).map_err(io_err(path))?;
            file.sync_all().map_err(io_err(path))?;
            Ok(secret)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let mut file = OpenOptions::new()
                .read(true)
                .open(path)
                .map_err(io_err(path))?;
            let mode = file.metadata().map_err(io_err(path))?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyFileError::TooOpen {
                    path: path.to_path_buf(),
                    mode,
                });
            }
            let mut secret = Zeroizing::new(Vec::new());
            file.read_to_end(&mut secret).map_err(io_err(path))?;
            Ok(secret)
        }
        Err(e) => Err(io_err(path)(e)),
    }
}

/// The local master key, created on first use.
pub fn master_key(dir: &Path) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    key32(dir, "master.key")
}

/// The key of the sign-in blind index (addresses are found by HMAC under it), created on first
/// use.
pub fn index_key(dir: &Path) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    key32(dir, "index.key")
}

fn key32(dir: &Path, file: &str) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let path = dir.join(file);
    let bytes = load_or_create(&path, || {
        Zeroizing::new(kernel::random::bytes::<32>().to_vec())
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(KeyFileError::Invalid {
            path,
            reason: format!("expected 32 bytes, found {}", bytes.len()),
        });
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// The secret the local edge signs forwarded requests with (the origin lock), created on first
/// use.
pub fn origin_secret(dir: &Path) -> Result<Vec<u8>, KeyFileError> {
    let path = dir.join("origin.key");
    let secret = load_or_create(&path, || {
        let hex: String = kernel::random::bytes::<32>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Zeroizing::new(hex.into_bytes())
    })?;
    Ok(secret.to_vec())
}

/// The key the local edge hashes client addresses and accounts with (events never hold the
/// address itself), created on first use.
pub fn hash_key(dir: &Path) -> Result<Vec<u8>, KeyFileError> {
    let path = dir.join("hash.key");
    let key = load_or_create(&path, || {
        Zeroizing::new(kernel::random::bytes::<32>().to_vec())
    })?;
    Ok(key.to_vec())
}

/// The development signing key, created on first use. Its key id is derived from the public key,
/// so tokens from an earlier data directory are recognisably foreign.
pub fn dev_signing_key(dir: &Path) -> Result<SigningKey, KeyFileError> {
    ed25519_key(dir, "dev-signing.key", "dev")
}

/// The key deletion certificates are signed with locally (`certificate-signing.key`); kept
/// apart from the token key, so neither can stand in for the other.
pub fn certificate_signing_key(dir: &Path) -> Result<SigningKey, KeyFileError> {
    ed25519_key(dir, "certificate-signing.key", "cert")
}

/// An Ed25519 key in `dir/file`, created on first use; its key id is `<prefix>-` and the first
/// characters of its public key.
fn ed25519_key(dir: &Path, file: &str, prefix: &str) -> Result<SigningKey, KeyFileError> {
    let path = dir.join(file);
    let secret = load_or_create(&path, || SigningKey::generate(prefix).to_bytes())?;
    SigningKey::from_bytes_with_derived_kid(prefix, &secret).map_err(|e| KeyFileError::Invalid {
        path,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_is_private_and_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = master_key(dir.path()).expect("create");
        let mode = fs::metadata(dir.path().join("master.key"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let again = master_key(dir.path()).expect("read");
        assert_eq!(*first, *again);
    }

    #[test]
    fn a_readable_master_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        master_key(dir.path()).expect("create");
        fs::set_permissions(
            dir.path().join("master.key"),
            fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        assert!(matches!(
            master_key(dir.path()),
            Err(KeyFileError::TooOpen { .. })
        ));
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn every_key_file_is_private_and_refused_once_others_may_read_it() {
        let parent = tempfile::tempdir().expect("tempdir");
        let dir = parent.path().join("data");
        ensure_data_dir(&dir).expect("created");
        assert_eq!(mode_of(&dir), 0o700);
        // Every key the local platform keeps: created 0600, read again, refused at 0640.
        type Load = fn(&Path) -> Result<(), KeyFileError>;
        let keys: [(&str, Load); 6] = [
            ("master.key", |d| master_key(d).map(drop)),
            ("index.key", |d| index_key(d).map(drop)),
            ("origin.key", |d| origin_secret(d).map(drop)),
            ("hash.key", |d| hash_key(d).map(drop)),
            ("dev-signing.key", |d| dev_signing_key(d).map(drop)),
            ("certificate-signing.key", |d| {
                certificate_signing_key(d).map(drop)
            }),
        ];
        for (file, load) in keys {
            load(&dir).expect(file);
            let path = dir.join(file);
            assert_eq!(mode_of(&path), 0o600, "{file}");
            load(&dir).expect(file);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
            assert!(
                matches!(load(&dir), Err(KeyFileError::TooOpen { mode: 0o640, .. })),
                "{file}"
            );
        }
        let files: Vec<String> = fs::read_dir(&dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files.len(),
            keys.len(),
            "a key file the test does not know: {files:?}"
        );
    }

    #[test]
    fn a_data_directory_others_may_enter_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        ensure_data_dir(dir.path()).expect("a private directory");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let refused = ensure_data_dir(dir.path());
        assert!(
            matches!(
                refused,
                Err(KeyFileError::DirectoryTooOpen { mode: 0o755, .. })
            ),
            "{refused:?}"
        );
        assert!(
            refused
                .err()
                .is_some_and(|e| e.to_string().contains("chmod 700"))
        );
    }

    #[test]
    fn dev_signing_key_is_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dev_signing_key(dir.path()).expect("create");
        let b = dev_signing_key(dir.path()).expect("read");
        assert_eq!(a.kid(), b.kid());
        assert!(a.kid().starts_with("dev-"));
    }
}
