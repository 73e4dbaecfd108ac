//! Checks that talk to processes: the bridge and the proxy (loopback `/health`), the routable
//! models (through the bridge, which holds the bridge ↔ proxy secret), each provider's key and
//! endpoint, the codex backend's login, the Codex CLI's version, and one streamed round trip.
//! `--offline` skips the round trip and probes only providers on this machine.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::inputs::Inputs;
use super::local::{BridgeTarget, read_credentials};
use super::{Check, Status};
use crate::cli::ProxyArgs;
use crate::commands::gen_catalog::connect_host;
use crate::proxy::registry::{Detected, Provider, ProviderKind, Registry};
use crate::settings::ProxySettings;
use crate::sse::SseDecoder;
use crate::supervisor::health::{self, Health};
use crate::supervisor::procs;
use crate::supervisor::state::ChildState;

/// Codex CLI versions aimux is tested with (`major.minor`).
pub const SUPPORTED_CODEX: (u64, u64) = (0, 169);
const ROUNDTRIP_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
const PROCESS_TIMEOUT: Duration = Duration::from_secs(10);
const START: &str = "start the link: `aimux up` (or `aimux start --detach`)";
const RESTART: &str = "restart the link: `aimux stop && aimux up`";

/// A server doctor looked for, and what it found.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `http://127.0.0.1:8403`, without `/v1`.
    pub url: String,
    pub port: Option<u16>,
    pub health: Health,
    /// Who holds the port, when what answered (or did not) is not what doctor expected.
    pub holder: Option<String>,
    pub pid: Option<u32>,
}

impl Endpoint {
    /// `/health` answered 200 with `"service": service`.
    pub fn is(&self, service: &str) -> bool {
        matches!(&self.health, Health::Ok(body) if body["service"] == service)
    }

    pub fn v1(&self) -> String {
        format!("{}/v1", self.url)
    }
}

/// `GET {bridge}/v1/models` went wrong: the HTTP status (none: no answer) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsError {
    pub status: Option<u16>,
    pub message: String,
}

/// What doctor found of the running link.
#[derive(Debug, Clone)]
pub struct Link {
    pub bridge: Option<Endpoint>,
    pub proxy: Option<Endpoint>,
    /// External (`[proxy] command`) rather than `aimux proxy`.
    pub external_proxy: bool,
    /// The routable models through the bridge (`None`: the bridge is not up).
    pub models: Option<Result<Value, ModelsError>>,
    /// The supervisor's record of each child, when `aimux start` runs.
    pub bridge_state: Option<ChildState>,
    pub proxy_state: Option<ChildState>,
}

impl Link {
    pub fn bridge_up(&self) -> bool {
        self.bridge.as_ref().is_some_and(|b| b.is("aimux-bridge"))
    }

