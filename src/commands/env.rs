//! `aimux env [--shell bash|zsh|fish]`: exports that point OpenAI-compatible tools at the
//! bridge, for `eval "$(aimux env)"`.

use std::path::Path;

use super::gen_catalog::bridge_base_url;
use crate::cli::{BridgeArgs, EnvShell};
use crate::settings::{BridgeSettings, Env, FileConfig};

/// What `OPENAI_API_KEY` holds when the bridge has no token (SDKs refuse an empty key).
pub const PLACEHOLDER_KEY: &str = "aimux";

/// `fish` when `$SHELL` is fish, else the POSIX syntax bash and zsh share.
pub fn detect_shell(env: &Env) -> EnvShell {
    match env
        .get("SHELL")
        .and_then(|s| Path::new(s).file_name())
        .and_then(|n| n.to_str())
    {
        Some("fish") => EnvShell::Fish,
        Some("zsh") => EnvShell::Zsh,
        _ => EnvShell::Bash,
    }
}

/// A word the shell reads back verbatim (single quotes; `'` as `'\''`, fish `\'`).
fn quote(shell: EnvShell, value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        return value.to_owned();
    }
    match shell {
        EnvShell::Fish => format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'")),
        EnvShell::Bash | EnvShell::Zsh => format!("'{}'", value.replace('\'', r"'\''")),
    }
}

/// The export lines.
pub fn exports(shell: EnvShell, base_url: &str, key: &str) -> String {
    [("OPENAI_BASE_URL", base_url), ("OPENAI_API_KEY", key)]
        .iter()
        .map(|(k, v)| match shell {
            EnvShell::Fish => format!("set -gx {k} {}\n", quote(shell, v)),
            EnvShell::Bash | EnvShell::Zsh => format!("export {k}={}\n", quote(shell, v)),
        })
        .collect()
}

pub fn run(
    shell: Option<EnvShell>,
    env: &Env,
    file: &FileConfig,
    config_path: &Path,
) -> anyhow::Result<()> {
    let bridge = BridgeSettings::resolve(BridgeArgs::default(), env, file, config_path)?;
    let base_url = bridge_base_url(&bridge)?;
    let key = bridge
        .token
        .as_ref()
        .map_or(PLACEHOLDER_KEY, |t| t.value.as_str());
    let shell = shell.unwrap_or_else(|| detect_shell(env));
    print!("{}", exports(shell, &base_url, key));
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        let hint = match shell {
            EnvShell::Fish => "aimux env --shell fish | source",
            EnvShell::Bash | EnvShell::Zsh => "eval \"$(aimux env)\"",
        };
        eprintln!("# apply with: {hint}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines() {
        let url = "http://127.0.0.1:8403/v1";
        let cases = [
            (
                EnvShell::Bash,
                "aimux",
                "export OPENAI_BASE_URL=http://127.0.0.1:8403/v1\nexport OPENAI_API_KEY=aimux\n",
            ),
            (
                EnvShell::Zsh,
                "it's $secret",
                "export OPENAI_BASE_URL=http://127.0.0.1:8403/v1\nexport OPENAI_API_KEY='it'\\''s $secret'\n",
            ),
            (
                EnvShell::Fish,
                "tok",
                "set -gx OPENAI_BASE_URL http://127.0.0.1:8403/v1\nset -gx OPENAI_API_KEY tok\n",
            ),
            (
                EnvShell::Fish,
                "a'b\\c d",
                "set -gx OPENAI_BASE_URL http://127.0.0.1:8403/v1\nset -gx OPENAI_API_KEY 'a\\'b\\\\c d'\n",
            ),
        ];
        for (shell, key, want) in cases {
            assert_eq!(exports(shell, url, key), want, "{shell:?} {key}");
        }
    }

    #[test]
    fn shell_detection() {
        for (shell, want) in [
            (None, EnvShell::Bash),
            (Some("/usr/bin/fish"), EnvShell::Fish),
            (Some("/bin/zsh"), EnvShell::Zsh),
            (Some("/bin/bash"), EnvShell::Bash),
        ] {
            let env = Env::from_pairs(shell.map(|s| ("SHELL", s)));
            assert_eq!(detect_shell(&env), want, "{shell:?}");
        }
    }
}
