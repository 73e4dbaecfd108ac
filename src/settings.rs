//! Settings: flags > environment (`AIMUX_*`) > `$AIMUX_HOME/config.toml` > defaults. Each value
//! remembers where it came from, so errors and `doctor` can say why a value won.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{BridgeArgs, ProxyArgs};
use crate::error::user_error;
use crate::proxy::config::{AgentFile, CodexFile, ProviderFile, ProxyFile, RouteTarget};

pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_BRIDGE_PORT: u16 = 8403;
pub const DEFAULT_PROXY_PORT: u16 = 8404;
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_millis(1000);
/// How long the bridge waits for an upstream's first byte. A reasoning model behind a busy
/// provider can think for minutes before it sends anything; the bridge keeps Codex alive with
/// `response.in_progress` meanwhile, so only a truly stuck upstream should hit this. Longer than
/// the proxy's whole retry budget (3 attempts of 60 s), so the proxy's own error wins.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long an answer that has started may go without a byte. Some providers stream nothing
/// while a model reasons (OpenAI's o-series send the role chunk, then silence), so as long as
/// the first-byte wait.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The process environment, read once and passed down, so tests never touch the real one.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }

    /// A set, non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

/// `$AIMUX_HOME/config.toml`. Unknown keys are an error that names the key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub bridge: BridgeFile,
    #[serde(default)]
    pub proxy: ProxyFile,
    /// `None` when the file has no `[providers]` table: then providers are auto-detected.
    pub providers: Option<BTreeMap<String, ProviderFile>>,
    #[serde(default)]
    pub routes: BTreeMap<String, RouteTarget>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentFile>,
    #[serde(default)]
    pub codex: CodexFile,
    #[serde(default)]
    pub logs: LogsFile,
    #[serde(default)]
    pub websearch: WebSearchFile,
}

/// `[websearch]`: bridge-executed web search (`aimux websearch on|off` edits `enabled`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSearchFile {
    pub enabled: Option<bool>,
    /// `searxng` (the default when `url` is set), `brave`, `tavily` or `exa`.
    pub provider: Option<String>,
    /// The SearXNG base URL (its JSON format must be enabled).
    pub url: Option<String>,
    /// The variable holding the API key (default `BRAVE_API_KEY`, `TAVILY_API_KEY`, `EXA_API_KEY`).
    pub env_key: Option<String>,
    /// Search rounds one answer may take before the model must answer (default 3).
    pub max_rounds: Option<u32>,
}

impl WebSearchFile {
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(false)
    }

    /// The configured provider, with its key from the environment.
    pub fn provider(&self, env: &Env) -> Result<crate::websearch::Provider, String> {
        let name = self.provider.as_deref();
        let var = self
            .env_key
            .clone()
            .unwrap_or_else(|| crate::websearch::default_key_var(name).to_owned());
        crate::websearch::provider_from(name, self.url.as_deref(), env.get(&var), &var)
    }
}

/// `[logs]`: the size-rotated child logs under `$AIMUX_HOME/logs/` written by `aimux start`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsFile {
    /// Rotate a log when it would grow past this many MiB (default 10).
    pub max_size_mb: Option<u64>,
    /// How many rotated files to keep (`bridge.log.1` ...; default 3).
    pub keep: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeFile {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub upstream: Option<String>,
    pub token: Option<String>,
    /// Interval of `response.in_progress` events while the upstream is silent.
    pub heartbeat_ms: Option<u64>,
    /// Largest request body accepted, in MiB (default 256); larger ones get a 413.
    pub max_body_mb: Option<u64>,
    /// Seconds to wait for the upstream's first byte (default 300).
    pub first_byte_timeout_s: Option<u64>,
    /// Seconds an answer that has started may go without a byte (default 300).
    pub idle_timeout_s: Option<u64>,
    /// Seconds a client may take to send a request's headers (slow-loris guard), and how long
    /// an idle keep-alive connection is kept (default 100).
    pub header_timeout_s: Option<u64>,
}

/// Where aimux keeps its files: `$AIMUX_HOME`, else `<config dir>/aimux`.
pub fn aimux_home(env: &Env) -> Option<PathBuf> {
    match env.get("AIMUX_HOME") {
        Some(home) => Some(PathBuf::from(home)),
        None => dirs::config_dir().map(|d| d.join("aimux")),
    }
}

pub fn config_path(env: &Env) -> Option<PathBuf> {
    aimux_home(env).map(|h| h.join("config.toml"))
}

/// Reads the config file; a missing file is an empty config. One that cannot be read or parsed
/// is an error naming the file, line and column.
pub fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    read_file(path).map_err(crate::fsutil::config_error)
}

