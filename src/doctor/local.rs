//! Checks that only read files: Codex's home, its config.toml, the aimux profile and catalog,
//! desktop and websearch state, aimux's config and credentials file. The link facts they compare
//! with (the running bridge's port, the routable models) come in a [`Link`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use toml_edit::DocumentMut;

use super::inputs::{Inputs, TomlFile};
use super::link::Link;
use super::{Check, Status};
use crate::codex_config::desktop::{DesktopRecord, DesktopStatus, record_path, status};
use crate::codex_config::get_str;
use crate::codex_config::profile::{
    PROFILE, PROVIDER, catalog_path, legacy_problems, profile_path,
};
use crate::proxy::registry::{Credentials, Detected, Registry};
use crate::settings::ProxySettings;
use crate::supervisor::tilde;

/// `aimux setup` fixes most profile problems.
const SETUP: &str = "run `aimux setup` (or `aimux up`)";

/// A problem message with a trailing `\nhint: ...` split into (summary, hint).
fn split_hint(problem: &str) -> (String, Option<String>) {
    match problem.split_once("\nhint: ") {
        Some((s, h)) => (s.to_owned(), Some(h.to_owned())),
        None => (problem.to_owned(), None),
    }
}

/// The first line of a (possibly multi-line) error message, and the rest.
fn first_line(message: &str) -> (String, Vec<String>) {
    let mut lines = message.lines().map(str::trim_end).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_owned();
    (first, lines.map(str::to_owned).collect())
}

/// Problems of one row, worst first: the first becomes the summary, the others details.
struct Problems {
    list: Vec<(Status, String, Option<String>)>,
}

impl Problems {
    fn new() -> Self {
        Problems { list: Vec::new() }
    }

    fn add(&mut self, status: Status, summary: impl Into<String>, hint: Option<&str>) {
        self.list
            .push((status, summary.into(), hint.map(str::to_owned)));
    }

    /// The row: `ok` with `fine` when there is no problem.
    fn into_check(mut self, id: &str, fine: String) -> Check {
        self.list.sort_by_key(|p| std::cmp::Reverse(p.0));
        let mut it = self.list.into_iter();
        let Some((status, summary, hint)) = it.next() else {
            return Check::ok(id, fine);
        };
        let mut check = Check::new(id, status, summary);
        check.hint = hint;
        for (_, s, _) in it {
            check.details.push(format!("also: {s}"));
        }
        check
    }
}

/// Whether this process may create files in `dir` (asked of the OS; nothing is written).
fn writable(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: access(2) reads a NUL-terminated path and has no other preconditions.
        unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
    }
}

pub fn codex_home(inp: &Inputs) -> Check {
    const ID: &str = "codex.home";
    let Some(home) = &inp.codex_home else {
        return Check::fail(ID, "cannot tell where Codex keeps its files")
            .hint("set CODEX_HOME (or HOME)");
    };
    let shown = tilde(home);
    match std::fs::metadata(home) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Check::warn(ID, format!("{shown} does not exist yet")).hint(format!(
                "{SETUP}: it creates {shown} with the profile and catalog"
            ))
        }
        Err(e) => Check::fail(ID, format!("cannot read {shown}: {e}")),
        Ok(m) if !m.is_dir() => Check::fail(ID, format!("{shown} is not a directory"))
            .hint("point CODEX_HOME at a directory"),
        Ok(_) if writable(home) => Check::ok(ID, format!("{shown} is writable")),
        Ok(_) => Check::fail(ID, format!("{shown} is not writable")).hint(format!(
            "Codex writes sessions and logs there: make it yours (chown, chmod u+w {shown})"
        )),
    }
}

