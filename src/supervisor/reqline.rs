//! Pure: the children log one `tracing` line per request on stderr,
//! `2026-01-02T03:04:05.678Z  INFO POST /v1/responses model=m status=200 ms="12.3"`
//! (optionally `route=provider/model`, `error="..."`). The supervisor counts them and shows each
//! as one compact, coloured line on the foreground terminal.

use console::Style;

#[derive(Debug, Clone, PartialEq)]
pub struct RequestLine {
    pub level: String,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub route: Option<String>,
    pub status: u16,
    pub ms: Option<f64>,
    pub error: Option<String>,
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// Whitespace-separated tokens; a `"..."` part (with `\"` and `\\` escapes, as `tracing` writes
/// Debug strings) stays in one token, unquoted.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut started = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            '\\' if in_quotes => match chars.next() {
                Some('n') => cur.push('\n'),
                Some('t') => cur.push('\t'),
                Some(other) => cur.push(other),
                None => {}
            },
            c if c.is_whitespace() && !in_quotes => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

/// Removes ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// A request line, or `None` for anything else.
pub fn parse(line: &str) -> Option<RequestLine> {
    let line = strip_ansi(line);
    let toks = tokens(&line);
    let i = toks
        .windows(2)
        .position(|w| METHODS.contains(&w[0].as_str()) && w[1].starts_with('/'))?;
    let level = i
        .checked_sub(1)
        .and_then(|j| toks.get(j))
        .filter(|t| LEVELS.contains(&t.as_str()))
        .cloned()
        .unwrap_or_else(|| "INFO".to_owned());
    let mut r = RequestLine {
        level,
        method: toks[i].clone(),
        path: toks[i + 1].clone(),
        model: None,
        route: None,
        status: 0,
        ms: None,
        error: None,
    };
    let mut status = None;
    for t in &toks[i + 2..] {
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        match k {
            "model" => r.model = Some(v.to_owned()),
            "route" => r.route = Some(v.to_owned()),
            "status" => status = v.parse().ok(),
            "ms" => r.ms = v.parse().ok(),
            "error" => r.error = Some(v.to_owned()),
            _ => {}
        }
    }
    r.status = status?;
    Some(r)
}

/// `WARN`/`ERROR` lines that are not request lines: `(level, message)` without the timestamp.
pub fn notable(line: &str) -> Option<(String, String)> {
    let line = strip_ansi(line);
    let mut rest = line.trim_start();
    // An RFC 3339 timestamp first, as `tracing` writes it.
    if let Some((first, after)) = rest.split_once(char::is_whitespace)
        && first.len() >= 19
        && first.as_bytes().get(4) == Some(&b'-')
        && first.contains('T')
    {
        rest = after.trim_start();
    }
    let (level, msg) = rest.split_once(char::is_whitespace)?;
    matches!(level, "WARN" | "ERROR").then(|| (level.to_owned(), msg.trim().to_owned()))
}

