//! The SLA probe's HTTP check: a GET with a deadline; up only on a 2xx answer in time.

use std::time::Duration;

use async_trait::async_trait;
use shared::sla::{MinuteState, ProbeTarget, Prober};

/// How long a check may take before the endpoint counts as down.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct HttpProber {
    agent: ureq::Agent,
}

impl Default for HttpProber {
    fn default() -> Self {
        Self::new(CHECK_TIMEOUT)
    }
}

impl HttpProber {
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent("regrooter-sla-probe")
            .build()
            .into();
        Self { agent }
    }
}

#[async_trait]
impl Prober for HttpProber {
    async fn check(&self, target: &ProbeTarget) -> MinuteState {
        let agent = self.agent.clone();
        let url = target.url.clone();
        let outcome = tokio::task::spawn_blocking(move || agent.get(&url).call()).await;
        match outcome {
            Ok(Ok(response)) if response.status().is_success() => MinuteState::Up,
            Ok(Ok(response)) => {
                tracing::warn!(target: "regrooter::sla", event = "probe_failed", probe = %target.name, status = response.status().as_u16(), "endpoint answered with an error");
                MinuteState::Down
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "regrooter::sla", event = "probe_failed", probe = %target.name, error = %e, "endpoint unreachable");
                MinuteState::Down
            }
            // The check itself did not complete: no result, not a failure of the endpoint.
            Err(e) => {
                tracing::error!(target: "regrooter::sla", event = "probe_not_run", probe = %target.name, error = %e, "the probe could not run");
                MinuteState::Unknown
            }
        }
    }
}
