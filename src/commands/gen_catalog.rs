//! `aimux gen-catalog [--out FILE] [--check]`, and the model list every Codex command builds on:
//! the running proxy's `/v1/models`, else the bridge's, else config + presets.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::catalog::{self, Catalog};
use crate::cli::{BridgeArgs, GenCatalogArgs, ProxyArgs};
use crate::codex_config;
use crate::codex_config::profile::catalog_path;
use crate::error::user_error;
use crate::proxy::registry::{Detected, Registry};
use crate::proxy::server::model_entry;
use crate::settings::{BridgeSettings, Env, FileConfig, ProxySettings};

/// Where the model list came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The running proxy at this URL.
    Proxy(String),
    /// The running bridge at this URL (it asks the proxy).
    Bridge(String),
    /// Nothing answered: config and presets only (no live lists).
    Config,
}

impl Source {
    pub fn is_live(&self) -> bool {
        !matches!(self, Source::Config)
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Proxy(url) => format!("the running proxy ({url})"),
            Source::Bridge(url) => format!("the running bridge ({url})"),
            Source::Config => "config and presets: the link is not running, so providers' live \
                               model lists are missing (start it with `aimux start`)"
                .to_owned(),
        }
    }
}

/// A host to connect to for a bind address (`0.0.0.0` → `127.0.0.1`), ready for a URL.
pub fn connect_host(bind: &str) -> String {
    match bind.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => bind.to_owned(),
    }
}

/// `http://127.0.0.1:8403/v1`: what Codex and other tools use.
pub fn bridge_base_url(bridge: &BridgeSettings) -> anyhow::Result<String> {
    if bridge.port.value == 0 {
        return Err(user_error(format!(
            "the bridge port is 0 (a free port picked at each start; from {}), so no fixed URL can \
             be written for Codex.\nhint: set [bridge] port in the aimux config or AIMUX_BRIDGE_PORT",
            bridge.port.source
        )));
    }
    Ok(format!(
        "http://{}:{}/v1",
        connect_host(&bridge.host.value),
        bridge.port.value
    ))
}

async fn get_list(url: &str, header: Option<(&str, &str)>) -> Option<Value> {
    let mut req = crate::upstream::client()
        .get(url)
        .timeout(Duration::from_secs(10));
    if let Some((k, v)) = header {
        req = req.header(k, v);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        return None;
    }
    let v: Value = resp.json().await.ok()?;
    v["data"].is_array().then_some(v)
}

/// The routable models, from the best source that answers.
pub async fn model_list(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<(Value, Source)> {
    let proxy = ProxySettings::resolve(ProxyArgs::default(), env, file, config_path)?;
    if let Ok(secret) = crate::secret::internal_secret(env, home) {
        let url = format!(
            "http://{}:{}/v1",
            connect_host(&proxy.host.value),
            proxy.port.value
        );
        if let Some(list) = get_list(
            &format!("{url}/models"),
            Some((crate::secret::HEADER, &secret)),
        )
        .await
        {
            return Ok((list, Source::Proxy(url)));
        }
    }
    let bridge = BridgeSettings::resolve(BridgeArgs::default(), env, file, config_path)?;
    if let Ok(url) = bridge_base_url(&bridge) {
        let auth = bridge.token.as_ref().map(|t| format!("Bearer {}", t.value));
        let header = auth.as_deref().map(|a| ("authorization", a));
        if let Some(list) = get_list(&format!("{url}/models"), header).await {
            return Ok((list, Source::Bridge(url)));
        }
    }
    Ok((from_config(env, file, home)?, Source::Config))
}

/// What the proxy would list, without its live lists: preset and config models, routes, agents.
pub fn from_config(env: &Env, file: &FileConfig, home: &Path) -> anyhow::Result<Value> {
    let creds = super::proxy::load_credentials(home)?;
    let registry = Registry::build(file, env, &creds, Detected::default()).map_err(user_error)?;
    let mut data = Vec::new();
    for p in registry.providers() {
        if p.is_codex() {
            data.push(json!({"id": "codex", "object": "model", "owned_by": "codex"}));
            continue;
        }
        data.extend(p.models.iter().map(|m| model_entry(p, &m.id)));
    }
    for (name, target) in &file.routes {
        data.push(
            json!({"id": name, "object": "model", "owned_by": "aimux", "route": target.targets()}),
        );
    }
    for (name, agent) in &file.agents {
        data.push(json!({"id": format!("aimux:{name}"), "object": "model", "owned_by": "aimux", "agent": agent.model}));
    }
    Ok(json!({"object": "list", "data": data}))
}

/// The catalog from the best source, or an error when nothing is routable.
pub async fn build_catalog(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<(Catalog, Source)> {
    let (list, source) = model_list(env, file, config_path, home).await?;
    let catalog = catalog::build(&list);
    if catalog.models.is_empty() {
        return Err(user_error(format!(
            "no routable models (asked {}).\nhint: set a provider key such as DEEPSEEK_API_KEY, \
             or add [providers.NAME] to {}; `aimux models` shows what aimux sees",
            source.describe(),
            config_path.display()
        )));
    }
    Ok((catalog, source))
}

/// Writes `text` to `path` unless it already holds exactly that; says whether it wrote.
pub fn write_if_changed(path: &Path, text: &str) -> anyhow::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(false);
    }
    crate::fsutil::write_atomic(path, text.as_bytes(), crate::fsutil::Perms::Keep)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}