/// Problems in a base config.toml that make Codex 0.169 refuse to run.
pub fn base_config_problems(doc: &DocumentMut) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = legacy_problems(doc, PROFILE)
        .iter()
        .map(|p| split_hint(p))
        .collect();
    if let Some(providers) = doc.get("model_providers").and_then(|p| p.as_table_like()) {
        for (name, item) in providers.iter() {
            if name == "openai" {
                out.push((
                    "config.toml defines [model_providers.openai]: Codex refuses to start \
                     (built-in provider ids cannot be overridden)"
                        .to_owned(),
                    Some("rename that table (for example [model_providers.openai-custom])".into()),
                ));
            }
            let wire = item
                .as_table_like()
                .and_then(|t| t.get("wire_api"))
                .and_then(|v| v.as_str());
            if let Some(wire) = wire.filter(|w| *w != "responses") {
                out.push((
                    format!(
                        "config.toml sets wire_api = \"{wire}\" in [model_providers.{name}]: \
                         Codex 0.169 refuses to start (it speaks only the Responses API)"
                    ),
                    Some(format!(
                        "set wire_api = \"responses\"; for a Chat Completions server, add it to \
                         aimux as [providers.{name}] and use `codex -p aimux`"
                    )),
                ));
            }
        }
    }
    out
}

pub fn codex_config(inp: &Inputs) -> Check {
    const ID: &str = "codex.config";
    let Some(home) = &inp.codex_home else {
        return Check::warn(ID, "not checked: Codex's home is unknown");
    };
    let path = home.join("config.toml");
    let shown = tilde(&path);
    match TomlFile::read(&path) {
        TomlFile::Missing => Check::ok(ID, format!("no {shown}: Codex's defaults")),
        TomlFile::Broken(e) => {
            let (first, rest) = first_line(&e);
            let mut c = Check::fail(ID, first)
                .hint("fix that line: Codex refuses to start until it parses");
            c.details = rest;
            c
        }
        TomlFile::Parsed(doc) => {
            let mut p = Problems::new();
            for (summary, hint) in base_config_problems(&doc) {
                p.add(Status::Fail, summary, hint.as_deref());
            }
            p.into_check(ID, format!("{shown} parses; no legacy profiles"))
        }
    }
}

/// Host and port of an http(s) URL (the scheme's default port when none is written).
pub fn url_port(url: &str) -> Option<(String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((u.host_str()?.to_owned(), u.port_or_known_default()?))
}

/// Where the bridge is, to compare a `base_url` with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeTarget {
    pub port: u16,
    /// It answered as an aimux bridge (else: where aimux would start it).
    pub running: bool,
    /// The port in aimux's settings, and where it came from.
    pub configured: Option<(u16, String)>,
}

/// A `base_url` that does not reach the bridge: (summary, hint).
pub fn base_url_problem(
    what: &str,
    base_url: &str,
    target: &BridgeTarget,
) -> Option<(String, String)> {
    let Some((host, port)) = url_port(base_url) else {
        return Some((
            format!("{what} base_url = {base_url:?} is not an http URL"),
            SETUP.to_owned(),
        ));
    };
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
    if port == target.port && loopback {
        return None;
    }
    if target.running {
        let hint = match &target.configured {
            Some((p, source)) if *p != target.port => format!(
                "the bridge runs on port {} but aimux's settings say {p} ({source}): restart it \
                 with `aimux stop && aimux up`, or set [bridge] port = {} in aimux's config",
                target.port, target.port
            ),
            _ => SETUP.to_owned(),
        };
        Some((
            format!(
                "{what} base_url {base_url} does not reach the bridge, which listens on \
                 127.0.0.1:{}",
                target.port
            ),
            hint,
        ))
    } else {
        let source = target
            .configured
            .as_ref()
            .map_or(String::new(), |(_, s)| format!(" ({s})"));
        Some((
            format!(
                "{what} base_url {base_url} does not reach aimux's bridge port {}{source}",
                target.port
            ),
            SETUP.to_owned(),
        ))
    }
}

