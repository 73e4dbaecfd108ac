//! `aimux usage [--days N] [--json]`: what the proxy recorded, per UTC day and per model.

use std::io::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::proxy::usage::{self, DayTotals, ModelTotals, UsageReader, UsageTotals};

/// Prints the usage report for the last `days` UTC days (today included) to stdout. A missing
/// `<aimux_home>/usage.db` is an empty report: nothing was recorded yet.
pub fn run(aimux_home: &Path, days: u32, json: bool) -> anyhow::Result<()> {
    let text = report(aimux_home, days, json, usage::now_ms())?;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// What [`run`] prints, for a window ending on `now_ms`'s UTC day.
pub fn report(aimux_home: &Path, days: u32, json: bool, now_ms: i64) -> anyhow::Result<String> {
    let path = aimux_home.join("usage.db");
    let (daily, models) = match UsageReader::open_existing(&path)? {
        Some(reader) => (reader.daily(days, now_ms)?, reader.by_model(days, now_ms)?),
        None => {
            tracing::debug!(path = %path.display(), "no usage database yet");
            (Vec::new(), Vec::new())
        }
    };
    Ok(if json {
        let mut s = serde_json::to_string_pretty(&render_json(days, &daily, &models))?;
        s.push('\n');
        s
    } else {
        render_text(&daily, &models)
    })
}

/// Two tables: one row per UTC day with a total, then one row per model.
pub fn render_text(daily: &[DayTotals], models: &[ModelTotals]) -> String {
    if daily.is_empty() && models.is_empty() {
        return "No requests recorded in this period.\n".to_owned();
    }
    let mut partial_cost = false;
    let mut cost = |c: Option<f64>, unpriced: u64| {
        partial_cost |= c.is_some() && unpriced > 0;
        fmt_cost(c, unpriced)
    };

    let mut rows: Vec<Vec<String>> = daily
        .iter()
        .map(|d| {
            vec![
                d.date.clone(),
                fmt_count(d.requests),
                fmt_count(d.errors),
                fmt_tokens(d.input_tokens),
                fmt_tokens(d.cached_tokens),
                fmt_tokens(d.output_tokens),
                fmt_tokens(d.reasoning_tokens),
                cost(d.cost_usd, d.unpriced_requests),
            ]
        })
        .collect();
    let t = UsageTotals::sum(daily);
    rows.push(vec![
        "total".to_owned(),
        fmt_count(t.requests),
        fmt_count(t.errors),
        fmt_tokens(t.input_tokens),
        fmt_tokens(t.cached_tokens),
        fmt_tokens(t.output_tokens),
        fmt_tokens(t.reasoning_tokens),
        cost(t.cost_usd, t.unpriced_requests),
    ]);
    let mut out = table(
        &[
            ("day (UTC)", Align::Left),
            ("requests", Align::Right),
            ("errors", Align::Right),
            ("input", Align::Right),
            ("cached", Align::Right),
            ("output", Align::Right),
            ("reasoning", Align::Right),
            ("cost", Align::Right),
        ],
        &rows,
    );

    if !models.is_empty() {
        let rows: Vec<Vec<String>> = models
            .iter()
            .map(|m| {
                let served_by = m.served_by();
                vec![
                    m.requested_model.clone(),
                    if served_by.is_empty() {
                        DASH.to_owned()
                    } else {
                        served_by
                    },
                    fmt_count(m.requests),
                    fmt_count(m.errors),
                    fmt_tokens(m.input_tokens),
                    fmt_tokens(m.output_tokens),
                    cost(m.cost_usd, m.unpriced_requests),
                    fmt_ms(Some(m.avg_latency_ms)),
                    fmt_ms(m.p50_ttft_ms),
                ]
            })
            .collect();
        out.push('\n');
        out.push_str(&table(
            &[
                ("model", Align::Left),
                ("served by", Align::Left),
                ("requests", Align::Right),
                ("errors", Align::Right),
                ("input", Align::Right),
                ("output", Align::Right),
                ("cost", Align::Right),
                ("avg latency", Align::Right),
                ("p50 ttft", Align::Right),
            ],
            &rows,
        ));
    }
    if partial_cost {
        out.push_str("\n\u{2265} a lower bound: some requests used a model with no known price.\n");
    }
    out
}

/// `{"days": N, "daily": [...], "models": [...], "totals": {...}}`. Keys are stable; costs are
/// USD rounded to 6 decimals, `null` when unknown; `unpriced_requests` counts requests that used
/// tokens at an unknown price (the cost is then a lower bound).
pub fn render_json(days: u32, daily: &[DayTotals], models: &[ModelTotals]) -> Value {
    let t = UsageTotals::sum(daily);
    let totals = json!({
        "requests": t.requests,
        "errors": t.errors,
        "input_tokens": t.input_tokens,
        "cached_tokens": t.cached_tokens,
        "output_tokens": t.output_tokens,
        "reasoning_tokens": t.reasoning_tokens,
        "cost_usd": t.cost_usd.map(round_usd),
        "unpriced_requests": t.unpriced_requests,
    });
    let daily: Vec<Value> = daily
        .iter()
        .map(|d| {
            json!({
                "date": d.date,
                "requests": d.requests,
                "errors": d.errors,
                "input_tokens": d.input_tokens,
                "cached_tokens": d.cached_tokens,
                "output_tokens": d.output_tokens,
                "reasoning_tokens": d.reasoning_tokens,
                "cost_usd": d.cost_usd.map(round_usd),
                "unpriced_requests": d.unpriced_requests,
            })
        })
        .collect();
    let models: Vec<Value> = models
        .iter()
        .map(|m| {
            json!({
                "requested_model": m.requested_model,
                "provider": m.provider,
                "model": m.model,
                "requests": m.requests,
                "errors": m.errors,
                "input_tokens": m.input_tokens,
                "cached_tokens": m.cached_tokens,
                "output_tokens": m.output_tokens,
                "reasoning_tokens": m.reasoning_tokens,
                "cost_usd": m.cost_usd.map(round_usd),
                "unpriced_requests": m.unpriced_requests,
                "avg_latency_ms": m.avg_latency_ms,
                "p50_ttft_ms": m.p50_ttft_ms,
            })
        })
        .collect();
    json!({
        "days": days,
        "daily": daily,
        "models": models,
        "totals": totals,
    })
}

/// Shown for a value nobody knows.
const DASH: &str = "\u{2014}";

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

/// Columns two spaces apart, each as wide as its widest cell; no trailing spaces.
fn table(columns: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = columns.iter().map(|(h, _)| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, ((_, align), cell)) in columns.iter().zip(row).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `1,204`.
fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `812`, `45.2k`, `1.23M`, `4.56B`.
fn fmt_tokens(n: u64) -> String {
    // Precision loss above 2^53 tokens is irrelevant for a one-decimal display.
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n < 1_000 {
        n.to_string()
    } else if f < 999_950.0 {
        format!("{:.1}k", f / 1e3)
    } else if f < 999_995_000.0 {
        format!("{:.2}M", f / 1e6)
    } else {
        format!("{:.2}B", f / 1e9)
    }
}

/// `$0.0123`; `≥$0.0123` when some requests had no known price (a lower bound, and the digits
/// stay aligned); `—` when none had one.
fn fmt_cost(cost: Option<f64>, unpriced: u64) -> String {
    match cost {
        None => DASH.to_owned(),
        Some(c) if unpriced > 0 => format!("\u{2265}${c:.4}"),
        Some(c) => format!("${c:.4}"),
    }
}

/// `340ms`, `1.2s`, `—`.
fn fmt_ms(ms: Option<u64>) -> String {
    match ms {
        None => DASH.to_owned(),
        Some(ms) if ms < 1_000 => format!("{ms}ms"),
        #[allow(clippy::cast_precision_loss)]
        Some(ms) => format!("{:.1}s", ms as f64 / 1e3),
    }
}

fn round_usd(c: f64) -> f64 {
    (c * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::usage::{UsageRecord, UsageStore};

    /// 2026-11-24T12:00:00Z.
    const NOW: i64 = 1_795_521_600_000;

    fn days() -> Vec<DayTotals> {
        vec![
            DayTotals {
                date: "2026-11-22".into(),
                requests: 3,
                errors: 0,
                input_tokens: 812,
                cached_tokens: 0,
                output_tokens: 150,
                reasoning_tokens: 0,
                cost_usd: None,
                unpriced_requests: 3,
            },
            DayTotals {
                date: "2026-11-24".into(),
                requests: 1_204,
                errors: 17,
                input_tokens: 4_521_300,
                cached_tokens: 3_100_000,
                output_tokens: 98_700,
                reasoning_tokens: 12_345,
                cost_usd: Some(1.234_56),
                unpriced_requests: 0,
            },
        ]
    }

    fn models() -> Vec<ModelTotals> {
        vec![
            ModelTotals {
                requested_model: "smart".into(),
                provider: "deepseek".into(),
                model: "deepseek-chat".into(),
                requests: 1_100,
                errors: 12,
                input_tokens: 4_000_000,
                cached_tokens: 3_000_000,
                output_tokens: 90_000,
                reasoning_tokens: 12_345,
                cost_usd: Some(1.2),
                unpriced_requests: 0,
                avg_latency_ms: 2_345,
                p50_ttft_ms: Some(412),
            },
            ModelTotals {
                requested_model: "ollama/qwen3:8b".into(),
                provider: "ollama".into(),
                model: "qwen3:8b".into(),
                requests: 104,
                errors: 0,
                input_tokens: 521_300,
                cached_tokens: 100_000,
                output_tokens: 8_700,
                reasoning_tokens: 0,
                cost_usd: None,
                unpriced_requests: 104,
                avg_latency_ms: 950,
                p50_ttft_ms: None,
            },
            ModelTotals {
                requested_model: "nope/x".into(),
                provider: String::new(),
                model: String::new(),
                requests: 3,
                errors: 3,
                input_tokens: 0,
                cached_tokens: 0,
                output_tokens: 0,
                reasoning_tokens: 0,
                cost_usd: None,
                unpriced_requests: 0,
                avg_latency_ms: 2,
                p50_ttft_ms: None,
            },
        ]
    }

    #[test]
    fn text_report() {
        let expected = "\
day (UTC)   requests  errors  input  cached  output  reasoning      cost
2026-11-22         3       0    812       0     150          0         —
2026-11-24     1,204      17  4.52M   3.10M   98.7k      12.3k   $1.2346
total          1,207      17  4.52M   3.10M   98.8k      12.3k  ≥$1.2346

model            served by               requests  errors   input  output     cost  avg latency  p50 ttft
smart            deepseek/deepseek-chat     1,100      12   4.00M   90.0k  $1.2000         2.3s     412ms
ollama/qwen3:8b  ollama/qwen3:8b              104       0  521.3k    8.7k        —        950ms         —
nope/x           —                              3       3       0       0        —          2ms         —

≥ a lower bound: some requests used a model with no known price.
";
        assert_eq!(render_text(&days(), &models()), expected);
    }

    #[test]
    fn text_report_fully_priced_has_no_footnote() {
        let day = DayTotals {
            date: "2026-11-24".into(),
            requests: 1,
            input_tokens: 999_949,
            output_tokens: 999_950,
            cost_usd: Some(0.0123),
            ..DayTotals::default()
        };
        let expected = "\
day (UTC)   requests  errors   input  cached  output  reasoning     cost
2026-11-24         1       0  999.9k       0   1.00M          0  $0.0123
total              1       0  999.9k       0   1.00M          0  $0.0123
";
        assert_eq!(render_text(&[day], &[]), expected);
    }

    #[test]
    fn empty_text_report() {
        assert_eq!(
            render_text(&[], &[]),
            "No requests recorded in this period.\n"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1_000), "1,000");
        assert_eq!(fmt_count(12_345_678), "12,345,678");
        assert_eq!(fmt_tokens(999), "999");
        assert_eq!(fmt_tokens(1_000), "1.0k");
        assert_eq!(fmt_tokens(999_999_999), "1.00B");
        assert_eq!(fmt_tokens(999_994_999), "999.99M");
        assert_eq!(fmt_cost(Some(0.0), 0), "$0.0000");
        assert_eq!(fmt_cost(None, 3), "—");
        assert_eq!(fmt_ms(Some(999)), "999ms");
        assert_eq!(fmt_ms(Some(61_000)), "61.0s");
    }

    #[test]
    fn json_report_shape() {
        let value = render_json(7, &days(), &models());
        let keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["daily", "days", "models", "totals"]);
        assert_eq!(value["days"], 7);
        assert_eq!(
            value["daily"][1],
            json!({
                "date": "2026-11-24",
                "requests": 1204,
                "errors": 17,
                "input_tokens": 4_521_300,
                "cached_tokens": 3_100_000,
                "output_tokens": 98_700,
                "reasoning_tokens": 12_345,
                "cost_usd": 1.23456,
                "unpriced_requests": 0,
            })
        );
        assert_eq!(value["daily"][0]["cost_usd"], Value::Null);
        assert_eq!(
            value["models"][2],
            json!({
                "requested_model": "nope/x",
                "provider": "",
                "model": "",
                "requests": 3,
                "errors": 3,
                "input_tokens": 0,
                "cached_tokens": 0,
                "output_tokens": 0,
                "reasoning_tokens": 0,
                "cost_usd": null,
                "unpriced_requests": 0,
                "avg_latency_ms": 2,
                "p50_ttft_ms": null,
            })
        );
        assert_eq!(value["models"][0]["p50_ttft_ms"], 412);
        assert_eq!(
            value["totals"],
            json!({
                "requests": 1207,
                "errors": 17,
                "input_tokens": 4_522_112,
                "cached_tokens": 3_100_000,
                "output_tokens": 98_850,
                "reasoning_tokens": 12_345,
                "cost_usd": 1.23456,
                "unpriced_requests": 3,
            })
        );
    }

    #[test]
    fn empty_json_report() {
        assert_eq!(
            render_json(1, &[], &[]),
            json!({
                "days": 1,
                "daily": [],
                "models": [],
                "totals": {
                    "requests": 0,
                    "errors": 0,
                    "input_tokens": 0,
                    "cached_tokens": 0,
                    "output_tokens": 0,
                    "reasoning_tokens": 0,
                    "cost_usd": null,
                    "unpriced_requests": 0,
                },
            })
        );
    }

    #[test]
    fn a_missing_database_is_an_empty_report() -> anyhow::Result<()> {
        let home = tempfile::tempdir()?;
        let text = report(home.path(), 7, false, NOW)?;
        assert_eq!(text, "No requests recorded in this period.\n");
        let json: Value = serde_json::from_str(&report(home.path(), 7, true, NOW)?)?;
        assert_eq!(json, render_json(7, &[], &[]));
        assert!(!home.path().join("usage.db").exists());
        Ok(())
    }

    #[test]
    fn reports_what_the_store_recorded() -> anyhow::Result<()> {
        let home = tempfile::tempdir()?;
        {
            let store = UsageStore::open(&home.path().join("usage.db"))?;
            let recorder = store.recorder();
            for (ts, tokens) in [(NOW - 86_400_000, 2_000), (NOW, 500), (NOW, 700)] {
                recorder.record(UsageRecord {
                    ts_ms: ts,
                    client: "bridge".into(),
                    requested_model: "deepseek/deepseek-chat".into(),
                    provider: "deepseek".into(),
                    model: "deepseek-chat".into(),
                    status: 200,
                    latency_ms: 1_500,
                    ttft_ms: Some(300),
                    input_tokens: tokens,
                    output_tokens: 100,
                    cost_usd: Some(0.0005),
                    ..UsageRecord::default()
                });
            }
        }
        let expected = "\
day (UTC)   requests  errors  input  cached  output  reasoning     cost
2026-11-23         1       0   2.0k       0     100          0  $0.0005
2026-11-24         2       0   1.2k       0     200          0  $0.0010
total              3       0   3.2k       0     300          0  $0.0015

model                   served by               requests  errors  input  output     cost  avg latency  p50 ttft
deepseek/deepseek-chat  deepseek/deepseek-chat         3       0   3.2k     300  $0.0015         1.5s     300ms
";
        assert_eq!(report(home.path(), 7, false, NOW)?, expected);
        let json: Value = serde_json::from_str(&report(home.path(), 1, true, NOW)?)?;
        assert_eq!(json["days"], 1);
        assert_eq!(json["totals"]["requests"], 2);
        assert_eq!(json["totals"]["cost_usd"], 0.001);
        Ok(())
    }
}