/// A catalog built for writing, with what `gen-catalog` says about it.
pub struct Generated {
    pub catalog: Catalog,
    pub source: Source,
    /// The file's bytes ([`Catalog::render`]).
    pub text: String,
}

impl Generated {
    pub async fn build(
        env: &Env,
        file: &FileConfig,
        config_path: &Path,
        home: &Path,
    ) -> anyhow::Result<Generated> {
        let (catalog, source) = build_catalog(env, file, config_path, home).await?;
        let text = catalog.render();
        Ok(Generated {
            catalog,
            source,
            text,
        })
    }

    /// `aimux gen-catalog: 12 models (9 in the picker) from ...`.
    pub fn summary(&self) -> String {
        let visible = self
            .catalog
            .models
            .iter()
            .filter(|m| m.visibility == catalog::Visibility::List)
            .count();
        format!(
            "aimux gen-catalog: {} models ({visible} in the picker) from {}",
            self.catalog.models.len(),
            self.source.describe()
        )
    }

    /// Writes the catalog to `out` unless it already holds it; returns the line saying which.
    pub fn write(&self, out: &Path) -> anyhow::Result<String> {
        let wrote = write_if_changed(out, &self.text)
            .with_context(|| format!("writing {}", out.display()))?;
        Ok(format!(
            "{} {} ({} kB)",
            if wrote { "wrote" } else { "unchanged:" },
            out.display(),
            self.text.len().div_ceil(1024)
        ))
    }
}

/// `aimux gen-catalog` with no flags (also the dashboard's "Update models"): writes
/// `$CODEX_HOME/aimux-catalog.json`, which the profile and desktop mode both read. Returns what
/// the CLI prints.
pub async fn update(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<Vec<String>> {
    let out = catalog_path(
        &codex_config::codex_home(env)
            .ok_or_else(|| user_error("cannot find Codex's home: set CODEX_HOME (or HOME)"))?,
    );
    let generated = Generated::build(env, file, config_path, home).await?;
    Ok(vec![generated.summary(), generated.write(&out)?])
}

pub async fn run(
    args: GenCatalogArgs,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
) -> anyhow::Result<()> {
    let stdout = args.out.as_deref() == Some(Path::new("-"));
    if stdout && args.check {
        return Err(user_error(
            "--check compares a file: give --out FILE, not -",
        ));
    }
    if args.out.is_none() && !args.check {
        for line in update(env, file, config_path, home).await? {
            eprintln!("{line}");
        }
        return Ok(());
    }
    let out: PathBuf = match args.out {
        Some(p) => p,
        None => catalog_path(
            &codex_config::codex_home(env)
                .ok_or_else(|| user_error("cannot find Codex's home: set CODEX_HOME (or HOME)"))?,
        ),
    };
    let generated = Generated::build(env, file, config_path, home).await?;
    eprintln!("{}", generated.summary());
    let text = &generated.text;
    if stdout {
        print!("{text}");
        return Ok(());
    }
    if args.check {
        let on_disk = std::fs::read(&out).ok();
        return if on_disk.as_deref() == Some(text.as_bytes()) {
            eprintln!("{} is up to date", out.display());
            Ok(())
        } else {
            Err(user_error(format!(
                "{} {} what aimux would write now.\nhint: run `aimux gen-catalog{}`",
                out.display(),
                if on_disk.is_some() {
                    "differs from"
                } else {
                    "does not exist, unlike"
                },
                if out == catalog_path(&codex_config::codex_home(env).unwrap_or_default()) {
                    String::new()
                } else {
                    format!(" --out {}", out.display())
                }
            )))
        };
    }
    eprintln!("{}", generated.write(&out)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_hosts() {
        for (bind, want) in [
            ("127.0.0.1", "127.0.0.1"),
            ("0.0.0.0", "127.0.0.1"),
            ("::", "127.0.0.1"),
            ("::1", "[::1]"),
            ("[::1]", "[::1]"),
            ("localhost", "localhost"),
            ("192.168.1.5", "192.168.1.5"),
        ] {
            assert_eq!(connect_host(bind), want, "{bind}");
        }
    }

    #[test]
    fn config_fallback_lists_models_routes_and_agents() {
        let file = crate::settings::parse_file(
            "[providers.box]\nbase_url = \"http://127.0.0.1:9/v1\"\nmodels = [{ id = \"m\", context = 1000 }]\n\
             [routes]\nfast = \"box/m\"\n[agents.rev]\nmodel = \"fast\"\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let list = from_config(&Env::default(), &file, dir.path()).unwrap();
        let ids: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        assert_eq!(ids, ["box/m", "fast", "aimux:rev"]);
        let c = catalog::build(&list);
        assert_eq!(c.get("aimux:rev").unwrap().context_window, Some(1000));
    }
}
