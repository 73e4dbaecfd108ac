//! The pure parts of doctor: verdicts from observations, and both renderings.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::local::{
    BridgeTarget, base_config_problems, base_url_problem, catalog_slugs, catalog_verdict,
};
use super::providers::{Probe, parse_codex_version, provider_verdict};
use super::render::{human, json as render_json, label, section};
use super::{Check, Report, Status};

fn sample() -> Report {
    Report::new(
        vec![
            Check::ok("codex.cli", "codex-cli 0.169.0 (/usr/bin/codex)"),
            Check::warn("codex.catalog", "2 of 5 models are not routable now: x, y")
                .hint("run `aimux gen-catalog`"),
            Check::ok("aimux.config", "defaults"),
            Check::fail(
                "link.bridge",
                "nothing answers at 127.0.0.1:8403 (connection refused)",
            )
            .detail("aimux start reports the bridge as backoff")
            .detail("its last process exited with code 3")
            .hint("`aimux logs bridge` shows why"),
            Check::ok("link.roundtrip", "a/m1 answered \"pong\" in 12 ms"),
            Check::ok("provider.deepseek", "key from DEEPSEEK_API_KEY"),
        ],
        false,
    )
}

#[test]
fn human_text_is_exact() {
    assert_eq!(
        human(&sample(), false),
        "Codex
  ✓ codex       codex-cli 0.169.0 (/usr/bin/codex)
  ! catalog     2 of 5 models are not routable now: x, y
                hint: run `aimux gen-catalog`

aimux
  ✓ config      defaults

Link
  ✗ bridge      nothing answers at 127.0.0.1:8403 (connection refused)
                aimux start reports the bridge as backoff
                its last process exited with code 3
                hint: `aimux logs bridge` shows why
  ✓ round trip  a/m1 answered \"pong\" in 12 ms

Providers
  ✓ deepseek    key from DEEPSEEK_API_KEY

4 ok · 1 warn · 1 fail
"
    );
    let offline = Report::new(vec![Check::ok("aimux.config", "defaults")], true);
    assert_eq!(
        human(&offline, false),
        "aimux\n  ✓ config  defaults\n\n1 ok · 0 warn · 0 fail (--offline: no round trip, remote \
         providers not probed)\n"
    );
    let colored = human(&sample(), true);
    assert!(colored.contains("\u{1b}["), "{colored}");
    assert_eq!(console::strip_ansi_codes(&colored), human(&sample(), false));
}

