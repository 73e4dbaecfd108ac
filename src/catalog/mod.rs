//! The Codex model catalog (`model_catalog_json` / `model_catalog_url`), built from the proxy's
//! `GET /v1/models` list. Pure: no I/O; the same list always gives the same bytes, so the file
//! `aimux gen-catalog` writes and the one the bridge serves at `/v1/aimux/catalog` are identical.
//!
//! What goes in:
//!
//! * every routable id, as the proxy names it (`provider/model`, route aliases, `aimux:AGENT`),
//!   so Codex's `model` is exactly what the bridge → proxy routing understands. The `codex`
//!   backend is left out: Codex driving `codex exec` through aimux is a second agent with no
//!   tools, not a model.
//! * per model, what the proxy knows: `context_window` (omitted when unknown, never guessed),
//!   `input_modalities` (`image` only with vision), reasoning levels only for reasoning models,
//!   and the fixed bridge settings every entry needs (`apply_patch_tool_type = "freeform"`,
//!   `shell_type`, `truncation_policy`, ...). A route or agent gets the most restrictive metadata
//!   of its targets (smallest window; image or reasoning only if every target has it), since a
//!   fallback may serve any of them.
//!
//! Order (`priority`, 1 first; Codex's picker and `aimux setup`'s default follow it):
//!
//! 1. routes (`[routes]`, by name) and then agents (`[agents]`): names the user chose;
//! 2. models aimux has metadata for (preset or `[providers.X] models`), by provider group:
//!    providers defined by hand in the config, then the model makers' own APIs (deepseek, zhipu,
//!    moonshot, dashscope, openai), then aggregators (openrouter, siliconflow, modelscope, groq),
//!    then local gateways (litellm, clawrouter, openclaw), then local servers (vllm, llama.cpp,
//!    LM Studio, Ollama); within a provider, in its list order (presets list the flagship first);
//! 3. the remaining ids of providers' live `/models` lists, hidden from the picker
//!    (`visibility = "hide"`, still usable with `-m`) when that provider also has curated models
//!    (OpenRouter lists hundreds), listed otherwise (an Ollama has nothing but its live list).
//!
//! No version-number guessing: the order comes from the config and the curated preset lists.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Our own base prompt, used in every entry (Codex's own prompt, when installed, is shared
/// through `model_instructions_file` instead of being copied into every entry).
pub const AIMUX_INSTRUCTIONS: &str = include_str!("../../templates/codex-instructions.md");

/// `{"models": [...]}`, the shape Codex 0.169 reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub models: Vec<CatalogModel>,
}

/// One Codex `ModelInfo`. Field order is output order; every field Codex 0.169 requires is here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogModel {
    pub slug: String,
    pub display_name: String,
    pub description: String,
    pub priority: u32,
    pub visibility: Visibility,
    pub supported_in_api: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    pub input_modalities: Vec<String>,
    pub supported_reasoning_levels: Vec<ReasoningLevel>,
    pub supports_reasoning_summary_parameter: bool,
    pub support_verbosity: bool,
    pub shell_type: String,
    pub apply_patch_tool_type: String,
    pub truncation_policy: TruncationPolicy,
    pub experimental_supported_tools: Vec<String>,
    pub base_instructions: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    List,
    Hide,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningLevel {
    pub effort: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationPolicy {
    pub mode: String,
    pub limit: u64,
}

impl Catalog {
    /// The entry Codex would list first among the visible ones: the default model.
    pub fn best(&self) -> Option<&CatalogModel> {
        self.models
            .iter()
            .filter(|m| m.visibility == Visibility::List)
            .min_by_key(|m| m.priority)
    }

    pub fn get(&self, slug: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|m| m.slug == slug)
    }

    /// `slug` itself, or the one entry `provider/slug` when `slug` is a bare model id.
    pub fn resolve(&self, slug: &str) -> Option<&CatalogModel> {
        if let Some(m) = self.get(slug) {
            return Some(m);
        }
        let suffix = format!("/{slug}");
        let mut matches = self.models.iter().filter(|m| m.slug.ends_with(&suffix));
        match (matches.next(), matches.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }

    /// Pretty JSON with a trailing newline: what is written and served.
    pub fn render(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// One entry of the proxy's `/v1/models` list, read leniently.
#[derive(Debug, Clone, Default, PartialEq)]
struct Listed {
    id: String,
    owner: String,
    context: Option<u64>,
    vision: Option<bool>,
    reasoning: Option<bool>,
    /// USD per 1M tokens, input and output.
    price: Option<(f64, f64)>,
    route: Option<Vec<String>>,
    agent: Option<String>,
}

impl Listed {
    fn parse(v: &Value) -> Option<Listed> {
        let id = v["id"].as_str()?.to_owned();
        let owner = v["owned_by"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| id.split_once('/').map(|(p, _)| p.to_owned()))
            .unwrap_or_default();
        let modalities = v["input_modalities"].as_array();
        Some(Listed {
            context: v["context_window"].as_u64(),
            vision: modalities.map(|a| a.iter().any(|m| m == "image")),
            reasoning: v["reasoning"].as_bool(),
            price: match (
                v["pricing"]["input"].as_f64(),
                v["pricing"]["output"].as_f64(),
            ) {
                (Some(i), Some(o)) => Some((i, o)),
                _ => None,
            },
            route: v["route"].as_array().map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            }),
            agent: v["agent"].as_str().map(str::to_owned),
            id,
            owner,
        })
    }

    /// aimux has metadata for it (a preset or config entry), not just an id from a live list.
    fn known(&self) -> bool {
        self.reasoning.is_some()
    }

    fn is_codex_backend(&self) -> bool {
        self.id == "codex" || self.id.starts_with("codex/") || self.owner == "codex"
    }
}

/// What a slug inherits for Codex: the fields that differ between models.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Meta {
    context: Option<u64>,
    vision: bool,
    reasoning: bool,
}

