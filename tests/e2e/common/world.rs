//! A process's services over the embedded store, a manual clock and a local key-encryption key,
//! wired by the composition root (`functions::Services::new`) as every Lambda, the local platform
//! and the scheduler wire them. Domain-level tests start here instead of building services.

use std::sync::Arc;

use kernel::Clock;
use kernel::crypto::{Keyring, LocalKeyEncryption};
use kernel::ids::TenantId;
use kernel::inventory::GuardedStore;
use kernel::store::Store;
use kernel::tenants::{self, TenantInput};
use kernel::time::{ManualClock, SignedDuration};
use kernel::token::{SigningKey, TokenVerifier};

use super::{staff_access, ts};

type Wrap = Box<dyn FnOnce(Arc<dyn Store>) -> Arc<dyn Store>>;

/// How to build a [`World`]; what is not set is as in a function without that duty.
pub struct WorldBuilder {
    start: &'static str,
    env: Vec<(&'static str, String)>,
    wrap: Option<Wrap>,
    kek: [u8; 32],
    on_disk: bool,
    parts: Parts,
    /// Issues access tokens (only the first process: a key is not copied).
    token_signer: Option<SigningKey>,
}

/// The adapters every process of the world gets beside store, keyring and token signer.
#[derive(Clone)]
struct Parts {
    sender: Arc<dyn incidents::NoticeSender>,
    index_key: Option<[u8; 32]>,
    hashing: Option<Arc<dyn auth::HashingPool>>,
    certificate_signer: Option<Arc<SigningKey>>,
}

/// What a test reaches: the clock it moves, the guarded store, the process's keyring and its
/// services.
pub struct World {
    pub clock: Arc<ManualClock>,
    pub store: GuardedStore,
    pub keyring: Arc<Keyring>,
    pub services: Arc<functions::Services>,
    config: functions::Config,
    kek: [u8; 32],
    parts: Parts,
    /// The store's directory when it is on disk (removed with the world).
    dir: Option<tempfile::TempDir>,
}

impl World {
    /// A world whose clock starts at `start` (RFC 3339).
    pub fn at(start: &'static str) -> WorldBuilder {
        WorldBuilder {
            start,
            env: Vec::new(),
            wrap: None,
            kek: [7u8; 32],
            on_disk: false,
            token_signer: None,
            parts: Parts {
                sender: Arc::new(incidents::NoTransport),
                index_key: None,
                hashing: None,
                certificate_signer: None,
            },
        }
    }

    /// A tenant `<id> GmbH` created by an operator (no contact, the standard contract).
    pub async fn tenant(&self, id: &str) -> TenantId {
        let input = TenantInput {
            name: Some(format!("{id} GmbH")),
            contact_email: None,
            contract: None,
        };
        self.tenant_with(id, input).await
    }

    /// A tenant created by an operator from `input`.
    pub async fn tenant_with(&self, id: &str, input: TenantInput) -> TenantId {
        let tenant = TenantId::new(id).expect("tenant id");
        tenants::put(
            self.store.as_ref(),
            &self.keyring,
            &staff_access("operator"),
            &tenant,
            input,
            self.clock.now(),
        )
        .await
        .expect("tenant");
        tenant
    }

    /// The directory of the store's file, for a world built `on_disk`.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }

    /// A freshly started process over the same store and clock: its own keyring (an empty key
    /// cache) and services, as a second Lambda container has them.
    /// It issues no tokens.
    pub fn process(&self) -> (Arc<Keyring>, Arc<functions::Services>) {
        assemble(
            self.config.clone(),
            &self.clock,
            &self.store,
            self.kek,
            self.parts.clone(),
            None,
        )
    }
}

impl WorldBuilder {
    /// A configuration variable as the process would read it from its environment.
    pub fn env(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }

    /// The embedded store seen through `wrap` (a gate, a crash injector), under the guard.
    pub fn store(mut self, wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static) -> Self {
        self.wrap = Some(Box::new(wrap));
        self
    }

    /// The store in a file of a private directory (as the platform keeps it) instead of memory.
    pub fn on_disk(mut self) -> Self {
        self.on_disk = true;
        self
    }

