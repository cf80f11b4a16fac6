//! `regrooter serve`: the whole platform in one process.

use std::sync::Arc;

use axum::Router;
use kernel::Clock;
use kernel::inventory::GuardedStore;
use kernel::store::Store;
use kernel::time::{ManualClock, SystemClock};

use crate::cli::{CliError, ClockKind, ServeArgs};
use crate::scheduler::Scheduler;

pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    init_logging();
    let environment = functions::Environment::from_env()?;
    let manual = match args.clock {
        ClockKind::Manual if environment.is_production() => {
            return Err(CliError::Refused(
                "the manual clock is not available in production".into(),
            ));
        }
        ClockKind::Manual => Some(Arc::new(ManualClock::new(
            args.start.unwrap_or_else(|| SystemClock.now()),
        ))),
        ClockKind::System => None,
    };
    let config = functions::Config::from_env()?;
    let clock: Arc<dyn Clock> = match &manual {
        Some(m) => m.clone(),
        None => Arc::new(SystemClock),
    };

    infra::local_keys::ensure_data_dir(&args.data)?;
    let raw = Arc::new(infra::EmbeddedStore::open(
        &args.data.join("store.db"),
        clock.clone(),
    )?);
    raw.purge_expired()?;
    let mut config = config;
    let origin_secret = if args.origin_only {
        // As on Lambda: the secret comes from the environment, and nothing unsigned is served.
        config.origin_secrets.first().cloned().ok_or_else(|| {
            CliError::Usage(
                "--origin-only needs REGROOTER_ORIGIN_SECRET (at least 32 characters)".into(),
            )
        })?
    } else {
        let secret = infra::local_keys::origin_secret(&args.data)?;
        config.origin_secrets = vec![secret.clone()];
        secret
    };
    // Without configured SLA targets the platform checks itself in process: what `/healthz`
    // checks (the store answers), without passing its own edge's rate limits.
    let prober: Arc<dyn sla::Prober> = if config.sla_targets.is_empty() {
        config.sla_targets = vec![sla::ProbeTarget {
            name: "platform".into(),
            url: "in-process:/healthz".into(),
        }];
        Arc::new(StoreProber {
            store: GuardedStore::new(raw.clone()).shared(),
        })
    } else {
        Arc::new(infra::probe::HttpProber::for_dev(
            config.environment == functions::Environment::Dev,
        ))
    };
    // Links in mail point at this platform: its real address unless REGROOTER_PUBLIC_URL says
    // otherwise (bound before the services are built, so they know it).
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    if std::env::var("REGROOTER_PUBLIC_URL").is_err() {
        // On this machine the address is `localhost`: browsers accept it as a passkey relying
        // party (an IP address they refuse) and as a secure context over plain HTTP.
        config.public_url = if addr.ip().is_loopback() {
            format!("http://localhost:{}", addr.port())
        } else {
            format!("http://{addr}")
        };
    }
    let public_url = config.public_url.clone();
    let services = crate::local::services(
        &args.data,
        raw.clone(),
        clock.clone(),
        config.clone(),
        Some(prober),
    )
    .await?;
    let tokens = services.tokens.clone();

    let scheduler = Arc::new(Scheduler::new(
        functions::schedule::all()?,
        functions::jobs::handlers(),
        services.clone(),
    )?);

    let mut app: Router = functions::routes::all(services.clone());
    if let Some(manual) = manual {
        // Behind the same guards as the functions: with --origin-only, signed by the edge.
        app = app.merge(functions::routes::guarded(
            crate::dev::router(manual, scheduler.clone()),
            services.clone(),
        ));
    }
    let edge = edge::pipeline::EdgeService::new(
        edge::pipeline::EdgeSettings {
            // 127.0.0.1 has no certificate; every deployed environment redirects to HTTPS.
            require_https: false,
            security_contact: config.security_contact.clone(),
            policy_url: format!("{public_url}/security/policy"),
            canonical_url: format!("{public_url}/.well-known/security.txt"),
            hash_key: infra::local_keys::hash_key(&args.data)?,
            origin_secret,
            waf: edge::waf::WafConfig {
                report_only: waf_report_only()?,
                ..edge::waf::WafConfig::default()
            },
        },
        tokens,
    );
    let app = if args.origin_only {
        app
    } else {
        crate::edge_layer::wrap(app, edge, clock.clone())
    };
    let app = app.layer(axum::middleware::from_fn(local_limits));
    tokio::spawn(scheduler.clone().run_forever());
    tokio::spawn(purge_expired_hourly(raw));
    println!(
        "regrooter serving on http://{addr} (environment {}, data {}, {} clock{})",
        config.environment.as_str(),
        args.data.display(),
        match args.clock {
            ClockKind::System => "system",
            ClockKind::Manual => "manual",
        },
        if args.origin_only {
            ", origin only"
        } else {
            ""
        }
    );
    tracing::info!(%addr, "ready");
    serve_http(listener, app).await;
    Ok(())
}

/// The functions' request limits, ahead of everything the local server runs (the edge
/// included), answered as the edge answers: a problem document with the security headers.
async fn local_limits(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(error) = functions::http::over_limits(&request) {
        let mut response = functions::http::ApiError(error).into_response();
        edge::headers::apply_security_headers(response.headers_mut());
        return response;
    }
    next.run(request).await
}

/// The HTTP parser's own limits, far above the functions' (`functions::http::MAX_*`): between
/// the two, our limits answer with a problem document; only a request past these (more than
/// 1 000 headers, a head over 1 MiB, or a target over hyper's fixed 64 KiB) gets hyper's bare
/// 431 or 414.
const PARSER_MAX_HEADERS: usize = 1_000;
const PARSER_MAX_BUFFER: usize = 1024 * 1024;

/// Serves HTTP/1.1 until Ctrl-C, then lets open requests finish. Each request carries the
/// client's address (`ConnectInfo`) for the edge's per-client limits.
async fn serve_http(listener: tokio::net::TcpListener, app: Router) {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                tower::Service::call(&mut app.clone(), request)
            },
        );
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .max_headers(PARSER_MAX_HEADERS)
            .max_buf_size(PARSER_MAX_BUFFER)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), graceful.shutdown()).await;
}

/// The embedded store's counterpart of DynamoDB's TTL sweeper.
async fn purge_expired_hourly(store: Arc<infra::EmbeddedStore>) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        interval.tick().await;
        if let Err(e) = store.purge_expired() {
            tracing::warn!(error = %e, "purging expired items failed");
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The local platform's own availability, as `/healthz` sees it: the store answers.
struct StoreProber {
    store: Arc<dyn Store>,
}

#[async_trait::async_trait]
impl sla::Prober for StoreProber {
    async fn check(&self, _target: &sla::ProbeTarget) -> sla::MinuteState {
        match kernel::store::ItemKey::new("HEALTH", "PROBE") {
            Ok(key) => match self.store.get(&key).await {
                Ok(_) => sla::MinuteState::Up,
                Err(_) => sla::MinuteState::Down,
            },
            Err(_) => sla::MinuteState::Unknown,
        }
    }
}

/// `REGROOTER_WAF_REPORT_ONLY`: rules and routes of the local edge's WAF that log instead of
/// blocking (see `edge::waf::ReportOnly::parse`); an invalid entry refuses to start.
fn waf_report_only() -> Result<edge::waf::ReportOnly, CliError> {
    let spec = std::env::var("REGROOTER_WAF_REPORT_ONLY").unwrap_or_default();
    edge::waf::ReportOnly::parse(&spec).map_err(CliError::Usage)
}
