//! Sign-in end to end on the local platform (edge in front, manual clock): staff never get a
//! token without TOTP, wrong codes count as failures, lockout, one answer for every refusal,
//! refresh rotation with reuse detection, offboarding revokes at once, tenant-defined roles grant
//! exactly their permissions, no address in clear in the store; and token-key rotation.

use crate::common;
use common::ts;

use std::sync::Arc;

use auth::otp;
use auth::service::{
    ActivateInput, NewUserInput, OtpInput, PasskeyInput, PasskeyRegistrationInput, RefreshInput,
    RelyingParty, SignInInput,
};
use auth::{Account, HashingPool, SignInStep, Tokens, UserId};
use common::gate::Gate;
use common::{Platform, call};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::rbac::{Access, Actor, Principal};
use kernel::store::Store;
use kernel::time::{SignedDuration, Timestamp};
use kernel::token::{SigningKey, TokenAudience, TokenIssuer, TokenVerifier};
use serde_json::{Value, json};

const START: &str = "2026-09-01T08:00:00Z";
/// The platform's public address in the domain-level worlds (the passkeys' relying party).
const PORTAL_URL: &str = "https://portal.regrooter.example";

fn advance(p: &Platform, by: &str) -> Timestamp {
    let body = p.move_clock(json!({ "advance": by }));
    ts(body["now"].as_str().expect("now"))
}

fn now(p: &Platform) -> Timestamp {
    let (_, body) = call("GET", &p.url("/_dev/clock"), None, None);
    ts(body["now"].as_str().expect("now"))
}

fn post(p: &Platform, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    call("POST", &p.url(path), token, Some(&body))
}

