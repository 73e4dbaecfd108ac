//! The running link: where the bridge and the proxy should be, what their `/health` says (and,
//! when a port answers as something else, which process holds it), and the routable models,
//! asked of the bridge (which holds the bridge ↔ proxy secret doctor never sees).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use super::Check;
use super::inputs::Inputs;
use super::local::BridgeTarget;
use crate::cli::ProxyArgs;
use crate::commands::gen_catalog::connect_host;
use crate::settings::ProxySettings;
use crate::supervisor::health::{self, Health};
use crate::supervisor::procs;
use crate::supervisor::state::ChildState;

const START: &str = "start the link: `aimux up` (or `aimux start --detach`)";
pub const RESTART: &str = "restart the link: `aimux stop && aimux up`";

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

pub fn is_loopback_url(url: &str) -> bool {
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
