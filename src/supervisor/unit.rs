//! Pure: the user-service files that run `aimux start` at login, rendered from `templates/`:
//! a systemd user unit (Linux) and a launchd agent (macOS). Only non-secret variables ever go in
//! (`AIMUX_HOME`, `CODEX_HOME`, `PATH`); keys stay in `credentials.toml` or the user's own
//! environment file.

use std::path::{Path, PathBuf};

use crate::settings::Env;

pub const SYSTEMD_TEMPLATE: &str = include_str!("../../templates/aimux.service");
pub const LAUNCHD_TEMPLATE: &str = include_str!("../../templates/com.aimux.plist");
pub const SYSTEMD_UNIT: &str = "aimux.service";
pub const LAUNCHD_LABEL: &str = "com.aimux";

/// The variables a service may carry: nothing secret, ever.
pub const ALLOWED_ENV: [&str; 3] = ["AIMUX_HOME", "CODEX_HOME", "PATH"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitParams {
    /// The `aimux` binary.
    pub exe: PathBuf,
    /// `$AIMUX_HOME` as resolved at install time.
    pub home: PathBuf,
    /// Variables for the service, names from [`ALLOWED_ENV`] only.
    pub env: Vec<(String, String)>,
}

impl UnitParams {
    /// `AIMUX_HOME` (always, so the service uses the same files), then `CODEX_HOME` and `PATH`
    /// when set (so the service finds `codex` and local servers as the shell does).
    pub fn new(exe: &Path, home: &Path, env: &Env) -> Self {
        let mut vars = vec![("AIMUX_HOME".to_owned(), home.display().to_string())];
        for key in ["CODEX_HOME", "PATH"] {
            if let Some(v) = env.get(key) {
                vars.push((key.to_owned(), v.to_owned()));
            }
        }
        UnitParams {
            exe: exe.to_owned(),
            home: home.to_owned(),
            env: vars,
        }
    }

    fn allowed_env(&self) -> impl Iterator<Item = &(String, String)> {
        self.env
            .iter()
            .filter(|(k, _)| ALLOWED_ENV.contains(&k.as_str()))
    }
}

/// A systemd value: `%` specifiers, `$` expansion, quotes and backslashes escaped.
fn systemd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

pub fn render_systemd(p: &UnitParams) -> String {
    let exec_start = format!("\"{}\" start", systemd_escape(&p.exe.display().to_string()));
    let environment: String = p
        .allowed_env()
        .map(|(k, v)| format!("Environment=\"{k}={}\"\n", systemd_escape(v)))
        .collect();
    let env_file = systemd_escape(&p.home.join("daemon.env").display().to_string());
    SYSTEMD_TEMPLATE
        .replace("{{home}}", &p.home.display().to_string())
        .replace("{{exec_start}}", &exec_start)
        .replace("{{environment}}", &environment)
        .replace("{{env_file}}", &env_file)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render_launchd(p: &UnitParams) -> String {
    let environment: String = p
        .allowed_env()
        .map(|(k, v)| {
            format!(
                "\t\t<key>{}</key>\n\t\t<string>{}</string>\n",
                xml_escape(k),
                xml_escape(v)
            )
        })
        .collect();
    let log = p.home.join("logs").join("launchd.log");
    LAUNCHD_TEMPLATE
        .replace("{{label}}", LAUNCHD_LABEL)
        .replace("{{exe}}", &xml_escape(&p.exe.display().to_string()))
        .replace("{{environment}}", &environment)
        .replace("{{log}}", &xml_escape(&log.display().to_string()))
}

/// `$XDG_CONFIG_HOME/systemd/user/aimux.service` (else `~/.config/...`).
pub fn systemd_unit_path(env: &Env) -> Option<PathBuf> {
    let config = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".config")))
        .or_else(dirs::config_dir)?;
    Some(config.join("systemd").join("user").join(SYSTEMD_UNIT))
}

