//! `aimux completions SHELL`: the completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The completion script for `shell`, as committed under `completions/`.
pub fn render(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aimux", &mut out);
    out
}

pub fn run(shell: Shell) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&render(shell))?;
    stdout.flush()?;
    Ok(())
}

/// File name of each shell's script under `completions/`.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "aimux.bash",
        Shell::Zsh => "_aimux",
        Shell::Fish => "aimux.fish",
        Shell::PowerShell => "_aimux.ps1",
        Shell::Elvish => "aimux.elv",
        _ => "aimux.completion",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The committed scripts match the CLI. Regenerate with
    /// `AIMUX_UPDATE_COMPLETIONS=1 cargo test --lib completions`.
    #[test]
    fn committed_completions_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
        let update = std::env::var_os("AIMUX_UPDATE_COMPLETIONS").is_some();
        for shell in Shell::value_variants() {
            let path = dir.join(file_name(*shell));
            let fresh = render(*shell);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &fresh).unwrap();
                continue;
            }
            let committed = std::fs::read(&path).unwrap_or_default();
            assert!(
                committed == fresh,
                "{} is stale: run `AIMUX_UPDATE_COMPLETIONS=1 cargo test --lib completions`",
                path.display()
            );
        }
    }
}