/// Creates an account through `path` and activates it with `password`.
fn onboard(p: &Platform, path: &str, admin: &str, email: &str, roles: &[&str], password: &str) {
    let (status, created) = post(
        p,
        path,
        Some(admin),
        json!({ "email": email, "name": "Jana Example", "roles": roles }),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"]["email"], email);
    assert_eq!(created["user"]["activated"], false);
    let token = created["activation_token"].as_str().expect("activation");
    let (status, problem) = post(
        p,
        "/auth/activate",
        None,
        json!({ "token": token, "password": "short" }),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/password");
    let (status, activated) = post(
        p,
        "/auth/activate",
        None,
        json!({ "token": token, "password": password }),
    );
    assert_eq!(status, 200, "{activated}");
    assert_eq!(activated["activated"], true);
    let (status, _) = post(
        p,
        "/auth/activate",
        None,
        json!({ "token": token, "password": password }),
    );
    assert_eq!(status, 401, "an activation token works once");
}

fn sign_in(p: &Platform, email: &str, password: &str) -> (u16, Value) {
    post(
        p,
        "/auth/sign-in",
        None,
        json!({ "email": email, "password": password }),
    )
}

// ----- the rules, on the real embedded store ---------------------------------------------------

/// The functions' services through the composition root, issuing tokens as the `auth` function
/// does, over a store on disk.
struct World {
    base: common::world::World,
    /// The authenticator app of each address: the secret its first sign-in enrolled and the
    /// last code it sent (the platform takes each code once).
    apps: std::sync::Mutex<std::collections::HashMap<String, (Vec<u8>, String)>>,
}

impl std::ops::Deref for World {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.base
    }
}

fn operator() -> Access {
    operator_named("op-1")
}

fn operator_named(subject: &str) -> Access {
    Access::resolve(
        Principal {
            subject: subject.into(),
            actor: Actor::Staff,
            roles: vec!["operator".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    )
}

impl World {
    fn new() -> Self {
        Self::with_store(|store| store)
    }

    /// A world whose store is `wrap`ped (e.g. by a decorator that watches or steers writes).
    fn with_store(wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static) -> Self {
        Self::build(wrap, Arc::new(infra::blocking::BlockingPool::per_core()))
    }

    /// A world with its own hashing pool (the functions use `BlockingPool::per_core()`).
    fn build(
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static,
        hashing: Arc<dyn HashingPool>,
    ) -> Self {
        let base = common::world::World::at(START)
            .on_disk()
            .kek([5u8; 32])
            .env("REGROOTER_TOKEN_ISSUER", "regrooter-test")
            .env("REGROOTER_TOKEN_AUDIENCE", "regrooter-api")
            .env("REGROOTER_PUBLIC_URL", PORTAL_URL)
            .signing_in(SigningKey::generate("tok-test"), [9u8; 32])
            .hashing(hashing)
            .store(wrap)
            .build();
        Self {
            base,
            apps: std::sync::Mutex::default(),
        }
    }

    async fn staff(&self, email: &str, password: &str) -> UserId {
        let created = self
            .services
            .auth
            .create_user(
                &operator(),
                Account::Staff,
                NewUserInput {
                    email: Some(email.into()),
                    name: Some("Jana Example".into()),
                    roles: Some(vec!["security_officer".into()]),
                },
            )
            .await
            .expect("created");
        self.services
            .auth
            .activate(ActivateInput {
                token: Some(created.activation_token),
                password: Some(password.into()),
            })
            .await
            .expect("activated");
        created.user.id
    }

    /// A tenant, created by an operator.
    async fn tenant(&self, id: &str) -> TenantId {
        let tenant = TenantId::new(id).expect("tenant");
        kernel::tenants::put(
            self.store.as_ref(),
            &self.keyring,
            &operator(),
            &tenant,
            kernel::tenants::TenantInput {
                name: Some(format!("{id} GmbH")),
                contact_email: None,
                contract: None,
            },
            self.now(),
        )
        .await
        .expect("tenant");
        tenant
    }

    /// A user of `tenant`, made by its admin; activated with `password` unless it is empty.
    async fn customer(&self, tenant: &str, email: &str, password: &str) -> Result<UserId, Error> {
        let created = self
            .services
            .auth
            .create_user(
                &common::customer_access(tenant, "customer_admin"),
                Account::Customer {
                    tenant: TenantId::new(tenant).expect("tenant"),
                },
                NewUserInput {
                    email: Some(email.into()),
                    name: Some("Max Example".into()),
                    roles: Some(vec!["customer_member".into()]),
                },
            )
            .await?;
        if !password.is_empty() {
            self.services
                .auth
                .activate(ActivateInput {
                    token: Some(created.activation_token),
                    password: Some(password.into()),
                })
                .await
                .expect("activated");
        }
        Ok(created.user.id)
    }

    /// The stored record of an account.
    async fn record(&self, account: &Account, id: &UserId) -> auth::records::UserRecord {
        self.store
            .get(&auth::records::user_key(account, id).expect("key"))
            .await
            .expect("read")
            .expect("stored")
            .record()
            .expect("record")
    }

    async fn sign_in(&self, email: &str, password: &str) -> Result<SignInStep, Error> {
        self.sign_in_to(email, password, None).await
    }

    /// A sign-in naming the organisation whose account is meant.
    async fn sign_in_to(
        &self,
        email: &str,
        password: &str,
        organisation: Option<Account>,
    ) -> Result<SignInStep, Error> {
        self.services
            .auth
            .sign_in(SignInInput {
                email: Some(email.into()),
                password: Some(password.into()),
                organisation,
            })
            .await
    }

    /// A whole sign-in as a user does it: the password, then the second factor — enrolled on
    /// the first sign-in (the app keeps the secret), the app's code on later ones.
    async fn signed_in(&self, email: &str, password: &str) -> Tokens {
        let step = self.sign_in(email, password).await.expect("the password");
        self.second_factor(email, step).await
    }

    /// The second step of `email`'s sign-in, with the app's current code; when the app sent
    /// this very code already, it waits for the next one, as a person would.
    async fn second_factor(&self, email: &str, step: SignInStep) -> Tokens {
        let (challenge, secret) = match step {
            SignInStep::OtpEnrolmentRequired {
                challenge, secret, ..
            } => (challenge, otp::decode(&secret).expect("base32")),
            SignInStep::OtpRequired { challenge, .. } => (challenge, self.app_secret(email)),
            other => panic!("expected a second-factor step, got {other:?}"),
        };
        let last = self
            .apps
            .lock()
            .expect("apps")
            .get(email)
            .map(|(_, last)| last.clone());
        let mut code = otp::code_at(&secret, self.now()).expect("code");
        if last.as_deref() == Some(code.as_str()) {
            self.advance(i64::try_from(otp::STEP_SECONDS).expect("step"));
            code = otp::code_at(&secret, self.now()).expect("code");
        }
        let tokens = self
            .otp(&challenge, &code)
            .await
            .expect("the second factor");
        self.apps
            .lock()
            .expect("apps")
            .insert(email.to_string(), (secret, code));
        tokens
    }

    /// The secret the app of `email` holds.
    fn app_secret(&self, email: &str) -> Vec<u8> {
        let apps = self.apps.lock().expect("apps");
        apps.get(email).expect("enrolled").0.clone()
    }

    async fn otp(&self, challenge: &str, code: &str) -> Result<Tokens, Error> {
        self.services
            .auth
            .verify_otp(OtpInput {
                challenge: Some(challenge.into()),
                code: Some(code.into()),
            })
            .await
    }

    fn advance(&self, seconds: i64) -> Timestamp {
        self.clock
            .advance(SignedDuration::from_secs(seconds))
            .expect("clock")
    }

    fn now(&self) -> Timestamp {
        kernel::Clock::now(self.clock.as_ref())
    }

    /// What the functions do with a bearer token: their own extractor (`Caller`) verifies it
    /// and checks the account.
    async fn caller(&self, token: &str) -> Result<Access, Error> {
        use axum::extract::FromRequestParts;
        let (mut parts, ()) = http::Request::builder()
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(())
            .expect("request")
            .into_parts();
        functions::http::Caller::from_request_parts(&mut parts, &self.services)
            .await
            .map(|caller| caller.0)
            .map_err(|rejected| rejected.0)
    }
}

fn refused(result: &Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Unauthenticated(detail)) => detail.clone(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn challenge(step: SignInStep) -> String {
    match step {
        SignInStep::OtpRequired { challenge, .. } => challenge,
        SignInStep::OtpEnrolmentRequired { challenge, .. } => challenge,
        other => panic!("expected a second-factor step, got {other:?}"),
    }
}

#[tokio::test]
async fn staff_never_get_a_token_without_totp_and_every_failure_counts() {
    let w = World::new();
    let email = "jana.sec@regrooter.example";
    let password = "a long staff passphrase";
    let id = w.staff(email, password).await;

    // The password alone: enrolment, no token.
    let step = w.sign_in(email, password).await.expect("password ok");
    let SignInStep::OtpEnrolmentRequired {
        challenge: first,
        secret,
        otpauth_uri,
    } = step
    else {
        panic!("staff must enrol a second factor: {step:?}");
    };
    assert!(otpauth_uri.starts_with("otpauth://totp/regrooter:jana.sec@regrooter.example?"));
    let secret = otp::decode(&secret).expect("base32");
    refused(&w.otp(&first, "000000").await);
    let code = otp::code_at(&secret, w.now()).expect("code");
    let tokens = w.otp(&first, &code).await.expect("enrolled");
    let recovery = tokens.recovery_codes.clone().expect("recovery codes");
    assert_eq!(recovery.len(), 10);
    let access = w.caller(&tokens.access_token).await.expect("valid");
    assert_eq!(access.principal().amr, vec!["pwd", "otp"]);
    assert_eq!(access.principal().subject, id.to_string());
    // A challenge is used once.
    refused(&w.otp(&first, &code).await);

    // Later sign-ins need the TOTP; the code already used does not work again.
    let again = challenge(w.sign_in(email, password).await.expect("password"));
    refused(&w.otp(&again, &code).await);
    let later = w.advance(31);
    let tokens = w
        .otp(&again, &otp::code_at(&secret, later).expect("code"))
        .await
        .expect("next step's code");
    assert!(tokens.recovery_codes.is_none());

    // A recovery code instead of the TOTP, once.
    let c = challenge(w.sign_in(email, password).await.expect("password"));
    w.otp(&c, &recovery[0]).await.expect("recovery code");
    let c = challenge(w.sign_in(email, password).await.expect("password"));
    refused(&w.otp(&c, &recovery[0]).await);
}

#[tokio::test]
async fn a_second_factor_is_reset_only_when_a_second_operator_approves() {
    let w = World::new();
    let email = "sam.sec@regrooter.example";
    let password = "a long staff passphrase";
    let id = w.staff(email, password).await;
    let step = w.sign_in(email, password).await.expect("password ok");
    let SignInStep::OtpEnrolmentRequired {
        challenge, secret, ..
    } = step
    else {
        panic!("staff enrol first: {step:?}");
    };
    let secret = otp::decode(&secret).expect("base32");
    let tokens = w
        .otp(&challenge, &otp::code_at(&secret, w.now()).expect("code"))
        .await
        .expect("enrolled");
    let recovery = tokens.recovery_codes.clone().expect("recovery codes");
    assert!(w.caller(&tokens.access_token).await.is_ok());
    let (asker, approver) = (operator_named("op-1"), operator_named("op-2"));
    let staff = Account::Staff;

    // Nobody asks for their own account; a customer admin may not ask for staff at all.
    let own = Access::resolve(
        Principal {
            subject: id.to_string(),
            actor: Actor::Staff,
            roles: vec!["operator".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    assert!(matches!(
        w.services.auth.request_second_factor_reset(&own, &staff, &id).await,
        Err(Error::Conflict(m)) if m.contains("your own")
    ));
    assert!(matches!(
        w.services
            .auth
            .request_second_factor_reset(
                &common::customer_access("acme", "customer_admin"),
                &staff,
                &id
            )
            .await,
        Err(Error::Forbidden(_))
    ));
    // Approving with nothing asked for is refused.
    assert!(matches!(
        w.services.auth.approve_second_factor_reset(&approver, &staff, &id).await,
        Err(Error::Conflict(m)) if m.contains("no second-factor reset")
    ));

    // Asked: nothing changes yet, and the asker cannot approve it.
    let asked = w
        .services
        .auth
        .request_second_factor_reset(&asker, &staff, &id)
        .await
        .expect("asked");
    let pending = asked.second_factor_reset.clone().expect("pending");
    assert_eq!(pending.requested_by, "op-1");
    assert!(asked.second_factor && asked.otp);
    assert!(w.caller(&tokens.access_token).await.is_ok());
    assert!(matches!(
        w.services.auth.approve_second_factor_reset(&asker, &staff, &id).await,
        Err(Error::Conflict(m)) if m.contains("second administrator")
    ));
    // Asking again keeps the first request.
    let again = w
        .services
        .auth
        .request_second_factor_reset(&approver, &staff, &id)
        .await
        .expect("asked again");
    assert_eq!(again.second_factor_reset, Some(pending));

    // Withdrawn, then asked and approved by a second operator: every factor is gone, every
    // session ends, and the next sign-in enrols anew; the old code and recovery codes are dead.
    let withdrawn = w
        .services
        .auth
        .withdraw_second_factor_reset(&approver, &staff, &id)
        .await
        .expect("withdrawn");
    assert_eq!(withdrawn.second_factor_reset, None);
    w.services
        .auth
        .request_second_factor_reset(&asker, &staff, &id)
        .await
        .expect("asked");
    let reset = w
        .services
        .auth
        .approve_second_factor_reset(&approver, &staff, &id)
        .await
        .expect("approved");
    assert!(!reset.second_factor && !reset.otp && reset.passkeys == 0);
    assert_eq!(reset.second_factor_reset, None);
    assert!(matches!(
        w.caller(&tokens.access_token).await,
        Err(Error::Unauthenticated(_))
    ));
    w.advance(31);
    let step = w.sign_in(email, password).await.expect("password ok");
    let SignInStep::OtpEnrolmentRequired {
        challenge,
        secret: new_secret,
        ..
    } = step
    else {
        panic!("after the reset the second factor is enrolled again: {step:?}");
    };
    assert_ne!(otp::decode(&new_secret).expect("base32"), secret);
    refused(&w.otp(&challenge, &recovery[0]).await);
}

#[tokio::test]
async fn wrong_codes_count_toward_the_lockout_as_wrong_passwords_do() {
    // With the password known, the six-digit code is all that stands between an attacker and
    // the account: every wrong code counts, and the right password does not clear the count.
    let w = World::new();
    let email = "jana.sec@regrooter.example";
    let password = "a long staff passphrase";
    w.staff(email, password).await;
    let SignInStep::OtpEnrolmentRequired {
        challenge: first,
        secret,
        ..
    } = w.sign_in(email, password).await.expect("password ok")
    else {
        panic!("staff enrol a second factor first");
    };
    let secret = otp::decode(&secret).expect("base32");
    let right = otp::code_at(&secret, w.now()).expect("code");
    w.otp(&first, &right).await.expect("enrolled");
    // A code that is not the one for this time step (nor its neighbours: the clock stands).
    let wrong = |code: &str| {
        format!(
            "{:06}",
            (code.parse::<u32>().expect("digits") + 1) % 1_000_000
        )
    };

    // One short of the limit: still open, and the right code clears the count.
    w.advance(31);
    for _ in 1..auth::service::MAX_FAILURES {
        let c = challenge(w.sign_in(email, password).await.expect("password"));
        let code = otp::code_at(&secret, w.now()).expect("code");
        refused(&w.otp(&c, &wrong(&code)).await);
    }
    let c = challenge(w.sign_in(email, password).await.expect("not locked yet"));
    let code = otp::code_at(&secret, w.now()).expect("code");
    w.otp(&c, &code).await.expect("the right code");

    // Then the limit of wrong codes, each after a right password: locked.
    w.advance(31);
    for _ in 0..auth::service::MAX_FAILURES {
        let c = challenge(w.sign_in(email, password).await.expect("password"));
        let code = otp::code_at(&secret, w.now()).expect("code");
        refused(&w.otp(&c, &wrong(&code)).await);
    }
    assert_eq!(
        refused(&w.sign_in(email, password).await),
        auth::service::SIGN_IN_REFUSED,
        "locked: the right password is refused with the one answer"
    );
    // Until the lock ends.
    w.advance(auth::service::LOCK_MINUTES * 60);
    let c = challenge(w.sign_in(email, password).await.expect("lock over"));
    let code = otp::code_at(&secret, w.now()).expect("code");
    w.otp(&c, &code).await.expect("signed in again");
}

#[tokio::test]
async fn the_first_staff_account_is_bootstrapped_once() {
    let w = World::new();
    let input = |email: &str| NewUserInput {
        email: Some(email.into()),
        name: Some("First Operator".into()),
        roles: Some(vec!["operator".into()]),
    };
    let first = w
        .services
        .auth
        .bootstrap_staff(input("ops@regrooter.example"))
        .await
        .expect("first");
    assert_eq!(first.user.roles, vec!["operator"]);
    assert!(matches!(
        w.services
            .auth
            .bootstrap_staff(input("other@regrooter.example"))
            .await,
        Err(Error::Conflict(_))
    ));
    // Roles are checked as for any account.
    let w = World::new();
    assert!(matches!(
        w.services
            .auth
            .bootstrap_staff(NewUserInput {
                roles: Some(vec!["customer_admin".into()]),
                ..input("ops@regrooter.example")
            })
            .await,
        Err(Error::Validation(_))
    ));
}

#[tokio::test]
async fn lockout_and_one_answer_for_every_refusal() {
    let w = World::new();
    let email = "jana.sec@regrooter.example";
    let password = "a long staff passphrase";
    w.staff(email, password).await;
    let unknown = refused(&w.sign_in("nobody@regrooter.example", password).await);
    assert_eq!(unknown, auth::service::SIGN_IN_REFUSED);
    for _ in 0..auth::service::MAX_FAILURES {
        assert_eq!(
            refused(&w.sign_in(email, "not the passphrase at all").await),
            unknown
        );
    }
    assert_eq!(
        refused(&w.sign_in(email, password).await),
        unknown,
        "locked, even with the right password"
    );
    w.advance(15 * 60 - 1);
    refused(&w.sign_in(email, password).await);
    w.advance(1);
    assert!(w.sign_in(email, password).await.is_ok(), "the lock ends");
    // Empty or absurd input is refused the same way.
    assert_eq!(refused(&w.sign_in("", "").await), unknown);
    assert_eq!(
        refused(&w.sign_in(email, &"x".repeat(10_000)).await),
        unknown
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let w = World::new();
    let admin = Access::resolve(
        Principal {
            subject: "acme-admin".into(),
            actor: Actor::Customer {
                tenant: TenantId::new("acme").expect("tenant"),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    );
    kernel::tenants::put(
        w.store.as_ref(),
        &w.keyring,
        &operator(),
        &TenantId::new("acme").expect("tenant"),
        kernel::tenants::TenantInput {
            name: Some("ACME GmbH".into()),
            contact_email: None,
            contract: None,
        },
        w.now(),
    )
    .await
    .expect("tenant");
    let created = w
        .services
        .auth
        .create_user(
            &admin,
            Account::Customer {
                tenant: TenantId::new("acme").expect("tenant"),
            },
            NewUserInput {
                email: Some("max@acme.example".into()),
                name: Some("Max Example".into()),
                roles: Some(vec!["customer_member".into()]),
            },
        )
        .await
        .expect("created");
    w.services
        .auth
        .activate(ActivateInput {
            token: Some(created.activation_token),
            password: Some("customer passphrase 1".into()),
        })
        .await
        .expect("activated");
    // Customers too get no token for the password alone: the first sign-in enrols the app.
    let step = w
        .sign_in("MAX@acme.example ", "customer passphrase 1")
        .await
        .expect("the password");
    let SignInStep::OtpEnrolmentRequired {
        ref challenge,
        ref secret,
        ..
    } = step
    else {
        panic!("a customer without a second factor enrols one: {step:?}");
    };
    refused(&w.otp(challenge, "000000").await);
    // A mistyped code: the step lasts, and its key is shown again (to nobody without the step).
    let pending = w
        .services
        .auth
        .pending_enrolment(challenge)
        .await
        .expect("read");
    assert_eq!(pending.map(|p| p.secret).as_ref(), Some(secret));
    assert_eq!(
        w.services
            .auth
            .pending_enrolment("not a step")
            .await
            .expect("read"),
        None
    );
    let used = challenge.clone();
    let tokens = w.second_factor("max@acme.example", step).await;
    assert_eq!(
        w.services
            .auth
            .pending_enrolment(&used)
            .await
            .expect("read"),
        None,
        "used up"
    );
    assert!(tokens.recovery_codes.is_some(), "recovery codes, once");
    let refresh = |t: &str| {
        w.services.auth.refresh(RefreshInput {
            refresh_token: Some(t.to_string()),
        })
    };
    let second = refresh(&tokens.refresh_token).await.expect("rotated");
    assert_ne!(second.refresh_token, tokens.refresh_token);
    let third = refresh(&second.refresh_token).await.expect("rotated again");
    // The first token again: stolen. The whole family ends, the newest token included.
    refused(&refresh(&tokens.refresh_token).await);
    refused(&refresh(&third.refresh_token).await);

    // Later sign-ins ask for the code; the app is set up once.
    let me = w.caller(&tokens.access_token).await.expect("caller");
    assert!(matches!(
        w.services.auth.start_otp(&me).await,
        Err(Error::Conflict(_))
    ));
    let step = w
        .sign_in("max@acme.example", "customer passphrase 1")
        .await
        .expect("password");
    assert!(
        matches!(step, SignInStep::OtpRequired { otp: true, .. }),
        "{step:?}"
    );
    let with_otp = w.second_factor("max@acme.example", step).await;
    assert!(with_otp.recovery_codes.is_none());

    // Sign-out ends a family too.
    let fresh = w
        .signed_in("max@acme.example", "customer passphrase 1")
        .await;
    w.services
        .auth
        .sign_out(RefreshInput {
            refresh_token: Some(fresh.refresh_token.clone()),
        })
        .await
        .expect("signed out");
    refused(&refresh(&fresh.refresh_token).await);

    // Offboarding: access tokens issued before it stop at once; refresh and sign-in too.
    let live = with_otp;
    assert!(w.caller(&live.access_token).await.is_ok());
    w.advance(1);
    w.services
        .auth
        .disable_user(
            &admin,
            &Account::Customer {
                tenant: TenantId::new("acme").expect("tenant"),
            },
            &created.user.id,
        )
        .await
        .expect("disabled");
    refused(&w.caller(&live.access_token).await);
    refused(&refresh(&live.refresh_token).await);
    refused(&w.sign_in("max@acme.example", "customer passphrase 1").await);

    // Nowhere in the store is the address or the name in clear.
    let db =
        rusqlite::Connection::open(w.data_dir().expect("on disk").join("store.db")).expect("open");
    let mut statement = db.prepare("SELECT * FROM items").expect("select");
    let columns = statement.column_count();
    let mut rows = statement.query([]).expect("query");
    let mut cells = 0;
    while let Some(row) = rows.next().expect("row") {
        for c in 0..columns {
            if let rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) =
                row.get_ref(c).expect("cell")
            {
                cells += 1;
                let text = String::from_utf8_lossy(t).to_lowercase();
                assert!(
                    !text.contains("max@acme") && !text.contains("max example"),
                    "plaintext in the store: {text}"
                );
            }
        }
    }
    assert!(cells > 50, "the scan saw the store ({cells} cells)");
    drop(w);
}

#[tokio::test]
async fn an_address_is_unique_per_organisation_and_invisible_to_the_others() {
    let w = World::new();
    w.tenant("acme").await;
    w.tenant("globex").await;
    let address = "max@example.com";
    w.customer("acme", address, "acme passphrase 1")
        .await
        .expect("acme's user");
    // Another tenant's admin learns nothing from the address: the account is simply made.
    w.customer("globex", address, "globex passphrase 1")
        .await
        .expect("an address in another tenant does not block this one");
    // Within one tenant the address is taken.
    assert!(matches!(
        w.customer("acme", " MAX@example.com", "").await,
        Err(Error::Conflict(_))
    ));
    // A tenant cannot reserve a future staff member's address, nor find out about staff ones.
    let staff_address = "jana.sec@regrooter.example";
    w.customer("globex", staff_address, "")
        .await
        .expect("a tenant account with a staff-looking address");
    w.staff(staff_address, "a long staff passphrase").await;
    w.customer("acme", staff_address, "")
        .await
        .expect("a staff account does not block a tenant's user");
    assert!(matches!(
        w.services
            .auth
            .create_user(
                &operator(),
                Account::Staff,
                NewUserInput {
                    email: Some(staff_address.into()),
                    name: Some("Jana Again".into()),
                    roles: Some(vec!["security_officer".into()]),
                },
            )
            .await,
        Err(Error::Conflict(_))
    ));
}

fn customer(tenant: &str) -> Account {
    Account::Customer {
        tenant: TenantId::new(tenant).expect("tenant"),
    }
}

#[tokio::test]
async fn one_address_in_several_organisations_signs_in_where_the_password_matches() {
    let w = World::new();
    for tenant in ["acme", "globex", "initech"] {
        w.tenant(tenant).await;
    }
    let address = "max@example.com";
    let shared_password = "one passphrase for two";
    let acme = w
        .customer("acme", address, shared_password)
        .await
        .expect("acme");
    let globex = w
        .customer("globex", address, "globex passphrase 1")
        .await
        .expect("globex");
    let initech = w
        .customer("initech", address, shared_password)
        .await
        .expect("initech");
    // Each account signs in here once: its first sign-in, enrolling its own app.
    let subject = |step: SignInStep| async {
        assert!(
            matches!(step, SignInStep::OtpEnrolmentRequired { .. }),
            "{step:?}"
        );
        let tokens = w.second_factor(address, step).await;
        let access = w.caller(&tokens.access_token).await.expect("caller");
        access.principal().subject.clone()
    };

    // The password finds its account; the others are not counted against.
    let step = w
        .sign_in(address, "globex passphrase 1")
        .await
        .expect("globex's password");
    assert_eq!(subject(step).await, globex.to_string());
    assert_eq!(w.record(&customer("acme"), &acme).await.failed_attempts, 0);

    // Right for two accounts: the user chooses, and is told only because they know it.
    let step = w
        .sign_in(address, shared_password)
        .await
        .expect("two match");
    assert_eq!(
        step,
        SignInStep::OrganisationRequired {
            organisations: vec![customer("acme"), customer("initech")]
        }
    );
    let step = w
        .sign_in_to(address, shared_password, Some(customer("initech")))
        .await
        .expect("initech named");
    assert_eq!(subject(step).await, initech.to_string());

    // Naming an organisation narrows the sign-in to its account alone.
    let unknown = refused(&w.sign_in("nobody@example.com", shared_password).await);
    assert_eq!(
        refused(
            &w.sign_in_to(address, "globex passphrase 1", Some(customer("acme")))
                .await
        ),
        unknown
    );
    assert_eq!(
        refused(
            &w.sign_in_to(address, shared_password, Some(Account::Staff))
                .await
        ),
        unknown,
        "no staff account has this address"
    );
    assert_eq!(w.record(&customer("acme"), &acme).await.failed_attempts, 1);
    assert_eq!(
        w.record(&customer("globex"), &globex).await.failed_attempts,
        0
    );

    // A password no account has: the one answer, and a failure on every account it could mean.
    assert_eq!(
        refused(&w.sign_in(address, "nobody's passphrase").await),
        unknown
    );
    for (tenant, id, failures) in [
        ("acme", &acme, 2),
        ("globex", &globex, 1),
        ("initech", &initech, 1),
    ] {
        assert_eq!(
            w.record(&customer(tenant), id).await.failed_attempts,
            failures,
            "{tenant}"
        );
    }
}

/// The functions' hashing pool, watched: on which thread each job ran.
struct WatchedPool {
    inner: infra::blocking::BlockingPool,
    threads: Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>,
}

#[async_trait::async_trait]
impl HashingPool for WatchedPool {
    async fn run(&self, job: auth::passwords::Job) -> Result<(), Error> {
        let threads = self.threads.clone();
        self.inner
            .run(Box::new(move || {
                threads
                    .lock()
                    .expect("lock")
                    .push(std::thread::current().id());
                job();
            }))
            .await
    }
}

// The current-thread runtime: every async step of the test runs on the test's own thread.
#[tokio::test]
async fn argon2id_runs_on_the_blocking_pool_never_on_the_async_thread() {
    let pool = Arc::new(WatchedPool {
        inner: infra::blocking::BlockingPool::per_core(),
        threads: Arc::default(),
    });
    let w = World::build(|store| store, pool.clone());
    let async_thread = std::thread::current().id();
    let email = "jana.sec@regrooter.example";
    let password = "a long staff passphrase";
    w.staff(email, password).await;
    w.sign_in(email, password).await.expect("right password");
    refused(&w.sign_in(email, "not the passphrase at all").await);
    refused(&w.sign_in("nobody@regrooter.example", password).await);
    refused(&w.sign_in("", "").await);
    let threads = pool.threads.lock().expect("lock").clone();
    // The activation's hash and one verification per sign-in, each off the async thread.
    assert_eq!(threads.len(), 5, "every Argon2id went through the pool");
    assert!(
        threads.iter().all(|t| *t != async_thread),
        "Argon2id ran on the async thread"
    );
}

/// `n` wrong passwords for `email` at once, each from its own task on the multi-threaded
/// runtime, all having read the same version of the account.
async fn wrong_passwords_at_once(w: &Arc<World>, gate: &Gate, email: &str, n: usize) {
    gate.arm(n);
    let attempts: Vec<_> = (0..n)
        .map(|i| {
            let w = w.clone();
            let email = email.to_string();
            tokio::spawn(async move {
                refused(
                    &w.sign_in(&email, &format!("wrong passphrase number {i}"))
                        .await,
                )
            })
        })
        .collect();
    for attempt in attempts {
        assert_eq!(attempt.await.expect("task"), auth::service::SIGN_IN_REFUSED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_are_all_counted_and_lock_the_account() {
    // The accounts' records: every concurrent sign-in reads the same version.
    let gate = Gate::new(|key| key.sk.starts_with("USER#"));
    let gated = gate.clone();
    let w = Arc::new(World::with_store(move |inner| gated.store(inner)));
    let password = "a long staff passphrase";
    let counted = w.staff("counted@regrooter.example", password).await;
    let locked = w.staff("locked@regrooter.example", password).await;

    // Fewer than the limit: every one of them is counted, although they raced.
    let below = auth::service::MAX_FAILURES as usize - 1;
    wrong_passwords_at_once(&w, &gate, "counted@regrooter.example", below).await;
    let record = w.record(&Account::Staff, &counted).await;
    assert_eq!(record.failed_attempts as usize, below);
    assert_eq!(record.locked_until, None);
    assert!(
        gate.conflicts() >= below - 1,
        "the attempts collided on the record's version (and were retried)"
    );

    // More than the limit at once: the account locks, once.
    wrong_passwords_at_once(&w, &gate, "locked@regrooter.example", 8).await;
    let record = w.record(&Account::Staff, &locked).await;
    assert_eq!(
        record.locked_until,
        Some(w.now() + SignedDuration::from_secs(15 * 60))
    );
    let trail = kernel::audit::chain_entries(w.store.as_ref(), &format!("user:{locked}"))
        .await
        .expect("trail");
    kernel::audit::verify_chain(&format!("user:{locked}"), &trail).expect("intact");
    assert_eq!(
        trail.iter().filter(|e| e.action == "user.locked").count(),
        1,
        "{trail:?}"
    );
    refused(&w.sign_in("locked@regrooter.example", password).await);
}

#[tokio::test]
async fn tenant_changes_are_audited_without_the_contact_address() {
    use kernel::tenants::{self, TenantInput};
    let w = World::new();
    let acme = TenantId::new("acme").expect("tenant");
    let chain = tenants::audit_chain(&acme);
    let op = operator();
    let put =
        |input: TenantInput| tenants::put(w.store.as_ref(), &w.keyring, &op, &acme, input, w.now());
    let actions = || async {
        let entries = kernel::audit::chain_entries(w.store.as_ref(), &chain)
            .await
            .expect("trail");
        kernel::audit::verify_chain(&chain, &entries).expect("intact chain");
        entries
    };
    let contact = "dpo@acme.example";
    put(TenantInput {
        name: Some("ACME GmbH".into()),
        contact_email: Some(kernel::crypto::Personal::new(contact.into())),
        contract: None,
    })
    .await
    .expect("created");
    let names = |entries: &[kernel::audit::AuditEntry]| {
        entries.iter().map(|e| e.action.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&actions().await), vec!["tenant.created"]);

    // New contract terms and a new breach contact: one entry each, by the operator.
    let contract = kernel::policy::ContractTerms {
        sla_credit: Some(kernel::policy::BasisPoints(1_000)),
        ..Default::default()
    };
    let new_contact = "privacy@acme.example";
    let record = put(TenantInput {
        name: None,
        contact_email: Some(kernel::crypto::Personal::new(new_contact.into())),
        contract: Some(contract.clone()),
    })
    .await
    .expect("updated");
    let entries = actions().await;
    assert_eq!(
        names(&entries),
        vec![
            "tenant.created",
            "tenant.breach_contact_changed",
            "tenant.contract_changed"
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.actor == "op-1" && e.actor_kind == "staff")
    );
    assert_eq!(
        record.audit.as_ref(),
        Some(&entries[2].head()),
        "the record carries its chain's head"
    );
    // The same values again change nothing, and nothing is recorded.
    put(TenantInput {
        name: Some("ACME GmbH".into()),
        contact_email: Some(kernel::crypto::Personal::new(new_contact.into())),
        contract: Some(contract),
    })
    .await
    .expect("unchanged");
    assert_eq!(actions().await.len(), 3);
    // A refused change records nothing either.
    let refused = put(TenantInput {
        name: Some(String::new()),
        contact_email: None,
        contract: None,
    })
    .await
    .err();
    assert!(
        matches!(&refused, Some(Error::Validation(fields))
            if *fields == [kernel::error::FieldError::new("/name", "must be 1 to 200 characters")]),
        "{refused:?}"
    );
    let entries = actions().await;
    assert_eq!(entries.len(), 3);
    // The contact address is personal data: it is not in the trail.
    let text = serde_json::to_string(&entries)
        .expect("json")
        .to_lowercase();
    for address in [contact, new_contact] {
        assert!(!text.contains(address), "{text}");
    }
}

// ----- over HTTP, behind the edge ------------------------------------------------------------

#[test]
fn tenant_admins_define_roles_that_grant_exactly_their_permissions() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let at = ["--now", START, "--ttl", "100h"];
    let operator = p.token(&[&["--role", "operator", "--sub", "op-1"][..], &at[..]].concat());
    let admin = p.token(
        &[
            &[
                "--role",
                "customer_admin",
                "--tenant",
                "acme",
                "--sub",
                "acme-1",
            ][..],
            &at[..],
        ]
        .concat(),
    );
    let (status, body) = call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(&operator),
        Some(&json!({ "name": "ACME GmbH" })),
    );
    assert_eq!(status, 200, "{body}");

    // Staff powers cannot be handed out; tenant permissions can.
    let (status, problem) = call(
        "PUT",
        &p.url("/api/tenants/acme/roles/auditor"),
        Some(&admin),
        Some(&json!({ "permissions": ["incidents:read"] })),
    );
    assert_eq!(status, 400, "{problem}");
    let (status, role) = call(
        "PUT",
        &p.url("/api/tenants/acme/roles/retention-viewer"),
        Some(&admin),
        Some(&json!({ "permissions": ["retention:read"] })),
    );
    assert_eq!(status, 200, "{role}");
    assert_eq!(role["name"], "custom:retention-viewer");

    // A role that does not exist, or a staff role, cannot be assigned.
    let (status, problem) = post(
        &p,
        "/api/tenants/acme/users",
        Some(&admin),
        json!({ "email": "x@acme.example", "name": "X", "roles": ["custom:nope", "operator"] }),
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2));

    let email = "max@acme.example";
    let password = "customer passphrase 1";
    onboard(
        &p,
        "/api/tenants/acme/users",
        &admin,
        email,
        &["custom:retention-viewer"],
        password,
    );
    let (status, duplicate) = post(
        &p,
        "/api/tenants/acme/users",
        Some(&admin),
        json!({ "email": "MAX@acme.example ", "name": "Max", "roles": ["customer_member"] }),
    );
    assert_eq!(status, 409, "the address is taken: {duplicate}");
    // In another tenant the address is free: its admin learns nothing about acme's users.
    let (status, body) = call(
        "PUT",
        &p.url("/api/tenants/globex"),
        Some(&operator),
        Some(&json!({ "name": "Globex GmbH" })),
    );
    assert_eq!(status, 200, "{body}");
    let globex_admin = p.token(
        &[
            &[
                "--role",
                "customer_admin",
                "--tenant",
                "globex",
                "--sub",
                "globex-1",
            ][..],
            &at[..],
        ]
        .concat(),
    );
    let (status, created) = post(
        &p,
        "/api/tenants/globex/users",
        Some(&globex_admin),
        json!({ "email": email, "name": "Max", "roles": ["customer_member"] }),
    );
    assert_eq!(status, 201, "{created}");

    // The customer's first sign-in: the password, then the app enrolled with its first code.
    let (status, step) = sign_in(&p, email, password);
    assert_eq!(status, 200, "{step}");
    assert_eq!(step["status"], "otp_enrolment_required", "{step}");
    let secret = otp::decode(step["secret"].as_str().expect("secret")).expect("base32");
    let code = otp::code_at(&secret, now(&p)).expect("code");
    let (status, tokens) = post(
        &p,
        "/auth/otp",
        None,
        json!({ "challenge": step["challenge"], "code": code }),
    );
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("token");
    let (status, body) = call(
        "GET",
        &p.url("/api/tenants/acme/retention"),
        Some(access),
        None,
    );
    assert_eq!(status, 200, "the role grants retention:read: {body}");
    for path in [
        "/api/tenants/acme/exports",
        "/api/sla/tenants/acme/claims",
        "/api/tenants/acme/users",
        "/api/tenants/globex/retention",
    ] {
        let (status, body) = call("GET", &p.url(path), Some(access), None);
        assert_eq!(status, 403, "{path}: {body}");
    }
    // The admin sees the user, address opened.
    let (status, users) = call("GET", &p.url("/api/tenants/acme/users"), Some(&admin), None);
    assert_eq!(status, 200);
    assert_eq!(users[0]["email"], email);
    assert_eq!(
        users[0]["second_factor"], true,
        "enrolled at the first sign-in"
    );
}

#[test]
fn staff_sign_in_through_the_edge_and_offboarding_revokes_at_once() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let operator = p.token(&[
        "--role", "operator", "--sub", "op-1", "--now", START, "--ttl", "100h",
    ]);
    let email = "jana.sec@regrooter.example";
    let password = "a long staff passphrase";
    onboard(
        &p,
        "/api/staff",
        &operator,
        email,
        &["security_officer"],
        password,
    );
    // The edge allows a handful of sign-in requests per minute from one client.
    advance(&p, "PT1M");
    let (status, step) = sign_in(&p, email, password);
    assert_eq!(status, 200, "{step}");
    assert_eq!(step["status"], "otp_enrolment_required");
    assert!(
        step.get("access_token").is_none(),
        "no token before the second factor"
    );
    let secret = otp::decode(step["secret"].as_str().expect("secret")).expect("base32");
    let code = otp::code_at(&secret, now(&p)).expect("code");
    let (status, tokens) = post(
        &p,
        "/auth/otp",
        None,
        json!({ "challenge": step["challenge"], "code": code }),
    );
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let (status, body) = call("GET", &p.url("/api/incidents"), Some(&access), None);
    assert_eq!(status, 200, "a security officer reads incidents: {body}");
    let (status, _) = call("GET", &p.url("/api/staff"), Some(&access), None);
    assert_eq!(status, 403, "but does not manage staff");

    let (_, staff) = call("GET", &p.url("/api/staff"), Some(&operator), None);
    let id = staff[0]["id"].as_str().expect("id").to_string();
    assert_eq!(staff[0]["email"], email);
    assert_eq!(staff[0]["second_factor"], true);
    advance(&p, "PT1S");
    let (status, disabled) = post(
        &p,
        &format!("/api/staff/{id}/disable"),
        Some(&operator),
        json!({}),
    );
    assert_eq!(status, 200, "{disabled}");
    let (status, problem) = call("GET", &p.url("/api/incidents"), Some(&access), None);
    assert_eq!(status, 401, "revoked at once: {problem}");
    advance(&p, "PT1M");
    let (status, _) = post(
        &p,
        "/auth/refresh",
        None,
        json!({ "refresh_token": tokens["refresh_token"] }),
    );
    assert_eq!(status, 401);
}

#[test]
fn after_a_key_rotation_old_tokens_stay_valid_until_they_expire() {
    let audience = TokenAudience {
        issuer: "regrooter-test".into(),
        audience: "regrooter-api".into(),
    };
    let old = SigningKey::generate("tok-old");
    let new = SigningKey::generate("tok-new");
    let new_public = new.verification_key();
    let verifier = TokenVerifier::new(
        vec![old.verification_key(), new.verification_key()],
        audience.clone(),
        SignedDuration::ZERO,
    );
    let principal = Principal {
        subject: "usr_x".into(),
        actor: Actor::Staff,
        roles: vec!["operator".into()],
        amr: vec!["pwd".into(), "otp".into()],
    };
    let issued = ts("2026-09-01T08:00:00Z");
    let before = TokenIssuer::new(old, audience.clone())
        .issue(&principal, issued, SignedDuration::from_secs(600))
        .expect("old token");
    let after = TokenIssuer::new(new, audience.clone())
        .issue(&principal, issued, SignedDuration::from_secs(600))
        .expect("new token");
    let within = ts("2026-09-01T08:09:59Z");
    assert!(verifier.verify(&before, within).is_ok());
    assert!(verifier.verify(&after, within).is_ok());
    assert!(matches!(
        verifier.verify(&before, ts("2026-09-01T08:10:01Z")),
        Err(kernel::token::TokenError::Invalid(_))
    ));
    // Once the old key is dropped from the JWKS, nothing signed with it passes, and what the
    // new key signed still does.
    let only_new = TokenVerifier::new(vec![new_public], audience, SignedDuration::ZERO);
    assert!(only_new.verify(&after, within).is_ok());
    assert!(matches!(
        only_new.verify(&before, within),
        Err(kernel::token::TokenError::UnknownKeyId)
    ));
}

#[test]
fn the_bootstrap_command_makes_the_first_staff_account_once() {
    let data = common::private_dir();
    let run = |email: &str| {
        std::process::Command::new(common::BIN)
            .args([
                "auth",
                "bootstrap-staff",
                "--email",
                email,
                "--name",
                "First Operator",
            ])
            .env("REGROOTER_DATA", data.path())
            // On the embedded store no AWS settings are needed (none are set here).
            .env_remove("AWS_REGION")
            .env_remove("REGROOTER_ENV")
            .env_remove("REGROOTER_STORE")
            .output()
            .expect("run")
    };
    let first = run("ops@regrooter.example");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let created: Value = serde_json::from_slice(&first.stdout).expect("json");
    assert_eq!(created["user"]["roles"], json!(["operator"]));
    assert!(created["activation_token"].as_str().is_some());
    let second = run("other@regrooter.example");
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("staff accounts exist"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // A region, when set, is still checked: nothing starts outside the EU.
    let outside = std::process::Command::new(common::BIN)
        .args([
            "auth",
            "bootstrap-staff",
            "--email",
            "x@regrooter.example",
            "--name",
            "X",
        ])
        .env("REGROOTER_DATA", data.path())
        .env("AWS_REGION", "us-east-1")
        .env_remove("REGROOTER_ENV")
        .env_remove("REGROOTER_STORE")
        .output()
        .expect("run");
    assert!(!outside.status.success());
    assert!(
        String::from_utf8_lossy(&outside.stderr).contains("us-east-1"),
        "{}",
        String::from_utf8_lossy(&outside.stderr)
    );
}

fn field_pointers(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
    match result {
        Err(Error::Validation(fields)) => fields.into_iter().map(|f| f.pointer).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// What passkeys add around the ceremony itself (which Chromium's virtual authenticator runs in
/// `tests/browser/`): the relying party from the public address, a registration's checks and
/// its token that is no sign-in challenge, and a tenant's rule that sessions without a passkey
/// carry no role and users with one may not use the app's code instead.
#[tokio::test]
async fn passkeys_their_ceremonies_and_the_tenants_rule() {
    assert_eq!(
        RelyingParty::for_public_url("http://127.0.0.1:8080").err(),
        Some("http://127.0.0.1:8080 has no domain name, so no passkeys".to_string())
    );
    assert!(RelyingParty::for_public_url("http://localhost:8080").is_ok());
    let w = World::new();
    w.tenant("acme").await;
    w.customer("acme", "max@acme.example", "a long enough passphrase")
        .await
        .expect("customer");
    let tokens = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    let access = w.caller(&tokens.access_token).await.expect("access");
    assert!(!access.principal().roles.is_empty());
    // The app's code is its second factor, enrolled at the first sign-in.
    let secret = w.app_secret("max@acme.example");

    // Only the tenant's admins set the rule, and it is audited in the tenant's chain.
    let acme = TenantId::new("acme").expect("tenant");
    let member = common::customer_access("acme", "customer_member");
    assert!(matches!(
        kernel::tenants::set_passkeys_required(w.store.as_ref(), &member, &acme, true, w.now())
            .await,
        Err(Error::Forbidden(_))
    ));
    let admin = common::customer_access("acme", "customer_admin");
    let record =
        kernel::tenants::set_passkeys_required(w.store.as_ref(), &admin, &acme, true, w.now())
            .await
            .expect("required");
    assert!(record.passkeys_required);
    let trail =
        kernel::audit::chain_entries(w.store.as_ref(), &kernel::tenants::audit_chain(&acme))
            .await
            .expect("trail");
    assert_eq!(
        trail.last().map(|e| e.action.as_str()),
        Some("tenant.passkeys_required")
    );

    // Without a passkey yet, the app's code still signs in, but the session has no role: only
    // the own account (to register a passkey) is open.
    w.advance(60);
    let step = w
        .sign_in("max@acme.example", "a long enough passphrase")
        .await
        .expect("step");
    let SignInStep::OtpRequired {
        challenge: c,
        otp: true,
        passkey_options: None,
    } = step
    else {
        panic!("expected the code step without passkey options, got {step:?}");
    };
    let tokens = w
        .otp(&c, &otp::code_at(&secret, w.now()).expect("code"))
        .await
        .expect("signed in");
    let restricted = w.caller(&tokens.access_token).await.expect("access");
    assert!(restricted.principal().roles.is_empty());
    assert!(restricted.permissions().is_empty());
    assert!(
        w.services
            .auth
            .needs_passkey(&restricted)
            .await
            .expect("rule")
    );

    // A registration starts from the own account: options for this relying party and user.
    let start = w
        .services
        .auth
        .start_passkey_registration(&restricted)
        .await
        .expect("registration");
    let options: Value = serde_json::from_str(&start.options).expect("options json");
    assert_eq!(options["publicKey"]["rp"]["id"], "portal.regrooter.example");
    assert_eq!(options["publicKey"]["user"]["name"], "max@acme.example");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    // Its token is no sign-in challenge, for the code or for a passkey.
    let code = otp::code_at(&secret, w.now()).expect("code");
    refused(&w.otp(&start.ceremony, &code).await);
    refused(
        &w.services
            .auth
            .verify_passkey(PasskeyInput {
                challenge: Some(start.ceremony.clone()),
                credential: Some("{}".into()),
            })
            .await,
    );
    // Every missing field at once; a credential that is no registration is refused.
    let finish = |name: &str, credential: &str, ceremony: &str| PasskeyRegistrationInput {
        ceremony: Some(ceremony.into()),
        name: Some(name.into()),
        credential: Some(credential.into()),
    };
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .finish_passkey_registration(&restricted, finish(" ", "", &start.ceremony))
                .await
        ),
        ["/name", "/credential"]
    );
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .finish_passkey_registration(
                    &restricted,
                    finish(&"x".repeat(61), "{\"id\":1}", &start.ceremony)
                )
                .await
        ),
        ["/name", "/credential"]
    );
    // Another user's ceremony (or none) is an expired step, never this user's passkey.
    w.customer("acme", "eva@acme.example", "another long passphrase")
        .await
        .expect("customer");
    let eva = w
        .signed_in("eva@acme.example", "another long passphrase")
        .await;
    let eva = w.caller(&eva.access_token).await.expect("access");
    let minimal = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" }
    })
    .to_string();
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .finish_passkey_registration(&eva, finish("Phone", &minimal, &start.ceremony))
                .await
        ),
        ["/ceremony"]
    );
    // The rightful owner's garbage attestation uses the ceremony up and is refused.
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .finish_passkey_registration(
                    &restricted,
                    finish("Laptop", &minimal, &start.ceremony)
                )
                .await
        ),
        ["/credential"]
    );
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .finish_passkey_registration(
                    &restricted,
                    finish("Laptop", &minimal, &start.ceremony)
                )
                .await
        ),
        ["/ceremony"]
    );
    assert!(
        w.services
            .auth
            .passkeys(&restricted)
            .await
            .expect("list")
            .is_empty()
    );
    // A user with no passkey cannot remove one.
    assert!(matches!(
        w.services
            .auth
            .remove_passkey(&restricted, "pk_nothing")
            .await,
        Err(Error::NotFound(_))
    ));
    // A garbage assertion is a plain refusal.
    refused(
        &w.services
            .auth
            .verify_passkey(PasskeyInput {
                challenge: Some(c),
                credential: Some("not json".into()),
            })
            .await,
    );
}