    pub fn kek(mut self, kek: [u8; 32]) -> Self {
        self.kek = kek;
        self
    }

    pub fn sender(mut self, sender: Arc<dyn incidents::NoticeSender>) -> Self {
        self.parts.sender = sender;
        self
    }

    /// Issues access tokens with `key` and keeps the sign-in blind index under `index_key`,
    /// as the `auth` function does.
    pub fn signing_in(mut self, key: SigningKey, index_key: [u8; 32]) -> Self {
        self.token_signer = Some(key);
        self.parts.index_key = Some(index_key);
        self
    }

    /// Runs Argon2id on `pool` instead of the blocking pool.
    pub fn hashing(mut self, pool: Arc<dyn auth::HashingPool>) -> Self {
        self.parts.hashing = Some(pool);
        self
    }

    /// Signs deletion certificates with `key`, as the `retention` function does.
    pub fn certificate_signer(mut self, key: Arc<SigningKey>) -> Self {
        self.parts.certificate_signer = Some(key);
        self
    }

    pub fn build(self) -> World {
        self.build_over(|store| store)
    }

    /// The world over a store that dies at a chosen write (`crash::CrashingStore`, beneath the
    /// guard and around any `store` wrapper), and that store's handle.
    pub fn crashing(self) -> (World, Arc<super::crash::CrashingStore>) {
        let mut handle = None;
        let world = self.build_over(|store| {
            let crashing = Arc::new(super::crash::CrashingStore::new(store));
            handle = Some(crashing.clone());
            crashing
        });
        (world, handle.expect("the store was built"))
    }

    /// `last` wraps the store last, just beneath the inventory guard.
    fn build_over(self, last: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store>) -> World {
        let clock = Arc::new(ManualClock::new(ts(self.start)));
        let env = self.env;
        let config = functions::Config::from_lookup(|name| {
            env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        })
        .expect("the development defaults with the test's variables");
        let dir = self.on_disk.then(super::private_dir);
        let raw: Arc<dyn Store> = match &dir {
            Some(dir) => Arc::new(
                infra::EmbeddedStore::open(&dir.path().join("store.db"), clock.clone())
                    .expect("store"),
            ),
            None => Arc::new(infra::EmbeddedStore::in_memory(clock.clone()).expect("store")),
        };
        let store = GuardedStore::new(last(match self.wrap {
            Some(wrap) => wrap(raw),
            None => raw,
        }));
        let (keyring, services) = assemble(
            config.clone(),
            &clock,
            &store,
            self.kek,
            self.parts.clone(),
            self.token_signer,
        );
        World {
            clock,
            store,
            keyring,
            services,
            config,
            kek: self.kek,
            parts: self.parts,
            dir,
        }
    }
}

/// One process: a keyring over the store and the services from the composition root.
fn assemble(
    config: functions::Config,
    clock: &Arc<ManualClock>,
    store: &GuardedStore,
    kek: [u8; 32],
    parts: Parts,
    token_signer: Option<SigningKey>,
) -> (Arc<Keyring>, Arc<functions::Services>) {
    let keyring = Arc::new(Keyring::new(
        Arc::new(LocalKeyEncryption::new(
            "test",
            &zeroize::Zeroizing::new(kek),
        )),
        store.shared(),
        clock.clone(),
    ));
    // The verifier trusts the key the process signs with (none: a key of no one's).
    let verifying = token_signer.as_ref().map_or_else(
        || SigningKey::generate("t").verification_key(),
        SigningKey::verification_key,
    );
    let tokens = TokenVerifier::new(
        vec![verifying],
        config.token_audience(),
        SignedDuration::ZERO,
    );
    let services = Arc::new(functions::Services::new(
        config,
        clock.clone(),
        functions::services::Adapters {
            store: store.clone(),
            keyring: keyring.clone(),
            tokens,
            sender: parts.sender,
            gateway: Arc::new(infra::stripe::UnconfiguredGateway),
            certificate_signer: parts.certificate_signer,
            certificate_keys: vec![],
            prober: None,
            token_signer,
            index_key: parts.index_key.map(zeroize::Zeroizing::new),
            hashing: parts.hashing,
        },
    ));
    (keyring, services)
}
