use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::desktop::{DesktopSpec, DesktopStatus, desktop_keys, plan_off, plan_on, status};
use super::profile::{
    CatalogSource, ProfileSpec, WebSearchMode, initial_text, legacy_problems, profile_edits,
};
use super::*;

fn doc(text: &str) -> DocumentMut {
    text.parse().unwrap()
}

/// Applies `edits` to `text`; (new text, changed).
fn edited(text: &str, edits: &[ConfigEdit]) -> (String, bool) {
    let mut d = doc(text);
    let changed = apply(&mut d, edits).unwrap();
    (render(&d, text), changed)
}

#[test]
fn set_and_remove_keep_comments_order_and_blank_lines() {
    let text =
        "# my config\n\nmodel = \"gpt-5.5\" # the one I like\n\n[tui]\n# theme\ntheme = 'dark'\n";
    // (edits, expected text, changed)
    let cases: Vec<(Vec<ConfigEdit>, &str, bool)> = vec![
        (
            vec![ConfigEdit::set(&["model"], "deepseek/deepseek-chat")],
            "# my config\n\nmodel = \"deepseek/deepseek-chat\" # the one I like\n\n[tui]\n# theme\ntheme = 'dark'\n",
            true,
        ),
        (
            vec![ConfigEdit::set(&["tui", "theme"], "dark")],
            text,
            false,
        ),
        (
            vec![ConfigEdit::set(&["model_provider"], "aimux")],
            "# my config\n\nmodel = \"gpt-5.5\" # the one I like\nmodel_provider = \"aimux\"\n\n[tui]\n# theme\ntheme = 'dark'\n",
            true,
        ),
        (
            vec![ConfigEdit::set(
                &["model_providers", "aimux", "name"],
                "aimux",
            )],
            "# my config\n\nmodel = \"gpt-5.5\" # the one I like\n\n[tui]\n# theme\ntheme = 'dark'\n\n[model_providers.aimux]\nname = \"aimux\"\n",
            true,
        ),
        (
            vec![ConfigEdit::remove(&["model"])],
            "# my config\n\n\n[tui]\n# theme\ntheme = 'dark'\n",
            true,
        ),
        (vec![ConfigEdit::remove(&["nope", "deeper"])], text, false),
        (
            vec![ConfigEdit::remove_table_if_empty(&["tui"])],
            text,
            false,
        ),
    ];
    for (edits, want, changed) in cases {
        assert_eq!(
            edited(text, &edits),
            (want.to_owned(), changed),
            "{edits:?}"
        );
    }
}

#[test]
fn set_into_inline_tables_and_dotted_keys() {
    let cases = [
        (
            "[model_providers.x]\nhttp_headers = { A = \"1\" }\n",
            &["model_providers", "x", "http_headers", "B"][..],
            "[model_providers.x]\nhttp_headers = { A = \"1\", B = \"2\" }\n",
        ),
        (
            "model_providers.x.name = \"x\"\n",
            &["model_providers", "x", "base_url"][..],
            "model_providers.x.name = \"x\"\nmodel_providers.x.base_url = \"2\"\n",
        ),
        (
            "p = { q = { r = 1 } }\n",
            &["p", "s", "t"][..],
            "p = { q = { r = 1 }, s = { t = \"2\" } }\n",
        ),
    ];
    for (text, path, want) in cases {
        let (out, changed) = edited(text, &[ConfigEdit::set(path, "2")]);
        assert!(changed);
        assert_eq!(out, want, "{path:?}");
        out.parse::<DocumentMut>().unwrap();
    }
}

