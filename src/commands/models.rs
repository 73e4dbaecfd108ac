//! `aimux models [--json]`: what the proxy can route to. Asks the running link (live lists);
//! without one, shows what the config and presets give.

use std::path::Path;

use serde_json::Value;

use super::gen_catalog::{Source, model_list};
use crate::settings::{Env, FileConfig};

/// A table a person can read: model, provider, context, inputs, reasoning, price.
pub fn render_table(list: &Value) -> String {
    let mut rows = vec![[
        "MODEL".to_owned(),
        "CONTEXT".to_owned(),
        "INPUT".to_owned(),
        "REASONING".to_owned(),
        "PRICE $/1M in/out".to_owned(),
    ]];
    for m in list["data"].as_array().into_iter().flatten() {
        let context = m["context_window"].as_u64().map_or("—".to_owned(), |c| {
            if c >= 1_000_000 {
                format!("{}M", c / 1_000_000)
            } else {
                format!("{}k", c / 1000)
            }
        });
        let input = m["input_modalities"]
            .as_array()
            .map_or("—".to_owned(), |a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("+")
            });
        let reasoning = match m["reasoning"].as_bool() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        let price = match (
            m["pricing"]["input"].as_f64(),
            m["pricing"]["output"].as_f64(),
        ) {
            (Some(i), Some(o)) => format!("{i} / {o}"),
            _ => "—".to_owned(),
        };
        let id = m["id"].as_str().unwrap_or("?").to_owned();
        rows.push([id, context, input, reasoning.to_owned(), price]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The list comes from the running proxy (directly, or through the bridge under `aimux start`,
/// whose proxy secret is per start), else from the config and presets — the same source
/// `gen-catalog` uses.
pub async fn run(
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
    home: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let (list, source) = model_list(env, file, config_path, home).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print!("{}", render_table(&list));
        if matches!(source, Source::Config) {
            eprintln!("(the proxy is not running: showing configured providers' known models)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_text() {
        let list = json!({"data": [
            {"id": "deepseek/deepseek-chat", "context_window": 128000, "input_modalities": ["text"],
             "reasoning": false, "pricing": {"input": 0.28, "output": 0.42}},
            {"id": "codex"},
        ]});
        assert_eq!(
            render_table(&list),
            "MODEL                   CONTEXT  INPUT  REASONING  PRICE $/1M in/out\n\
             deepseek/deepseek-chat  128k     text   no         0.28 / 0.42\n\
             codex                   —        —      —          —\n"
        );
    }
}
