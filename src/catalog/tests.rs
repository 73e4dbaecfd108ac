use serde_json::json;

use super::*;

fn known(id: &str, owner: &str, context: u64, vision: bool, reasoning: bool) -> Value {
    let modalities = if vision {
        json!(["text", "image"])
    } else {
        json!(["text"])
    };
    json!({"id": id, "object": "model", "owned_by": owner, "context_window": context,
           "input_modalities": modalities, "reasoning": reasoning})
}

fn live(id: &str, owner: &str) -> Value {
    json!({"id": id, "object": "model", "owned_by": owner})
}

fn slugs(c: &Catalog) -> Vec<(&str, u32, Visibility)> {
    c.models
        .iter()
        .map(|m| (m.slug.as_str(), m.priority, m.visibility))
        .collect()
}

#[test]
fn priority_rule_routes_agents_then_provider_groups_then_hidden_extras() {
    use Visibility::{Hide, List};
    // The proxy lists providers alphabetically; the rule, not that order, decides.
    let list = json!({"data": [
        json!({"id": "codex", "owned_by": "codex"}),
        known("deepseek/deepseek-chat", "deepseek", 128000, false, false),
        known("deepseek/deepseek-reasoner", "deepseek", 128000, false, true),
        live("ollama/qwen3:8b", "ollama"),
        known("openrouter/z-ai/glm-4.6", "openrouter", 202752, false, true),
        live("openrouter/some/extra", "openrouter"),
        known("box/qwen3-coder", "box", 32000, false, false),
        json!({"id": "smart", "owned_by": "aimux", "route": ["deepseek/deepseek-chat", "openrouter/z-ai/glm-4.6"]}),
        json!({"id": "aimux:reviewer", "owned_by": "aimux", "agent": "smart"}),
        json!({"id": "fast", "owned_by": "aimux", "route": ["ollama/qwen3:8b"]}),
    ]});
    let c = build(&list);
    assert_eq!(
        slugs(&c),
        [
            ("smart", 1, List),
            ("fast", 2, List),
            ("aimux:reviewer", 3, List),
            ("box/qwen3-coder", 4, List),
            ("deepseek/deepseek-chat", 5, List),
            ("deepseek/deepseek-reasoner", 6, List),
            ("openrouter/z-ai/glm-4.6", 7, List),
            ("ollama/qwen3:8b", 8, List),
            ("openrouter/some/extra", 9, Hide),
        ]
    );
    assert_eq!(c.best().map(|m| m.slug.as_str()), Some("smart"));
}

#[test]
fn metadata_per_model_and_most_restrictive_for_routes() {
    let list = json!({"data": [
        known("a/vision-reasoner", "a", 200000, true, true),
        known("b/plain", "b", 64000, false, false),
        known("b/vision", "b", 128000, true, true),
        live("c/unknown", "c"),
        json!({"id": "chain", "owned_by": "aimux", "route": ["a/vision-reasoner", "b/plain"]}),
        json!({"id": "both-vision", "owned_by": "aimux", "route": ["a/vision-reasoner", "vision"]}),
        json!({"id": "aimux:agent", "owned_by": "aimux", "agent": "both-vision"}),
        json!({"id": "dangling", "owned_by": "aimux", "route": ["nowhere/x"]}),
    ]});
    let c = build(&list);
    // (slug, context, modalities, reasoning levels)
    let cases: [(&str, Option<u64>, &[&str], usize); 8] = [
        ("a/vision-reasoner", Some(200000), &["text", "image"], 3),
        ("b/plain", Some(64000), &["text"], 0),
        ("b/vision", Some(128000), &["text", "image"], 3),
        ("c/unknown", None, &["text"], 0),
        ("chain", Some(64000), &["text"], 0),
        ("both-vision", Some(128000), &["text", "image"], 3),
        ("aimux:agent", Some(128000), &["text", "image"], 3),
        ("dangling", None, &["text"], 0),
    ];
    for (slug, context, modalities, levels) in cases {
        let m = c.get(slug).unwrap_or_else(|| panic!("{slug} missing"));
        assert_eq!(m.context_window, context, "{slug}");
        assert_eq!(m.input_modalities, modalities, "{slug}");
        assert_eq!(m.supported_reasoning_levels.len(), levels, "{slug}");
        assert_eq!(m.apply_patch_tool_type, "freeform");
        assert!(m.experimental_supported_tools.is_empty());
        assert!(!m.support_verbosity && !m.supports_reasoning_summary_parameter);
    }
}

#[test]
fn resolve_accepts_a_unique_bare_id() {
    let c = build(&json!({"data": [
        known("deepseek/deepseek-chat", "deepseek", 128000, false, false),
        known("openrouter/qwen/qwen3-coder", "openrouter", 262144, false, false),
        known("siliconflow/Qwen/qwen3-coder", "siliconflow", 262144, false, false),
    ]}));
    let cases = [
        ("deepseek/deepseek-chat", Some("deepseek/deepseek-chat")),
        ("deepseek-chat", Some("deepseek/deepseek-chat")),
        ("qwen/qwen3-coder", Some("openrouter/qwen/qwen3-coder")),
        ("qwen3-coder", None),
        ("nope", None),
    ];
    for (asked, want) in cases {
        assert_eq!(c.resolve(asked).map(|m| m.slug.as_str()), want, "{asked}");
    }
}