pub fn profile(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "codex.profile";
    let Some(home) = &inp.codex_home else {
        return Check::fail(ID, "no profile: Codex's home is unknown").hint(SETUP);
    };
    let path = profile_path(home);
    let shown = tilde(&path);
    let doc = match &inp.profile {
        TomlFile::Missing => {
            return Check::fail(
                ID,
                format!(
                    "{shown} does not exist: `codex -p {PROFILE}` would quietly run on your base \
                     config"
                ),
            )
            .hint(SETUP);
        }
        TomlFile::Broken(e) => {
            let (first, rest) = first_line(e);
            let mut c = Check::fail(ID, first)
                .hint(format!("fix that line, or move the file away and {SETUP}"));
            c.details = rest;
            return c;
        }
        TomlFile::Parsed(doc) => doc,
    };
    let mut p = Problems::new();
    let provider = get_str(doc, &["model_provider"]);
    if provider != Some(PROVIDER) {
        p.add(
            Status::Fail,
            format!(
                "model_provider is {}, not \"{PROVIDER}\"",
                provider.map_or("unset".to_owned(), |v| format!("{v:?}"))
            ),
            Some(SETUP),
        );
    }
    let model = get_str(doc, &["model"]);
    if model.is_none() {
        p.add(
            Status::Fail,
            "no model: Codex would ask aimux for its own default (gpt-5)",
            Some("run `aimux setup --model SLUG` (`aimux models` lists them)"),
        );
    }
    let key = |k: &str| get_str(doc, &["model_providers", PROVIDER, k]);
    let base_url = key("base_url");
    match base_url {
        None => p.add(
            Status::Fail,
            format!("no base_url in [model_providers.{PROVIDER}]"),
            Some(SETUP),
        ),
        Some(url) => {
            if let Some(target) = link.bridge_target(inp)
                && let Some((summary, hint)) = base_url_problem("the profile's", url, &target)
            {
                p.add(Status::Fail, summary, Some(&hint));
            }
        }
    }
    if let Some(wire) = key("wire_api").filter(|w| *w != "responses") {
        p.add(
            Status::Fail,
            format!("wire_api = \"{wire}\": Codex 0.169 accepts only \"responses\""),
            Some(SETUP),
        );
    }
    match (key("env_key"), inp.token()) {
        (Some(var), _) if inp.env.get(var).is_none() => p.add(
            Status::Fail,
            format!("the profile sends the token from {var}, which is not set here: Codex stops with \"Missing environment variable\""),
            Some(&format!("export {var} (the aimux bridge's token) in the shell that runs codex")),
        ),
        (None, Some(_)) => p.add(
            Status::Fail,
            "the bridge requires a token, but the profile sends none",
            Some(SETUP),
        ),
        _ => {}
    }
    let fine = format!(
        "{shown}: model {} at {}",
        model.unwrap_or("?"),
        base_url.unwrap_or("?")
    );
    p.into_check(ID, fine)
}

/// The fields Codex 0.169 needs in every catalog entry (one of the last two suffices).
const REQUIRED: [&str; 10] = [
    "slug",
    "display_name",
    "supported_reasoning_levels",
    "shell_type",
    "visibility",
    "supported_in_api",
    "priority",
    "support_verbosity",
    "truncation_policy",
    "experimental_supported_tools",
];

/// The slugs of a catalog, or what makes it unreadable for Codex.
pub fn catalog_slugs(text: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let models = v["models"]
        .as_array()
        .ok_or("no `models` list (Codex reads {\"models\": [...]})")?;
    let mut slugs = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let slug = m["slug"].as_str().unwrap_or("?");
        if let Some(field) = REQUIRED.iter().find(|f| m.get(**f).is_none()) {
            return Err(format!("entry {} (`{slug}`) lacks `{field}`", i + 1));
        }
        if m.get("base_instructions").is_none()
            && m.pointer("/model_messages/instructions_template").is_none()
        {
            return Err(format!(
                "entry {} (`{slug}`) has neither `base_instructions` nor \
                 `model_messages.instructions_template`",
                i + 1
            ));
        }
        slugs.push(slug.to_owned());
    }
    if slugs.is_empty() {
        return Err("it lists no model".to_owned());
    }
    Ok(slugs)
}

