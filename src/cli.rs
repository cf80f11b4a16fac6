//! The command line, in one place.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use kernel::ids::TenantId;
use kernel::rbac::{Actor, BuiltinRole, CustomRole, Principal};
use kernel::time::{Clock, SignedDuration, SystemClock, Timestamp};
use kernel::token::TokenIssuer;

use crate::platform;

#[derive(Debug, Parser)]
#[command(
    name = "regrooter",
    version,
    about = "The regrooter trust platform: security reports, breach handling, retention, SLA and billing promises, in running code.",
    long_about = "The regrooter trust platform.\n\nLocally everything runs in one process on an embedded store; in production the same code runs as AWS Lambda functions behind a Cloudflare Worker. Configuration comes from REGROOTER_* environment variables (see README)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole platform locally: every function's routes behind the edge pipeline, the
    /// embedded store, and the scheduler.
    Serve(ServeArgs),
    /// Print a signed development token for the local platform (refused in production).
    Token(TokenArgs),
    /// Data-breach incidents.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The edge's web application firewall.
    #[command(subcommand)]
    Waf(WafCommand),
    /// Deletion after the service ends: plans, runs, certificates.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// The uptime promise: month reports.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Sign-in keys for a deployment.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print the OpenAPI 3.1 document of every route (what functions/openapi.json must hold;
    /// `GET /api/openapi.json` serves that file).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Make a new access-token signing key: prints JSON with `secret` (the secret store:
    /// TF_VAR_token_signing_key, only the auth function gets it) and `jwks` (TF_VAR_jwks: the new
    /// key plus those of --add-to, so tokens signed before the rotation stay valid until they
    /// expire).
    NewSigningKey {
        #[arg(long)]
        add_to: Option<PathBuf>,
    },
    /// Create the first staff account of an environment (refused once any exists), in the store
    /// the environment configures (REGROOTER_STORE=dynamodb with its table, KMS key, index key
    /// and AWS_REGION; or the local data directory). Prints the activation token.
    BootstrapStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Staff roles; the first account is normally an operator.
        #[arg(long = "role", default_value = "operator")]
        roles: Vec<String>,
    },
    /// Make a new sign-in index key (32 bytes, base64) for TF_VAR_index_key. Changing it later
    /// means re-indexing every account, so make it once per environment.
    NewIndexKey,
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Print a month's uptime figures: for a tenant (its contract's settings, its own outages and
    /// exclusions) or, without --tenant, for the platform.
    Report {
        #[arg(long)]
        tenant: Option<String>,
        /// The month, YYYY-MM (Europe/Berlin).
        #[arg(long)]
        month: String,
        /// Print the full report as JSON.
        #[arg(long)]
        json: bool,
        /// Data directory of the local platform.
        #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
        data: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Show, for every tenant whose service has ended, what is due when — touching nothing.
    Plan {
        /// Plan as of this time (RFC 3339); now if absent.
        #[arg(long)]
        now: Option<Timestamp>,
        /// Data directory of the local platform.
        #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
        data: PathBuf,
    },
    /// Run every deletion stage due (and resume any that was interrupted).
    Run {
        /// Run as of this time (RFC 3339); now if absent. Not in production.
        #[arg(long)]
        now: Option<Timestamp>,
        /// Data directory of the local platform.
        #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
        data: PathBuf,
    },
    /// Make a new deletion-certificate signing key for a deployment: prints JSON with `secret`
    /// (for the secret store: TF_VAR_certificate_signing_key) and `jwks` (TF_VAR_certificate_jwks:
    /// the new public key, plus the keys of `--add-to` so older certificates still verify).
    NewSigningKey {
        /// The JWKS published so far (a file), to keep its keys.
        #[arg(long)]
        add_to: Option<PathBuf>,
    },
    /// Check a downloaded deletion certificate (.jws) and print what it certifies.
    VerifyCertificate {
        /// The certificate file (compact JWS).
        file: PathBuf,
        /// The published keys (/.well-known/deletion-certificate-keys.json saved to a file);
        /// the local platform's own key if absent.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// Data directory of the local platform.
        #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
        data: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum WafCommand {
    /// Read JSONL requests on stdin (CRS corpus format: method, uri, headers, body, or
    /// raw_request_b64) and write one JSON verdict per line: {"id", "action", "score", "rules"}.
    Check {
        /// 1 (fewest false positives) to 4 (strictest).
        #[arg(long, default_value_t = 1)]
        paranoia: u8,
        /// Add "micros" to each verdict: the inspection's own time, the request already read
        /// (what scripts/waf-eval compares with ModSecurity's per-transaction time).
        #[arg(long)]
        timing: bool,
    },
}

#[derive(Debug, Subcommand)]
enum IncidentCommand {
    /// Run the Art. 33/34 risk assessment: one JSON object of facts on stdin, the decision as
    /// JSON on stdout. Fields (only breach_types is required): breach_types, data_categories,
    /// approx_data_subjects, encrypted_state_of_the_art, key_compromised, backup_restorable,
    /// unavailability_hours, exfiltration, recipient_trusted, vulnerable_data_subjects,
    /// high_risk_averted, disproportionate_effort.
    Assess,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every audit chain in the data directory's store and name the first broken link.
    Verify {
        /// Data directory of the local platform.
        #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
        data: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClockKind {
    /// The machine's clock.
    System,
    /// Simulated time that moves only through POST /_dev/clock (not in production).
    Manual,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Data directory: the embedded store, the local master key, the development signing key.
    #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
    pub data: PathBuf,
    /// Which clock drives time.
    #[arg(long, value_enum, default_value = "system")]
    pub clock: ClockKind,
    /// Start time of the manual clock (RFC 3339); defaults to the system time.
    #[arg(long, requires = "clock")]
    pub start: Option<Timestamp>,
    /// Serve the functions only, without the edge in front, as the Lambdas run: every request
    /// must carry the origin signature made with REGROOTER_ORIGIN_SECRET (for running the Worker
    /// in workerd against this process).
    #[arg(long)]
    pub origin_only: bool,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// A built-in role (customer_member, customer_admin, security_officer, data_protection_officer,
    /// billing_admin, read_only_support, operator) or a tenant's custom role (custom:NAME).
    #[arg(long)]
    role: Vec<String>,
    /// The tenant, for customer roles.
    #[arg(long)]
    tenant: Option<TenantId>,
    /// Subject (user id) of the token.
    #[arg(long, default_value = "dev-user")]
    sub: String,
    /// Lifetime, e.g. 15m, 1h.
    #[arg(long, default_value = "1h")]
    ttl: SignedDuration,
    /// Issue as of this time (RFC 3339), e.g. to match a server running on a manual clock.
    #[arg(long)]
    now: Option<Timestamp>,
    /// Data directory holding the development signing key.
    #[arg(long, default_value = "./.regrooter", env = "REGROOTER_DATA")]
    data: PathBuf,
    /// Print the development key's public set (JWKS) instead of a token: the `JWKS` variable of
    /// a local Worker that should accept these tokens.
    #[arg(long, conflicts_with_all = ["role", "tenant", "sub", "ttl", "now"])]
    jwks: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("configuration: {0}")]
    Config(#[from] functions::config::ConfigError),
    #[error("{0}")]
    KeyFile(#[from] infra::local_keys::KeyFileError),
    #[error("store: {0}")]
    Store(#[from] kernel::store::StoreError),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("schedules: {0}")]
    Schedule(#[from] functions::schedule::ScheduleError),
    #[error("token: {0}")]
    Token(#[from] kernel::token::TokenError),
    #[error("{0}")]
    Registry(#[from] kernel::registry::RegistryError),
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(platform::serve(args))
        }
        Command::Token(args) => token(args),
        Command::Openapi => {
            let json = functions::openapi::to_json()
                .map_err(|e| CliError::Refused(format!("the OpenAPI document: {e}")))?;
            print!("{json}");
            Ok(())
        }
        Command::Incident(IncidentCommand::Assess) => assess(),
        Command::Waf(WafCommand::Check { paranoia, timing }) => {
            crate::waf_cli::check(paranoia, timing)
        }
        Command::Audit(AuditCommand::Verify { data }) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(audit_verify(&data))
        }
        Command::Retention(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(crate::retention_cli::run(command))
        }
        Command::Auth(AuthCommand::NewSigningKey { add_to }) => {
            crate::retention_cli::new_signing_key(
                functions::lambda::TOKEN_KEY_PREFIX,
                add_to.as_deref(),
            )
        }
        Command::Auth(AuthCommand::BootstrapStaff { email, name, roles }) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let services = functions::lambda::services_from_env(
                    "regrooter auth bootstrap-staff",
                    functions::entry::Links::NONE,
                    functions::lambda::Host::Machine,
                )
                .await
                .map_err(|e| CliError::Refused(e.to_string()))?;
                let created = services
                    .auth
                    .bootstrap_staff(auth::service::NewUserInput {
                        email: Some(email),
                        name: Some(name),
                        roles: Some(roles),
                    })
                    .await
                    .map_err(|e| CliError::Refused(e.to_string()))?;
                let text = serde_json::to_string_pretty(&created)
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                println!("{text}");
                Ok(())
            })
        }
        Command::Auth(AuthCommand::NewIndexKey) => {
            use base64::Engine as _;
            let key = zeroize::Zeroizing::new(kernel::random::bytes::<32>());
            println!(
                "{}",
                zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(*key))
                    .as_str()
            );
            Ok(())
        }
        Command::Sla(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(crate::sla_cli::run(command))
        }
    }
}

fn assess() -> Result<(), CliError> {
    use std::io::Read;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let facts: incidents::Facts = match functions::http::parse_json(input.as_bytes()) {
        Ok(facts) => facts,
        Err(kernel::Error::Validation(errors)) => {
            let details: Vec<String> = errors
                .iter()
                .map(|e| {
                    if e.pointer.is_empty() {
                        e.detail.clone()
                    } else {
                        format!("{}: {}", e.pointer, e.detail)
                    }
                })
                .collect();
            return Err(CliError::Usage(format!(
                "invalid facts: {}",
                details.join("; ")
            )));
        }
        Err(e) => return Err(CliError::Usage(e.to_string())),
    };
    let decision =
        incidents::assess(&facts).map_err(|e| CliError::Usage(format!("invalid facts: {e}")))?;
    let json =
        serde_json::to_string_pretty(&decision).map_err(|e| CliError::Usage(e.to_string()))?;
    println!("{json}");
    Ok(())
}

/// The embedded store a local platform made in `data`, for the commands that read or change it;
/// a usage error, not a new empty store, when there is none.
pub fn existing_store(
    data: &std::path::Path,
    clock: std::sync::Arc<kernel::time::SystemClock>,
) -> Result<std::sync::Arc<infra::EmbeddedStore>, CliError> {
    let db = data.join("store.db");
    if !db.exists() {
        return Err(CliError::Usage(format!(
            "no store at {} (start `regrooter serve --data {}` once)",
            db.display(),
            data.display()
        )));
    }
    Ok(std::sync::Arc::new(infra::EmbeddedStore::open(&db, clock)?))
}

/// The local keyring over a data directory's store: data keys wrapped with the directory's
/// master key (the platform and the CLI commands that open sealed fields share it).
pub fn local_keyring(
    data: &std::path::Path,
    store: &kernel::inventory::GuardedStore,
    clock: std::sync::Arc<dyn kernel::time::Clock>,
) -> Result<std::sync::Arc<kernel::crypto::Keyring>, CliError> {
    let master = infra::local_keys::master_key(data)?;
    Ok(std::sync::Arc::new(kernel::crypto::Keyring::new(
        std::sync::Arc::new(kernel::crypto::LocalKeyEncryption::new("master", &master)),
        store.shared(),
        clock,
    )))
}

async fn audit_verify(data: &std::path::Path) -> Result<(), CliError> {
    let store = existing_store(data, std::sync::Arc::new(kernel::time::SystemClock))?;
    // Every chain links, and every chain of a record that keeps its head ends at that head
    // (entries cut from the end would otherwise go unnoticed).
    let heads = functions::audit::record_heads(store.as_ref())
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let reports = incidents::service::verify_all_chains_to(store.as_ref(), &heads)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let mut broken = 0;
    for report in &reports {
        match &report.broken {
            None => println!("ok      {} ({} entries)", report.chain, report.entries),
            Some(link) => {
                broken += 1;
                println!(
                    "BROKEN  {} at entry {}: {}",
                    report.chain, link.seq, link.reason
                );
            }
        }
    }
    println!("{} chains checked, {broken} broken", reports.len());
    if broken > 0 {
        return Err(CliError::Refused(format!(
            "{broken} audit chain(s) are broken"
        )));
    }
    Ok(())
}

fn token(args: TokenArgs) -> Result<(), CliError> {
    if functions::Environment::from_env()?.is_production() {
        return Err(CliError::Refused(
            "development tokens are not issued in production (REGROOTER_ENV=production)".into(),
        ));
    }
    let config = functions::Config::from_env()?;
    if args.jwks {
        infra::local_keys::ensure_data_dir(&args.data)?;
        let key = infra::local_keys::dev_signing_key(&args.data)?;
        let jwks = kernel::token::Jwks {
            keys: vec![key.verification_key().to_jwk()],
        };
        println!(
            "{}",
            serde_json::to_string(&jwks).map_err(|e| CliError::Refused(e.to_string()))?
        );
        return Ok(());
    }
    if args.role.is_empty() {
        return Err(CliError::Usage("name at least one --role".into()));
    }
    let mut staff = None;
    for role in &args.role {
        let is_staff = match role.parse::<BuiltinRole>() {
            Ok(builtin) => builtin.is_staff(),
            Err(_) if role.starts_with(CustomRole::PREFIX) => false,
            Err(e) => return Err(CliError::Usage(e.to_string())),
        };
        if staff.is_some_and(|s| s != is_staff) {
            return Err(CliError::Usage(
                "staff and customer roles cannot share one token".into(),
            ));
        }
        staff = Some(is_staff);
    }
    let actor = match (staff, args.tenant) {
        (Some(true), None) => Actor::Staff,
        (Some(true), Some(_)) => {
            return Err(CliError::Usage("staff roles take no --tenant".into()));
        }
        (_, Some(tenant)) => Actor::Customer { tenant },
        (_, None) => return Err(CliError::Usage("customer roles need --tenant".into())),
    };
    // Development tokens stand for a completed sign-in, which always includes the second factor.
    let amr = vec!["pwd".to_string(), "otp".to_string()];
    let principal = Principal {
        subject: args.sub,
        actor,
        roles: args.role,
        amr,
    };
    infra::local_keys::ensure_data_dir(&args.data)?;
    let key = infra::local_keys::dev_signing_key(&args.data)?;
    let issuer = TokenIssuer::new(key, config.token_audience());
    let now = args.now.unwrap_or_else(|| SystemClock.now());
    println!("{}", issuer.issue(&principal, now, args.ttl)?);
    Ok(())
}
