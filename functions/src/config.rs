//! Configuration from the environment. Secrets never come from files in the repository: they are
//! environment variables (Lambda: encrypted with the KMS key) or files in the data directory.

use kernel::policy;

/// Which deployment this is. Development, test, staging and production are kept strictly apart;
/// some conveniences (development tokens, the manual clock) exist only outside production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Dev,
    Test,
    Staging,
    Production,
}

impl Environment {
    pub fn is_production(self) -> bool {
        matches!(self, Environment::Production)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Test => "test",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

impl Environment {
    /// `REGROOTER_ENV`, defaulting to development.
    pub fn from_env() -> Result<Self, ConfigError> {
        std::env::var("REGROOTER_ENV").map_or(Ok(Environment::Dev), |v| v.parse())
    }
}

impl std::str::FromStr for Environment {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "dev" => Ok(Environment::Dev),
            "test" => Ok(Environment::Test),
            "staging" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            other => Err(ConfigError::Invalid {
                name: "REGROOTER_ENV",
                reason: format!("'{other}' is not one of dev, test, staging, production"),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    /// Token issuer and audience the functions accept.
    pub token_issuer: String,
    pub token_audience: String,
    /// The data protection officer's contact, quoted in breach notifications.
    pub dpo_contact: String,
    /// The security contact published in security.txt.
    pub security_contact: String,
    /// The security team's mailbox for the deadline watch's alerts: `REGROOTER_ALERT_EMAIL`, or
    /// the security contact's address when that is a `mailto:`.
    pub alert_email: Option<String>,
    /// Largest JSON body a route accepts unless it says otherwise.
    pub max_body_bytes: usize,
    /// Secrets the edge signs forwarded requests with (the origin lock). Several during a
    /// rotation. Empty only in development and test, where requests are then not checked.
    pub origin_secrets: Vec<Vec<u8>>,
    pub stripe: StripeConfig,
    /// `REGROOTER_SLA_TARGETS`: the endpoints the `sla-probe` job checks every minute, as
    /// `name=https://…` pairs separated by commas. None: every minute stays unknown (and says so).
    /// Outside `dev` only `https://` and never a loopback or link-local host.
    pub sla_targets: Vec<sla::ProbeTarget>,
    /// `REGROOTER_SLA_CONFIRMATIONS`: failed minutes in a row before they count as an outage.
    pub sla_confirmations: usize,
    /// `REGROOTER_PUBLIC_URL`: where the platform is reached from outside (links in mail).
    /// Required in staging and production.
    pub public_url: String,
    pub mail: MailConfig,
    /// `REGROOTER_SUBPROCESSOR_NOTICE_DAYS`: how far ahead a change of sub-processors is
    /// announced (never shorter than `policy::SUBPROCESSOR_CHANGE_NOTICE`).
    pub subprocessor_notice: kernel::time::Period,
    /// `AWS_REGION` (set by Lambda): the region the trust statement names.
    pub region: Option<String>,
    /// `REGROOTER_BACKUP_RETENTION_DAYS`: the deployed backup plan's retention, which Terraform
    /// sets from the same figure as the plan itself (none without a backup plan).
    pub backup_retention_days: Option<u32>,
    /// `REGROOTER_CREDIT_SECOND_APPROVAL_ABOVE` (euro cents): voluntary credits above it need a
    /// second billing approver (default `policy::VOLUNTARY_CREDIT_SECOND_APPROVAL_ABOVE`).
    pub credit_second_approval_above: kernel::money::Money,
}

/// How mail leaves: `REGROOTER_MAIL` = `ses`, `smtp` or `file`. Production and staging need a
/// real transport; there is no silent fallback to one that reaches nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Amazon SES v2 in the function's region, through this configuration set
    /// (`REGROOTER_SES_CONFIGURATION_SET`).
    Ses { configuration_set: String },
    /// SMTP (`REGROOTER_SMTP_URL`): `smtps://` or `smtp://…?tls=required` outside `dev`.
    Smtp { url: String },
    /// Files in the data directory's `outbox/` (the embedded default; `dev` and `test` only).
    File,
    /// Nothing configured in `staging` or `production`: right for a function that sends no mail
    /// (Terraform gives the mail settings only to the senders); a function that sends refuses
    /// to start with it ([`crate::mail::transport`]).
    Unconfigured,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// `REGROOTER_MAIL_FROM`: the sender, an address of the verified domain (required with
    /// `ses` and `smtp`).
    pub from: String,
    /// `REGROOTER_MAIL_EVENTS_TOPIC`: the SNS topic whose SES events the `incidents` function
    /// accepts (its ARN); events from any other topic are refused.
    pub events_topic: Option<String>,
}

/// Where `regrooter serve` answers by default (it uses its real address when it knows it).
pub const DEFAULT_LOCAL_URL: &str = "http://127.0.0.1:8080";

/// The sender of the file outbox, which sends nothing.
pub const LOCAL_MAIL_FROM: &str = "regrooter Sicherheit <security@regrooter.localhost>";

impl MailConfig {
    fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let required = |name: &'static str, why: &str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("is required {why}"),
                })
        };
        let real_needed = matches!(environment, Environment::Staging | Environment::Production);
        let transport = match get("REGROOTER_MAIL").as_deref() {
            Some("ses") => MailTransport::Ses {
                configuration_set: required(
                    "REGROOTER_SES_CONFIGURATION_SET",
                    "with REGROOTER_MAIL=ses",
                )?,
            },
            Some("smtp") => {
                let url = required("REGROOTER_SMTP_URL", "with REGROOTER_MAIL=smtp")?;
                let tls = url.starts_with("smtps://") || url.contains("tls=required");
                if !tls && environment != Environment::Dev {
                    return Err(ConfigError::Invalid {
                        name: "REGROOTER_SMTP_URL",
                        reason: format!(
                            "must use TLS in {} (smtps://… or smtp://…?tls=required)",
                            environment.as_str()
                        ),
                    });
                }
                MailTransport::Smtp { url }
            }
            Some("file") | None if !real_needed => MailTransport::File,
            None => MailTransport::Unconfigured,
            Some("file") => {
                return Err(ConfigError::Invalid {
                    name: "REGROOTER_MAIL",
                    reason: format!(
                        "must be 'ses' or 'smtp' in {}: the file outbox reaches nobody, and a notice \
                         only counts once a transport accepted it",
                        environment.as_str()
                    ),
                });
            }
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "REGROOTER_MAIL",
                    reason: format!("'{other}' is not one of ses, smtp, file"),
                });
            }
        };
        let from = match transport {
            MailTransport::File => {
                get("REGROOTER_MAIL_FROM").unwrap_or_else(|| LOCAL_MAIL_FROM.into())
            }
            MailTransport::Unconfigured => String::new(),
            _ => required("REGROOTER_MAIL_FROM", "with a mail transport")?,
        };
        Ok(Self {
            transport,
            from,
            events_topic: get("REGROOTER_MAIL_EVENTS_TOPIC"),
        })
    }
}