#[test]
fn empty_or_odd_lists_give_an_empty_catalog() {
    for list in [
        json!({}),
        json!({"data": []}),
        json!({"data": [{"no": "id"}]}),
        json!({"data": [{"id": "codex"}]}),
    ] {
        assert_eq!(build(&list).models, [], "{list}");
        assert_eq!(build(&list).best(), None);
    }
}

#[test]
fn provider_ranks() {
    let order = [
        "my-box",
        "deepseek",
        "openai",
        "openrouter",
        "groq",
        "litellm",
        "vllm",
        "ollama",
    ];
    let ranks: Vec<(u8, u8)> = order.iter().map(|p| provider_rank(p)).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "{order:?}");
}

/// The exact bytes of a one-model catalog: what Codex reads.
#[test]
fn rendered_entry_exact_text() {
    let list = json!({"data": [{"id": "deepseek/deepseek-reasoner", "owned_by": "deepseek",
        "context_window": 128000, "input_modalities": ["text"], "reasoning": true,
        "pricing": {"input": 0.28, "cached_input": 0.028, "output": 0.42}}]});
    let text = build(&list).render();
    let instructions = serde_json::to_string(AIMUX_INSTRUCTIONS).unwrap();
    let want = r#"{
  "models": [
    {
      "slug": "deepseek/deepseek-reasoner",
      "display_name": "deepseek/deepseek-reasoner",
      "description": "deepseek · 128k context · reasoning · $0.28/$0.42 per 1M tokens, via aimux",
      "priority": 1,
      "visibility": "list",
      "supported_in_api": true,
      "context_window": 128000,
      "input_modalities": [
        "text"
      ],
      "supported_reasoning_levels": [
        {
          "effort": "low",
          "description": "Faster answers, lighter reasoning"
        },
        {
          "effort": "medium",
          "description": "Balances speed and reasoning depth"
        },
        {
          "effort": "high",
          "description": "Deeper reasoning for hard problems"
        }
      ],
      "supports_reasoning_summary_parameter": false,
      "support_verbosity": false,
      "shell_type": "shell_command",
      "apply_patch_tool_type": "freeform",
      "truncation_policy": {
        "mode": "tokens",
        "limit": 10000
      },
      "experimental_supported_tools": [],
      "base_instructions": INSTRUCTIONS
    }
  ]
}
"#
    .replace("INSTRUCTIONS", &instructions);
    assert_eq!(text, want);
    let back: Catalog = serde_json::from_str(&text).unwrap();
    assert_eq!(back, build(&list));
}

#[test]
fn codex_prompt_is_the_top_ranked_visible_gpt5() {
    let bundled = json!({"models": [
        {"slug": "gpt-6-sol", "priority": 1, "visibility": "list", "base_instructions": "six"},
        {"slug": "gpt-5.5", "priority": 13, "visibility": "list", "base_instructions": "five-five"},
        {"slug": "gpt-5.6-sol", "priority": 5, "visibility": "list", "base_instructions": "five-six"},
        {"slug": "gpt-5-hidden", "priority": 0, "visibility": "hide", "base_instructions": "hidden"},
        {"slug": "gpt-5-empty", "priority": 0, "visibility": "list", "base_instructions": " "},
    ]});
    assert_eq!(
        codex_prompt_from_bundled(&bundled),
        Some(("gpt-5.6-sol".to_owned(), "five-six".to_owned()))
    );
    assert_eq!(codex_prompt_from_bundled(&json!({"models": []})), None);
    assert_eq!(codex_prompt_from_bundled(&json!("junk")), None);
}

#[test]
fn human_token_counts() {
    for (n, want) in [
        (128000, "128k"),
        (262144, "262k"),
        (1_000_000, "1M"),
        (1_047_576, "1.0M"),
    ] {
        assert_eq!(human_tokens(n), want);
    }
}

/// OpenRouter's live list has hundreds of ids: each entry carries only aimux's short prompt
/// (Codex's ~20 kB one is shared through `model_instructions_file`), so the file stays near
/// 3 kB per model.
#[test]
fn size_with_hundreds_of_live_models() {
    let mut data = vec![known(
        "openrouter/z-ai/glm-4.6",
        "openrouter",
        202752,
        false,
        true,
    )];
    data.extend((0..330).map(|i| live(&format!("openrouter/vendor/model-{i}"), "openrouter")));
    let text = build(&json!({"data": data})).render();
    let per_model = text.len() / 331;
    assert!(
        per_model < AIMUX_INSTRUCTIONS.len() + 1200,
        "{per_model} bytes per model"
    );
    assert!(text.len() < 1_100_000, "{} bytes", text.len());
}
