//! The per-machine internal secret that the bridge sends to the proxy (`x-aimux-internal`), so
//! another local process cannot spend the user's keys through the proxy port. `aimux start`
//! passes a fresh one to both children in `AIMUX_INTERNAL_SECRET`; processes started by hand share
//! `$AIMUX_HOME/internal.secret` (mode 0600).

use std::path::Path;

use anyhow::Context;

use crate::settings::Env;

pub const HEADER: &str = "x-aimux-internal";
pub const ENV: &str = "AIMUX_INTERNAL_SECRET";

fn fresh() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The secret from the environment, else from (or newly created in) `<home>/internal.secret`.
pub fn internal_secret(env: &Env, home: &Path) -> anyhow::Result<String> {
    if let Some(s) = env.get(ENV) {
        return Ok(s.to_owned());
    }
    let path = home.join("internal.secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let secret = fresh();
    write_private(&path, secret.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

/// Writes a file only its owner can read (atomically; the mode is set before any byte lands).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .permissions(private_permissions())
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn private_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private_permissions() -> std::fs::Permissions {
    std::fs::metadata(".")
        .map(|m| m.permissions())
        .unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_then_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([(ENV, "from-env")]);
        assert_eq!(internal_secret(&env, dir.path()).unwrap(), "from-env");
        let a = internal_secret(&Env::default(), dir.path()).unwrap();
        let b = internal_secret(&Env::default(), dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("internal.secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