/// Why a probe URL is refused outside `dev`, if it is: the probe must not reach into the
/// platform's own machine or the cloud's metadata service.
fn refuse_probe_url(url: &str) -> Option<String> {
    let Ok(uri) = url.parse::<axum::http::Uri>() else {
        return Some(format!("'{url}' is not a URL"));
    };
    if uri.scheme_str() != Some("https") {
        return Some(format!("'{url}': only https:// outside dev"));
    }
    let Some(authority) = uri.authority() else {
        return Some(format!("'{url}' names no host"));
    };
    if authority.as_str().contains('@') {
        return Some(format!("'{url}': no user information in a probe URL"));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return Some(format!("'{url}': loopback host outside dev"));
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>()
        && infra::probe::is_forbidden_address(ip)
    {
        return Some(format!(
            "'{url}': loopback or link-local address outside dev"
        ));
    }
    None
}

/// Parses `name=url,name=url` (`kernel::vantage::parse_targets`, as the Worker does); outside
/// `dev`, loopback and link-local hosts are refused.
fn sla_targets(raw: &str, environment: Environment) -> Result<Vec<sla::ProbeTarget>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "REGROOTER_SLA_TARGETS",
        reason,
    };
    let mut targets = Vec::new();
    for target in kernel::vantage::parse_targets(raw).map_err(invalid)? {
        if environment != Environment::Dev
            && let Some(reason) = refuse_probe_url(&target.url)
        {
            return Err(invalid(reason));
        }
        targets.push(sla::ProbeTarget {
            name: target.name,
            url: target.url,
        });
    }
    Ok(targets)
}

