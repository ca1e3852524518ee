//! Typed settings from environment variables (SPEC §1). Every value is checked at start-up;
//! a bad one stops wasl with a message that names the variable. Secrets are redacted from
//! `Debug`, so printing the settings never leaks them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use wasl_domain::Lang;

use crate::secrets;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{name}: cannot read or create the secret file {path}: {source}")]
    SecretFile {
        name: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn invalid(name: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// A secret value that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub bind: IpAddr,
    pub data_dir: PathBuf,
    pub database_url: Secret<String>,
    /// 32 bytes for AES-256-GCM: encrypts WhatsApp credentials at rest.
    pub master_key: Secret<[u8; 32]>,
    /// Signs the tokens people sign in with.
    pub jwt_secret: Secret<Vec<u8>>,
    pub jwt_ttl_secs: u64,
    pub admin_token: Option<Secret<String>>,
    pub default_lang: Lang,
    pub log_format: LogFormat,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    pub sandbox_enabled: bool,
    /// First delay before reconnecting a dropped session; it doubles up to `reconnect_max`.
    pub reconnect_base: Duration,
    pub reconnect_max: Duration,
    /// How long the sandbox's simulated phones take to confirm delivery.
    pub sandbox_delivery_delay: Duration,
    /// The pause between two messages a session sends (with jitter), to protect numbers.
    pub send_interval: Duration,
    /// How late a scheduled occurrence may be sent when wasl comes back from being down;
    /// later ones are marked missed.
    pub schedule_grace: Duration,
    /// The most broadcast messages a WhatsApp Web number sends in 24 hours once warmed up
    /// (new numbers start at 50 a day and double daily up to it).
    pub broadcast_daily_cap: u32,
    /// Let webhooks point at loopback and private addresses (development and tests only).
    pub webhook_allow_private: bool,
    /// Where the web engine connects. WhatsApp's own address unless a test points it elsewhere.
    pub web_socket_url: Option<String>,
    /// How many organizations one address may register per hour.
    pub registrations_per_hour: usize,
    /// Web origins (besides wasl's own) whose pages may open the live events socket, e.g. a
    /// CRM that embeds it: `https://crm.example.com`.
    pub allowed_origins: Vec<String>,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads the settings from the given variables; missing secrets are generated into the
    /// data dir (0600) on first run and reused afterwards.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let port = match get("WASL_PORT") {
            Some(v) => v.parse::<u16>().map_err(|_| {
                invalid("WASL_PORT", format!("{v:?} is not a port number (0-65535)"))
            })?,
            None => 3000,
        };
        let bind = match get("WASL_BIND") {
            Some(v) => v
                .parse::<IpAddr>()
                .map_err(|_| invalid("WASL_BIND", format!("{v:?} is not an IP address")))?,
            None => IpAddr::from([0, 0, 0, 0]),
        };
        let data_dir = PathBuf::from(get("WASL_DATA_DIR").unwrap_or("./data"));
        crate::private_files::create_dir(&data_dir).map_err(|e| {
            invalid(
                "WASL_DATA_DIR",
                format!("cannot create {}: {e}", data_dir.display()),
            )
        })?;
        let database_url = match get("DATABASE_URL") {
            Some(v) => {
                wasl_store::Dialect::from_url(v)
                    .map_err(|e| invalid("DATABASE_URL", e.to_string()))?;
                v.to_owned()
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("wasl.db").display()),
        };
        let master_key = match get("WASL_MASTER_KEY") {
            Some(v) => parse_master_key(v)?,
            None => {
                let bytes = secrets::load_or_generate(&data_dir.join("master.key"), 32).map_err(
                    |source| SettingsError::SecretFile {
                        name: "WASL_MASTER_KEY",
                        path: data_dir.join("master.key"),
                        source,
                    },
                )?;
                <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                    invalid(
                        "WASL_MASTER_KEY",
                        "the generated key file does not hold 32 bytes",
                    )
                })?
            }
        };
        let jwt_secret =
            match get("WASL_JWT_SECRET") {
                Some(v) if v.len() < 32 => {
                    return Err(invalid("WASL_JWT_SECRET", "must be at least 32 characters"))
                }
                Some(v) => v.as_bytes().to_vec(),
                None => secrets::load_or_generate(&data_dir.join("jwt.secret"), 64).map_err(
                    |source| SettingsError::SecretFile {
                        name: "WASL_JWT_SECRET",
                        path: data_dir.join("jwt.secret"),
                        source,
                    },
                )?,
            };
        let jwt_ttl_secs = match get("WASL_JWT_TTL_SECS") {
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (60..=30 * 24 * 3600).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "WASL_JWT_TTL_SECS",
                        "must be seconds between 60 and 2592000",
                    )
                })?,
            None => 24 * 3600,
        };
        let admin_token = match get("WASL_ADMIN_TOKEN") {
            Some(v) if v.len() < 16 => {
                return Err(invalid(
                    "WASL_ADMIN_TOKEN",
                    "must be at least 16 characters",
                ))
            }
            Some(v) => Some(Secret::new(v.to_owned())),
            None => None,
        };
        let default_lang = match get("WASL_DEFAULT_LANG") {
            Some(v) => {
                Lang::parse(v).ok_or_else(|| invalid("WASL_DEFAULT_LANG", "must be ar or en"))?
            }
            None => Lang::Ar,
        };
        let log_format = match get("WASL_LOG_FORMAT") {
            Some("json") | None => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(_) => return Err(invalid("WASL_LOG_FORMAT", "must be json or pretty")),
        };
        Ok(Settings {
            port,
            bind,
            data_dir,
            database_url: Secret::new(database_url),
            master_key: Secret::new(master_key),
            jwt_secret: Secret::new(jwt_secret),
            jwt_ttl_secs,
            admin_token,
            default_lang,
            log_format,
            trust_forwarded_for: parse_bool(
                get("WASL_TRUST_FORWARDED_FOR"),
                "WASL_TRUST_FORWARDED_FOR",
                false,
            )?,
            sandbox_enabled: parse_bool(get("WASL_SANDBOX"), "WASL_SANDBOX", true)?,
            reconnect_base: parse_millis(
                get("WASL_RECONNECT_BASE_MS"),
                "WASL_RECONNECT_BASE_MS",
                1_000,
            )?,
            reconnect_max: parse_millis(
                get("WASL_RECONNECT_MAX_MS"),
                "WASL_RECONNECT_MAX_MS",
                60_000,
            )?,
            sandbox_delivery_delay: parse_millis(
                get("WASL_SANDBOX_DELIVERY_MS"),
                "WASL_SANDBOX_DELIVERY_MS",
                300,
            )?,
            webhook_allow_private: parse_bool(
                get("WASL_WEBHOOK_ALLOW_PRIVATE"),
                "WASL_WEBHOOK_ALLOW_PRIVATE",
                false,
            )?,
            send_interval: parse_millis(
                get("WASL_SEND_INTERVAL_MS"),
                "WASL_SEND_INTERVAL_MS",
                250,
            )?,
            broadcast_daily_cap: match get("WASL_BROADCAST_DAILY_CAP") {
                None => 1_000,
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| {
                        invalid(
                            "WASL_BROADCAST_DAILY_CAP",
                            "must be a number from 1 to 100000",
                        )
                    })?,
            },
            schedule_grace: match get("WASL_SCHEDULE_GRACE_SECS") {
                None => Duration::from_secs(3_600),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s <= 7 * 86_400)
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        invalid(
                            "WASL_SCHEDULE_GRACE_SECS",
                            "must be seconds from 0 to 604800 (a week)",
                        )
                    })?,
            },
            web_socket_url: match get("WASL_WEB_SOCKET_URL") {
                Some(v) if v.starts_with("ws://") || v.starts_with("wss://") => Some(v.to_owned()),
                Some(_) => {
                    return Err(invalid(
                        "WASL_WEB_SOCKET_URL",
                        "must start with ws:// or wss://",
                    ))
                }
                None => None,
            },
            registrations_per_hour: match get("WASL_REGISTRATIONS_PER_HOUR") {
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| {
                        invalid(
                            "WASL_REGISTRATIONS_PER_HOUR",
                            "must be a number from 1 to 1000000",
                        )
                    })?,
                None => 10,
            },
            allowed_origins: match get("WASL_ALLOWED_ORIGINS") {
                Some(v) => v
                    .split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(parse_origin)
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
        })
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, no path.
fn parse_origin(value: &str) -> Result<String, SettingsError> {
    let origin = value.trim_end_matches('/').to_ascii_lowercase();
    let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
        matches!(scheme, "http" | "https")
            && !host.is_empty()
            && !host.contains(['/', '?', '#', ' '])
    });
    if valid {
        Ok(origin)
    } else {
        Err(invalid(
            "WASL_ALLOWED_ORIGINS",
            format!("{value:?} is not an origin like https://crm.example.com"),
        ))
    }
}