/// [`load_file`] with the problem as text (doctor shows it in a row).
pub fn read_file(path: &Path) -> Result<FileConfig, String> {
    let Some(text) = crate::fsutil::read_text(path)? else {
        return Ok(FileConfig::default());
    };
    toml::from_str(&text)
        .map_err(|e| crate::fsutil::toml_problem(path, &text, e.span(), e.message(), false))
}

pub fn parse_file(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
}

#[derive(Debug, Clone)]
pub struct BridgeSettings {
    pub host: Setting<String>,
    pub port: Setting<u16>,
    pub upstream: Setting<String>,
    pub token: Option<Setting<String>>,
    pub heartbeat: Duration,
    pub server_info: Option<PathBuf>,
    /// Sent to a local aimux proxy in `x-aimux-internal`.
    pub internal_secret: Option<String>,
    /// Bridge-executed web search: the search rounds one response may take (`None`: off).
    pub web_search_rounds: Option<u32>,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    pub header_timeout: Duration,
    pub first_byte_timeout: Duration,
    pub idle_timeout: Duration,
}

/// A `*_timeout_s` key: the default when unset, an error naming the key when 0.
pub fn timeout_secs(
    value: Option<u64>,
    key: &str,
    default: Duration,
    file_path: &Path,
) -> anyhow::Result<Duration> {
    match value {
        None => Ok(default),
        Some(0) => Err(user_error(format!(
            "{}: {key} must be > 0",
            file_path.display()
        ))),
        Some(s) => Ok(Duration::from_secs(s)),
    }
}

fn pick<T>(
    flag: Option<T>,
    flag_name: &'static str,
    env: Option<(T, &'static str)>,
    file: Option<T>,
    file_path: &Path,
) -> Option<Setting<T>> {
    if let Some(value) = flag {
        return Some(Setting {
            value,
            source: Source::Flag(flag_name),
        });
    }
    if let Some((value, name)) = env {
        return Some(Setting {
            value,
            source: Source::Env(name),
        });
    }
    file.map(|value| Setting {
        value,
        source: Source::File(file_path.to_owned()),
    })
}

/// [`pick`], falling back to the default.
fn pick_or<T>(
    flag: Option<T>,
    flag_name: &'static str,
    env: Option<(T, &'static str)>,
    file: Option<T>,
    file_path: &Path,
    default: T,
) -> Setting<T> {
    pick(flag, flag_name, env, file, file_path).unwrap_or(Setting {
        value: default,
        source: Source::Default,
    })
}

/// Where a server binds: `--host`/`--port`, `AIMUX_<WHO>_HOST`/`_PORT`, the file's section.
fn address(
    (host, port): (Option<String>, Option<u16>),
    env: &Env,
    (env_host, env_port): (&'static str, &'static str),
    (file_host, file_port): (Option<String>, Option<u16>),
    file_path: &Path,
    default_port: u16,
) -> anyhow::Result<(Setting<String>, Setting<u16>)> {
    let host = pick_or(
        host,
        "--host",
        env_parsed(env, env_host)?,
        file_host,
        file_path,
        DEFAULT_HOST.to_owned(),
    );
    let port = pick_or(
        port,
        "--port",
        env_parsed(env, env_port)?,
        file_port,
        file_path,
        default_port,
    );
    Ok((host, port))
}

/// The client token: `--token`, `AIMUX_TOKEN`, `[bridge] token`.
fn token(
    flag: Option<String>,
    env: &Env,
    file: &FileConfig,
    file_path: &Path,
) -> anyhow::Result<Option<Setting<String>>> {
    Ok(pick(
        flag,
        "--token",
        env_parsed(env, "AIMUX_TOKEN")?,
        file.bridge.token.clone(),
        file_path,
    ))
}

fn env_parsed<T: std::str::FromStr>(
    env: &Env,
    key: &'static str,
) -> anyhow::Result<Option<(T, &'static str)>> {
    match env.get(key) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(|v| Some((v, key)))
            .map_err(|_| user_error(format!("{key}={raw:?} is not valid"))),
    }
}

impl BridgeSettings {
    pub fn resolve(
        args: BridgeArgs,
        env: &Env,
        file: &FileConfig,
        file_path: &Path,
    ) -> anyhow::Result<Self> {
        let f = &file.bridge;
        let (host, port) = address(
            (args.host, args.port),
            env,
            ("AIMUX_BRIDGE_HOST", "AIMUX_BRIDGE_PORT"),
            (f.host.clone(), f.port),
            file_path,
            DEFAULT_BRIDGE_PORT,
        )?;
        let upstream = pick_or(
            args.upstream,
            "--upstream",
            env_parsed(env, "AIMUX_UPSTREAM")?,
            f.upstream.clone(),
            file_path,
            format!("http://{DEFAULT_HOST}:{DEFAULT_PROXY_PORT}/v1"),
        );
        let token = token(args.token, env, file, file_path)?;
        let heartbeat = f
            .heartbeat_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_HEARTBEAT);
        if heartbeat.is_zero() {
            return Err(user_error(format!(
                "{}: bridge.heartbeat_ms must be > 0",
                file_path.display()
            )));
        }
        Ok(BridgeSettings {
            host,
            port,
            upstream,
            token,
            heartbeat,
            server_info: args.server_info,
            internal_secret: None,
            web_search_rounds: file
                .websearch
                .is_enabled()
                .then(|| file.websearch.max_rounds.unwrap_or(3)),
            max_body: max_body_bytes(f.max_body_mb),
            first_byte_timeout: timeout_secs(
                f.first_byte_timeout_s,
                "bridge.first_byte_timeout_s",
                DEFAULT_FIRST_BYTE_TIMEOUT,
                file_path,
            )?,
            idle_timeout: timeout_secs(
                f.idle_timeout_s,
                "bridge.idle_timeout_s",
                DEFAULT_IDLE_TIMEOUT,
                file_path,
            )?,
            header_timeout: timeout_secs(
                f.header_timeout_s,
                "bridge.header_timeout_s",
                crate::serve::HEADER_TIMEOUT,
                file_path,
            )?,
        })
    }
}