/// Stripe settings. Production takes only live keys and live events; every other deployment
/// only test keys and test events, so environments never touch each other's money.
#[derive(Debug, Clone, Default)]
pub struct StripeConfig {
    /// `STRIPE_WEBHOOK_SECRET`: the endpoint secrets, comma-separated during a rotation.
    pub webhook_secrets: billing::WebhookSecrets,
    /// `STRIPE_SECRET_KEY` (a restricted key with write access to customer balances suffices).
    pub secret_key: Option<SecretString>,
    /// `STRIPE_API_BASE`: another API base, for tests only (refused in production).
    pub api_base: Option<String>,
}

/// A secret that never appears in logs or debug output.
#[derive(Clone)]
pub struct SecretString(String);

impl SecretString {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl StripeConfig {
    fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let webhook_secrets =
            billing::WebhookSecrets::parse(&get("STRIPE_WEBHOOK_SECRET").unwrap_or_default())
                .map_err(|e| ConfigError::Invalid {
                    name: "STRIPE_WEBHOOK_SECRET",
                    reason: e.to_string(),
                })?;
        let secret_key = match get("STRIPE_SECRET_KEY").filter(|k| !k.trim().is_empty()) {
            None => None,
            Some(key) => {
                let key = key.trim().to_string();
                let live = key.starts_with("sk_live_") || key.starts_with("rk_live_");
                let test = key.starts_with("sk_test_") || key.starts_with("rk_test_");
                if !live && !test {
                    return Err(ConfigError::Invalid {
                        name: "STRIPE_SECRET_KEY",
                        reason: "is not a Stripe secret or restricted key".into(),
                    });
                }
                if live != environment.is_production() {
                    return Err(ConfigError::Invalid {
                        name: "STRIPE_SECRET_KEY",
                        reason: format!(
                            "a {} key in {}: production uses live keys, every other environment test keys",
                            if live { "live" } else { "test" },
                            environment.as_str()
                        ),
                    });
                }
                Some(SecretString(key))
            }
        };
        let api_base = get("STRIPE_API_BASE").filter(|b| !b.trim().is_empty());
        if api_base.is_some() && environment.is_production() {
            return Err(ConfigError::Invalid {
                name: "STRIPE_API_BASE",
                reason: "production talks to Stripe itself".into(),
            });
        }
        Ok(Self {
            webhook_secrets,
            secret_key,
            api_base,
        })
    }
}

/// The alerts' mailbox: the variable when set (a plain address), else the security contact's
/// address when it is a `mailto:` one.
fn alert_email(set: Option<String>, security_contact: &str) -> Result<Option<String>, ConfigError> {
    let plain = |v: &str| {
        let v = v.trim();
        (v.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !v.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| v.to_string())
    };
    match set {
        Some(v) => plain(&v).map(Some).ok_or_else(|| ConfigError::Invalid {
            name: "REGROOTER_ALERT_EMAIL",
            reason: format!("'{v}' is not an e-mail address"),
        }),
        None => Ok(security_contact.strip_prefix("mailto:").and_then(plain)),
    }
}