fn latency(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn style(color: bool, s: Style) -> Style {
    if color { s.force_styling(true) } else { s }
}

/// `POST /v1/responses  deepseek-chat → deepseek/deepseek-chat  200  812 ms  [error]`.
pub fn format(r: &RequestLine, color: bool) -> String {
    let plain = |s: Style| {
        if color {
            style(true, s)
        } else {
            Style::new().force_styling(false)
        }
    };
    let mut out = format!(
        "{} {}",
        plain(Style::new().bold()).apply_to(&r.method),
        r.path
    );
    match (&r.model, &r.route) {
        (Some(m), Some(route)) if m != route => out.push_str(&format!(
            "  {m} → {}",
            plain(Style::new().cyan()).apply_to(route)
        )),
        (_, Some(route)) => {
            out.push_str(&format!("  {}", plain(Style::new().cyan()).apply_to(route)))
        }
        (Some(m), None) => out.push_str(&format!("  {m}")),
        (None, None) => {}
    }
    let status_style = match r.status {
        200..=299 => Style::new().green(),
        400..=499 => Style::new().yellow(),
        _ => Style::new().red(),
    };
    out.push_str(&format!("  {}", plain(status_style).apply_to(r.status)));
    if let Some(ms) = r.ms {
        out.push_str(&format!(
            "  {}",
            plain(Style::new().dim()).apply_to(latency(ms))
        ));
    }
    if let Some(e) = &r.error {
        let mut e = e.replace('\n', " ");
        if e.chars().count() > 80 {
            e = e.chars().take(77).collect::<String>() + "...";
        }
        out.push_str(&format!("  {}", plain(Style::new().dim()).apply_to(e)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(model: Option<&str>, route: Option<&str>, status: u16, ms: Option<f64>) -> RequestLine {
        RequestLine {
            level: "INFO".into(),
            method: "POST".into(),
            path: "/v1/responses".into(),
            model: model.map(Into::into),
            route: route.map(Into::into),
            status,
            ms,
            error: None,
        }
    }

    #[test]
    fn parses_tracing_lines() {
        let cases: Vec<(&str, Option<RequestLine>)> = vec![
            (
                r#"2026-11-24T05:43:40.123456Z  INFO POST /v1/responses model=a/m1 status=200 ms="12.3""#,
                Some(req(Some("a/m1"), None, 200, Some(12.3))),
            ),
            (
                r#"2026-11-24T05:43:40Z  INFO POST /v1/chat/completions model=smart route=b/m2 status=200 ms=5"#,
                Some(RequestLine {
                    path: "/v1/chat/completions".into(),
                    ..req(Some("smart"), Some("b/m2"), 200, Some(5.0))
                }),
            ),
            (
                r#"2026-11-24T05:43:40Z  WARN POST /v1/responses model=m status=502 ms="3.0" error="upstream \"x\" unreachable""#,
                Some(RequestLine {
                    level: "WARN".into(),
                    error: Some("upstream \"x\" unreachable".into()),
                    ..req(Some("m"), None, 502, Some(3.0))
                }),
            ),
            (
                "\u{1b}[2m2026-11-24T05:43:40Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m POST /v1/responses status=400",
                Some(req(None, None, 400, None)),
            ),
            // Not request lines.
            ("aimux bridge: http://127.0.0.1:8403/v1 → http://x/v1", None),
            (
                "2026-11-24T05:43:40Z  INFO POST /v1/responses model=m",
                None,
            ),
            (
                "2026-11-24T05:43:40Z  INFO detected local ollama at http://...",
                None,
            ),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse(line), want, "{line}");
        }
    }

    #[test]
    fn formats_compact_lines() {
        let cases = [
            (
                req(Some("a/m1"), None, 200, Some(12.3)),
                "POST /v1/responses  a/m1  200  12 ms",
            ),
            (
                req(Some("smart"), Some("b/m2"), 200, Some(1234.0)),
                "POST /v1/responses  smart → b/m2  200  1.23 s",
            ),
            (
                req(Some("b/m2"), Some("b/m2"), 429, None),
                "POST /v1/responses  b/m2  429",
            ),
            (
                req(None, None, 500, Some(0.4)),
                "POST /v1/responses  500  0 ms",
            ),
            (
                RequestLine {
                    error: Some("x".repeat(100)),
                    ..req(Some("m"), None, 502, None)
                },
                "POST /v1/responses  m  502  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(format(&r, false), want);
        }
        let coloured = format(&req(Some("m"), None, 200, Some(1.0)), true);
        assert!(coloured.contains("\u{1b}[32m200"), "{coloured:?}");
        assert_eq!(strip_ansi(&coloured), "POST /v1/responses  m  200  1 ms");
    }

    #[test]
    fn notable_lines() {
        let cases = [
            (
                "2026-11-24T05:43:40.1Z  WARN attempt failed: boom route=a/m1",
                Some(("WARN", "attempt failed: boom route=a/m1")),
            ),
            ("ERROR something", Some(("ERROR", "something"))),
            ("2026-11-24T05:43:40.1Z  INFO fine", None),
            ("Traceback (most recent call last):", None),
        ];
        for (line, want) in cases {
            assert_eq!(
                notable(line),
                want.map(|(a, b)| (a.to_owned(), b.to_owned())),
                "{line}"
            );
        }
    }
}