/// `max_body_mb` in bytes.
pub fn max_body_bytes(mb: Option<u64>) -> usize {
    let mb = mb.unwrap_or(crate::upstream::DEFAULT_MAX_BODY_MB).max(1);
    usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
}

#[derive(Debug, Clone)]
pub struct ProxySettings {
    pub host: Setting<String>,
    pub port: Setting<u16>,
    /// Clients other than the bridge need this bearer token.
    pub token: Option<Setting<String>>,
    pub server_info: Option<PathBuf>,
}

impl ProxySettings {
    pub fn resolve(
        args: ProxyArgs,
        env: &Env,
        file: &FileConfig,
        file_path: &Path,
    ) -> anyhow::Result<Self> {
        let f = &file.proxy;
        let (host, port) = address(
            (args.host, args.port),
            env,
            ("AIMUX_PROXY_HOST", "AIMUX_PROXY_PORT"),
            (f.host.clone(), f.port),
            file_path,
            DEFAULT_PROXY_PORT,
        )?;
        let token = token(None, env, file, file_path)?;
        Ok(ProxySettings {
            host,
            port,
            token,
            server_info: args.server_info,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_env_file_default() {
        let file = parse_file("[bridge]\nport = 7000\nupstream = \"http://file/v1\"\n").unwrap();
        let path = Path::new("/x/config.toml");
        let env = Env::from_pairs([
            ("AIMUX_UPSTREAM", "http://env/v1"),
            ("AIMUX_BRIDGE_PORT", "7100"),
        ]);
        let args = BridgeArgs {
            port: Some(7200),
            ..Default::default()
        };

        let s = BridgeSettings::resolve(args, &env, &file, path).unwrap();
        assert_eq!(
            s.port,
            Setting {
                value: 7200,
                source: Source::Flag("--port")
            }
        );
        assert_eq!(s.upstream.value, "http://env/v1");
        assert_eq!(s.upstream.source, Source::Env("AIMUX_UPSTREAM"));
        assert_eq!(
            s.host,
            Setting {
                value: DEFAULT_HOST.into(),
                source: Source::Default
            }
        );
        assert_eq!(s.token, None);

        let s =
            BridgeSettings::resolve(BridgeArgs::default(), &Env::default(), &file, path).unwrap();
        assert_eq!(
            s.port,
            Setting {
                value: 7000,
                source: Source::File(path.into())
            }
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse_file("[bridge]\nprot = 1\n").unwrap_err();
        assert!(err.contains("unknown field `prot`"), "{err}");
        let err = parse_file("[bridgee]\n").unwrap_err();
        assert!(err.contains("unknown field `bridgee`"), "{err}");
    }

    #[test]
    fn bad_env_value_is_a_clear_error() {
        let env = Env::from_pairs([("AIMUX_BRIDGE_PORT", "eighty")]);
        let err = BridgeSettings::resolve(
            BridgeArgs::default(),
            &env,
            &FileConfig::default(),
            Path::new("c"),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "AIMUX_BRIDGE_PORT=\"eighty\" is not valid");
    }
}
