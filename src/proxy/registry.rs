//! The set of providers the proxy can route to, built from the config file, the environment, the
//! credential file and the shipped presets. Pure: detection of local servers and of a logged-in
//! `codex` happens at the edges and is passed in.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::config::{ProviderFile, Wire};
use super::presets::{ModelInfo, Preset, preset, presets};
use crate::settings::{Env, FileConfig};

/// A credential. Its `Debug`/`Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `[providers.NAME]` in the config file.
    Config,
    /// A preset enabled because its key is in the environment or the credential file.
    Key,
    /// A local server that answered on its port.
    Detected,
    /// `codex` on PATH and logged in.
    CodexLogin,
}

/// What every request to an HTTP provider carries, parsed when the config loads instead of
/// on each request.
#[derive(Debug)]
pub struct Outbound {
    pub chat_url: reqwest::Url,
    pub responses_url: reqwest::Url,
    pub models_url: reqwest::Url,
    /// `Authorization` (marked sensitive) and the provider's extra headers.
    pub headers: reqwest::header::HeaderMap,
    /// Why this provider's requests cannot be sent as configured (a key or header that is not a
    /// valid header value, such as a key with a stray line break): each request to it fails
    /// with this, and the other providers are unaffected.
    pub problem: Option<String>,
}

impl Outbound {
    fn new(
        name: &str,
        base_url: &str,
        key: Option<&Secret>,
        extra: Option<&BTreeMap<String, String>>,
    ) -> Result<Self, String> {
        use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
        let url = |path: &str| {
            reqwest::Url::parse(&format!("{base_url}/{path}"))
                .map_err(|e| format!("providers.{name}: base_url {base_url:?}: {e}"))
        };
        let mut headers = HeaderMap::new();
        let mut problem = None;
        if let Some(key) = key {
            match HeaderValue::from_str(&format!("Bearer {}", key.expose())) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    headers.insert(AUTHORIZATION, value);
                }
                Err(_) => {
                    problem = Some(format!(
                        "provider {name}'s API key is not a valid header value (a line break or \
                         control character in it?)"
                    ));
                }
            }
        }
        for (k, v) in extra.into_iter().flatten() {
            match (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                (Ok(k), Ok(v)) => {
                    headers.append(k, v);
                }
                _ => {
                    problem.get_or_insert_with(|| {
                        format!("providers.{name}.headers: {k:?} is not a valid header")
                    });
                }
            }
        }
        Ok(Outbound {
            chat_url: url("chat/completions")?,
            responses_url: url("responses")?,
            models_url: url("models")?,
            headers,
            problem,
        })
    }
}

#[derive(Debug)]
pub enum ProviderKind {
    Http {
        base_url: String,
        key: Option<Secret>,
        /// Where the key should come from, for the hint when it is missing.
        key_source: Option<String>,
        key_required: bool,
        timeout: Option<Duration>,
        /// Built once: the endpoint URLs and the request headers (key and the config's
        /// `headers`) every call sends.
        outbound: Box<Outbound>,
    },
    /// The `codex exec` backend.
    Codex,
}

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    /// Models from the preset and the config.
    pub models: Vec<ModelInfo>,
    /// Ids from the provider's live `/models`, refreshed by the proxy.
    pub live: RwLock<Vec<String>>,
    pub live_models: bool,
    pub origin: Origin,
    /// The API the provider speaks: Chat Completions, or only the Responses API.
    pub wire: Wire,
}

impl Provider {
    /// What aimux knows of `model` (preset metadata), if anything.
    pub fn model_info(&self, model: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == model)
    }

    /// Whether the provider is known to serve `model`.
    pub fn has_model(&self, model: &str) -> bool {
        self.model_info(model).is_some()
            || self
                .live
                .read()
                .is_ok_and(|live| live.iter().any(|m| m == model))
    }

    pub fn is_codex(&self) -> bool {
        matches!(self.kind, ProviderKind::Codex)
    }

    /// The secret to scrub from anything shown to a client or written to a log.
    pub fn secret(&self) -> Option<&Secret> {
        match &self.kind {
            ProviderKind::Http { key, .. } => key.as_ref(),
            ProviderKind::Codex => None,
        }
    }
}

/// `$AIMUX_HOME/credentials.toml`: `[NAME] api_key = "..."`.
#[derive(Debug, Default, Clone)]
pub struct Credentials {
    keys: BTreeMap<String, Secret>,
}