/// Up to `n` names, then `(+k more)`.
pub fn some_of(names: &[String], n: usize) -> String {
    let mut s = names.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > n {
        s.push_str(&format!(" (+{} more)", names.len() - n));
    }
    s
}

/// The catalog row from its slugs, the routable ids (when the link answered) and the profile's
/// model.
pub fn catalog_verdict(
    shown: &str,
    slugs: &[String],
    routable: Option<&BTreeSet<String>>,
    model: Option<&str>,
) -> Check {
    const ID: &str = "codex.catalog";
    let mut p = Problems::new();
    if let Some(m) = model
        && !slugs.iter().any(|s| s == m)
    {
        p.add(
            Status::Warn,
            format!(
                "the profile's model {m} is not in {shown}: Codex falls back to generic \
                 metadata (no apply_patch tool)"
            ),
            Some(SETUP),
        );
    }
    let Some(routable) = routable else {
        return p.into_check(
            ID,
            format!(
                "{shown}: {} models (routability not checked: the link is not answering)",
                slugs.len()
            ),
        );
    };
    if let Some(m) = model
        && !routable.contains(m)
    {
        p.add(
            Status::Fail,
            format!("the profile's model {m} is not routable now"),
            Some("`aimux models` lists what is; pick one with `aimux setup --model SLUG`"),
        );
    }
    let gone: Vec<String> = slugs
        .iter()
        .filter(|s| !routable.contains(*s))
        .cloned()
        .collect();
    if !gone.is_empty() {
        p.add(
            Status::Warn,
            format!(
                "{} of {} models in {shown} are not routable now: {}",
                gone.len(),
                slugs.len(),
                some_of(&gone, 3)
            ),
            Some("run `aimux gen-catalog` (or `aimux setup`) to rebuild it from what the link routes"),
        );
    }
    let n = slugs.len();
    p.into_check(
        ID,
        format!(
            "{shown}: {n} model{}, all routable",
            if n == 1 { "" } else { "s" }
        ),
    )
}

pub fn catalog(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "codex.catalog";
    let Some(home) = &inp.codex_home else {
        return Check::fail(ID, "no catalog: Codex's home is unknown").hint(SETUP);
    };
    let doc = inp.profile.doc();
    let json_path = doc.and_then(|d| get_str(d, &["model_catalog_json"]));
    let url = doc.and_then(|d| get_str(d, &["model_providers", PROVIDER, "model_catalog_url"]));
    let path: PathBuf = match (json_path, url) {
        (Some(p), _) => PathBuf::from(p),
        (None, Some(url)) => {
            return if link.bridge_up() {
                Check::ok(
                    ID,
                    format!("served by the bridge at {url} (model_catalog_url): always current"),
                )
            } else {
                Check::fail(
                    ID,
                    format!(
                        "model_catalog_url {url}: the bridge is not answering, so Codex gets no \
                         catalog"
                    ),
                )
                .hint("start the link: `aimux up`")
            };
        }
        (None, None) if doc.is_some() => {
            return Check::warn(
                ID,
                "the profile names no catalog: Codex uses generic metadata and offers no \
                 apply_patch tool",
            )
            .hint(SETUP);
        }
        (None, None) => catalog_path(home),
    };
    let shown = tilde(&path);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let why = if json_path.is_some() {
                "the profile's model_catalog_json; Codex fails to start without it"
            } else {
                "no catalog yet"
            };
            return Check::fail(ID, format!("{shown} does not exist ({why})"))
                .hint("run `aimux setup` (or `aimux gen-catalog`)");
        }
        Err(e) => return Check::fail(ID, format!("cannot read {shown}: {e}")),
    };
    match catalog_slugs(&text) {
        Err(e) => Check::fail(ID, format!("{shown} is not a catalog Codex can read: {e}"))
            .hint("run `aimux gen-catalog` to rewrite it"),
        Ok(slugs) => catalog_verdict(
            &shown,
            &slugs,
            link.routable().as_ref(),
            inp.profile_model(),
        ),
    }
}

