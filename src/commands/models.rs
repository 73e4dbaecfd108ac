//! `aimux models [--json]`: what the proxy can route to. Asks the running proxy (live lists);
//! without one, shows what the config and presets give.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::proxy::registry::{Detected, Registry};
use crate::proxy::server::model_entry;
use crate::settings::{DEFAULT_PROXY_PORT, Env, FileConfig};

async fn from_proxy(env: &Env, file: &FileConfig, home: &Path) -> Option<Value> {
    let port = env
        .get("AIMUX_PROXY_PORT")
        .and_then(|p| p.parse().ok())
        .or(file.proxy.port)
        .unwrap_or(DEFAULT_PROXY_PORT);
    let secret = crate::secret::internal_secret(env, home).ok()?;
    let resp = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v1/models"))
        .header(crate::secret::HEADER, secret)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

fn from_config(env: &Env, file: &FileConfig, home: &Path) -> anyhow::Result<Value> {
    let creds = super::proxy::load_credentials(home)?;
    let registry = Registry::build(file, env, &creds, Detected::default())
        .map_err(crate::error::user_error)?;
    let mut data = Vec::new();
    for p in registry.providers() {
        data.extend(p.models.iter().map(|m| model_entry(p, &m.id)));
    }
    Ok(json!({"object": "list", "data": data}))
}

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

pub async fn run(env: &Env, file: &FileConfig, home: &Path, json: bool) -> anyhow::Result<()> {
    let (list, live) = match from_proxy(env, file, home).await {
        Some(v) => (v, true),
        None => (from_config(env, file, home)?, false),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print!("{}", render_table(&list));
        if !live {
            eprintln!("(the proxy is not running: showing configured providers' known models)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