    /// The ids the link routes now, when the bridge gave the list.
    pub fn routable(&self) -> Option<BTreeSet<String>> {
        let Some(Ok(list)) = &self.models else {
            return None;
        };
        Some(
            list["data"]
                .as_array()?
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// The port a `base_url` should point at: the running bridge's, else aimux's setting.
    pub fn bridge_target(&self, inp: &Inputs) -> Option<BridgeTarget> {
        let configured = inp
            .bridge
            .as_ref()
            .map(|b| (b.port.value, b.port.source.to_string()))
            .filter(|(p, _)| *p != 0);
        let running = self.bridge_up();
        let port = match &self.bridge {
            Some(b) if running => b.port,
            _ => configured.as_ref().map(|(p, _)| *p),
        }?;
        Some(BridgeTarget {
            port,
            running,
            configured,
        })
    }
}

/// Where the bridge should answer: the supervisor's record, else aimux's settings.
pub fn bridge_root(inp: &Inputs) -> Option<(String, u16)> {
    if let Some(s) = &inp.supervised
        && let (Some(url), Some(port)) = (&s.bridge.url, s.bridge.port)
    {
        return Some((url.trim_end_matches('/').to_owned(), port));
    }
    let b = inp.bridge.as_ref()?;
    let port = b.port.value;
    (port != 0).then(|| {
        (
            format!("http://{}:{port}", connect_host(&b.host.value)),
            port,
        )
    })
}

/// `http://host:port` of a URL, without its path.
fn root_of(url: &str) -> Option<(String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    let port = u.port_or_known_default()?;
    Some((format!("{}://{}:{port}", u.scheme(), u.host_str()?), port))
}

fn proxy_root(inp: &Inputs, bridge_health: Option<&Health>) -> Option<(String, u16)> {
    if let Some(Health::Ok(body)) = bridge_health
        && body["service"] == "aimux-bridge"
        && let Some(up) = body["upstream"].as_str()
    {
        return root_of(up);
    }
    if let Some(s) = &inp.supervised
        && let Some(url) = &s.proxy.url
    {
        return root_of(url);
    }
    if let Some(url) = &inp.file.proxy.url
        && inp.file.proxy.command.is_some()
    {
        return root_of(url);
    }
    let p =
        ProxySettings::resolve(ProxyArgs::default(), &inp.env, &inp.file, &inp.config_path).ok()?;
    let port = p.port.value;
    (port != 0).then(|| {
        (
            format!("http://{}:{port}", connect_host(&p.host.value)),
            port,
        )
    })
}

fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| {
        u.host_str().is_some_and(|h| {
            h == "localhost"
                || h.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
    })
}

async fn endpoint(
    client: &reqwest::Client,
    url: String,
    port: u16,
    service: &str,
    recorded: Option<&ChildState>,
) -> Endpoint {
    let health = health::health(client, &url, None).await;
    let ours = matches!(&health, Health::Ok(body) if body["service"] == service);
    let local = is_loopback_url(&url);
    let holders = if local {
        tokio::task::spawn_blocking(move || procs::port_holders(port))
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let holder = (!ours && !holders.is_empty())
        .then(|| tokio::task::spawn_blocking(move || procs::describe_port_holder(port)));
    let holder = match holder {
        Some(task) => task.await.ok(),
        None => None,
    };
    let pid = recorded
        .and_then(|s| s.process.as_ref().map(|p| p.pid))
        .or_else(|| holders.first().copied());
    Endpoint {
        url,
        port: Some(port),
        health,
        holder,
        pid,
    }
}

async fn models_via(bridge: &Endpoint, token: Option<&str>) -> Result<Value, ModelsError> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_default();
    let mut req = client.get(format!("{}/models", bridge.v1()));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| ModelsError {
        status: None,
        message: e.to_string(),
    })?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if (200..300).contains(&status) && body["data"].is_array() {
        return Ok(body);
    }
    Err(ModelsError {
        status: Some(status),
        message: body["error"]["message"]
            .as_str()
            .unwrap_or("no model list in the answer")
            .to_owned(),
    })
}

/// Finds the bridge and the proxy, asks their `/health`, and the model list through the bridge.
pub async fn probe(inp: &Inputs) -> Link {
    let client = health::client();
    let bridge_state = inp.supervised.as_ref().map(|s| s.bridge.clone());
    let proxy_state = inp.supervised.as_ref().map(|s| s.proxy.clone());
    let bridge = match bridge_root(inp) {
        Some((url, port)) => {
            Some(endpoint(&client, url, port, "aimux-bridge", bridge_state.as_ref()).await)
        }
        None => None,
    };
    let bridge_health = bridge
        .as_ref()
        .filter(|b| b.is("aimux-bridge"))
        .map(|b| &b.health);
    let external_proxy = proxy_state.as_ref().is_some_and(|s| s.external)
        || (inp.supervised.is_none() && inp.file.proxy.command.is_some());
    let proxy_fut = async {
        match proxy_root(inp, bridge_health) {
            Some((url, port)) => {
                Some(endpoint(&client, url, port, "aimux-proxy", proxy_state.as_ref()).await)
            }
            None => None,
        }
    };
    let models_fut = async {
        match &bridge {
            Some(b) if b.is("aimux-bridge") => Some(models_via(b, inp.token()).await),
            _ => None,
        }
    };
    let (proxy, models) = tokio::join!(proxy_fut, models_fut);
    Link {
        bridge,
        proxy,
        external_proxy,
        models,
        bridge_state,
        proxy_state,
    }
}

/// `(pid N)`, when known.
fn pid_note(e: &Endpoint) -> String {
    e.pid.map_or(String::new(), |p| format!(" (pid {p})"))
}

/// What the supervisor recorded about a child that does not answer.
fn recorded_details(state: Option<&ChildState>, name: &str) -> Vec<String> {
    let Some(s) = state else {
        return Vec::new();
    };
    let mut d = vec![format!(
        "aimux start reports the {name} as {}",
        format!("{:?}", s.phase).to_lowercase()
    )];
    if let Some(e) = &s.last_exit {
        d.push(format!("its last process {e}"));
    }
    if s.restarts > 0 {
        d.push(format!("restarted {} times", s.restarts));
    }
    d
}

/// The row for an endpoint that is not the aimux server it should be.
fn not_answering(id: &str, what: &str, e: &Endpoint, state: Option<&ChildState>) -> Check {
    let addr = e.url.trim_start_matches("http://");
    let mut check = match (&e.health, &e.holder) {
        (Health::Unreachable(why), None) => {
            Check::fail(id, format!("nothing answers at {addr} ({why})")).hint(if state.is_some() {
                format!("`aimux logs {what}` shows why; {RESTART}")
            } else {
                START.to_owned()
            })
        }
        (Health::Unreachable(why), Some(holder)) => Check::fail(
            id,
            format!(
                "port {} is held by {holder}, which does not answer ({why})",
                e.port.unwrap_or(0)
            ),
        )
        .hint(move_hint(what)),
        (_, holder) => Check::fail(
            id,
            format!(
                "{addr} answers, but not as an aimux {what}: the port is held by {}",
                holder.as_deref().unwrap_or("another program")
            ),
        )
        .hint(move_hint(what)),
    };
    check.details = recorded_details(state, what);
    check
}

fn move_hint(what: &str) -> String {
    format!(
        "stop that program, or give aimux's {what} another port ([{what}] port = N in aimux's \
         config), then `aimux up`"
    )
}

pub fn bridge_check(link: &Link) -> Check {
    const ID: &str = "link.bridge";
    let Some(b) = &link.bridge else {
        return Check::warn(
            ID,
            "not checked: the bridge port is 0 (a free one at each start), so it has no fixed \
             address",
        )
        .hint("set [bridge] port in aimux's config (Codex needs a fixed URL)");
    };
    if !b.is("aimux-bridge") {
        return not_answering(ID, "bridge", b, link.bridge_state.as_ref());
    }
    if let Some(Err(e)) = &link.models
        && matches!(e.status, Some(401 | 403))
        && e.message.contains("aimux bridge")
    {
        let var = crate::codex_config::profile::TOKEN_ENV;
        return Check::fail(
            ID,
            format!(
                "{} wants a token that doctor does not have: {}",
                b.v1(),
                e.message
            ),
        )
        .hint(format!(
            "export {var} with the bridge's token, then run doctor again"
        ));
    }
    let theirs = match &b.health {
        Health::Ok(body) => body["version"].as_str().unwrap_or("?").to_owned(),
        _ => String::new(),
    };
    let ours = env!("CARGO_PKG_VERSION");
    if theirs != ours {
        return Check::warn(
            ID,
            format!(
                "{}{} runs aimux {theirs}; this is {ours}",
                b.v1(),
                pid_note(b)
            ),
        )
        .hint(RESTART);
    }
    Check::ok(ID, format!("{}{}", b.v1(), pid_note(b)))
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub fn proxy_check(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "link.proxy";
    let Some(p) = &link.proxy else {
        return Check::warn(
            ID,
            "not checked: the proxy port is 0, so it has no fixed address",
        );
    };
    if link.external_proxy {
        return match &p.health {
            Health::Unreachable(_) => not_answering(ID, "proxy", p, link.proxy_state.as_ref()),
            _ => Check::ok(
                ID,
                format!("external proxy ([proxy] command) at {} answers", p.v1()),
            ),
        };
    }
    if !p.is("aimux-proxy") {
        return not_answering(ID, "proxy", p, link.proxy_state.as_ref());
    }
    let providers = match &p.health {
        Health::Ok(body) => health::providers_of(body).unwrap_or_default(),
        _ => Vec::new(),
    };
    if providers.is_empty() {
        return Check::fail(ID, format!("{} answers, but routes to no provider", p.v1())).hint(
            format!(
                "export a provider's key (DEEPSEEK_API_KEY, OPENROUTER_API_KEY, ...) or add \
                 [providers.NAME] to {}; then {RESTART}",
                crate::supervisor::tilde(&inp.config_path)
            ),
        );
    }
    let base = format!(
        "{}{}: {}",
        p.v1(),
        pid_note(p),
        if providers.len() <= 3 {
            format!("providers {}", providers.join(", "))
        } else {
            plural(providers.len(), "provider")
        }
    );
    match &link.models {
        None => Check::ok(
            ID,
            format!("{base}; not reached through the bridge (it is down)"),
        ),
        Some(Ok(list)) => {
            let n = list["data"].as_array().map_or(0, Vec::len);
            Check::ok(
                ID,
                format!("{base}; {} through the bridge", plural(n, "model")),
            )
        }
        Some(Err(e)) if e.message.contains("internal secret") => Check::fail(
            ID,
            format!(
                "{} refuses the bridge (HTTP {}): they do not share the internal secret",
                p.v1(),
                e.status.unwrap_or(401)
            ),
        )
        .hint(format!(
            "{RESTART} (a bridge and proxy started by hand need the same AIMUX_INTERNAL_SECRET)"
        )),
        Some(Err(e)) if matches!(e.status, Some(401 | 403)) => Check::ok(
            ID,
            format!("{base}; the model list needs the bridge's token"),
        ),
        Some(Err(e)) => Check::fail(
            ID,
            format!(
                "the bridge cannot get the model list from it ({}): {}",
                e.status
                    .map_or("no answer".to_owned(), |s| format!("HTTP {s}")),
                e.message
            ),
        )
        .hint("`aimux logs proxy` shows why"),
    }
}

/// A provider endpoint's answer to `GET {base_url}/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Status(u16),
    Unreachable(String),
    /// Not probed (`--offline`, or no key to probe with).
    Skipped(&'static str),
}

async fn probe_models(
    client: &reqwest::Client,
    base_url: &str,
    key: Option<&str>,
    headers: &[(String, String)],
) -> Probe {
    let mut req = client
        .get(format!("{base_url}/models"))
        .timeout(PROBE_TIMEOUT);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    for (k, v) in headers {
        req = req.header(k, v);
    }
    match req.send().await {
        Ok(resp) => Probe::Status(resp.status().as_u16()),
        Err(e) if e.is_timeout() => {
            Probe::Unreachable(format!("no answer within {} s", PROBE_TIMEOUT.as_secs()))
        }
        Err(e) if e.is_connect() => Probe::Unreachable("connection refused".to_owned()),
        Err(e) => {
            let mut cause = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                cause = s.to_string();
                source = s.source();
            }
            Probe::Unreachable(cause)
        }
    }
}

/// The row of one provider from where its key comes from and what its endpoint said.
pub fn provider_verdict(
    name: &str,
    base_url: &str,
    key: Option<&str>,
    probe: &Probe,
    in_proxy: Option<bool>,
) -> Check {
    let id = format!("provider.{name}");
    let key_note = key.unwrap_or("no key needed");
    let mut check = match probe {
        Probe::Skipped(why) => Check::ok(&id, format!("{key_note}; {base_url} not probed ({why})")),
        Probe::Status(s) if (200..300).contains(s) => {
            Check::ok(&id, format!("{key_note}; {base_url} answers (HTTP {s})"))
        }
        Probe::Status(s @ (401 | 403)) => Check::fail(
            &id,
            format!("{base_url} rejects the key ({key_note}): HTTP {s}"),
        )
        .hint("check the key: a new one goes in its variable or in credentials.toml"),
        Probe::Status(s @ (404 | 405)) => Check::ok(
            &id,
            format!("{key_note}; {base_url} answers (HTTP {s} on /models)"),
        ),
        Probe::Status(s @ 429) => Check::warn(
            &id,
            format!("{key_note}; {base_url} answers, but rate-limits (HTTP {s})"),
        )
        .hint("wait, or check the account's quota"),
        Probe::Status(s) => Check::warn(
            &id,
            format!("{key_note}; {base_url} answers with HTTP {s} on /models"),
        )
        .hint("the provider may be having trouble; aimux falls back to the next target of a route"),
        Probe::Unreachable(why) => Check::fail(&id, format!("{base_url} is unreachable: {why}"))
            .hint(if is_loopback_url(base_url) {
                "is that server running? Check base_url in aimux's config"
            } else {
                "check the network (and HTTPS_PROXY), or base_url in aimux's config"
            }),
    };
    if check.status == Status::Ok && in_proxy == Some(false) {
        check = Check::warn(
            &id,
            format!(
                "{}; the running proxy does not route to it (it started before)",
                check.summary
            ),
        )
        .hint(RESTART);
    }
    check
}

fn key_source(p: &Provider, inp: &Inputs) -> Option<String> {
    let ProviderKind::Http {
        key, key_source, ..
    } = &p.kind
    else {
        return None;
    };
    key.as_ref()?;
    Some(match key_source {
        Some(var) if inp.env.get(var).is_some() => format!("key from {var}"),
        _ => "key from credentials.toml".to_owned(),
    })
}

/// One row per provider (the codex backend has its own): credential present, endpoint
/// reachable. Providers the running proxy found by itself (local servers) are listed too.
pub async fn providers(inp: &Inputs, link: &Link) -> Vec<Check> {
    if link.external_proxy {
        return Vec::new();
    }
    let (creds, _) = read_credentials(&inp.home);
    let Ok(registry) = Registry::build(&inp.file, &inp.env, &creds, Detected::default()) else {
        return Vec::new();
    };
    let in_proxy: Option<Vec<(String, String)>> =
        link.proxy.as_ref().and_then(|p| match &p.health {
            Health::Ok(body) if body["service"] == "aimux-proxy" => Some(
                body["providers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        Some((
                            v["name"].as_str()?.to_owned(),
                            v["origin"].as_str().unwrap_or("").to_owned(),
                        ))
                    })
                    .collect(),
            ),
            _ => None,
        });
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_default();
    let mut rows: Vec<(
        String,
        std::pin::Pin<Box<dyn std::future::Future<Output = Check> + Send + '_>>,
    )> = Vec::new();
    for p in registry.providers().filter(|p| !p.is_codex()) {
        let ProviderKind::Http {
            base_url,
            key,
            key_source: var,
            key_required,
            headers,
            ..
        } = &p.kind
        else {
            continue;
        };
        let listed = in_proxy
            .as_ref()
            .map(|list| list.iter().any(|(n, _)| n == &p.name));
        let id = format!("provider.{}", p.name);
        if key.is_none() && *key_required {
            let var = var.clone().unwrap_or_else(|| "its key variable".to_owned());
            let check = Check::fail(
                &id,
                format!(
                    "no API key: {var} is not set and credentials.toml has no [{}]",
                    p.name
                ),
            )
            .hint(format!(
                "export {var}=... (or add [{}] api_key = \"...\" to {}, mode 600), then {RESTART}",
                p.name,
                crate::supervisor::tilde(&inp.home.join("credentials.toml"))
            ));
            rows.push((p.name.clone(), Box::pin(async move { check })));
            continue;
        }
        let note = key_source(p, inp);
        let client = client.clone();
        let offline = inp.offline && !is_loopback_url(base_url);
        let secret = key.clone();
        let name = p.name.clone();
        rows.push((
            p.name.clone(),
            Box::pin(async move {
                let probe = if offline {
                    Probe::Skipped("--offline")
                } else {
                    probe_models(
                        &client,
                        base_url,
                        secret.as_ref().map(|s| s.expose()),
                        headers,
                    )
                    .await
                };
                provider_verdict(&name, base_url, note.as_deref(), &probe, listed)
            }),
        ));
    }
    // What the running proxy routes to beyond the config: detected local servers, or presets
    // whose key is in the environment `aimux start` ran in (not this shell's).
    for (name, origin) in in_proxy.iter().flatten() {
        if name == "codex" || registry.get(name).is_some() {
            continue;
        }
        let what = match origin.as_str() {
            "detected" => "a local server the running proxy found",
            _ => "enabled in the running proxy with a key this shell does not have",
        };
        let check = Check::ok(format!("provider.{name}"), format!("{what}; not probed"));
        rows.push((name.clone(), Box::pin(async move { check })));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    futures_util::future::join_all(rows.into_iter().map(|(_, f)| f)).await
}