/// The provider groups of the priority rule (see the module docs); lower is first.
pub fn provider_rank(provider: &str) -> (u8, u8) {
    const GROUPS: [&[&str]; 4] = [
        &[
            "deepseek",
            "zhipu-coding",
            "zhipu",
            "moonshot",
            "dashscope",
            "openai",
        ],
        &["openrouter", "siliconflow", "modelscope", "groq"],
        &["litellm", "clawrouter", "openclaw"],
        &["vllm", "llamacpp", "lmstudio", "ollama"],
    ];
    for (g, names) in GROUPS.iter().enumerate() {
        if let Some(i) = names.iter().position(|n| *n == provider) {
            return (g as u8 + 1, i as u8);
        }
    }
    if crate::proxy::presets::preset(provider).is_some() {
        // A preset added later and not ranked yet: after the ranked remote ones.
        (2, u8::MAX)
    } else {
        // Not a preset: a provider the user defined by hand.
        (0, 0)
    }
}

/// (tier, provider rank, position in the proxy's list).
type SortKey = (u8, (u8, u8), usize);

/// Builds the catalog from a `/v1/models` list (`{"data": [...]}`).
pub fn build(list: &Value) -> Catalog {
    let listed: Vec<Listed> = list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Listed::parse)
        .filter(|l| !l.is_codex_backend())
        .collect();

    let curated_owners: Vec<&str> = listed
        .iter()
        .filter(|l| l.known())
        .map(|l| l.owner.as_str())
        .collect();

    let mut keyed: Vec<(SortKey, &Listed)> = Vec::new();
    for (index, l) in listed.iter().enumerate() {
        let tier = if l.route.is_some() {
            0
        } else if l.agent.is_some() {
            1
        } else if l.known() || !curated_owners.contains(&l.owner.as_str()) {
            2
        } else {
            3
        };
        let rank = if tier >= 2 {
            provider_rank(&l.owner)
        } else {
            (0, 0)
        };
        keyed.push(((tier, rank, index), l));
    }
    keyed.sort_by_key(|(k, _)| *k);

    let mut models: Vec<CatalogModel> = Vec::new();
    for ((tier, _, _), l) in keyed {
        if models.iter().any(|m| m.slug == l.id) {
            continue;
        }
        let meta = resolve_meta(&listed, &l.id, 0);
        let priority = models.len() as u32 + 1;
        models.push(entry(l, meta, priority, tier));
    }
    Catalog { models }
}

/// Metadata of `id`: its own, or for a route/agent the most restrictive of its targets'.
fn resolve_meta(listed: &[Listed], id: &str, depth: u8) -> Meta {
    let Some(l) = find(listed, id) else {
        return Meta::default();
    };
    let targets: Vec<&str> = match (&l.route, &l.agent) {
        (Some(route), _) => route.iter().map(String::as_str).collect(),
        (None, Some(agent)) => vec![agent.as_str()],
        (None, None) => {
            return Meta {
                context: l.context,
                vision: l.vision.unwrap_or(false),
                reasoning: l.reasoning.unwrap_or(false),
            };
        }
    };
    if depth > 4 || targets.is_empty() {
        return Meta::default();
    }
    let metas: Vec<Meta> = targets
        .iter()
        .map(|t| resolve_meta(listed, t, depth + 1))
        .collect();
    Meta {
        context: metas.iter().filter_map(|m| m.context).min(),
        vision: metas.iter().all(|m| m.vision),
        reasoning: metas.iter().all(|m| m.reasoning),
    }
}

