//! The SLA probe's HTTP check: a GET with a deadline; up only on a 2xx answer in time.
//!
//! The probe runs inside the platform's network, so it must not become a way in: it speaks
//! HTTPS only, follows no redirect (a 3xx answer counts as down: the endpoint did not answer
//! itself), and connects only to addresses that are neither loopback nor link-local (cloud
//! metadata services live there) nor unspecified, broadcast or multicast — checked on the
//! addresses the name resolves to, which are the only ones the connection may use. Only the
//! local `dev` environment may probe plain HTTP on this machine.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use sla::{MinuteState, ProbeTarget, Prober};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// How long a check may take before the endpoint counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(kernel::vantage::CHECK_TIMEOUT_SECS);

/// Where the probe may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeScope {
    /// Public HTTPS endpoints only (every environment but `dev`).
    Public,
    /// Also plain HTTP and this machine (the local `dev` platform).
    Local,
}

/// Addresses the probe never connects to outside `dev`.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unicast_link_local()
        }
    }
}

/// Resolves as usual, then keeps only the addresses the scope allows: the connection is made
/// to one of these, so a name that resolves (or is rebound) to a forbidden address fails.
#[derive(Debug)]
struct GuardedResolver {
    inner: DefaultResolver,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let mut allowed = self.inner.empty();
        for addr in resolved.iter().filter(|a| !is_forbidden_address(a.ip())) {
            allowed.push(*addr);
        }
        if allowed.is_empty() {
            let refused: Vec<SocketAddr> = resolved.iter().copied().collect();
            tracing::warn!(target: "regrooter::sla", event = "probe_address_refused", addresses = ?refused, "the target resolves only to loopback or link-local addresses");
            return Err(ureq::Error::HostNotFound);
        }
        Ok(allowed)
    }
}

pub struct HttpProber {
    agent: ureq::Agent,
}

impl Default for HttpProber {
    fn default() -> Self {
        Self::new(CHECK_TIMEOUT, ProbeScope::Public)
    }
}

impl HttpProber {
    pub fn new(timeout: Duration, scope: ProbeScope) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // A redirect is answered, not followed: its 3xx is not a 2xx, so the minute is down.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .https_only(scope == ProbeScope::Public)
            .user_agent("regrooter-sla-probe")
            .build();
        let agent = match scope {
            ProbeScope::Public => ureq::Agent::with_parts(
                config,
                DefaultConnector::default(),
                GuardedResolver {
                    inner: DefaultResolver::default(),
                },
            ),
            ProbeScope::Local => ureq::Agent::new_with_config(config),
        };
        Self { agent }
    }

    /// The prober for an environment: only `dev` may probe locally.
    pub fn for_dev(is_dev: bool) -> Self {
        Self::new(
            CHECK_TIMEOUT,
            if is_dev {
                ProbeScope::Local
            } else {
                ProbeScope::Public
            },
        )
    }
}

#[async_trait]
impl Prober for HttpProber {
    async fn check(&self, target: &ProbeTarget) -> MinuteState {
        let agent = self.agent.clone();
        let url = target.url.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            agent
                .get(&url)
                .call()
                .map(|response| response.status().as_u16())
                .map_err(|e| e.to_string())
        })
        .await;
        minute_state(&target.name, outcome)
    }
}

/// What a check's outcome says of the minute: a 2xx is up; any other answer, or none (refused,
/// unreachable, timed out), is down; a check that itself did not complete is unknown.
fn minute_state(
    probe: &str,
    outcome: Result<Result<u16, String>, tokio::task::JoinError>,
) -> MinuteState {
    match outcome {
        Ok(Ok(status)) if kernel::vantage::answered_up(status) => MinuteState::Up,
        Ok(Ok(status)) => {
            tracing::warn!(target: "regrooter::sla", event = "probe_failed", probe = %probe, status, "endpoint answered with an error or a redirect");
            MinuteState::Down
        }
        Ok(Err(error)) => {
            tracing::warn!(target: "regrooter::sla", event = "probe_failed", probe = %probe, %error, "endpoint unreachable or refused");
            MinuteState::Down
        }
        // The check itself did not complete: no result, not a failure of the endpoint.
        Err(e) => {
            tracing::error!(target: "regrooter::sla", event = "probe_not_run", probe = %probe, error = %e, "the probe could not run");
            MinuteState::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-shot HTTP server on 127.0.0.1 answering every request with `response`.
    fn serve(response: String) -> (String, std::thread::JoinHandle<usize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handle = std::thread::spawn(move || {
            let mut served = 0;
            listener.set_nonblocking(false).ok();
            while let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(response.as_bytes());
                served += 1;
                if served == 2 {
                    break;
                }
            }
            served
        });
        (format!("http://{addr}"), handle)
    }

    fn target(url: &str) -> ProbeTarget {
        ProbeTarget {
            name: "t".into(),
            url: url.into(),
        }
    }

    #[tokio::test]
    async fn outside_dev_no_plain_http_and_no_loopback_or_link_local() {
        let prober = HttpProber::new(Duration::from_secs(2), ProbeScope::Public);
        let (base, _server) = serve("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into());
        // Plain HTTP to this machine: refused, although the endpoint would answer 200.
        assert_eq!(prober.check(&target(&base)).await, MinuteState::Down);
        // HTTPS to loopback, by address and by name, and to the metadata service: refused
        // before any connection is made.
        for url in [
            "https://127.0.0.1:9/",
            "https://localhost:9/",
            "https://[::1]:9/",
            "https://169.254.169.254/latest/meta-data/",
            "https://[::ffff:127.0.0.1]:9/",
        ] {
            assert_eq!(prober.check(&target(url)).await, MinuteState::Down, "{url}");
        }
        for ip in [
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_forbidden_address(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["203.0.113.7", "2001:db8::1", "10.0.0.1"] {
            assert!(!is_forbidden_address(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_refused_or_silent_endpoint_is_down_and_a_check_that_did_not_run_is_unknown() {
        let prober = HttpProber::new(Duration::from_millis(500), ProbeScope::Local);
        // Nobody listens: the connection is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        let refused = format!("http://127.0.0.1:{port}/");
        assert_eq!(prober.check(&target(&refused)).await, MinuteState::Down);
        // Someone listens and never answers: the check times out.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", silent.local_addr().expect("addr"));
        assert_eq!(prober.check(&target(&url)).await, MinuteState::Down);
        drop(silent);
        // The check's own task failed (it panicked, or the runtime went away): no result.
        let failed = tokio::task::spawn_blocking(|| -> Result<u16, String> {
            panic!("the check's task failed")
        })
        .await;
        assert_eq!(minute_state("t", failed), MinuteState::Unknown);
        assert_eq!(minute_state("t", Ok(Ok(204))), MinuteState::Up);
        for status in [199, 301, 404, 503] {
            assert_eq!(
                minute_state("t", Ok(Ok(status))),
                MinuteState::Down,
                "{status}"
            );
        }
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_counts_as_down() {
        let prober = HttpProber::new(Duration::from_secs(2), ProbeScope::Local);
        let (ok, _ok_server) = serve("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into());
        assert_eq!(prober.check(&target(&ok)).await, MinuteState::Up);
        // A redirect to an endpoint that would answer 200: not followed, so down.
        let (base, _server) = serve(format!(
            "HTTP/1.1 302 Found\r\nlocation: {ok}/\r\ncontent-length: 0\r\n\r\n"
        ));
        assert_eq!(prober.check(&target(&base)).await, MinuteState::Down);
    }
}