/// An administrator's changes to an account and a user's to their own: new roles end the
/// sessions (a token carries the roles it was issued with), re-enabling keeps old tokens dead,
/// a password change proves the current one and ends every session, and signing out everywhere
/// ends this one too.
#[tokio::test]
async fn roles_reenabling_password_change_and_signing_out_everywhere() {
    let w = World::new();
    w.tenant("acme").await;
    let max = w
        .customer("acme", "max@acme.example", "a long enough passphrase")
        .await
        .expect("customer");
    let account = customer("acme");
    let admin = common::customer_access("acme", "customer_admin");
    let first = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    assert!(w.caller(&first.access_token).await.is_ok());

    // A custom role's definition: the name's and the permissions' errors at once.
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .put_role(
                    &admin,
                    &TenantId::new("acme").expect("tenant"),
                    "Not A Name",
                    auth::service::RoleInput {
                        permissions: Some(Default::default()),
                    },
                )
                .await
        ),
        ["/name", "/permissions"]
    );

    // Roles: every field's error at once; the change ends the sessions.
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .set_roles(
                    &admin,
                    &account,
                    &max,
                    auth::service::RolesInput {
                        roles: Some(vec!["operator".into(), "custom:nope".into()]),
                    },
                )
                .await
        ),
        ["/roles/0", "/roles/1"]
    );
    let changed = w
        .services
        .auth
        .set_roles(
            &admin,
            &account,
            &max,
            auth::service::RolesInput {
                roles: Some(vec!["customer_admin".into()]),
            },
        )
        .await
        .expect("roles");
    assert_eq!(changed.roles, ["customer_admin"]);
    refused(&w.caller(&first.access_token).await);
    refused(
        &w.services
            .auth
            .refresh(RefreshInput {
                refresh_token: Some(first.refresh_token.clone()),
            })
            .await,
    );
    w.advance(1);
    let second = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    let max_access = w.caller(&second.access_token).await.expect("access");
    assert_eq!(max_access.principal().roles, ["customer_admin"]);
    // Nobody changes their own roles.
    assert!(matches!(
        w.services
            .auth
            .set_roles(
                &max_access,
                &account,
                &max,
                auth::service::RolesInput {
                    roles: Some(vec!["customer_member".into()]),
                },
            )
            .await,
        Err(Error::Conflict(_))
    ));

    // Disabled and re-enabled: the tokens from before stay refused, a new sign-in works.
    w.services
        .auth
        .disable_user(&admin, &account, &max)
        .await
        .expect("disabled");
    w.advance(1);
    refused(
        &w.sign_in("max@acme.example", "a long enough passphrase")
            .await,
    );
    w.services
        .auth
        .enable_user(&admin, &account, &max)
        .await
        .expect("enabled");
    refused(&w.caller(&second.access_token).await);
    let third = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    let max_access = w.caller(&third.access_token).await.expect("access");

    // A new password: the checks at once, the current one proven, then every session ends.
    let change = |current: &str, new: &str| auth::service::PasswordChangeInput {
        current: Some(current.into()),
        new: Some(new.into()),
    };
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .change_password(&max_access, change("", "short"))
                .await
        ),
        ["/current", "/new"]
    );
    assert_eq!(
        field_pointers(
            w.services
                .auth
                .change_password(
                    &max_access,
                    change("wrong guess entirely", "a new long passphrase")
                )
                .await
        ),
        ["/current"]
    );
    w.services
        .auth
        .change_password(
            &max_access,
            change("a long enough passphrase", "a new long passphrase"),
        )
        .await
        .expect("changed");
    refused(&w.caller(&third.access_token).await);
    w.advance(1);
    refused(
        &w.sign_in("max@acme.example", "a long enough passphrase")
            .await,
    );
    let fourth = w
        .signed_in("max@acme.example", "a new long passphrase")
        .await;

    // Signing out everywhere.
    let max_access = w.caller(&fourth.access_token).await.expect("access");
    w.services
        .auth
        .sign_out_everywhere(&max_access)
        .await
        .expect("signed out");
    refused(&w.caller(&fourth.access_token).await);

    // A custom role defined and changed: accounts, roles and the tenant each end their audit
    // chains at their records' heads, and a cut in any is found.
    for permissions in [
        [kernel::rbac::Permission::TenantIncidentsRead].into(),
        [
            kernel::rbac::Permission::TenantIncidentsRead,
            kernel::rbac::Permission::SlaReportRead,
        ]
        .into(),
    ] {
        w.services
            .auth
            .put_role(
                &admin,
                &TenantId::new("acme").expect("tenant"),
                "incident-readers",
                auth::service::RoleInput {
                    permissions: Some(permissions),
                },
            )
            .await
            .expect("role");
    }
    let chains = common::chains_end_at_their_records_heads(w.store.as_ref()).await;
    assert_eq!(
        chains.kinds(),
        ["role", "tenant", "user"].into(),
        "{chains:?}"
    );
    assert!(chains.without_head.is_empty(), "{chains:?}");
}