impl Credentials {
    /// `text`, read from `path`; an error names the file, line and column, never a key.
    pub fn parse(path: &std::path::Path, text: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            api_key: String,
        }
        let entries: BTreeMap<String, Entry> = toml::from_str(text)
            .map_err(|e| crate::fsutil::toml_problem(path, text, e.span(), e.message(), true))?;
        Ok(Credentials {
            keys: entries
                .into_iter()
                .map(|(k, v)| (k, Secret(v.api_key)))
                .collect(),
        })
    }

    pub fn get(&self, provider: &str) -> Option<&Secret> {
        self.keys.get(provider)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[derive(Debug, Default, Clone)]
pub struct Registry {
    providers: BTreeMap<String, Arc<Provider>>,
    /// Local presets to probe (auto mode): `(name, preset)`.
    pub local_candidates: Vec<(String, &'static Preset)>,
}

/// What the edges found out about the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Detected {
    /// `codex` is on PATH and logged in.
    pub codex_ready: bool,
}

fn http_provider(
    name: &str,
    preset: Option<&Preset>,
    file: Option<&ProviderFile>,
    env: &Env,
    creds: &Credentials,
    origin: Origin,
) -> Result<Provider, String> {
    let base_url = file
        .and_then(|f| f.base_url.clone())
        .or_else(|| preset.map(|p| p.base_url.clone()))
        .ok_or_else(|| format!("providers.{name}: needs `base_url` or a known `preset`"))?;
    let base_url = crate::bridge::normalize_upstream(&base_url)
        .map_err(|e| format!("providers.{name}: {e}"))?;
    let env_key = file
        .and_then(|f| f.env_key.clone())
        .or_else(|| preset.and_then(|p| p.env_key.clone()));
    let key = env_key
        .as_deref()
        .and_then(|var| env.get(var))
        .map(Secret::new)
        .or_else(|| creds.get(name).cloned());
    let key_required = match preset {
        Some(p) => p.env_key.is_some() && !p.key_optional && !p.local,
        None => env_key.is_some(),
    };
    let mut models: Vec<ModelInfo> = preset.map(|p| p.models.clone()).unwrap_or_default();
    if let Some(f) = file {
        for entry in f.models.iter().cloned() {
            let info = entry.into_info();
            models.retain(|m| m.id != info.id);
            models.push(info);
        }
    }
    let extra = file.map(|f| &f.headers);
    let outbound = Box::new(Outbound::new(name, &base_url, key.as_ref(), extra)?);
    Ok(Provider {
        name: name.to_owned(),
        kind: ProviderKind::Http {
            base_url,
            key,
            key_source: env_key,
            key_required,
            timeout: file.and_then(|f| f.timeout_s).map(Duration::from_secs),
            outbound,
        },
        models,
        live: RwLock::new(Vec::new()),
        live_models: preset.is_none_or(|p| p.live_models),
        origin,
        wire: file.map(|f| f.wire).unwrap_or_default(),
    })
}

fn codex_provider(origin: Origin) -> Provider {
    Provider {
        name: "codex".to_owned(),
        kind: ProviderKind::Codex,
        models: Vec::new(),
        live: RwLock::new(Vec::new()),
        live_models: false,
        origin,
        wire: Wire::Chat,
    }
}

impl Registry {
    pub fn build(
        file: &FileConfig,
        env: &Env,
        creds: &Credentials,
        detected: Detected,
    ) -> Result<Self, String> {
        let mut reg = Registry::default();
        match &file.providers {
            Some(configured) => {
                for (name, pf) in configured {
                    if pf.enabled == Some(false) {
                        continue;
                    }
                    if name == "codex" || pf.preset.as_deref() == Some("codex") {
                        reg.insert(codex_provider(Origin::Config));
                        continue;
                    }
                    let preset_name = pf.preset.as_deref().unwrap_or(name);
                    let p = preset(preset_name);
                    if pf.preset.is_some() && p.is_none() {
                        return Err(format!(
                            "providers.{name}: unknown preset {preset_name:?} (known: {})",
                            presets().keys().cloned().collect::<Vec<_>>().join(", ")
                        ));
                    }
                    reg.insert(http_provider(
                        name,
                        p,
                        Some(pf),
                        env,
                        creds,
                        Origin::Config,
                    )?);
                }
            }
            None => {
                for (name, p) in presets() {
                    if p.local {
                        reg.local_candidates.push((name.clone(), p));
                        continue;
                    }
                    let has_key = p.env_key.as_deref().is_some_and(|v| env.get(v).is_some())
                        || creds.get(name).is_some();
                    // Both GLM presets read GLM_API_KEY; the general endpoint is the default.
                    if has_key && name != "zhipu-coding" {
                        reg.insert(http_provider(name, Some(p), None, env, creds, Origin::Key)?);
                    }
                }
            }
        }
        let codex_wanted = match file.codex.enabled {
            Some(on) => on,
            None => detected.codex_ready && file.providers.is_none(),
        };
        if codex_wanted && !reg.providers.contains_key("codex") {
            reg.insert(codex_provider(Origin::CodexLogin));
        }
        Ok(reg)
    }

    fn insert(&mut self, p: Provider) {
        self.providers.insert(p.name.clone(), Arc::new(p));
    }

    /// Adds a local server that answered its probe.
    pub fn add_detected(&mut self, name: &str, preset: &Preset, live: Vec<String>) {
        let env = Env::default();
        if let Ok(p) = http_provider(
            name,
            Some(preset),
            None,
            &env,
            &Credentials::default(),
            Origin::Detected,
        ) {
            if let Ok(mut l) = p.live.write() {
                *l = live;
            }
            self.insert(p);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        self.providers.get(name)
    }

    pub fn providers(&self) -> impl Iterator<Item = &Arc<Provider>> {
        self.providers.values()
    }

    pub fn len(&self) -> usize {
        self.providers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::parse_file;

    fn names(reg: &Registry) -> Vec<&str> {
        reg.providers().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn auto_mode_enables_presets_with_keys_and_codex() {
        let env = Env::from_pairs([("DEEPSEEK_API_KEY", "sk-d"), ("GLM_API_KEY", "g")]);
        let creds =
            Credentials::parse(std::path::Path::new("c"), "[groq]\napi_key = \"gsk\"\n").unwrap();
        let reg = Registry::build(
            &FileConfig::default(),
            &env,
            &creds,
            Detected { codex_ready: true },
        )
        .unwrap();
        assert_eq!(names(&reg), ["codex", "deepseek", "groq", "zhipu"]);
        assert!(reg.local_candidates.iter().any(|(n, _)| n == "ollama"));
        let ProviderKind::Http { key, .. } = &reg.get("groq").unwrap().kind else {
            panic!()
        };
        assert_eq!(key.as_ref().map(Secret::expose), Some("gsk"));
        assert!(
            !format!("{:?}", reg.get("deepseek")).contains("sk-d"),
            "Debug never shows keys"
        );
    }

    #[test]
    fn configured_providers_replace_auto_mode() {
        let file = parse_file(
            "[providers.mine]\nbase_url = \"http://127.0.0.1:9/v1\"\nmodels = [\"m1\", { id = \"m2\", context = 1000 }]\n\
             [providers.ds]\npreset = \"deepseek\"\nenv_key = \"MY_DS\"\n",
        )
        .unwrap();
        let env = Env::from_pairs([("MY_DS", "k"), ("OPENAI_API_KEY", "ignored")]);
        let reg = Registry::build(
            &file,
            &env,
            &Credentials::default(),
            Detected { codex_ready: true },
        )
        .unwrap();
        assert_eq!(names(&reg), ["ds", "mine"]);
        let mine = reg.get("mine").unwrap();
        assert!(mine.has_model("m1") && mine.has_model("m2"));
        assert_eq!(mine.model_info("m2").and_then(|m| m.context), Some(1000));
        assert!(reg.get("ds").unwrap().has_model("deepseek-chat"));
        // Endpoints and headers are built once, the key sent as a sensitive bearer.
        let ProviderKind::Http { outbound, .. } = &reg.get("ds").unwrap().kind else {
            panic!()
        };
        assert_eq!(
            outbound.chat_url.as_str(),
            "https://api.deepseek.com/v1/chat/completions"
        );
        assert!(outbound.responses_url.as_str().ends_with("/v1/responses"));
        let auth = &outbound.headers[reqwest::header::AUTHORIZATION];
        assert_eq!(auth, "Bearer k");
        assert!(auth.is_sensitive());
        assert_eq!(outbound.problem, None);
    }

    #[test]
    fn a_key_or_header_that_cannot_be_sent_fails_only_its_provider() {
        let file = parse_file(
            "[providers.a]\nbase_url = \"http://h/v1\"\nheaders = { \"bad name\" = \"v\", \"x-ok\" = \"1\" }\n\
             [providers.b]\nbase_url = \"http://h/v1\"\nheaders = { \"x-b\" = \"line\\nbreak\" }\n\
             [providers.ds]\npreset = \"deepseek\"\n\
             [providers.fine]\nbase_url = \"http://h/v1\"\n",
        )
        .unwrap();
        let env = Env::from_pairs([("DEEPSEEK_API_KEY", "sk-d\r")]);
        let reg =
            Registry::build(&file, &env, &Credentials::default(), Detected::default()).unwrap();
        let problem = |name: &str| {
            let ProviderKind::Http { outbound, .. } = &reg.get(name).unwrap().kind else {
                panic!()
            };
            outbound.problem.clone()
        };
        let a = problem("a").unwrap();
        assert!(a.contains("providers.a.headers: \"bad name\""), "{a}");
        assert!(problem("b").unwrap().contains("\"x-b\""));
        let ds = problem("ds").unwrap();
        assert!(
            ds.contains("provider ds's API key is not a valid header value"),
            "{ds}"
        );
        assert!(!ds.contains("sk-d"), "never the key itself: {ds}");
        assert_eq!(problem("fine"), None);
    }

    #[test]
    fn config_errors_name_the_provider() {
        let cases = [
            ("[providers.x]\n", "providers.x: needs `base_url`"),
            (
                "[providers.x]\npreset = \"nope\"\n",
                "unknown preset \"nope\"",
            ),
            ("[providers.x]\nbase_url = \"ftp://h\"\n", "providers.x:"),
        ];
        for (toml, want) in cases {
            let file = parse_file(toml).unwrap();
            let err = Registry::build(
                &file,
                &Env::default(),
                &Credentials::default(),
                Detected::default(),
            )
            .unwrap_err();
            assert!(err.contains(want), "{toml}: {err}");
        }
    }
}
