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
    crate::fsutil::write_atomic(&path, secret.as_bytes(), crate::fsutil::Perms::Private)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
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