#[test]
fn json_schema() {
    let v: Value = serde_json::from_str(&render_json(&sample())).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["aimux_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["status"], "fail");
    assert_eq!(v["offline"], false);
    assert_eq!(v["counts"], json!({"ok": 4, "warn": 1, "fail": 1}));
    assert_eq!(
        v["checks"][3],
        json!({
            "id": "link.bridge",
            "status": "fail",
            "summary": "nothing answers at 127.0.0.1:8403 (connection refused)",
            "details": ["aimux start reports the bridge as backoff", "its last process exited with code 3"],
            "hint": "`aimux logs bridge` shows why",
        })
    );
    assert_eq!(v["checks"][0]["hint"], Value::Null);
}

#[test]
fn report_status_is_the_worst_row() {
    let r = |statuses: &[Status]| {
        Report::new(
            statuses
                .iter()
                .map(|s| Check::new("x.y", *s, "s"))
                .collect(),
            false,
        )
        .status
    };
    assert_eq!(r(&[]), Status::Ok);
    assert_eq!(r(&[Status::Ok, Status::Warn]), Status::Warn);
    assert_eq!(r(&[Status::Fail, Status::Warn, Status::Ok]), Status::Fail);
}

#[test]
fn labels_and_sections() {
    let cases = [
        ("codex.cli", "codex", "Codex"),
        ("codex.home", "CODEX_HOME", "Codex"),
        ("codex.profile", "profile", "Codex"),
        ("aimux.credentials", "credentials", "aimux"),
        ("link.roundtrip", "round trip", "Link"),
        ("provider.modelscope", "modelscope", "Providers"),
    ];
    for (id, want_label, want_section) in cases {
        assert_eq!(
            (label(id).as_str(), section(id)),
            (want_label, want_section)
        );
    }
}

#[test]
fn codex_versions() {
    let cases = [
        ("codex-cli 0.169.0\n", Some((0, 169, 0))),
        (
            "WARNING: proceeding\ncodex-cli 0.170.2-alpha.1\n",
            Some((0, 170, 2)),
        ),
        ("codex 1.2\n", Some((1, 2, 0))),
        ("", None),
        ("codex-cli dev\n", None),
    ];
    for (out, want) in cases {
        assert_eq!(parse_codex_version(out), want, "{out:?}");
    }
}

#[test]
fn base_url_against_the_bridge() {
    let running = BridgeTarget {
        port: 8403,
        running: true,
        configured: Some((8403, "default".into())),
    };
    let moved = BridgeTarget {
        port: 9000,
        running: true,
        configured: Some((8403, "default".into())),
    };
    let stopped = BridgeTarget {
        port: 8403,
        running: false,
        configured: Some((8403, "env AIMUX_BRIDGE_PORT".into())),
    };
    type Case<'a> = (&'a str, &'a BridgeTarget, Option<(&'a str, &'a str)>);
    let cases: [Case; 7] = [
        ("http://127.0.0.1:8403/v1", &running, None),
        ("http://localhost:8403/v1", &running, None),
        ("http://127.0.0.1:8403/v1", &stopped, None),
        (
            "http://127.0.0.1:9999/v1",
            &running,
            Some((
                "p base_url http://127.0.0.1:9999/v1 does not reach the bridge, which listens on 127.0.0.1:8403",
                "aimux setup",
            )),
        ),
        (
            "http://127.0.0.1:8403/v1",
            &moved,
            Some((
                "listens on 127.0.0.1:9000",
                "aimux's settings say 8403 (default)",
            )),
        ),
        (
            "http://127.0.0.1:1/v1",
            &stopped,
            Some((
                "does not reach aimux's bridge port 8403 (env AIMUX_BRIDGE_PORT)",
                "aimux setup",
            )),
        ),
        (
            "not a url",
            &running,
            Some(("is not an http URL", "aimux setup")),
        ),
    ];
    for (url, target, want) in cases {
        let got = base_url_problem("p", url, target);
        match (got, want) {
            (None, None) => {}
            (Some((s, h)), Some((ws, wh))) => {
                assert!(s.contains(ws), "{url}: {s}");
                assert!(h.contains(wh), "{url}: {h}");
            }
            (got, want) => panic!("{url}: {got:?} vs {want:?}"),
        }
    }
}

#[test]
fn base_config_problems_codex_refuses() {
    let doc = |s: &str| s.parse::<toml_edit::DocumentMut>().unwrap();
    assert!(
        base_config_problems(&doc("model = \"x\"\n[profiles.other]\nmodel = \"y\"\n")).is_empty()
    );
    let cases = [
        (
            "profile = \"aimux\"\n",
            "legacy `profile = \"aimux\"`",
            "delete that line",
        ),
        (
            "[profiles.aimux]\nmodel = \"x\"\n",
            "legacy [profiles.aimux]",
            "delete [profiles.aimux]",
        ),
        (
            "[model_providers.box]\nwire_api = \"chat\"\n",
            "wire_api = \"chat\" in [model_providers.box]",
            "[providers.box]",
        ),
        (
            "[model_providers.openai]\nbase_url = \"http://x\"\n",
            "defines [model_providers.openai]",
            "rename that table",
        ),
    ];
    for (text, summary, hint) in cases {
        let problems = base_config_problems(&doc(text));
        assert_eq!(problems.len(), 1, "{text}: {problems:?}");
        let (s, h) = &problems[0];
        assert!(s.contains(summary), "{text}: {s}");
        assert!(h.as_deref().unwrap_or("").contains(hint), "{text}: {h:?}");
    }
}

fn entry(slug: &str) -> Value {
    json!({
        "slug": slug, "display_name": slug, "supported_reasoning_levels": [],
        "shell_type": "shell_command", "visibility": "list", "supported_in_api": true,
        "priority": 1, "support_verbosity": false,
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "experimental_supported_tools": [], "base_instructions": "You are Codex."
    })
}

#[test]
fn catalogs_codex_can_read() {
    let ok = json!({"models": [entry("a/m1"), entry("fast")]}).to_string();
    assert_eq!(catalog_slugs(&ok).unwrap(), ["a/m1", "fast"]);
    let catalog = crate::catalog::build(&json!({"data": [{"id": "a/m1", "owned_by": "a"}]}));
    assert_eq!(catalog_slugs(&catalog.render()).unwrap(), ["a/m1"]);

    let mut no_name = entry("x");
    no_name.as_object_mut().unwrap().remove("display_name");
    let mut no_prompt = entry("y");
    no_prompt
        .as_object_mut()
        .unwrap()
        .remove("base_instructions");
    let mut template = entry("z");
    template
        .as_object_mut()
        .unwrap()
        .remove("base_instructions");
    template["model_messages"] = json!({"instructions_template": "t"});
    assert!(catalog_slugs(&json!({"models": [template]}).to_string()).is_ok());
    let cases = [
        ("{", "not JSON"),
        ("{\"data\": []}", "no `models` list"),
        ("{\"models\": []}", "lists no model"),
        (
            &json!({"models": [entry("a"), no_name]}).to_string(),
            "entry 2 (`x`) lacks `display_name`",
        ),
        (
            &json!({"models": [no_prompt]}).to_string(),
            "neither `base_instructions`",
        ),
    ];
    for (text, want) in cases {
        let err = catalog_slugs(text).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn catalog_routability() {
    let slugs: Vec<String> = ["a/m1", "a/m2", "b/x", "b/y"].map(String::from).to_vec();
    let set = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    let all = set(&["a/m1", "a/m2", "b/x", "b/y", "extra"]);
    type Case<'a> = (Option<BTreeSet<String>>, Option<&'a str>, Status, &'a str);
    let cases: [Case; 5] = [
        (
            Some(all.clone()),
            Some("a/m1"),
            Status::Ok,
            "c: 4 models, all routable",
        ),
        (None, Some("a/m1"), Status::Ok, "routability not checked"),
        (
            Some(set(&["a/m1", "a/m2"])),
            Some("a/m1"),
            Status::Warn,
            "2 of 4 models in c are not routable now: b/x, b/y",
        ),
        (
            Some(set(&["a/m2", "b/x", "b/y"])),
            Some("a/m1"),
            Status::Fail,
            "the profile's model a/m1 is not routable now",
        ),
        (
            Some(all),
            Some("other"),
            Status::Fail,
            "the profile's model other is not routable",
        ),
    ];
    for (routable, model, status, summary) in cases {
        let c = catalog_verdict("c", &slugs, routable.as_ref(), model);
        assert_eq!(c.status, status, "{c:?}");
        assert!(c.summary.contains(summary), "{c:?}");
    }
    let c = catalog_verdict("c", &slugs, None, Some("zz"));
    assert_eq!(c.status, Status::Warn);
    assert!(c.summary.contains("zz is not in c"), "{c:?}");
}

#[test]
fn provider_verdicts() {
    let url = "https://api.example.com/v1";
    let key = Some("key from EX_API_KEY");
    let cases: [(Probe, Option<bool>, Status, &str); 9] = [
        (
            Probe::Status(200),
            Some(true),
            Status::Ok,
            "key from EX_API_KEY; https://api.example.com/v1 answers (HTTP 200)",
        ),
        (Probe::Status(200), None, Status::Ok, "answers (HTTP 200)"),
        (
            Probe::Status(200),
            Some(false),
            Status::Warn,
            "the running proxy does not route to it",
        ),
        (
            Probe::Status(401),
            Some(true),
            Status::Fail,
            "rejects the key (key from EX_API_KEY): HTTP 401",
        ),
        (Probe::Status(404), None, Status::Ok, "HTTP 404 on /models"),
        (Probe::Status(429), None, Status::Warn, "rate-limits"),
        (Probe::Status(503), None, Status::Warn, "HTTP 503"),
        (
            Probe::Unreachable("connection refused".into()),
            None,
            Status::Fail,
            "is unreachable: connection refused",
        ),
        (
            Probe::Skipped("--offline"),
            None,
            Status::Ok,
            "not probed (--offline)",
        ),
    ];
    for (probe, listed, status, summary) in cases {
        let c = provider_verdict("ex", url, key, &probe, listed);
        assert_eq!(c.id, "provider.ex");
        assert_eq!(c.status, status, "{probe:?}: {c:?}");
        assert!(c.summary.contains(summary), "{probe:?}: {c:?}");
        assert_eq!(c.hint.is_some(), status != Status::Ok, "{c:?}");
    }
    let local = provider_verdict(
        "ollama",
        "http://127.0.0.1:11434/v1",
        None,
        &Probe::Unreachable("connection refused".into()),
        None,
    );
    assert!(
        local
            .hint
            .unwrap_or_default()
            .contains("is that server running")
    );
}
