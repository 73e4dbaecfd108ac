//! Provider presets, embedded from `templates/presets.toml`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const PRESETS_TOML: &str = include_str!("../../templates/presets.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub base_url: String,
    /// The variable holding the API key.
    #[serde(default)]
    pub env_key: Option<String>,
    /// The key may be absent (a local server with optional auth).
    #[serde(default)]
    pub key_optional: bool,
    /// A server on this machine, enabled when it answers on its port.
    #[serde(default)]
    pub local: bool,
    /// The provider serves `GET /models`.
    #[serde(default)]
    pub live_models: bool,
    #[serde(default)]
    pub models: Vec<ModelInfo>,
}

/// What aimux knows about a model.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    pub id: String,
    /// Context window in tokens.
    #[serde(default)]
    pub context: Option<u64>,
    #[serde(default)]
    pub reasoning: bool,
    #[serde(default)]
    pub vision: bool,
    /// USD per 1M tokens: `[input, cached input, output]`.
    #[serde(default)]
    pub price: Option<[f64; 3]>,
}

impl ModelInfo {
    /// Estimated cost in USD, when the price is known.
    pub fn cost(&self, input: u64, cached: u64, output: u64) -> Option<f64> {
        let [p_in, p_cached, p_out] = self.price?;
        let fresh = input.saturating_sub(cached);
        Some((fresh as f64 * p_in + cached as f64 * p_cached + output as f64 * p_out) / 1e6)
    }
}

/// Every shipped preset by name.
pub fn presets() -> &'static BTreeMap<String, Preset> {
    static PRESETS: OnceLock<BTreeMap<String, Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| match toml::from_str(PRESETS_TOML) {
        Ok(p) => p,
        // The file is embedded and checked by a unit test; an error here is a build defect.
        Err(e) => panic!("templates/presets.toml is invalid: {e}"),
    })
}

pub fn preset(name: &str) -> Option<&'static Preset> {
    presets().get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_presets_parse_and_cover_the_spec() {
        let p = presets();
        for name in [
            "openai",
            "deepseek",
            "zhipu",
            "zhipu-coding",
            "moonshot",
            "dashscope",
            "modelscope",
            "siliconflow",
            "openrouter",
            "groq",
            "ollama",
            "lmstudio",
            "vllm",
            "llamacpp",
            "clawrouter",
            "litellm",
            "openclaw",
        ] {
            let preset = p
                .get(name)
                .unwrap_or_else(|| panic!("preset {name} missing"));
            assert!(preset.base_url.starts_with("http"), "{name}");
            assert!(
                preset.local || preset.env_key.is_some(),
                "{name} needs a key or to be local"
            );
            if !preset.local {
                assert!(!preset.models.is_empty(), "{name} lists known models");
            }
        }
        assert_eq!(
            p["zhipu-coding"].base_url,
            "https://open.bigmodel.cn/api/coding/paas/v4"
        );
        assert_eq!(p["zhipu"].env_key.as_deref(), Some("GLM_API_KEY"));
        assert_eq!(
            p["modelscope"].base_url,
            "https://api-inference.modelscope.cn/v1"
        );
        assert_eq!(p["openclaw"].base_url, "http://127.0.0.1:18789/v1");
    }

    #[test]
    fn cost_counts_cached_tokens_at_their_price() {
        let m = ModelInfo {
            id: "x".into(),
            price: Some([1.0, 0.1, 2.0]),
            ..Default::default()
        };
        let cost = m.cost(1_000_000, 500_000, 1_000_000).unwrap();
        assert!((cost - (0.5 + 0.05 + 2.0)).abs() < 1e-9, "{cost}");
        assert_eq!(ModelInfo::default().cost(1, 0, 1), None);
    }
}
