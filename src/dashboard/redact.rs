//! The last line of defence for "no secret reaches the page": every message the dashboard sends
//! (results of actions, errors from parsing a config file that echo a line of it) passes through
//! [`Redactor::clean`], which replaces each known secret with `[redacted]`.

use std::path::Path;

use crate::settings::Env;

/// Shorter values are not treated as secrets (they would match ordinary words).
const MIN_LEN: usize = 8;

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// An environment variable whose value is a credential by its name.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| n.contains(w))
}

impl Redactor {
    /// Secrets known at start: the bridge token, the internal secret, credential-named env vars.
    pub fn new(env: &Env, names: &[(String, String)], token: Option<&str>) -> Redactor {
        let mut r = Redactor::default();
        r.add(token);
        r.add(env.get(crate::secret::ENV));
        for (name, value) in names {
            if secret_name(name) {
                r.add(Some(value));
            }
        }
        r
    }

    pub fn add(&mut self, secret: Option<&str>) {
        if let Some(s) = secret.map(str::trim)
            && s.len() >= MIN_LEN
            && !self.secrets.iter().any(|k| k == s)
        {
            self.secrets.push(s.to_owned());
            // Longest first, so a secret containing another is replaced whole.
            self.secrets.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
    }

    /// Adds the values of a credentials file (`api_key = "..."` lines), even an unparsable one,
    /// and the internal secret file.
    pub fn add_files(&mut self, aimux_home: &Path) {
        if let Ok(text) = std::fs::read_to_string(aimux_home.join("credentials.toml")) {
            for line in text.lines() {
                if let Some((_, value)) = line.split_once('=') {
                    self.add(Some(value.trim().trim_matches(['"', '\''])));
                }
            }
        }
        if let Ok(text) = std::fs::read_to_string(aimux_home.join("internal.secret")) {
            self.add(Some(text.trim()));
        }
    }

    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_known_secrets() {
        let env = Env::from_pairs([("AIMUX_INTERNAL_SECRET", "internal-secret-123")]);
        let names = vec![
            ("DEEPSEEK_API_KEY".to_owned(), "sk-deepseek-9999".to_owned()),
            ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
            ("GH_TOKEN".to_owned(), "short".to_owned()),
        ];
        let mut r = Redactor::new(&env, &names, Some("bridge-token-abc"));
        r.add(Some("bridge-token-abc"));
        r.add(Some("bridge-token-abc-longer"));
        let text = "a bridge-token-abc-longer b sk-deepseek-9999 c internal-secret-123 d \
                    /usr/bin:/bin short";
        assert_eq!(
            r.clean(text),
            "a [redacted] b [redacted] c [redacted] d /usr/bin:/bin short"
        );
    }

    #[test]
    fn credentials_file_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("credentials.toml"),
            "[deepseek]\napi_key = \"sk-from-file-1234\"\nbroken = 'sk-single-quoted'\n",
        )
        .unwrap();
        let mut r = Redactor::default();
        r.add_files(dir.path());
        assert_eq!(
            r.clean("line 2: api_key = \"sk-from-file-1234\" and sk-single-quoted"),
            "line 2: api_key = \"[redacted]\" and [redacted]"
        );
    }
}
