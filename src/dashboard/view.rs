//! Pure shaping of what the dashboard shows: a gap-free run of days for the chart, each
//! provider's health from its recent traffic, the model picker's entries.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, Visibility};
use crate::proxy::usage::{DayTotals, ModelTotals, UsageRecord};

const DAY_MS: i64 = 86_400_000;

/// `YYYY-MM-DD` (UTC) of a Unix time in milliseconds.
pub fn utc_date(ms: i64) -> String {
    let u = crate::utc::utc(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    format!("{:04}-{:02}-{:02}", u.year, u.month, u.day)
}

/// One day of the chart: the store's totals, or zeros for a day without requests.
pub fn fill_days(daily: &[DayTotals], days: u32, now_ms: i64) -> Vec<DayTotals> {
    let today = now_ms.div_euclid(DAY_MS);
    (0..i64::from(days))
        .rev()
        .map(|back| {
            let date = utc_date((today - back) * DAY_MS);
            daily
                .iter()
                .find(|d| d.date == date)
                .cloned()
                .unwrap_or(DayTotals {
                    date,
                    ..DayTotals::default()
                })
        })
        .collect()
}

/// How a provider is doing, judged by the requests it served lately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderHealth {
    /// Its last request succeeded and nothing failed in the window.
    Ok,
    /// Its last request succeeded, but some in the window failed.
    Degraded,
    /// Its last request failed.
    Failing,
    /// No request in the window.
    Idle,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderView {
    pub name: String,
    /// `config`, `env`, `detected` ... as the proxy says.
    pub origin: String,
    pub health: ProviderHealth,
    pub requests: u64,
    pub errors: u64,
    /// The last request's time, status and error code.
    pub last_ts_ms: Option<i64>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

fn failed(r: &UsageRecord) -> bool {
    r.status >= 400 || r.error_code.is_some()
}

/// `providers` is the proxy's `/health` list (`[{"name","origin"}]`); `models` the usage
/// store's totals over the window; `recent` its latest requests, newest first.
pub fn providers(
    providers: &[Value],
    models: &[ModelTotals],
    recent: &[UsageRecord],
) -> Vec<ProviderView> {
    providers
        .iter()
        .filter_map(|p| {
            let name = p.get("name").and_then(Value::as_str)?.to_owned();
            let origin = p
                .get("origin")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let (requests, errors) = models
                .iter()
                .filter(|m| m.provider == name)
                .fold((0, 0), |(r, e), m| (r + m.requests, e + m.errors));
            let last = recent.iter().find(|r| r.provider == name);
            let health = match last {
                _ if requests == 0 && last.is_none() => ProviderHealth::Idle,
                Some(r) if failed(r) => ProviderHealth::Failing,
                _ if errors > 0 => ProviderHealth::Degraded,
                _ if requests == 0 => ProviderHealth::Idle,
                _ => ProviderHealth::Ok,
            };
            Some(ProviderView {
                name,
                origin,
                health,
                requests,
                errors,
                last_ts_ms: last.map(|r| r.ts_ms),
                last_status: last.map(|r| r.status),
                last_error: last.and_then(|r| r.error_code.clone()),
            })
        })
        .collect()
}

/// Per-provider error counts: the store's (provider, code) rows grouped by provider.
pub fn errors_by_provider(
    rows: &[crate::proxy::usage::ProviderErrors],
) -> Vec<(String, u64, BTreeMap<String, u64>)> {
    let mut grouped: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for row in rows {
        let name = if row.provider.is_empty() {
            "(none)".to_owned()
        } else {
            row.provider.clone()
        };
        let entry = grouped.entry(name).or_default();
        entry.0 += row.errors;
        *entry.1.entry(row.error_code.clone()).or_default() += row.errors;
    }
    let mut out: Vec<_> = grouped
        .into_iter()
        .map(|(name, (n, codes))| (name, n, codes))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// One entry of the default-model picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickerModel {
    pub slug: String,
    pub name: String,
    /// `deepseek` for `deepseek/deepseek-chat`; `routes` and `agents` for aimux's own.
    pub group: String,
    pub context_window: Option<u64>,
    pub reasoning: bool,
    /// Shown in Codex's picker (not hidden).
    pub listed: bool,
}

/// The catalog's models, in its order, grouped by provider for an `<optgroup>` each.
pub fn picker(catalog: &Catalog) -> Vec<PickerModel> {
    catalog
        .models
        .iter()
        .map(|m| {
            let group = if m.slug.starts_with("aimux:") {
                "agents".to_owned()
            } else {
                match m.slug.split_once('/') {
                    Some((provider, _)) => provider.to_owned(),
                    None => "routes".to_owned(),
                }
            };
            PickerModel {
                slug: m.slug.clone(),
                name: m.display_name.clone(),
                group,
                context_window: m.context_window,
                reasoning: !m.supported_reasoning_levels.is_empty(),
                listed: m.visibility == Visibility::List,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::proxy::usage::ProviderErrors;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_700_000_000_000), "2023-11-14");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn days_are_filled_oldest_first() {
        let now = 1_700_000_000_000; // 2023-11-14
        let daily = vec![
            DayTotals {
                date: "2023-11-12".into(),
                requests: 3,
                ..DayTotals::default()
            },
            DayTotals {
                date: "2023-11-14".into(),
                requests: 5,
                ..DayTotals::default()
            },
        ];
        let filled = fill_days(&daily, 4, now);
        let got: Vec<(&str, u64)> = filled
            .iter()
            .map(|d| (d.date.as_str(), d.requests))
            .collect();
        assert_eq!(
            got,
            [
                ("2023-11-11", 0),
                ("2023-11-12", 3),
                ("2023-11-13", 0),
                ("2023-11-14", 5)
            ]
        );
        assert_eq!(fill_days(&[], 7, now).len(), 7);
    }

    fn totals(provider: &str, requests: u64, errors: u64) -> ModelTotals {
        ModelTotals {
            provider: provider.into(),
            requests,
            errors,
            ..ModelTotals::default()
        }
    }

    fn rec(provider: &str, ts_ms: i64, status: u16, code: Option<&str>) -> UsageRecord {
        UsageRecord {
            provider: provider.into(),
            ts_ms,
            status,
            error_code: code.map(str::to_owned),
            ..UsageRecord::default()
        }
    }

    #[test]
    fn provider_health_from_traffic() {
        let list = [
            json!({"name": "a", "origin": "config"}),
            json!({"name": "b", "origin": "env"}),
            json!({"name": "c", "origin": "detected"}),
            json!({"name": "d"}),
            json!({"nameless": true}),
        ];
        let models = [
            totals("a", 4, 0),
            totals("b", 3, 1),
            totals("b", 1, 0),
            totals("c", 2, 2),
        ];
        let recent = [
            rec("c", 30, 429, Some("rate_limit_exceeded")),
            rec("b", 20, 200, None),
            rec("a", 10, 200, None),
            rec("b", 5, 502, Some("upstream_unreachable")),
        ];
        let views = providers(&list, &models, &recent);
        let got: Vec<(&str, ProviderHealth, u64, u64)> = views
            .iter()
            .map(|v| (v.name.as_str(), v.health, v.requests, v.errors))
            .collect();
        assert_eq!(
            got,
            [
                ("a", ProviderHealth::Ok, 4, 0),
                ("b", ProviderHealth::Degraded, 4, 1),
                ("c", ProviderHealth::Failing, 2, 2),
                ("d", ProviderHealth::Idle, 0, 0),
            ]
        );
        assert_eq!(views[2].last_error.as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(views[2].last_status, Some(429));
        assert_eq!(views[1].origin, "env");
        assert_eq!(views[3].last_ts_ms, None);
    }

    #[test]
    fn errors_grouped_by_provider() {
        let row = |p: &str, c: &str, n| ProviderErrors {
            provider: p.into(),
            error_code: c.into(),
            errors: n,
            last_ts_ms: 0,
        };
        let rows = [
            row("a", "rate_limit_exceeded", 2),
            row("b", "http_500", 5),
            row("a", "upstream_timeout", 1),
            row("", "model_not_found", 1),
        ];
        let got = errors_by_provider(&rows);
        let names: Vec<(&str, u64)> = got.iter().map(|(n, c, _)| (n.as_str(), *c)).collect();
        assert_eq!(names, [("b", 5), ("a", 3), ("(none)", 1)]);
        assert_eq!(got[1].2.get("rate_limit_exceeded"), Some(&2));
    }

    #[test]
    fn picker_groups() {
        let catalog = crate::catalog::build(&json!({"data": [
            {"id": "deepseek/deepseek-chat", "owned_by": "deepseek", "reasoning": false},
            {"id": "smart", "owned_by": "aimux", "route": ["deepseek/deepseek-chat"]},
            {"id": "aimux:rev", "owned_by": "aimux", "agent": "smart"},
        ]}));
        let got: Vec<(String, String)> = picker(&catalog)
            .into_iter()
            .map(|m| (m.slug, m.group))
            .collect();
        assert_eq!(
            got,
            [
                ("smart".to_owned(), "routes".to_owned()),
                ("aimux:rev".to_owned(), "agents".to_owned()),
                ("deepseek/deepseek-chat".to_owned(), "deepseek".to_owned()),
            ]
        );
    }
}