fn parse_bool(
    value: Option<&str>,
    name: &'static str,
    default: bool,
) -> Result<bool, SettingsError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(_) => Err(invalid(name, "must be true or false")),
    }
}

fn parse_millis(
    value: Option<&str>,
    name: &'static str,
    default: u64,
) -> Result<Duration, SettingsError> {
    match value {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= 3_600_000)
            .map(Duration::from_millis)
            .ok_or_else(|| invalid(name, "must be milliseconds from 0 to 3600000")),
    }
}

fn parse_master_key(value: &str) -> Result<[u8; 32], SettingsError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| invalid("WASL_MASTER_KEY", "is not valid base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        invalid(
            "WASL_MASTER_KEY",
            format!("must decode to 32 bytes, not {}", bytes.len()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(dir: &std::path::Path, pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.insert("WASL_DATA_DIR".into(), dir.display().to_string());
        map
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("wasl-settings-{name}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn defaults_generate_secrets_once_and_reuse_them() {
        let dir = temp_dir("defaults");
        let first = Settings::from_vars(&vars(&dir, &[])).expect("defaults are valid");
        assert_eq!(first.port, 3000);
        assert_eq!(first.default_lang, Lang::Ar);
        assert!(first.database_url.expose().starts_with("sqlite://"));
        let second = Settings::from_vars(&vars(&dir, &[])).expect("second start");
        assert_eq!(
            first.master_key, second.master_key,
            "the master key is reused"
        );
        assert_eq!(
            first.jwt_secret, second.jwt_secret,
            "the JWT secret is reused"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key"))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&format!("{:?}", first.master_key.expose())));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let dir = temp_dir("bad");
        for (name, value) in [
            ("WASL_PORT", "eighty"),
            ("WASL_BIND", "localhost:3000"),
            ("DATABASE_URL", "mysql://x"),
            ("WASL_MASTER_KEY", "c2hvcnQ="),
            ("WASL_DEFAULT_LANG", "fr"),
            ("WASL_JWT_SECRET", "short"),
            ("WASL_SANDBOX", "maybe"),
            ("WASL_RECONNECT_BASE_MS", "soon"),
            ("WASL_WEB_SOCKET_URL", "http://x"),
        ] {
            let err = Settings::from_vars(&vars(&dir, &[(name, value)])).expect_err(name);
            assert!(
                err.to_string().starts_with(name),
                "{err} should name {name}"
            );
        }
        std::fs::remove_dir_all(dir).ok();
    }
}
