//! Pure: a [`Report`] as text for people or as JSON. Both come from the same rows.

use console::Style;

use super::{Report, Status};

/// The mark before a row: ✓ ok, ! warn, ✗ fail.
pub fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
    }
}

/// A section's title, from the part of the id before the first dot.
pub fn section(id: &str) -> &'static str {
    match id.split('.').next().unwrap_or("") {
        "codex" => "Codex",
        "aimux" => "aimux",
        "link" => "Link",
        "provider" => "Providers",
        _ => "Other",
    }
}

/// A row's label in the human output.
pub fn label(id: &str) -> String {
    match id {
        "codex.cli" => "codex".to_owned(),
        "codex.home" => "CODEX_HOME".to_owned(),
        "codex.config" => "config.toml".to_owned(),
        "link.roundtrip" => "round trip".to_owned(),
        _ => id.split_once('.').map_or(id, |(_, rest)| rest).to_owned(),
    }
}

/// The report for a terminal: sections, one line per check, and under each problem its details
/// and one hint. `color` adds ANSI styles.
pub fn human(report: &Report, color: bool) -> String {
    let st = |style: Style| style.force_styling(color);
    let bold = st(Style::new().bold());
    let dim = st(Style::new().dim());
    let styled_mark = |s: Status| {
        let style = match s {
            Status::Ok => st(Style::new().green().bold()),
            Status::Warn => st(Style::new().yellow().bold()),
            Status::Fail => st(Style::new().red().bold()),
        };
        style.apply_to(mark(s)).to_string()
    };
    let width = report
        .checks
        .iter()
        .map(|c| label(&c.id).chars().count())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(width + 6);
    let mut out = String::new();
    let mut current = "";
    for c in &report.checks {
        let sec = section(&c.id);
        if sec != current {
            if !current.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("{}\n", bold.apply_to(sec)));
            current = sec;
        }
        out.push_str(&format!(
            "  {} {:<width$}  {}\n",
            styled_mark(c.status),
            label(&c.id),
            c.summary
        ));
        if c.status != Status::Ok {
            for d in &c.details {
                out.push_str(&format!("{indent}{}\n", dim.apply_to(d)));
            }
            if let Some(h) = &c.hint {
                out.push_str(&format!("{indent}hint: {h}\n"));
            }
        }
    }
    let n = &report.counts;
    out.push_str(&format!(
        "\n{} ok · {} warn · {} fail{}\n",
        n.ok,
        n.warn,
        n.fail,
        if report.offline {
            " (--offline: no round trip, remote providers not probed)"
        } else {
            ""
        }
    ));
    out
}

/// The `--json` document: `{schema_version, aimux_version, status, offline, counts, checks}`,
/// each check `{id, status, summary, details, hint}`.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}