fn load_record(path: &Path) -> Result<Option<DesktopRecord>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

pub fn desktop(inp: &Inputs, link: &Link) -> Check {
    const ID: &str = "codex.desktop";
    let rec_path = record_path(&inp.home);
    let record = match load_record(&rec_path) {
        Ok(r) => r,
        Err(e) => {
            return Check::warn(ID, format!("{} is damaged: {e}", tilde(&rec_path))).hint(format!(
                "restore config.toml from a backup in {}, then delete {}",
                tilde(&inp.home.join("backups")),
                tilde(&rec_path)
            ));
        }
    };
    let config = match (&record, &inp.codex_home) {
        (Some(r), _) => r.config.clone(),
        (None, Some(h)) => h.join("config.toml"),
        (None, None) => return Check::ok(ID, "off"),
    };
    let doc = TomlFile::read(&config);
    let Some(doc) = doc.doc() else {
        return match record {
            Some(_) => Check::warn(ID, format!("on, but {} cannot be read", tilde(&config))),
            None => Check::ok(ID, "off (Codex Desktop uses your own config)"),
        };
    };
    match status(doc, record.as_ref()) {
        DesktopStatus::Off => {
            if get_str(doc, &["model_provider"]) == Some(PROVIDER) {
                Check::ok(
                    ID,
                    format!(
                        "off; {} sets model_provider = \"{PROVIDER}\" by hand",
                        tilde(&config)
                    ),
                )
            } else {
                Check::ok(ID, "off (Codex Desktop uses your own config)")
            }
        }
        DesktopStatus::On => {
            let since = record.as_ref().map_or("", |r| r.since.as_str());
            let base_url = get_str(doc, &["model_providers", PROVIDER, "base_url"]);
            if let (Some(url), Some(target)) = (base_url, link.bridge_target(inp))
                && let Some((summary, _)) = base_url_problem("Codex Desktop's", url, &target)
            {
                return Check::fail(ID, summary).hint(
                    "run `aimux desktop on` to point it at the bridge, then restart Codex Desktop",
                );
            }
            Check::ok(ID, format!("on since {since}: Codex Desktop uses aimux"))
        }
        DesktopStatus::Modified(keys) => {
            Check::warn(ID, format!("on, but changed since: {}", keys.join(", "))).hint(
                "`aimux desktop on` sets them again; `aimux desktop off` restores your config",
            )
        }
    }
}

pub fn aimux_config(inp: &Inputs) -> Check {
    const ID: &str = "aimux.config";
    let shown = tilde(&inp.config_path);
    if let Some(e) = &inp.config_error {
        let (first, rest) = first_line(e);
        let mut c = Check::fail(ID, first)
            .hint("fix the key it names: unknown keys are errors, so typos do not go unnoticed");
        c.details = rest;
        return c;
    }
    let settings_error = crate::settings::BridgeSettings::resolve(
        crate::cli::BridgeArgs::default(),
        &inp.env,
        &inp.file,
        &inp.config_path,
    )
    .err()
    .or_else(|| {
        ProxySettings::resolve(
            crate::cli::ProxyArgs::default(),
            &inp.env,
            &inp.file,
            &inp.config_path,
        )
        .err()
    });
    if let Some(e) = settings_error {
        return Check::fail(ID, format!("{e:#}"))
            .hint("fix that variable or key (flags > environment > config file > defaults)");
    }
    if let Err(e) = Registry::build(
        &inp.file,
        &inp.env,
        &Credentials::default(),
        Detected::default(),
    ) {
        return Check::fail(ID, format!("{shown}: {e}"))
            .hint("fix that [providers] entry (`aimux models` shows what aimux sees)");
    }
    if !inp.config_exists {
        return Check::ok(
            ID,
            format!("no {shown}: defaults, providers from the environment"),
        );
    }
    let providers = match &inp.file.providers {
        Some(p) => format!(
            "{} provider{} configured",
            p.len(),
            if p.len() == 1 { "" } else { "s" }
        ),
        None => "providers from the environment".to_owned(),
    };
    Check::ok(ID, format!("{shown} parses ({providers})"))
}

