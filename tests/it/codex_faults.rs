//! The real Codex CLI against upstream faults, through `aimux bridge`: a stream that stalls or
//! breaks mid-answer must reach Codex as a failed response it retries, and the partial text of
//! the failed attempt must not end up in what Codex keeps.

use std::time::{Duration, Instant};

use crate::common::bridge::{Bridge, BridgeOptions};
use crate::common::faulty::{Fault, FaultyUpstream, PARTIAL, RECOVERED};
use crate::common::{CodexConfig, CodexHome, ExecOptions, ExecOutput};

/// A bridge with short timers in front of the faulty upstream.
fn bridge(upstream: &FaultyUpstream, home: &tempfile::TempDir) -> Bridge {
    std::fs::write(
        home.path().join("config.toml"),
        "[bridge]\nfirst_byte_timeout_s = 2\nidle_timeout_s = 1\nheartbeat_ms = 200\n",
    )
    .expect("config");
    Bridge::spawn_with(BridgeOptions {
        upstream: upstream.base_url(),
        args: vec![],
        envs: vec![("AIMUX_HOME".into(), home.path().display().to_string())],
        subcommand: None,
    })
}

fn run(upstream: &FaultyUpstream, stream_max_retries: u32) -> (ExecOutput, String, Duration) {
    let aimux_home = tempfile::tempdir().expect("home");
    let bridge = bridge(upstream, &aimux_home);
    let home = CodexHome::with_config(
        &bridge.url,
        CodexConfig {
            stream_max_retries,
            ..CodexConfig::default()
        },
    );
    let started = Instant::now();
    let out = home.run_exec(
        "Say something.",
        &ExecOptions {
            timeout: Duration::from_secs(60),
            ..ExecOptions::default()
        },
    );
    let elapsed = started.elapsed();
    let why = format!(
        "{}\n--- upstream requests: {} ---\n--- bridge stderr ---\n{}",
        out.dump(),
        upstream.request_count(),
        bridge.stderr()
    );
    (out, why, elapsed)
}

#[test]
fn codex_retries_a_stream_that_stalls_mid_answer_and_keeps_only_the_retry() {
    let upstream = FaultyUpstream::start([Fault::HangMidAnswer]);
    let (out, why, elapsed) = run(&upstream, 2);
    assert!(!out.timed_out, "{why}");
    assert!(
        out.success(),
        "codex exec should succeed on the retry\n{why}"
    );
    assert_eq!(
        out.last_message.as_deref().map(str::trim),
        Some(RECOVERED),
        "the answer is the retry's alone, without the stalled attempt's {PARTIAL:?}\n{why}"
    );
    assert_eq!(
        upstream.request_count(),
        2,
        "one stalled attempt, one retry\n{why}"
    );
    // The stall is cut by the bridge's 1 s idle timer, not by Codex's own (300 s) one.
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}\n{why}");
}

#[test]
fn codex_reports_a_stream_reset_it_may_not_retry() {
    let upstream = FaultyUpstream::start([Fault::Reset]);
    let (out, why, _) = run(&upstream, 0);
    assert!(!out.timed_out, "{why}");
    assert!(!out.success(), "codex exec must fail\n{why}");
    assert_eq!(upstream.request_count(), 1, "no retries allowed\n{why}");
    assert!(
        !out.last_message
            .as_deref()
            .unwrap_or("")
            .contains(PARTIAL.trim()),
        "a failed answer's partial text is not Codex's answer\n{why}"
    );
    // Codex ends the turn with the bridge's reason, as the upstream gave it.
    let failed: Vec<_> = out
        .events()
        .into_iter()
        .filter(|e| e["type"] == "turn.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{why}");
    let message = failed[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("broke off the answer") && message.contains("reset"),
        "turn.failed says the upstream broke off: {message}\n{why}"
    );
}