/// A forgotten password: one link per account with the address (none for an unknown one, no
/// second within five minutes), the link works once, sets a password that is not easy to
/// guess, ends every session, and the old password no longer signs in.
#[tokio::test]
async fn a_password_reset_link_works_once_and_ends_every_session() {
    let w = World::new();
    w.tenant("acme").await;
    w.customer("acme", "max@acme.example", "a long enough passphrase")
        .await
        .expect("customer");
    let before = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    assert!(
        w.services
            .auth
            .request_password_reset("nobody@acme.example")
            .await
            .expect("asked")
            .is_empty()
    );
    let links = w
        .services
        .auth
        .request_password_reset(" MAX@acme.example")
        .await
        .expect("asked");
    assert_eq!(links.len(), 1);
    assert!(
        w.services
            .auth
            .request_password_reset("max@acme.example")
            .await
            .expect("asked again")
            .is_empty(),
        "no second link within five minutes"
    );
    let reset = |token: &str, password: &str| {
        w.services.auth.reset_password(auth::service::ResetInput {
            token: Some(token.to_string()),
            password: Some(password.to_string()),
        })
    };
    assert_eq!(
        field_pointers(reset(&links[0].token, "max").await),
        ["/password"]
    );
    reset(&links[0].token, "violet lanterns drift past quiet harbours")
        .await
        .expect("set");
    refused(&reset(&links[0].token, "another good passphrase entirely").await);
    refused(&w.caller(&before.access_token).await);
    w.advance(60);
    refused(
        &w.sign_in("max@acme.example", "a long enough passphrase")
            .await,
    );
    w.signed_in(
        "max@acme.example",
        "violet lanterns drift past quiet harbours",
    )
    .await;
}

