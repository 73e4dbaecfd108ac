//! The loop guard: the `codex exec` child must never send its model requests back into aimux.
//!
//! The child always gets `-c model_provider=<provider>`, so only that provider's `base_url`
//! matters (for the built-in `openai` provider, the top-level `openai_base_url`). A URL on a
//! loopback host whose port is an aimux default (8403 bridge, 8404 proxy) or the port of one of
//! the aimux URLs given in the settings is a loop.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Default ports of the aimux bridge and proxy.
pub(crate) const AIMUX_PORTS: [u16; 2] = [8403, 8404];

/// The Codex config files that can define the provider (`aimux.config.toml` is the profile aimux
/// writes; the child does not load it, but a provider defined there is checked all the same).
const CONFIG_FILES: [&str; 2] = ["config.toml", "aimux.config.toml"];

/// What the backend needs to know about the user's base Codex config.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct BaseConfig {
    /// Top-level `model_provider` of `config.toml`.
    pub model_provider: Option<String>,
    /// Top-level `model` of `config.toml`.
    pub model: Option<String>,
    /// Top-level `cli_auth_credentials_store` of `config.toml` (where the login lives).
    pub auth_store: Option<String>,
}

/// A provider id must be a plain config key.
pub(crate) fn validate_provider(provider: &str) -> Result<(), String> {
    if provider.is_empty()
        || !provider
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "codex backend: provider `{provider}` is not a valid Codex provider id (letters, digits, `-`, `_`, `.`)"
        ));
    }
    if provider.eq_ignore_ascii_case("aimux") {
        return Err(
            "codex backend: provider `aimux` would send the child's requests back into aimux (a loop); \
             set the codex backend's provider to one that reaches OpenAI directly (the default, `openai`)"
                .into(),
        );
    }
    Ok(())
}

/// Checks the Codex config under `codex_home` for a loop through `provider`.
pub(crate) fn check_configs(
    provider: &str,
    codex_home: &Path,
    aimux_urls: &[String],
) -> Result<BaseConfig, String> {
    let mut base = BaseConfig::default();
    for name in CONFIG_FILES {
        let path = codex_home.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // An unreadable config is Codex's to report when it runs.
        let Ok(table) = text.parse::<toml::Table>() else {
            continue;
        };
        if name == "config.toml" {
            let top = |key: &str| table.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            base.model_provider = top("model_provider");
            base.model = top("model");
            base.auth_store = top("cli_auth_credentials_store");
        }
        let (key, url) = if provider == "openai" {
            // Only the base config is loaded by the child (no `-p`), so only its
            // `openai_base_url` reaches the built-in provider.
            let url = (name == "config.toml")
                .then(|| table.get("openai_base_url").and_then(|v| v.as_str()))
                .flatten();
            ("openai_base_url".to_owned(), url)
        } else {
            (
                format!("model_providers.{provider}.base_url"),
                table
                    .get("model_providers")
                    .and_then(|p| p.get(provider))
                    .and_then(|p| p.get("base_url"))
                    .and_then(|v| v.as_str()),
            )
        };
        if let Some(url) = url
            && is_aimux_url(url, aimux_urls)
        {
            return Err(format!(
                "codex backend: `{key}` in {} is {url}, which is aimux itself, so the `codex exec` \
                 child would send its requests back into aimux (a loop); set the codex backend's \
                 provider to one that reaches OpenAI directly (the default, `openai`), or point \
                 that provider elsewhere",
                path.display()
            ));
        }
    }
    Ok(base)
}

