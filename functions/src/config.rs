//! Configuration from the environment. Secrets never come from files in the repository: they are
//! environment variables (Lambda: encrypted with the KMS key) or files in the data directory.

use shared::policy;

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
    /// Largest JSON body a route accepts unless it says otherwise.
    pub max_body_bytes: usize,
    /// Secrets the edge signs forwarded requests with (the origin lock). Several during a
    /// rotation. Empty only in development and test, where requests are then not checked.
    pub origin_secrets: Vec<Vec<u8>>,
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
        };
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
        Ok(config)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn token_audience(&self) -> shared::token::TokenAudience {
        shared::token::TokenAudience {
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
    fn defaults_and_overrides() {
        let config = Config::from_lookup(|_| None).expect("defaults");
        assert_eq!(config.environment, Environment::Dev);
        assert_eq!(config.token_issuer, "regrooter-dev");
        let env: HashMap<&str, &str> = [
            ("REGROOTER_ENV", "production"),
            ("REGROOTER_DPO_CONTACT", "dpo@x.example"),
            (
                "REGROOTER_ORIGIN_SECRET",
                "0123456789abcdef0123456789abcdef,fedcba9876543210fedcba9876543210",
            ),
        ]
        .into();
        let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).expect("prod");
        assert!(config.environment.is_production());
        assert_eq!(config.dpo_contact, "dpo@x.example");
        assert_eq!(config.origin_secrets.len(), 2);
        let no_secret =
            Config::from_lookup(|k| (k == "REGROOTER_ENV").then(|| "production".to_string()));
        assert!(
            no_secret.is_err(),
            "production refuses to run without the origin lock"
        );
        let short =
            Config::from_lookup(|k| (k == "REGROOTER_ORIGIN_SECRET").then(|| "short".to_string()));
        assert!(short.is_err());
        assert!(Config::from_lookup(|k| (k == "REGROOTER_ENV").then(|| "qa".to_string())).is_err());
    }
}