/// An exact id, else the one `provider/id` for a bare id (how the proxy resolves them too).
fn find<'a>(listed: &'a [Listed], id: &str) -> Option<&'a Listed> {
    if let Some(l) = listed.iter().find(|l| l.id == id) {
        return Some(l);
    }
    let suffix = format!("/{id}");
    let mut it = listed
        .iter()
        .filter(|l| l.route.is_none() && l.agent.is_none() && l.id.ends_with(&suffix));
    match (it.next(), it.next()) {
        (Some(l), None) => Some(l),
        _ => None,
    }
}

fn entry(l: &Listed, meta: Meta, priority: u32, tier: u8) -> CatalogModel {
    let mut input_modalities = vec!["text".to_owned()];
    if meta.vision {
        input_modalities.push("image".to_owned());
    }
    let supported_reasoning_levels = if meta.reasoning {
        [
            ("low", "Faster answers, lighter reasoning"),
            ("medium", "Balances speed and reasoning depth"),
            ("high", "Deeper reasoning for hard problems"),
        ]
        .into_iter()
        .map(|(effort, description)| ReasoningLevel {
            effort: effort.to_owned(),
            description: description.to_owned(),
        })
        .collect()
    } else {
        Vec::new()
    };
    CatalogModel {
        slug: l.id.clone(),
        display_name: l.id.clone(),
        description: describe(l, meta),
        priority,
        visibility: if tier == 3 {
            Visibility::Hide
        } else {
            Visibility::List
        },
        supported_in_api: true,
        context_window: meta.context,
        input_modalities,
        supported_reasoning_levels,
        supports_reasoning_summary_parameter: false,
        support_verbosity: false,
        shell_type: "shell_command".to_owned(),
        apply_patch_tool_type: "freeform".to_owned(),
        truncation_policy: TruncationPolicy {
            mode: "tokens".to_owned(),
            limit: 10_000,
        },
        experimental_supported_tools: Vec::new(),
        base_instructions: AIMUX_INSTRUCTIONS.to_owned(),
    }
}

/// `deepseek · 128k context · reasoning · $0.28/$0.42 per 1M tokens, via aimux`.
fn describe(l: &Listed, meta: Meta) -> String {
    let mut parts = Vec::new();
    match (&l.route, &l.agent) {
        (Some(route), _) if route.len() > 1 => {
            parts.push(format!("route: {} (fallback chain)", route.join(" → ")))
        }
        (Some(route), _) => parts.push(format!("alias of {}", route.join(""))),
        (None, Some(agent)) => parts.push(format!("agent on {agent}")),
        (None, None) => parts.push(l.owner.clone()),
    }
    if let Some(c) = meta.context {
        parts.push(format!("{} context", human_tokens(c)));
    }
    if meta.vision {
        parts.push("images".to_owned());
    }
    if meta.reasoning {
        parts.push("reasoning".to_owned());
    }
    if let Some((i, o)) = l.price {
        parts.push(format!("${i}/${o} per 1M tokens"));
    }
    if l.route.is_none() && l.agent.is_none() && !l.known() {
        parts.push("from the provider's live list".to_owned());
    }
    format!("{}, via aimux", parts.join(" · "))
}

fn human_tokens(n: u64) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else {
        format!("{}k", n / 1000)
    }
}

/// Codex's own base prompt from its bundled catalog (`codex debug models --bundled`): the
/// `base_instructions` of the visible `gpt-5*` model Codex ranks highest. `None` when the JSON
/// has no such model.
pub fn codex_prompt_from_bundled(bundled: &Value) -> Option<(String, String)> {
    bundled["models"]
        .as_array()?
        .iter()
        .filter(|m| {
            m["slug"].as_str().is_some_and(|s| s.starts_with("gpt-5"))
                && m["visibility"] == "list"
                && m["base_instructions"]
                    .as_str()
                    .is_some_and(|b| !b.trim().is_empty())
        })
        .min_by_key(|m| m["priority"].as_i64().unwrap_or(i64::MAX))
        .and_then(|m| {
            Some((
                m["slug"].as_str()?.to_owned(),
                m["base_instructions"].as_str()?.to_owned(),
            ))
        })
}

#[cfg(test)]
mod tests;