/// The MCP servers the child would start from `$CODEX_HOME/config.toml` (names usable in a
/// `-c mcp_servers.<name>.enabled=false` override; others are skipped).
pub(crate) fn mcp_server_names(codex_home: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(codex_home.join("config.toml")) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(servers) = table.get("mcp_servers").and_then(|v| v.as_table()) else {
        return Vec::new();
    };
    servers
        .iter()
        .filter(|(name, cfg)| {
            cfg.get("enabled").and_then(|v| v.as_bool()) != Some(false)
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// True when `url` is on a loopback (or unspecified) host and its port is an aimux default port
/// or the port of one of `aimux_urls`.
pub(crate) fn is_aimux_url(url: &str, aimux_urls: &[String]) -> bool {
    let Some((true, port)) = loopback_port(url) else {
        return false;
    };
    AIMUX_PORTS.contains(&port)
        || aimux_urls
            .iter()
            .filter_map(|u| loopback_port(u))
            .any(|(lo, p)| lo && p == port)
}

fn loopback_port(url: &str) -> Option<(bool, u16)> {
    let u = reqwest::Url::parse(url.trim()).ok()?;
    let port = u.port_or_known_default()?;
    let host = u.host_str()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => {
            let h = host.trim_end_matches('.').to_ascii_lowercase();
            h == "localhost" || h.ends_with(".localhost")
        }
    };
    Some((loopback, port))
}

/// The child's `CODEX_HOME`: the settings' value, else a `CODEX_HOME` in the settings' extra
/// environment, else the process's `CODEX_HOME`, else `~/.codex`.
pub(crate) fn codex_home(
    configured: Option<&Path>,
    extra_env: &[(String, String)],
) -> Option<PathBuf> {
    if let Some(p) = configured {
        return Some(p.to_path_buf());
    }
    if let Some((_, v)) = extra_env.iter().rev().find(|(k, _)| k == "CODEX_HOME") {
        return Some(PathBuf::from(v));
    }
    if let Some(v) = std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(v));
    }
    dirs::home_dir().map(|h| h.join(".codex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_aimux_urls() {
        let extra = vec!["http://127.0.0.1:9555".to_owned()];
        let cases: &[(&str, bool)] = &[
            ("http://127.0.0.1:8403/v1", true),
            ("http://localhost:8404/v1", true),
            ("http://[::1]:8403", true),
            ("http://0.0.0.0:8404/v1", true),
            ("http://127.0.0.2:9555/v1", true),
            ("http://127.0.0.1:9556/v1", false),
            ("http://127.0.0.1:11434/v1", false),
            ("https://api.openai.com/v1", false),
            ("http://example.com:8403/v1", false),
            ("not a url", false),
        ];
        for (url, want) in cases {
            assert_eq!(is_aimux_url(url, &extra), *want, "{url}");
        }
    }

    #[test]
    fn validates_provider_ids() {
        let cases: &[(&str, Option<&str>)] = &[
            ("openai", None),
            ("my-gw_1.x", None),
            ("aimux", Some("a loop")),
            ("AIMUX", Some("a loop")),
            ("", Some("not a valid")),
            ("a b", Some("not a valid")),
            ("x\"y", Some("not a valid")),
        ];
        for (p, want) in cases {
            match (validate_provider(p), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{p}: {e}"),
                (r, w) => panic!("{p}: got {r:?}, want {w:?}"),
            }
        }
    }

    /// (file, content, provider, Ok(base model_provider) or Err(substring))
    type ConfigCase<'a> = (&'a str, &'a str, &'a str, Result<Option<&'a str>, &'a str>);

    #[test]
    fn checks_config_files() {
        let cases: &[ConfigCase<'_>] = &[
            ("config.toml", "", "openai", Ok(None)),
            (
                "config.toml",
                "model_provider = \"aimux\"\n[model_providers.aimux]\nbase_url = \"http://127.0.0.1:8403/v1\"\n",
                "openai",
                Ok(Some("aimux")),
            ),
            (
                "config.toml",
                "openai_base_url = \"http://localhost:8404/v1\"\n",
                "openai",
                Err("`openai_base_url`"),
            ),
            (
                "config.toml",
                "[model_providers.gw]\nbase_url = \"http://127.0.0.1:8403/v1\"\n",
                "gw",
                Err("`model_providers.gw.base_url`"),
            ),
            (
                "aimux.config.toml",
                "[model_providers.gw]\nbase_url = \"http://127.0.0.1:9555/v1\"\n",
                "gw",
                Err("aimux.config.toml"),
            ),
            (
                "config.toml",
                "[model_providers.gw]\nbase_url = \"https://gw.example.com/v1\"\n",
                "gw",
                Ok(None),
            ),
            ("config.toml", "this is = = not toml", "gw", Ok(None)),
            (
                "aimux.config.toml",
                "openai_base_url = \"http://127.0.0.1:8403/v1\"\n",
                "openai",
                Ok(None),
            ),
        ];
        let extra = vec!["http://127.0.0.1:9555".to_owned()];
        for (file, content, provider, want) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join(file), content).expect("write");
            let got = check_configs(provider, dir.path(), &extra);
            match (got, want) {
                (Ok(base), Ok(mp)) => assert_eq!(base.model_provider.as_deref(), *mp, "{content}"),
                (Err(e), Err(w)) => {
                    assert!(e.contains(w), "{content}: {e}");
                    assert!(e.contains("loop"), "{e}");
                }
                (got, want) => panic!("{content}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn lists_enabled_mcp_servers() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(mcp_server_names(dir.path()).is_empty());
        std::fs::write(
            dir.path().join("config.toml"),
            "[mcp_servers.github]\ncommand = \"gh-mcp\"\n\
             [mcp_servers.off]\ncommand = \"x\"\nenabled = false\n\
             [mcp_servers.\"dotted.name\"]\ncommand = \"y\"\n\
             [mcp_servers.web_1]\nurl = \"https://mcp.example.com\"\n",
        )
        .expect("write");
        let mut names = mcp_server_names(dir.path());
        names.sort();
        assert_eq!(names, vec!["github".to_owned(), "web_1".to_owned()]);
    }

    #[test]
    fn resolves_codex_home() {
        let env = vec![("CODEX_HOME".to_owned(), "/from/env".to_owned())];
        assert_eq!(
            codex_home(Some(Path::new("/set")), &env),
            Some(PathBuf::from("/set"))
        );
        assert_eq!(codex_home(None, &env), Some(PathBuf::from("/from/env")));
    }
}
