//! Targets (issue 2): seal+open of a 200-byte field ≥ 1 M/s per core; JWT verification ≥ 20 k/s
//! per core — of a token seen for the first time (signature and every claim), the figure that
//! counts: the cache only helps a token's later requests. Criterion runs single-threaded, so its
//! throughput is the per-core figure; after criterion's report each target is measured once more
//! and printed with whether it was met (the process exits 1 when one was not).
//! Run: `cargo bench -p kernel --bench crypto_and_tokens`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/support/bench_target.rs"]
mod bench_target;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group};
use kernel::crypto::{DataKey, DataKeyId, FieldContext, KeyOwner, KeyPurpose};
use kernel::ids::TenantId;
use kernel::inventory::RecordKind;
use kernel::rbac::{Actor, Principal};
use kernel::time::{SignedDuration, Timestamp};
use kernel::token::{SigningKey, TokenAudience, TokenIssuer, TokenVerifier};
use zeroize::Zeroizing;

/// A field key and the context of one field of a record.
fn field_key() -> (DataKey, KeyOwner) {
    let owner = KeyOwner::Tenant(TenantId::new("acme").expect("tenant"));
    let key = DataKey::new(
        DataKeyId {
            owner: owner.clone(),
            purpose: KeyPurpose::Primary,
            version: 1,
        },
        &Zeroizing::new(kernel::random::bytes()),
    );
    (key, owner)
}

/// The field of a record the benchmark seals.
fn field_context(owner: &KeyOwner) -> FieldContext<'_> {
    FieldContext {
        owner,
        kind: RecordKind::Tenant,
        record_id: "inc_0193a5f2c3d47e8f9a0b1c2d3e4f5a6b",
        field: "description",
    }
}

const FIELD: [u8; 200] = [b'x'; 200];

fn seal_open(c: &mut Criterion) {
    let (key, owner) = field_key();
    let ctx = field_context(&owner);
    let field = FIELD;
    let mut group = c.benchmark_group("field");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal+open 200 B", |b| {
        b.iter(|| {
            let sealed = key.seal(&ctx, black_box(&field)).expect("seal");
            let opened = key.open(&ctx, &sealed).expect("open");
            black_box(opened.len())
        })
    });
    group.finish();
}

/// A verifier, a valid token it accepts and the time to verify it at.
fn token_case() -> (TokenVerifier, String, Timestamp) {
    let audience = TokenAudience {
        issuer: "regrooter-bench".into(),
        audience: "regrooter-api".into(),
    };
    let key = SigningKey::generate("bench");
    let verifier = TokenVerifier::new(
        vec![key.verification_key()],
        audience.clone(),
        SignedDuration::from_secs(30),
    );
    let issuer = TokenIssuer::new(key, audience);
    let now: Timestamp = "2026-07-01T12:00:00Z".parse().expect("ts");
    let principal = Principal {
        subject: "user-1".into(),
        actor: Actor::Customer {
            tenant: TenantId::new("acme").expect("tenant"),
        },
        roles: vec!["customer_admin".into()],
        amr: vec!["pwd".into(), "otp".into()],
    };
    let token = issuer
        .issue(&principal, now, SignedDuration::from_mins(15))
        .expect("token");
    (verifier, token, now)
}

fn verify(c: &mut Criterion) {
    let (verifier, token, now) = token_case();
    let mut group = c.benchmark_group("jwt");
    group.throughput(Throughput::Elements(1));
    // A token seen for the first time: signature and every claim checked.
    group.bench_function("verify EdDSA, first sight", |b| {
        b.iter(|| {
            black_box(
                verifier
                    .verify_uncached(black_box(&token), now)
                    .expect("valid"),
            )
        })
    });
    // The same token again (every further request of its 15-minute life).
    group.bench_function("verify EdDSA, repeat", |b| {
        b.iter(|| black_box(verifier.verify(black_box(&token), now).expect("valid")))
    });
    group.finish();
}

/// The README's figures, each against its target.
fn targets() -> bool {
    let round = Duration::from_millis(400);
    let (key, owner) = field_key();
    let ctx = field_context(&owner);
    let seal_open = bench_target::per_second(round, || {
        let sealed = key.seal(&ctx, black_box(&FIELD)).expect("seal");
        black_box(key.open(&ctx, &sealed).expect("open"));
    });
    let (verifier, token, now) = token_case();
    let first_sight = bench_target::per_second(round, || {
        black_box(
            verifier
                .verify_uncached(black_box(&token), now)
                .expect("valid"),
        );
    });
    let repeat = bench_target::per_second(round, || {
        black_box(verifier.verify(black_box(&token), now).expect("valid"));
    });
    println!();
    let met = [
        bench_target::at_least(
            "seal+open of a 200-byte field",
            seal_open,
            1e6,
            "per second per core",
        ),
        bench_target::at_least(
            "token verification, first sight",
            first_sight,
            2e4,
            "per second per core",
        ),
    ];
    println!("(a token seen before, from the cache: {repeat:.0} per second per core)");
    met.iter().all(|m| *m)
}

criterion_group!(benches, seal_open, verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if !targets() {
        std::process::exit(1);
    }
}
