//! Loopback HTTP probes for `start`'s summary and `status`: a child's `/health`, the number of
//! models behind the bridge.

use std::time::Duration;

use serde_json::Value;

/// What `GET {url}/health` said.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// 200 with a JSON body.
    Ok(Value),
    /// It answered, but not 200 (an external proxy without `/health`, say).
    Answered(u16),
    Unreachable(String),
}

impl Health {
    pub fn label(&self) -> String {
        match self {
            Health::Ok(_) => "healthy".to_owned(),
            Health::Answered(code) => format!("answering (/health: HTTP {code})"),
            Health::Unreachable(e) => format!("unreachable ({e})"),
        }
    }

    /// `ok`, `answering` or `unreachable`, for `--json`.
    pub fn code(&self) -> &'static str {
        match self {
            Health::Ok(_) => "ok",
            Health::Answered(_) => "answering",
            Health::Unreachable(_) => "unreachable",
        }
    }

    /// Provider names from the proxy's `/health` (`{"providers":[{"name":..}]}`).
    pub fn providers(&self) -> Option<Vec<String>> {
        let Health::Ok(body) = self else {
            return None;
        };
        providers_of(body)
    }
}

pub fn providers_of(body: &Value) -> Option<Vec<String>> {
    Some(
        body.get("providers")?
            .as_array()?
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str).or_else(|| p.as_str()))
            .map(str::to_owned)
            .collect(),
    )
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_default()
}

/// `url` is a server root (`http://127.0.0.1:8404`); a trailing `/v1` is dropped.
pub async fn health(client: &reqwest::Client, url: &str, secret: Option<&str>) -> Health {
    let root = url.trim_end_matches('/').trim_end_matches("/v1");
    let mut req = client.get(format!("{root}/health"));
    if let Some(s) = secret {
        req = req.header(crate::secret::HEADER, s);
    }
    match req.send().await {
        Ok(resp) if resp.status().is_success() => match resp.json::<Value>().await {
            Ok(v) => Health::Ok(v),
            Err(_) => Health::Answered(200),
        },
        Ok(resp) => Health::Answered(resp.status().as_u16()),
        Err(e) => Health::Unreachable(if e.is_timeout() {
            "timed out".to_owned()
        } else if e.is_connect() {
            "connection refused".to_owned()
        } else {
            e.to_string()
        }),
    }
}

/// How many models `GET {bridge}/v1/models` lists (through the bridge, so this also proves the
/// bridge → proxy link).
pub async fn count_models(
    client: &reqwest::Client,
    bridge_url: &str,
    token: Option<&str>,
) -> Result<usize, String> {
    let root = bridge_url.trim_end_matches('/').trim_end_matches("/v1");
    let mut req = client.get(format!("{root}/v1/models"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let body: Value = resp
        .json()
        .await
        .map_err(|e| format!("HTTP {status}: {e}"))?;
    if !status.is_success() {
        let msg = body["error"]["message"].as_str().unwrap_or("no message");
        return Err(format!("HTTP {}: {msg}", status.as_u16()));
    }
    body["data"]
        .as_array()
        .map(Vec::len)
        .ok_or_else(|| "no `data` list in /v1/models".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn providers_from_health_bodies() {
        let cases = [
            (
                json!({"providers": [{"name": "a", "origin": "config"}, {"name": "ollama"}]}),
                Some(vec!["a", "ollama"]),
            ),
            (json!({"providers": []}), Some(vec![])),
            (json!({"providers": ["x"]}), Some(vec!["x"])),
            (json!({"status": "ok"}), None),
        ];
        for (body, want) in cases {
            let want = want.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
            assert_eq!(providers_of(&body), want, "{body}");
            assert_eq!(Health::Ok(body.clone()).providers(), want);
        }
        assert_eq!(Health::Answered(404).providers(), None);
        assert_eq!(Health::Answered(404).code(), "answering");
    }
}