/// `$AIMUX_HOME/credentials.toml` and what it holds (names only), or why the proxy refuses it.
pub fn read_credentials(home: &Path) -> (Credentials, Check) {
    const ID: &str = "aimux.credentials";
    let path = home.join("credentials.toml");
    let shown = tilde(&path);
    let text = match crate::fsutil::read_text(&path) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return (
                Credentials::default(),
                Check::ok(ID, format!("no {shown}: keys come from the environment")),
            );
        }
        Err(e) => {
            return (
                Credentials::default(),
                Check::fail(ID, e.replace(&path.display().to_string(), &shown)),
            );
        }
    };
    let parsed = Credentials::parse(Path::new(&shown), &text);
    let mode = file_mode(&path);
    if let Some(mode) = mode.filter(|m| m & 0o077 != 0) {
        let check = Check::fail(
            ID,
            format!(
                "{shown} is readable by other users (mode {:o}); the proxy refuses to start \
                 with it",
                mode & 0o777
            ),
        )
        .hint(format!("chmod 600 {}", path.display()));
        return (parsed.unwrap_or_default(), check);
    }
    match parsed {
        Err(e) => {
            let (first, rest) = first_line(&e);
            let mut c =
                Check::fail(ID, first).hint("each entry is `[provider]` then `api_key = \"...\"`");
            c.details = rest;
            (Credentials::default(), c)
        }
        Ok(creds) => {
            let names = credential_names(&text);
            let summary = if names.is_empty() {
                format!("{shown} (mode 600) holds no keys")
            } else {
                format!("{shown} (mode 600): keys for {}", names.join(", "))
            };
            (creds, Check::ok(ID, summary))
        }
    }
}

pub fn credentials(inp: &Inputs) -> Check {
    read_credentials(&inp.home).1
}

/// The provider names in a credentials file (never the keys).
fn credential_names(text: &str) -> Vec<String> {
    text.parse::<toml::Table>()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

pub fn websearch(inp: &Inputs) -> Check {
    const ID: &str = "aimux.websearch";
    let ws = &inp.file.websearch;
    let codex_mode = inp.profile.doc().and_then(|d| get_str(d, &["web_search"]));
    if !ws.is_enabled() {
        if codex_mode == Some("live") {
            return Check::warn(
                ID,
                "off in aimux, but the profile sets web_search = \"live\": Codex offers a search \
                 tool nobody runs",
            )
            .hint("`aimux websearch off` (or `on`) makes both agree");
        }
        return Check::ok(ID, "off");
    }
    let provider = match ws.provider(&inp.env) {
        Ok(p) => p,
        Err(e) => {
            return Check::fail(ID, format!("on, but {e}"))
                .hint("complete [websearch] in aimux's config, or `aimux websearch off`");
        }
    };
    let what = match &provider {
        crate::websearch::Provider::Searxng { url } => format!("SearXNG at {url}"),
        crate::websearch::Provider::Brave { .. } => "Brave Search".to_owned(),
        crate::websearch::Provider::Tavily { .. } => "Tavily".to_owned(),
        crate::websearch::Provider::Exa { .. } => "Exa".to_owned(),
    };
    if inp.profile.doc().is_some() && codex_mode != Some("live") {
        return Check::warn(
            ID,
            format!(
                "on ({what}), but the profile's web_search is {}: Codex offers no search tool",
                codex_mode.map_or("unset".to_owned(), |m| format!("\"{m}\""))
            ),
        )
        .hint("`aimux websearch on` sets it");
    }
    Check::ok(ID, format!("on ({what})"))
}