/// `~/Library/LaunchAgents/com.aimux.plist`.
pub fn launchd_plist_path(env: &Env) -> Option<PathBuf> {
    let home = env.get("HOME").map(PathBuf::from).or_else(dirs::home_dir)?;
    Some(
        home.join("Library")
            .join("LaunchAgents")
            .join(format!("{LAUNCHD_LABEL}.plist")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> UnitParams {
        let env = Env::from_pairs([
            ("PATH", "/home/u/.local/bin:/usr/bin"),
            ("CODEX_HOME", "/home/u/.codex"),
            ("AIMUX_TOKEN", "tok-secret"),
            ("DEEPSEEK_API_KEY", "sk-secret"),
        ]);
        UnitParams::new(
            Path::new("/home/u/.cargo/bin/aimux"),
            Path::new("/home/u/.config/aimux"),
            &env,
        )
    }

    #[test]
    fn systemd_unit_exact_text() {
        let want = r#"# aimux user service, written by `aimux daemon install`; `aimux daemon uninstall` removes it.
# It holds no secrets: API keys come from /home/u/.config/aimux/credentials.toml (mode 0600)
# or from the optional environment file named below, never from this file.
[Unit]
Description=aimux: local AI router (bridge + proxy)
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=simple
ExecStart="/home/u/.cargo/bin/aimux" start
Environment="AIMUX_HOME=/home/u/.config/aimux"
Environment="CODEX_HOME=/home/u/.codex"
Environment="PATH=/home/u/.local/bin:/usr/bin"
EnvironmentFile=-/home/u/.config/aimux/daemon.env
Restart=on-failure
RestartSec=5
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=default.target
"#;
        assert_eq!(render_systemd(&params()), want);
    }

    #[test]
    fn launchd_plist_exact_text() {
        let want = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- aimux user agent, written by `aimux daemon install`; `aimux daemon uninstall` removes it.
     It holds no secrets: API keys come from credentials.toml (mode 0600) in AIMUX_HOME. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>com.aimux</string>
	<key>ProgramArguments</key>
	<array>
		<string>/home/u/.cargo/bin/aimux</string>
		<string>start</string>
	</array>
	<key>EnvironmentVariables</key>
	<dict>
		<key>AIMUX_HOME</key>
		<string>/home/u/.config/aimux</string>
		<key>CODEX_HOME</key>
		<string>/home/u/.codex</string>
		<key>PATH</key>
		<string>/home/u/.local/bin:/usr/bin</string>
	</dict>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>5</integer>
	<key>StandardOutPath</key>
	<string>/home/u/.config/aimux/logs/launchd.log</string>
	<key>StandardErrorPath</key>
	<string>/home/u/.config/aimux/logs/launchd.log</string>
	<key>ProcessType</key>
	<string>Background</string>
</dict>
</plist>
"#;
        assert_eq!(render_launchd(&params()), want);
    }

    #[test]
    fn escaping_and_no_secrets() {
        let mut p = params();
        p.exe = PathBuf::from("/opt/my apps/100%/a\"b$x/aimux");
        p.env.push(("AIMUX_TOKEN".into(), "tok-secret".into()));
        let unit = render_systemd(&p);
        assert!(
            unit.contains(r#"ExecStart="/opt/my apps/100%%/a\"b$$x/aimux" start"#),
            "{unit}"
        );
        let plist = render_launchd(&p);
        assert!(
            plist.contains("<string>/opt/my apps/100%/a&quot;b$x/aimux</string>"),
            "{plist}"
        );
        for text in [unit, plist] {
            assert!(!text.contains("tok-secret"), "{text}");
            assert!(!text.contains("sk-secret"), "{text}");
            assert!(!text.contains("AIMUX_TOKEN"), "{text}");
            assert!(!text.contains("{{"), "{text}");
        }
    }

    #[test]
    fn service_paths() {
        let cases = [
            (
                vec![("XDG_CONFIG_HOME", "/x/cfg"), ("HOME", "/h")],
                "/x/cfg/systemd/user/aimux.service",
            ),
            (
                vec![("HOME", "/h")],
                "/h/.config/systemd/user/aimux.service",
            ),
        ];
        for (pairs, want) in cases {
            let env = Env::from_pairs(pairs);
            assert_eq!(systemd_unit_path(&env).unwrap(), PathBuf::from(want));
        }
        assert_eq!(
            launchd_plist_path(&Env::from_pairs([("HOME", "/Users/u")])).unwrap(),
            PathBuf::from("/Users/u/Library/LaunchAgents/com.aimux.plist")
        );
    }
}