/// Runs `bin args` with a deadline: (exit success, stdout + stderr).
async fn run_quietly(
    bin: &std::path::Path,
    args: &[&str],
    codex_home: Option<&std::path::Path>,
) -> Result<(bool, String), String> {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(h) = codex_home {
        cmd.env("CODEX_HOME", h);
    }
    match tokio::time::timeout(PROCESS_TIMEOUT, cmd.output()).await {
        Err(_) => Err(format!(
            "`{} {}` did not finish within {} s",
            bin.display(),
            args.join(" "),
            PROCESS_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(format!("cannot run {}: {e}", bin.display())),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            Ok((out.status.success(), text))
        }
    }
}

/// The `codex` binary: `[codex] bin`, else `codex` on PATH.
fn codex_bin(inp: &Inputs) -> Result<PathBuf, String> {
    if let Some(bin) = &inp.file.codex.bin {
        return Ok(bin.clone());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    which::which_in("codex", inp.env.get("PATH"), cwd)
        .map_err(|_| "`codex` is not on PATH".to_owned())
}

/// `codex-cli 0.169.0` → (0, 169, 0).
pub fn parse_codex_version(out: &str) -> Option<(u64, u64, u64)> {
    let word = out
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("WARNING"))?
        .split_whitespace()
        .last()?;
    let mut parts = word
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|n| n.parse::<u64>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

pub async fn codex_cli(inp: &Inputs) -> Check {
    const ID: &str = "codex.cli";
    let (major, minor) = SUPPORTED_CODEX;
    let install = format!("install it: npm install -g @openai/codex@{major}.{minor}");
    let bin = match codex_bin(inp) {
        Ok(b) => b,
        Err(e) => return Check::fail(ID, e).hint(install),
    };
    let shown = crate::supervisor::tilde(&bin);
    match run_quietly(&bin, &["--version"], None).await {
        Err(e) => Check::fail(ID, e).hint(install),
        Ok((false, out)) => Check::fail(
            ID,
            format!(
                "`{shown} --version` failed: {}",
                out.lines().last().unwrap_or("").trim()
            ),
        )
        .hint(install),
        Ok((true, out)) => match parse_codex_version(&out) {
            Some((a, b, c)) if (a, b) == SUPPORTED_CODEX => {
                Check::ok(ID, format!("codex-cli {a}.{b}.{c} ({shown})"))
            }
            Some((a, b, c)) => Check::warn(
                ID,
                format!("codex-cli {a}.{b}.{c} ({shown}): aimux is tested with {major}.{minor}.x"),
            )
            .hint(format!(
                "if something misbehaves, use the tested version: npm install -g \
                 @openai/codex@{major}.{minor}"
            )),
            None => Check::warn(
                ID,
                format!(
                    "{shown} --version printed no version: {}",
                    out.lines().next().unwrap_or("").trim()
                ),
            ),
        },
    }
}

/// The codex backend (Chat Completions over `codex exec`): is it on, and is Codex logged in.
pub async fn codex_backend(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "provider.codex";
    let c = &inp.file.codex;
    let codex_home = c.codex_home.clone().or_else(|| inp.codex_home.clone());
    let bin = codex_bin(inp);
    let logged_in_file = codex_home
        .as_ref()
        .is_some_and(|h| h.join("auth.json").exists());
    let in_proxy = link.proxy.as_ref().and_then(|p| match &p.health {
        Health::Ok(body) => health::providers_of(body).map(|v| v.iter().any(|n| n == "codex")),
        _ => None,
    });
    let configured = inp
        .file
        .providers
        .as_ref()
        .is_some_and(|p| p.contains_key("codex"));
    let off_reason = match c.enabled {
        Some(false) => Some("off ([codex] enabled = false)".to_owned()),
        Some(true) => None,
        None if configured => None,
        None if inp.file.providers.is_some() => {
            Some("off ([providers] in aimux's config does not list codex)".to_owned())
        }
        None if bin.is_err() => Some("off (the Codex CLI is not installed)".to_owned()),
        None if !logged_in_file && in_proxy != Some(true) => {
            Some("off (Codex is not logged in; `codex login` turns it on)".to_owned())
        }
        None => None,
    };
    if let Some(reason) = off_reason {
        return Check::ok(ID, reason);
    }
    let bin = match bin {
        Ok(b) => b,
        Err(e) => {
            return Check::fail(ID, format!("on, but {e}"))
                .hint("install the Codex CLI (npm install -g @openai/codex), then `codex login`");
        }
    };
    match run_quietly(&bin, &["login", "status"], codex_home.as_deref()).await {
        Err(e) => Check::fail(ID, format!("on, but {e}")),
        Ok((true, out)) => {
            let how = if out.contains("ChatGPT") {
                " with ChatGPT"
            } else if out.contains("API key") {
                " with an API key"
            } else {
                ""
            };
            Check::ok(ID, format!("on: Codex is logged in{how}"))
        }
        Ok((false, _)) => Check::fail(ID, "on, but Codex is not logged in")
            .hint("run `codex login` (the backend uses your Codex login, no API key)"),
    }
}

/// What one streamed `/v1/responses` request gave.
#[derive(Debug, Default)]
struct Streamed {
    text: String,
    first_token: Option<Duration>,
    completed: bool,
    failed: Option<String>,
}

fn on_event(s: &mut Streamed, started: Instant, data: &[u8]) {
    let Ok(ev) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match ev["type"].as_str().unwrap_or("") {
        "response.output_text.delta" => {
            if s.first_token.is_none() {
                s.first_token = Some(started.elapsed());
            }
            s.text.push_str(ev["delta"].as_str().unwrap_or(""));
        }
        "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
            if s.first_token.is_none() {
                s.first_token = Some(started.elapsed());
            }
        }
        "response.completed" => s.completed = true,
        "response.failed" | "response.incomplete" => {
            s.failed = Some(
                ev["response"]["error"]["message"]
                    .as_str()
                    .or_else(|| ev["response"]["incomplete_details"]["reason"].as_str())
                    .unwrap_or("the response failed")
                    .to_owned(),
            );
        }
        "error" => {
            s.failed = Some(
                ev["message"]
                    .as_str()
                    .or_else(|| ev["error"]["message"].as_str())
                    .unwrap_or("error event")
                    .to_owned(),
            );
        }
        _ => {}
    }
}

/// One line of at most `max` characters.
fn short(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= max {
        one
    } else {
        one.chars().take(max - 1).collect::<String>() + "…"
    }
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// A real streamed request through bridge → proxy → the profile's model, with its latency.
pub async fn roundtrip(inp: &Inputs) -> Check {
    const ID: &str = "link.roundtrip";
    let Some(model) = inp.profile_model() else {
        return Check::fail(ID, "not run: the profile names no model to try")
            .hint("run `aimux setup` (or `aimux up`)");
    };
    let Some((root, _)) = bridge_root(inp) else {
        return Check::warn(ID, "not run: the bridge has no fixed address (port 0)");
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap_or_default();
    let body = json!({
        "model": model,
        "input": [{"role": "user", "content": [{"type": "input_text",
            "text": "This is a connectivity check. Reply with the single word: pong"}]}],
        "stream": true,
        "store": false,
    });
    let mut req = client
        .post(format!("{root}/v1/responses"))
        .header(
            "user-agent",
            concat!("aimux-doctor/", env!("CARGO_PKG_VERSION")),
        )
        .json(&body);
    if let Some(t) = inp.token() {
        req = req.bearer_auth(t);
    }
    let started = Instant::now();
    let run = async {
        let resp = req.send().await.map_err(|e| {
            if e.is_connect() {
                "the bridge is not answering".to_owned()
            } else {
                e.to_string()
            }
        })?;
        let status = resp.status().as_u16();
        let route = resp
            .headers()
            .get("x-aimux-route")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !(200..300).contains(&status) {
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let msg = body["error"]["message"].as_str().unwrap_or("no message");
            return Err(format!("HTTP {status}: {msg}"));
        }
        let mut s = Streamed::default();
        let mut dec = SseDecoder::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let bytes = chunk.map_err(|e| format!("the stream broke: {e}"))?;
            dec.push(&bytes, |data| on_event(&mut s, started, data));
            if s.completed || s.failed.is_some() {
                break;
            }
        }
        dec.finish(|data| on_event(&mut s, started, data));
        Ok((s, route))
    };
    let outcome = tokio::time::timeout(ROUNDTRIP_TIMEOUT, run).await;
    let total = started.elapsed();
    let (s, route) = match outcome {
        Err(_) => {
            return Check::fail(
                ID,
                format!(
                    "{model}: no complete answer within {} s",
                    ROUNDTRIP_TIMEOUT.as_secs()
                ),
            )
            .hint("`aimux logs` shows where it stalls");
        }
        Ok(Err(e)) => {
            return Check::fail(ID, format!("{model} through the bridge failed: {e}"))
                .hint("the rows above say which part is down; `aimux logs` has the details");
        }
        Ok(Ok(v)) => v,
    };
    if let Some(why) = s.failed {
        return Check::fail(ID, format!("{model} failed mid-stream: {why}"))
            .hint("`aimux logs` has the details");
    }
    if !s.completed {
        return Check::fail(
            ID,
            format!("{model}: the stream ended without response.completed"),
        )
        .hint("`aimux logs bridge` has the details");
    }
    let answer = if s.text.trim().is_empty() {
        "answered (no text)".to_owned()
    } else {
        format!("answered \"{}\"", short(&s.text, 40))
    };
    let via = route
        .filter(|r| r != model)
        .map_or(String::new(), |r| format!(" via {r}"));
    let first = s
        .first_token
        .map_or(String::new(), |d| format!(" (first token {})", ms(d)));
    Check::ok(ID, format!("{model}{via} {answer} in {}{first}", ms(total)))
}