/// An account's sessions: listed with how they were signed in, one ended alone (its refresh
/// token refused from then on), never another account's, and none left after signing out
/// everywhere.
#[tokio::test]
async fn sessions_are_listed_and_ended_one_by_one() {
    let w = World::new();
    w.tenant("acme").await;
    w.customer("acme", "max@acme.example", "a long enough passphrase")
        .await
        .expect("customer");
    w.customer("acme", "eva@acme.example", "another long passphrase")
        .await
        .expect("customer");
    let first = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    w.advance(60);
    let second = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    let eva = w
        .signed_in("eva@acme.example", "another long passphrase")
        .await;
    let max = w.caller(&second.access_token).await.expect("access");
    let listed = w.services.auth.sessions(&max).await.expect("sessions");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[0].started_at > listed[1].started_at, "newest first");
    assert_eq!(listed[0].methods, ["pwd", "otp"]);
    // Each sign-in names its session as the list does (the portal marks "this browser").
    assert_eq!(
        (second.session.as_str(), first.session.as_str()),
        (listed[0].id.as_str(), listed[1].id.as_str())
    );
    // Another account's session is not one of Max's.
    let eva_access = w.caller(&eva.access_token).await.expect("access");
    let eva_session = w
        .services
        .auth
        .sessions(&eva_access)
        .await
        .expect("sessions")[0]
        .id
        .clone();
    assert!(matches!(
        w.services.auth.end_session(&max, &eva_session).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        w.services.auth.end_session(&max, "../FAMILY#x").await,
        Err(Error::NotFound(_))
    ));
    // Ending the older session refuses its refresh token; the newer one lives on.
    w.services
        .auth
        .end_session(&max, &listed[1].id)
        .await
        .expect("ended");
    refused(
        &w.services
            .auth
            .refresh(RefreshInput {
                refresh_token: Some(first.refresh_token),
            })
            .await,
    );
    let listed = w.services.auth.sessions(&max).await.expect("sessions");
    assert_eq!(listed.len(), 1);
    let renewed = w
        .services
        .auth
        .refresh(RefreshInput {
            refresh_token: Some(second.refresh_token),
        })
        .await
        .expect("the other session renews");
    assert_eq!(
        renewed.session, second.session,
        "a refresh stays in its session"
    );
    // Signing out everywhere leaves none.
    let max = w.caller(&renewed.access_token).await.expect("access");
    w.services
        .auth
        .sign_out_everywhere(&max)
        .await
        .expect("signed out");
    w.advance(1);
    let third = w
        .signed_in("max@acme.example", "a long enough passphrase")
        .await;
    let max = w.caller(&third.access_token).await.expect("access");
    assert_eq!(
        w.services
            .auth
            .sessions(&max)
            .await
            .expect("sessions")
            .len(),
        1,
        "only the session signed in after it"
    );
}