impl Config {
    /// Reads the configuration through `get` (the process environment in production; a map in
    /// tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match get("REGROOTER_ENV") {
            Some(v) => v.parse()?,
            None => Environment::Dev,
        };
        let or = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_string());
        let config = Self {
            environment,
            token_issuer: or(
                "REGROOTER_TOKEN_ISSUER",
                &format!("regrooter-{}", environment.as_str()),
            ),
            token_audience: or("REGROOTER_TOKEN_AUDIENCE", "regrooter-api"),
            dpo_contact: or("REGROOTER_DPO_CONTACT", policy::DEFAULT_DPO_CONTACT),
            security_contact: or(
                "REGROOTER_SECURITY_CONTACT",
                policy::DEFAULT_SECURITY_CONTACT,
            ),
            alert_email: None,
            region: None,
            backup_retention_days: None,
            subprocessor_notice: policy::SUBPROCESSOR_CHANGE_NOTICE,
            credit_second_approval_above: policy::VOLUNTARY_CREDIT_SECOND_APPROVAL_ABOVE,
            max_body_bytes: match get("REGROOTER_MAX_BODY_BYTES") {
                Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                    name: "REGROOTER_MAX_BODY_BYTES",
                    reason: format!("'{v}' is not a number of bytes"),
                })?,
                None => 64 * 1024,
            },
            origin_secrets: get("REGROOTER_ORIGIN_SECRET")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| s.as_bytes().to_vec())
                        .collect()
                })
                .unwrap_or_default(),
            stripe: StripeConfig::from_lookup(&get, environment)?,
            sla_targets: sla_targets(
                &get("REGROOTER_SLA_TARGETS").unwrap_or_default(),
                environment,
            )?,
            sla_confirmations: match get("REGROOTER_SLA_CONFIRMATIONS") {
                Some(v) => match v.trim().parse::<usize>() {
                    Ok(n) if (1..=60).contains(&n) => n,
                    _ => {
                        return Err(ConfigError::Invalid {
                            name: "REGROOTER_SLA_CONFIRMATIONS",
                            reason: format!("'{v}' is not a number of minutes from 1 to 60"),
                        });
                    }
                },
                None => sla::service::DEFAULT_CONFIRMATIONS,
            },
            public_url: match get("REGROOTER_PUBLIC_URL") {
                Some(url) if url.starts_with("https://") || environment == Environment::Dev => {
                    url.trim_end_matches('/').to_string()
                }
                Some(url) => {
                    return Err(ConfigError::Invalid {
                        name: "REGROOTER_PUBLIC_URL",
                        reason: format!("'{url}' must start with https:// outside dev"),
                    });
                }
                None if matches!(environment, Environment::Staging | Environment::Production) => {
                    return Err(ConfigError::Invalid {
                        name: "REGROOTER_PUBLIC_URL",
                        reason: format!(
                            "is required in {}: links in mail point there",
                            environment.as_str()
                        ),
                    });
                }
                None => DEFAULT_LOCAL_URL.to_string(),
            },
            mail: MailConfig::from_lookup(&get, environment)?,
        };
        let mut config = config;
        config.alert_email = alert_email(get("REGROOTER_ALERT_EMAIL"), &config.security_contact)?;
        if config.alert_email.is_none()
            && matches!(environment, Environment::Staging | Environment::Production)
        {
            return Err(ConfigError::Invalid {
                name: "REGROOTER_ALERT_EMAIL",
                reason: format!(
                    "is required in {} when the security contact is no mailto: address: the \
                     deadline watch's alerts must reach the security team",
                    environment.as_str()
                ),
            });
        }
        if config.origin_secrets.iter().any(|s| s.len() < 32) {
            return Err(ConfigError::Invalid {
                name: "REGROOTER_ORIGIN_SECRET",
                reason: "every secret must be at least 32 characters".into(),
            });
        }
        if config.origin_secrets.is_empty()
            && matches!(environment, Environment::Staging | Environment::Production)
        {
            return Err(ConfigError::Invalid {
                name: "REGROOTER_ORIGIN_SECRET",
                reason: format!(
                    "is required in {}: functions accept only requests signed by the edge",
                    environment.as_str()
                ),
            });
        }
        config.region = get("AWS_REGION").filter(|r| !r.trim().is_empty());
        if let Some(days) = get("REGROOTER_SUBPROCESSOR_NOTICE_DAYS") {
            let minimum = match policy::SUBPROCESSOR_CHANGE_NOTICE {
                kernel::time::Period::Days(d) => d,
                _ => 0,
            };
            config.subprocessor_notice = match days.trim().parse::<u32>() {
                Ok(d) if d >= minimum => kernel::time::Period::Days(d),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "REGROOTER_SUBPROCESSOR_NOTICE_DAYS",
                        reason: format!(
                            "'{days}' is not a whole number of days of at least {minimum}"
                        ),
                    });
                }
            };
        }
        if let Some(cents) = get("REGROOTER_CREDIT_SECOND_APPROVAL_ABOVE") {
            config.credit_second_approval_above = match cents.trim().parse::<i64>() {
                Ok(c) if c >= 0 => kernel::money::Money::new(c, kernel::money::Currency::EUR),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "REGROOTER_CREDIT_SECOND_APPROVAL_ABOVE",
                        reason: format!("'{cents}' is not a whole number of euro cents"),
                    });
                }
            };
        }
        config.backup_retention_days = match get("REGROOTER_BACKUP_RETENTION_DAYS") {
            None => None,
            Some(days) => Some(days.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "REGROOTER_BACKUP_RETENTION_DAYS",
                reason: format!("'{days}' is not a whole number of days"),
            })?),
        };
        Ok(config)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn token_audience(&self) -> kernel::token::TokenAudience {
        kernel::token::TokenAudience {
            issuer: self.token_issuer.clone(),
            audience: self.token_audience.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn alerts_go_to_the_security_contacts_mailbox_unless_another_is_named() {
        let config = |pairs: &[(&str, &str)]| {
            let env: HashMap<&str, &str> = pairs.iter().copied().collect();
            Config::from_lookup(|k| env.get(k).map(|v| v.to_string()))
        };
        let default = config(&[]).expect("defaults");
        assert_eq!(
            default.alert_email.as_deref(),
            Some("security@regrooter.de")
        );
        let named = config(&[("REGROOTER_ALERT_EMAIL", " soc@x.example ")]).expect("named");
        assert_eq!(named.alert_email.as_deref(), Some("soc@x.example"));
        assert!(matches!(
            config(&[("REGROOTER_ALERT_EMAIL", "not an address")]),
            Err(ConfigError::Invalid { name: "REGROOTER_ALERT_EMAIL", reason })
                if reason.contains("not an e-mail address")
        ));
        // A contact page instead of a mailbox: nobody to mail locally; refused where it counts.
        let page = [("REGROOTER_SECURITY_CONTACT", "https://x.example/security")];
        assert_eq!(config(&page).expect("dev").alert_email, None);
        let mut deployed: Vec<(&str, &str)> = DEPLOYED_MAIL.to_vec();
        deployed.extend([
            ("REGROOTER_ENV", "production"),
            (
                "REGROOTER_ORIGIN_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            page[0],
        ]);
        assert!(matches!(
            config(&deployed),
            Err(ConfigError::Invalid { name: "REGROOTER_ALERT_EMAIL", reason })
                if reason.contains("required in production")
        ));
        deployed.push(("REGROOTER_ALERT_EMAIL", "soc@x.example"));
        assert_eq!(
            config(&deployed).expect("named").alert_email.as_deref(),
            Some("soc@x.example")
        );
    }

    #[test]
    fn defaults_and_overrides() {
        let config = Config::from_lookup(|_| None).expect("defaults");
        assert_eq!(config.environment, Environment::Dev);
        assert_eq!(config.token_issuer, "regrooter-dev");
        let mut env: HashMap<&str, &str> = DEPLOYED_MAIL.into_iter().collect();
        env.extend([
            ("REGROOTER_ENV", "production"),
            ("REGROOTER_DPO_CONTACT", "dpo@x.example"),
            (
                "REGROOTER_ORIGIN_SECRET",
                "0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210",
            ),
        ]);
        let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).expect("prod");
        assert!(config.environment.is_production());
        assert_eq!(config.dpo_contact, "dpo@x.example");
        assert_eq!(config.origin_secrets.len(), 2);
        env.remove("REGROOTER_ORIGIN_SECRET");
        let no_secret = Config::from_lookup(|k| env.get(k).map(|v| v.to_string()));
        assert!(
            matches!(
                &no_secret,
                Err(ConfigError::Invalid {
                    name: "REGROOTER_ORIGIN_SECRET",
                    ..
                })
            ),
            "production refuses to run without the origin lock: {no_secret:?}"
        );
        let short =
            Config::from_lookup(|k| (k == "REGROOTER_ORIGIN_SECRET").then(|| "short".to_string()));
        assert_eq!(
            short.err(),
            Some(ConfigError::Invalid {
                name: "REGROOTER_ORIGIN_SECRET",
                reason: "every secret must be at least 32 characters".into(),
            })
        );
        assert_eq!(
            Config::from_lookup(|k| (k == "REGROOTER_ENV").then(|| "qa".to_string())).err(),
            Some(ConfigError::Invalid {
                name: "REGROOTER_ENV",
                reason: "'qa' is not one of dev, test, staging, production".into(),
            })
        );
    }

    /// What a deployed mail-sending function needs besides the origin secret: a real mail
    /// transport and the public address.
    const DEPLOYED_MAIL: [(&str, &str); 4] = [
        ("REGROOTER_MAIL", "ses"),
        ("REGROOTER_SES_CONFIGURATION_SET", "regrooter-production"),
        (
            "REGROOTER_MAIL_FROM",
            "regrooter <security@notify.regrooter.de>",
        ),
        ("REGROOTER_PUBLIC_URL", "https://regrooter.de"),
    ];

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn stripe_keys_match_the_environment() {
        let prod_secret = (
            "REGROOTER_ORIGIN_SECRET",
            "0123456789abcdef0123456789abcdef",
        );
        let dev = with(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            (
                "STRIPE_WEBHOOK_SECRET",
                "whsec_new_0123456789,whsec_old_0123456789",
            ),
        ])
        .expect("test key in dev");
        assert_eq!(dev.stripe.webhook_secrets.len(), 2);
        assert!(
            !format!("{dev:?}").contains("sk_test_abc"),
            "the key never shows in debug output"
        );
        assert!(matches!(
            with(&[("STRIPE_SECRET_KEY", "sk_live_abc")]),
            Err(ConfigError::Invalid {
                name: "STRIPE_SECRET_KEY",
                ..
            })
        ));
        assert_eq!(
            with(&[("STRIPE_SECRET_KEY", "pk_test_abc")]).err(),
            Some(ConfigError::Invalid {
                name: "STRIPE_SECRET_KEY",
                reason: "is not a Stripe secret or restricted key".into(),
            })
        );
        assert_eq!(
            with(&[("STRIPE_WEBHOOK_SECRET", "short")]).err(),
            Some(ConfigError::Invalid {
                name: "STRIPE_WEBHOOK_SECRET",
                reason: billing::signature::SignatureError::WeakSecret.to_string(),
            })
        );
        let prod = |extra: (&'static str, &'static str)| {
            let mut pairs = DEPLOYED_MAIL.to_vec();
            pairs.extend([("REGROOTER_ENV", "production"), prod_secret, extra]);
            with(&pairs)
        };
        assert!(prod(("STRIPE_SECRET_KEY", "rk_live_abc")).is_ok());
        assert!(matches!(
            prod(("STRIPE_SECRET_KEY", "sk_test_abc")),
            Err(ConfigError::Invalid {
                name: "STRIPE_SECRET_KEY",
                ..
            })
        ));
        assert_eq!(
            prod(("STRIPE_API_BASE", "http://127.0.0.1:1/")).err(),
            Some(ConfigError::Invalid {
                name: "STRIPE_API_BASE",
                reason: "production talks to Stripe itself".into(),
            })
        );
    }

    #[test]
    fn deployed_environments_need_a_real_mail_transport_with_tls() {
        let secret = (
            "REGROOTER_ORIGIN_SECRET",
            "0123456789abcdef0123456789abcdef",
        );
        let refused_name = |pairs: &[(&str, &str)]| match with(pairs) {
            Err(ConfigError::Invalid { name, .. }) => Some(name),
            Ok(_) => None,
        };
        // The embedded default writes files; it is the default only where nobody is told.
        assert_eq!(with(&[]).map(|c| c.mail.transport), Ok(MailTransport::File));
        for environment in ["staging", "production"] {
            let base = [
                ("REGROOTER_ENV", environment),
                secret,
                ("REGROOTER_PUBLIC_URL", "https://regrooter.de"),
            ];
            let mut pairs = base.to_vec();
            // Without mail settings a function that sends none starts; one that sends refuses.
            let unconfigured = with(&pairs).expect("a function without mail");
            assert_eq!(unconfigured.mail.transport, MailTransport::Unconfigured);
            let refused = crate::mail::transport(&unconfigured.mail, None, None)
                .err()
                .expect("no transport");
            assert!(
                refused.contains("REGROOTER_MAIL must be 'ses' or 'smtp'"),
                "{refused}"
            );
            pairs.push(("REGROOTER_MAIL", "file"));
            assert_eq!(
                refused_name(&pairs),
                Some("REGROOTER_MAIL"),
                "{environment}"
            );
            let mut smtp = base.to_vec();
            smtp.extend([
                ("REGROOTER_MAIL", "smtp"),
                ("REGROOTER_MAIL_FROM", "security@regrooter.de"),
                ("REGROOTER_SMTP_URL", "smtp://mail.regrooter.de:25"),
            ]);
            assert_eq!(
                refused_name(&smtp),
                Some("REGROOTER_SMTP_URL"),
                "plain SMTP"
            );
            smtp.push((
                "REGROOTER_SMTP_URL",
                "smtp://mail.regrooter.de:587?tls=required",
            ));
            let smtp = with(&smtp).expect("STARTTLS");
            assert!(matches!(smtp.mail.transport, MailTransport::Smtp { .. }));
            let mut ses = base.to_vec();
            ses.push(("REGROOTER_MAIL", "ses"));
            assert_eq!(refused_name(&ses), Some("REGROOTER_SES_CONFIGURATION_SET"));
            ses.push(("REGROOTER_SES_CONFIGURATION_SET", "regrooter"));
            assert_eq!(refused_name(&ses), Some("REGROOTER_MAIL_FROM"));
            ses.push(("REGROOTER_MAIL_FROM", "security@notify.regrooter.de"));
            assert!(with(&ses).is_ok());
            let mut no_url = ses.clone();
            no_url.retain(|(k, _)| *k != "REGROOTER_PUBLIC_URL");
            assert_eq!(refused_name(&no_url), Some("REGROOTER_PUBLIC_URL"));
        }
        assert_eq!(
            refused_name(&[("REGROOTER_MAIL", "pigeon")]),
            Some("REGROOTER_MAIL")
        );
        // In dev plain SMTP to a local catcher is fine.
        assert!(
            with(&[
                ("REGROOTER_MAIL", "smtp"),
                ("REGROOTER_MAIL_FROM", "security@regrooter.localhost"),
                ("REGROOTER_SMTP_URL", "smtp://127.0.0.1:2525")
            ])
            .is_ok()
        );
    }

    #[test]
    fn outside_dev_probe_targets_are_public_https_only() {
        let staging = [
            ("REGROOTER_ENV", "staging"),
            (
                "REGROOTER_ORIGIN_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
        ];
        let targets = |value: &str| {
            let mut pairs = DEPLOYED_MAIL.to_vec();
            pairs.extend([staging[0], staging[1], ("REGROOTER_SLA_TARGETS", value)]);
            with(&pairs).map(|c| c.sla_targets.len())
        };
        assert_eq!(targets("api=https://api.regrooter.example/healthz"), Ok(1));
        for refused in [
            "api=http://api.regrooter.example/healthz",
            "api=https://127.0.0.1/healthz",
            "api=https://localhost:8443/",
            "api=https://app.localhost/",
            "api=https://[::1]/",
            "meta=https://169.254.169.254/latest/meta-data/",
            "meta=https://[fe80::1]/",
            "api=https://user@api.regrooter.example/",
        ] {
            assert!(
                matches!(
                    targets(refused),
                    Err(ConfigError::Invalid {
                        name: "REGROOTER_SLA_TARGETS",
                        ..
                    })
                ),
                "{refused}"
            );
        }
        // The local platform probes itself over plain HTTP.
        let dev = with(&[(
            "REGROOTER_SLA_TARGETS",
            "local=http://127.0.0.1:8080/healthz",
        )])
        .expect("dev");
        assert_eq!(dev.sla_targets.len(), 1);
    }
}
