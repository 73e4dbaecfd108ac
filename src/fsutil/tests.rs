use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use super::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every name in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn replaces_keeping_the_mode_and_creates_new_files_private() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "old = 1\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomic(&file, b"new = 2\n", Perms::Keep).unwrap();
    assert_eq!(std::fs::read(&file).unwrap(), b"new = 2\n");
    assert_eq!(mode(&file), 0o640);

    write_atomic(&file, b"secret\n", Perms::Private).unwrap();
    assert_eq!(mode(&file), 0o600);

    let fresh = dir.path().join("sub/new.json");
    write_atomic(&fresh, b"{}", Perms::Keep).unwrap();
    assert_eq!(mode(&fresh), 0o600);
    assert_eq!(names(dir.path()), ["config.toml", "sub"]);
}

#[test]
fn a_failure_mid_write_leaves_the_old_file_and_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials.toml");
    std::fs::write(&file, "[a]\napi_key = \"k\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = write_with(&file, Perms::Keep, true, |f| {
        f.write_all(b"[a]\napi_k")?;
        Err(std::io::Error::other("injected: disk full"))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "injected: disk full");
    assert_eq!(std::fs::read(&file).unwrap(), b"[a]\napi_key = \"k\"\n");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(names(dir.path()), ["credentials.toml"]);
}

#[test]
fn a_failed_rename_leaves_the_target_and_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    // A non-empty directory cannot be renamed over.
    let target = dir.path().join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("inside"), "x").unwrap();
    assert!(write_atomic(&target, b"new", Perms::Keep).is_err());
    assert!(target.join("inside").is_file());
    assert_eq!(names(dir.path()), ["taken"]);
}

#[test]
fn write_new_never_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup");
    write_new(&file, b"first").unwrap();
    let err = write_new(&file, b"second").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&file).unwrap(), b"first");
    assert_eq!(names(dir.path()), ["backup"]);
}

#[test]
fn temps_of_dead_writers_are_removed_by_the_next_write_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = format!(".config.toml.{dead}.AbC123{TEMP_SUFFIX}");
    let live = format!(".config.toml.{}.XyZ789{TEMP_SUFFIX}", std::process::id());
    let other = format!(".other.toml.{dead}.AbC123{TEMP_SUFFIX}");
    // Not one of ours: kept.
    let odd = format!("config.toml.backup{TEMP_SUFFIX}");
    for name in [&stale, &live, &other, &odd] {
        std::fs::write(dir.path().join(name), "partial").unwrap();
    }
    write_atomic(&dir.path().join("config.toml"), b"x = 1\n", Perms::Keep).unwrap();
    let mut want = vec![live, odd, "config.toml".to_owned()];
    want.sort();
    assert_eq!(names(dir.path()), want);
}

#[test]
fn toml_problem_names_file_line_column_and_shows_the_line() {
    let text = "a = 1\n[bridge\nport = 1\n";
    let err = text.parse::<toml_edit::DocumentMut>().unwrap_err();
    let shown = toml_problem(
        Path::new("/h/config.toml"),
        text,
        err.span(),
        err.message(),
        false,
    );
    assert_eq!(
        shown,
        "/h/config.toml, line 2, column 8: unclosed table, expected `]`\n  |\n2 | [bridge\n  |        ^"
    );
}

#[test]
fn toml_problem_of_a_secret_file_shows_neither_line_nor_value() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Entry {
        api_key: String,
    }
    // serde quotes the value with `{:?}`: `string "sk-se\"cret"`.
    let text = "x = \"sk-se\\\"cret\"\n[c]\napi_key = \"sk-2\"\n";
    let err = toml::from_str::<std::collections::BTreeMap<String, Entry>>(text).unwrap_err();
    let shown = toml_problem(
        Path::new("/h/credentials.toml"),
        text,
        err.span(),
        err.message(),
        true,
    );
    assert_eq!(
        shown,
        "/h/credentials.toml, line 1, column 5: invalid type: string \"…\", expected struct Entry"
    );
    let text = "[a]\napi_key = \"sk-secret\n";
    let err = text.parse::<toml_edit::DocumentMut>().unwrap_err();
    let shown = toml_problem(Path::new("/c"), text, err.span(), err.message(), true);
    assert_eq!(
        shown,
        "/c, line 2, column 21: invalid basic string, expected `\"`"
    );
}

#[test]
fn read_text_locates_bytes_that_are_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    assert_eq!(read_text(&file), Ok(None));
    std::fs::write(&file, b"a = 1\nb = \"\xc3\xa9\xff\"\n").unwrap();
    assert_eq!(
        read_text(&file),
        Err(format!(
            "{}, line 2, column 7: not UTF-8 text (byte 0xff)",
            file.display()
        ))
    );
}