#[test]
fn set_through_a_value_is_an_error_naming_the_key() {
    let mut d = doc("model_providers = \"oops\"\n");
    let err = apply(
        &mut d,
        &[ConfigEdit::set(&["model_providers", "aimux", "name"], "a")],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `model_providers.aimux.name`: `model_providers` is not a table"
    );
    let mut d = doc("[a.b]\nc = 1\n");
    let err = apply(&mut d, &[ConfigEdit::set(&["a", "b"], 1)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot set `a.b`: it is a table, not a value"
    );
}

#[test]
fn same_value_ignores_spelling() {
    let cases = [
        ("'a'", "\"a\"", true),
        ("\"a\"", "\"b\"", false),
        ("1", "1", true),
        ("0x10", "16", true),
        ("true", "true", true),
        ("[1, 2]", "[1,2]", false),
        ("1", "\"1\"", false),
    ];
    for (a, b, want) in cases {
        let (a, b) = (parse_raw(a).unwrap(), parse_raw(b).unwrap());
        assert_eq!(same_value(&a, &b), want, "{a} vs {b}");
    }
}

fn spec() -> ProfileSpec {
    ProfileSpec {
        model: "deepseek/deepseek-chat".into(),
        base_url: "http://127.0.0.1:8403/v1".into(),
        catalog: CatalogSource::File,
        catalog_file: PathBuf::from("/home/u/.codex/aimux-catalog.json"),
        catalog_url: "http://127.0.0.1:8403/v1/aimux/catalog".into(),
        instructions_file: None,
        our_instructions_file: PathBuf::from("/home/u/.codex/aimux-instructions.md"),
        token: false,
        web_search: None,
    }
}

/// What `aimux setup` does to a profile: template when new, then the edits.
fn setup(existing: Option<&str>, spec: &ProfileSpec) -> (String, bool) {
    let text = existing.map_or_else(|| initial_text(spec), str::to_owned);
    let mut d = doc(&text);
    let edits = profile_edits(&d, spec);
    let changed = apply(&mut d, &edits).unwrap();
    (d.to_string(), changed || existing.is_none())
}

const HEADER: &str = "# Codex profile for aimux, written by `aimux setup`. Use it with `codex -p aimux`: Codex layers
# this file over config.toml. Re-running `aimux setup` updates only the keys it manages (model,
# model_provider, model_catalog_json, model_instructions_file, web_search and the
# [model_providers.aimux] keys name, base_url, wire_api, env_key, env_key_instructions,
# model_catalog_url) and keeps everything else, comments included.
";

#[test]
fn new_profile_exact_text() {
    let (text, _) = setup(None, &spec());
    assert_eq!(
        text,
        format!(
            "{HEADER}
model = \"deepseek/deepseek-chat\"
model_provider = \"aimux\"
model_catalog_json = \"/home/u/.codex/aimux-catalog.json\"

[model_providers.aimux]
name = \"aimux\"
base_url = \"http://127.0.0.1:8403/v1\"
wire_api = \"responses\"
"
        )
    );
    // Idempotent: a second run changes nothing.
    assert_eq!(setup(Some(&text), &spec()), (text.clone(), false));
}

#[test]
fn profile_with_token_instructions_and_web_search_exact_text() {
    let mut s = spec();
    s.token = true;
    s.instructions_file = Some(PathBuf::from("/home/u/.codex/aimux-instructions.md"));
    s.web_search = Some(WebSearchMode::Live);
    let (text, _) = setup(None, &s);
    assert_eq!(
        text,
        format!(
            "{HEADER}
model = \"deepseek/deepseek-chat\"
model_provider = \"aimux\"
model_catalog_json = \"/home/u/.codex/aimux-catalog.json\"
model_instructions_file = \"/home/u/.codex/aimux-instructions.md\"
web_search = \"live\"

[model_providers.aimux]
name = \"aimux\"
base_url = \"http://127.0.0.1:8403/v1\"
wire_api = \"responses\"
env_key = \"AIMUX_TOKEN\"
env_key_instructions = \"Export AIMUX_TOKEN with the aimux bridge's token ([bridge] token in aimux's config.toml).\"
"
        )
    );
    // Back without token and instructions: only aimux's own values are removed.
    let (back, changed) = setup(Some(&text), &spec());
    assert!(changed);
    assert!(!back.contains("\nenv_key") && !back.contains("\nmodel_instructions_file"));
    assert!(
        back.contains("web_search = \"live\""),
        "not aimux's to drop"
    );
}

#[test]
fn rerun_merges_into_a_profile_the_user_edited() {
    let user = "# my notes\nmodel = \"deepseek/deepseek-chat\"  # keep this comment\nmodel_provider = \"aimux\"\nmodel_reasoning_effort = \"high\"\nmodel_catalog_json = \"/home/u/.codex/aimux-catalog.json\"\n\n[model_providers.aimux]\nname = \"My aimux\"\nbase_url = \"http://127.0.0.1:9999/v1\"\nwire_api = \"responses\"\nstream_idle_timeout_ms = 600000\nhttp_headers = { X-Team = \"infra\" }\n\n[features]\nmulti_agent = false\n";
    let (text, changed) = setup(Some(user), &spec());
    assert!(changed);
    assert_eq!(
        text,
        user.replace("127.0.0.1:9999", "127.0.0.1:8403"),
        "only the bridge URL differs"
    );
}

#[test]
fn catalog_url_mode_swaps_the_catalog_key() {
    let (file_mode, _) = setup(None, &spec());
    let mut s = spec();
    s.catalog = CatalogSource::Url;
    let (url_mode, changed) = setup(Some(&file_mode), &s);
    assert!(changed);
    assert!(!url_mode.contains("\nmodel_catalog_json"), "{url_mode}");
    assert!(url_mode.ends_with(
        "wire_api = \"responses\"\nmodel_catalog_url = \"http://127.0.0.1:8403/v1/aimux/catalog\"\n"
    ));
    let (back, _) = setup(Some(&url_mode), &spec());
    assert!(back.contains("model_catalog_json = ") && !back.contains("\nmodel_catalog_url"));
}

#[test]
fn legacy_profiles_are_reported() {
    let cases: [(&str, &[&str]); 4] = [
        ("model = \"x\"\n", &[]),
        ("[profiles.other]\nmodel = \"x\"\n", &[]),
        ("profile = \"aimux\"\n", &["legacy `profile = \"aimux\"`"]),
        (
            "profile = \"work\"\n[profiles.aimux]\nmodel = \"x\"\n",
            &[
                "legacy `profile = \"work\"`",
                "legacy [profiles.aimux] table",
            ],
        ),
    ];
    for (text, wants) in cases {
        let problems = legacy_problems(&doc(text), "aimux");
        assert_eq!(problems.len(), wants.len(), "{text}: {problems:?}");
        for (p, w) in problems.iter().zip(wants) {
            assert!(p.contains(w), "{p}");
        }
    }
}

fn desktop_spec(token: Option<&str>) -> DesktopSpec {
    DesktopSpec {
        model: "deepseek/deepseek-chat".into(),
        base_url: "http://127.0.0.1:8403/v1".into(),
        catalog_file: PathBuf::from("/home/u/.codex/aimux-catalog.json"),
        instructions_file: None,
        token: token.map(str::to_owned),
    }
}

/// on → (text, record); off → text; checks on is idempotent and off restores the bytes.
fn round_trip(original: &str, spec: &DesktopSpec) -> String {
    let config = PathBuf::from("/home/u/.codex/config.toml");
    let keys = desktop_keys(spec);
    let mut d = doc(original);
    let (edits, record) = plan_on(&d, &keys, None, &config, "20260101T000000Z");
    assert!(apply(&mut d, &edits).unwrap());
    let on = render(&d, original);
    on.parse::<DocumentMut>().unwrap();
    assert_eq!(status(&d, Some(&record)), DesktopStatus::On);

    // A second `on` changes nothing and keeps the original `before` values.
    let (again, record2) = plan_on(&d, &keys, Some(&record), &config, "20260202T000000Z");
    assert!(
        !apply(&mut d, &again).unwrap(),
        "second on changed the file"
    );
    assert_eq!(record2, record);

    let (edits, kept) = plan_off(&d, &record);
    assert_eq!(kept, Vec::<String>::new());
    apply(&mut d, &edits).unwrap();
    assert_eq!(
        render(&d, original),
        original,
        "on → off must give the same bytes"
    );
    assert_eq!(status(&d, None), DesktopStatus::Off);
    on
}

#[test]
fn desktop_round_trip_on_a_commented_config() {
    let original = "# Codex config, hand-written.\n\nmodel = \"gpt-5.5\"   # default model\nmodel_reasoning_effort = 'high'\n\n# Providers\n[model_providers.ollama-remote]\nname = \"box\"\nbase_url = \"http://box:11434/v1\"\nhttp_headers = { X-Team = \"infra\" }\n\n[tui]\nnotifications = true\n\n[projects.\"/home/u/src\"]\ntrust_level = \"trusted\"\n";
    let on = round_trip(original, &desktop_spec(None));
    assert_eq!(
        on,
        "# Codex config, hand-written.\n\nmodel = \"deepseek/deepseek-chat\"   # default model\nmodel_reasoning_effort = 'high'\nmodel_provider = \"aimux\"\nmodel_catalog_json = \"/home/u/.codex/aimux-catalog.json\"\n\n# Providers\n[model_providers.ollama-remote]\nname = \"box\"\nbase_url = \"http://box:11434/v1\"\nhttp_headers = { X-Team = \"infra\" }\n\n[model_providers.aimux]\nname = \"aimux\"\nbase_url = \"http://127.0.0.1:8403/v1\"\nwire_api = \"responses\"\n\n[tui]\nnotifications = true\n\n[projects.\"/home/u/src\"]\ntrust_level = \"trusted\"\n"
    );
}

#[test]
fn desktop_round_trip_on_an_empty_and_a_minimal_config() {
    let on = round_trip("", &desktop_spec(None));
    assert_eq!(
        on,
        "model = \"deepseek/deepseek-chat\"\nmodel_provider = \"aimux\"\nmodel_catalog_json = \"/home/u/.codex/aimux-catalog.json\"\n\n[model_providers.aimux]\nname = \"aimux\"\nbase_url = \"http://127.0.0.1:8403/v1\"\nwire_api = \"responses\"\n"
    );
    // (original config, token)
    let cases = [
        ("model = \"o3\"", None),
        ("\n\n# only a comment\n", Some("t")),
        ("# header\n\n[tui]\nx = 1\n", Some("t")),
        (
            "model_providers.aimux.base_url = 'http://old/v1' # dotted\n",
            Some("t"),
        ),
        (
            "model_providers = { aimux = { base_url = \"http://old/v1\" } }\n",
            None,
        ),
        (
            "[model_providers.aimux.http_headers]\nX = \"1\"\n",
            Some("t"),
        ),
        (
            "[profiles.other]\nmodel = \"x\"\n\n[model_providers]\n",
            None,
        ),
    ];
    for (original, token) in cases {
        round_trip(original, &desktop_spec(token));
    }
}

#[test]
fn desktop_merges_the_token_into_existing_http_headers() {
    // An aimux provider the user wrote by hand, with its own inline headers.
    let original = "model_provider = \"openai\"\n\n[model_providers.aimux]\nname = \"mine\"\nbase_url = \"http://127.0.0.1:7000/v1\"\nhttp_headers = { X-Team = \"infra\" }\nstream_max_retries = 2\n";
    let on = round_trip(original, &desktop_spec(Some("s3cret")));
    assert_eq!(
        on,
        "model_provider = \"aimux\"\nmodel = \"deepseek/deepseek-chat\"\nmodel_catalog_json = \"/home/u/.codex/aimux-catalog.json\"\n\n[model_providers.aimux]\nname = \"aimux\"\nbase_url = \"http://127.0.0.1:8403/v1\"\nhttp_headers = { X-Team = \"infra\", Authorization = \"Bearer s3cret\" }\nstream_max_retries = 2\nwire_api = \"responses\"\n"
    );
    assert_eq!(
        on.matches("http_headers").count(),
        1,
        "merged, not duplicated"
    );

    // The same with a standard [..http_headers] table.
    let original = "[model_providers.aimux]\nbase_url = \"http://x/v1\"\n\n[model_providers.aimux.http_headers]\nX-Team = \"infra\"\n";
    let on = round_trip(original, &desktop_spec(Some("s3cret")));
    assert!(
        on.contains("[model_providers.aimux.http_headers]\nX-Team = \"infra\"\nAuthorization = \"Bearer s3cret\"\n"),
        "{on}"
    );
    assert_eq!(on.matches("http_headers").count(), 1);
}

#[test]
fn desktop_off_keeps_what_the_user_changed_since_on() {
    let config = PathBuf::from("/c/config.toml");
    let original = "model = \"gpt-5.5\"\n";
    let keys = desktop_keys(&desktop_spec(None));
    let mut d = doc(original);
    let (edits, record) = plan_on(&d, &keys, None, &config, "t");
    apply(&mut d, &edits).unwrap();
    // The user picks another model while Desktop runs on aimux.
    apply(&mut d, &[ConfigEdit::set(&["model"], "openrouter/x")]).unwrap();
    assert_eq!(
        status(&d, Some(&record)),
        DesktopStatus::Modified(vec!["model".into()])
    );
    let (edits, kept) = plan_off(&d, &record);
    assert_eq!(kept, ["model"]);
    apply(&mut d, &edits).unwrap();
    assert_eq!(d.to_string(), "model = \"openrouter/x\"\n");
}

#[test]
fn desktop_on_again_with_a_new_port_and_no_token_keeps_the_original_values() {
    let config = PathBuf::from("/c/config.toml");
    let original = "model = \"gpt-5.5\"\n";
    let mut d = doc(original);
    let (edits, first) = plan_on(
        &d,
        &desktop_keys(&desktop_spec(Some("t"))),
        None,
        &config,
        "t1",
    );
    apply(&mut d, &edits).unwrap();
    let mut moved = desktop_spec(None);
    moved.base_url = "http://127.0.0.1:9000/v1".into();
    let (edits, second) = plan_on(&d, &desktop_keys(&moved), Some(&first), &config, "t2");
    assert!(apply(&mut d, &edits).unwrap());
    assert!(!d.to_string().contains("http_headers"), "{d}");
    assert_eq!(second.since, "t1");
    assert_eq!(second.keys[0].before.as_deref(), Some("\"gpt-5.5\""));
    let (edits, _) = plan_off(&d, &second);
    apply(&mut d, &edits).unwrap();
    assert_eq!(d.to_string(), original);
}

#[test]
fn backups_get_a_new_name_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "a = 1\n").unwrap();
    let t = UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z
    let backups = dir.path().join("backups");
    let names: Vec<String> = (0..3)
        .map(|_| {
            let p = backup(&file, &backups, "codex-config.toml", t).unwrap();
            assert_eq!(std::fs::read_to_string(&p).unwrap(), "a = 1\n");
            p.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "codex-config.toml.20260101T000000Z",
            "codex-config.toml.20260101T000000Z-2",
            "codex-config.toml.20260101T000000Z-3"
        ]
    );
}

#[test]
fn utc_stamps() {
    for (secs, want) in [
        (0, "19700101T000000Z"),
        (951_782_400, "20000229T000000Z"),
        (1_767_225_599, "20251231T235959Z"),
        (4_107_542_400, "21000301T000000Z"),
    ] {
        assert_eq!(utc_stamp(UNIX_EPOCH + Duration::from_secs(secs)), want);
    }
}

#[cfg(unix)]
#[test]
fn write_keeps_permissions_and_follows_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("dotfiles-config.toml");
    std::fs::write(&real, "a = 1\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let loaded = read(&link).unwrap();
    let backup = write(&loaded, "a = 2\n", &dir.path().join("b"), "cfg").unwrap();
    assert!(backup.is_some());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "a = 2\n");
    let mode = std::fs::metadata(&real).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}
