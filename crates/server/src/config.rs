//! Configuration in layers, later ones winning: built-in defaults, a TOML file, `CLEF_*`
//! environment variables, then command-line flags. Secrets never appear in debug output.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// Everything `clef` can be told.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// How people reach the server; defaults to `http://` + `listen`.
    pub public_url: Option<String>,
    /// Defaults to the SQLite file `clef.db` in the data folder.
    pub database_url: Option<String>,
    pub pepper: Option<String>,
    pub pepper_file: Option<PathBuf>,
    /// The key app passwords are sealed with; default `app-password.key` in the data folder.
    pub app_password_key_file: Option<PathBuf>,
    pub idle_timeout_days: i64,
    pub absolute_lifetime_days: i64,
    pub default_max_devices: i64,
    pub default_max_streams: i64,
    pub trusted_proxies: Vec<IpAddr>,
    pub music_dirs: Vec<PathBuf>,
    pub export_roots: Vec<PathBuf>,
    /// Megabytes of exported files a user may keep; none means no quota.
    pub export_quota_mb: Option<u64>,
    /// The SMTP relay Clef's e-mail goes through; without one, messages are written as `.eml`
    /// files into `<data_dir>/outbox`.
    pub smtp_host: Option<String>,
    /// The relay's port; by default 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub smtp_port: Option<u16>,
    /// How the connection to the relay is secured (default `starttls`).
    pub smtp_tls: clef_mail::SmtpTls,
    /// The name Clef signs in to the relay with (with the password in `smtp_password_file`).
    pub smtp_username: Option<String>,
    /// The file holding the relay's password (a trailing newline is ignored).
    pub smtp_password_file: Option<PathBuf>,
    /// The sender of Clef's e-mail; by default `Clef <clef@HOST>`, HOST being the public URL's.
    pub mail_from: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("pepper", &self.pepper.as_ref().map(|_| "<redacted>"))
            .field("trusted_proxies", &self.trusted_proxies)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password_file", &self.smtp_password_file)
            .field("mail_from", &self.mail_from)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("clef-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 4533)),
            public_url: None,
            database_url: None,
            pepper: None,
            pepper_file: None,
            app_password_key_file: None,
            idle_timeout_days: 30,
            absolute_lifetime_days: 30,
            default_max_devices: 6,
            default_max_streams: 6,
            trusted_proxies: Vec::new(),
            music_dirs: Vec::new(),
            export_roots: Vec::new(),
            export_quota_mb: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: clef_mail::SmtpTls::default(),
            smtp_username: None,
            smtp_password_file: None,
            mail_from: None,
        }
    }
}

/// The TOML file's shape: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    database_url: Option<String>,
    pepper: Option<String>,
    pepper_file: Option<PathBuf>,
    app_password_key_file: Option<PathBuf>,
    idle_timeout_days: Option<i64>,
    absolute_lifetime_days: Option<i64>,
    default_max_devices: Option<i64>,
    default_max_streams: Option<i64>,
    trusted_proxies: Option<Vec<IpAddr>>,
    music_dirs: Option<Vec<PathBuf>>,
    export_roots: Option<Vec<PathBuf>>,
    export_quota_mb: Option<u64>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    #[serde(default, deserialize_with = "smtp_tls_from_toml")]
    smtp_tls: Option<clef_mail::SmtpTls>,
    smtp_username: Option<String>,
    smtp_password_file: Option<PathBuf>,
    mail_from: Option<String>,
}

/// `smtp_tls` in the TOML file: `starttls`, `tls` or `none`, refused with the file's position.
fn smtp_tls_from_toml<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<clef_mail::SmtpTls>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

const ENV_KEYS: &[&str] = &[
    "CLEF_CONFIG",
    "CLEF_DATA_DIR",
    "CLEF_LISTEN",
    "CLEF_PUBLIC_URL",
    "CLEF_DATABASE_URL",
    "CLEF_PEPPER",
    "CLEF_PEPPER_FILE",
    "CLEF_APP_PASSWORD_KEY_FILE",
    "CLEF_IDLE_TIMEOUT_DAYS",
    "CLEF_ABSOLUTE_LIFETIME_DAYS",
    "CLEF_DEFAULT_MAX_DEVICES",
    "CLEF_DEFAULT_MAX_STREAMS",
    "CLEF_TRUSTED_PROXIES",
    "CLEF_MUSIC_DIRS",
    "CLEF_EXPORT_ROOTS",
    "CLEF_EXPORT_QUOTA_MB",
    "CLEF_SMTP_HOST",
    "CLEF_SMTP_PORT",
    "CLEF_SMTP_TLS",
    "CLEF_SMTP_USERNAME",
    "CLEF_SMTP_PASSWORD_FILE",
    "CLEF_MAIL_FROM",
    "CLEF_LOG",
];

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub music_dirs: Vec<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: Option<clef_mail::SmtpTls>,
    pub smtp_username: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    pub mail_from: Option<String>,
}

impl Config {
    /// Loads the layers. The file is `--config`, else `CLEF_CONFIG`, else `clef.toml` in the data
    /// folder if it exists.
    pub fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let mut c = Config::default();
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| env("CLEF_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| c.data_dir.clone());
        let explicit = flags
            .config
            .clone()
            .or_else(|| env("CLEF_CONFIG").map(PathBuf::from));
        let file = explicit
            .clone()
            .unwrap_or_else(|| data_dir.join("clef.toml"));
        if explicit.is_some() || file.exists() {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let layer: FileLayer =
                toml::from_str(&text).with_context(|| format!("in {}", file.display()))?;
            c.apply_file(layer);
        }
        c.apply_env(env)?;
        if let Some(d) = &flags.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(l) = flags.listen {
            c.listen = l;
        }
        if let Some(u) = &flags.public_url {
            c.public_url = Some(u.clone());
        }
        if !flags.music_dirs.is_empty() {
            c.music_dirs = flags.music_dirs.clone();
        }
        for (flag, slot) in [
            (&flags.smtp_host, &mut c.smtp_host),
            (&flags.smtp_username, &mut c.smtp_username),
            (&flags.mail_from, &mut c.mail_from),
        ] {
            if flag.is_some() {
                slot.clone_from(flag);
            }
        }
        if flags.smtp_port.is_some() {
            c.smtp_port = flags.smtp_port;
        }
        if let Some(t) = flags.smtp_tls {
            c.smtp_tls = t;
        }
        if flags.smtp_password_file.is_some() {
            c.smtp_password_file.clone_from(&flags.smtp_password_file);
        }
        c.validate()?;
        Ok(c)
    }

    /// Reads the process environment, warning about `CLEF_*` names Clef does not know.
    pub fn from_process(flags: &Overrides) -> anyhow::Result<Config> {
        for (k, _) in std::env::vars() {
            if k.starts_with("CLEF_") && !ENV_KEYS.contains(&k.as_str()) {
                tracing::warn!(variable = %k, "unknown CLEF_ environment variable ignored");
            }
        }
        Config::load(flags, &|k| std::env::var(k).ok())
    }

    fn apply_file(&mut self, f: FileLayer) {
        macro_rules! take { ($($field:ident),*) => { $( if let Some(v) = f.$field { self.$field = v; } )* } }
        take!(
            data_dir,
            listen,
            idle_timeout_days,
            absolute_lifetime_days,
            default_max_devices,
            default_max_streams,
            trusted_proxies,
            music_dirs,
            export_roots,
            smtp_tls
        );
        macro_rules! take_opt { ($($field:ident),*) => { $( if f.$field.is_some() { self.$field = f.$field; } )* } }
        take_opt!(
            public_url,
            database_url,
            pepper,
            pepper_file,
            app_password_key_file,
            export_quota_mb,
            smtp_host,
            smtp_port,
            smtp_username,
            smtp_password_file,
            mail_from
        );
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let num = |k: &str| -> anyhow::Result<Option<i64>> {
            env(k)
                .map(|v| {
                    v.trim()
                        .parse::<i64>()
                        .with_context(|| format!("{k} must be a whole number"))
                })
                .transpose()
        };
        let paths = |k: &str| {
            env(k).map(|v| {
                v.split(':')
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect::<Vec<_>>()
            })
        };
        if let Some(v) = env("CLEF_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("CLEF_LISTEN") {
            self.listen = v
                .parse()
                .with_context(|| "CLEF_LISTEN must be an address such as 127.0.0.1:4533")?;
        }
        for (k, slot) in [
            ("CLEF_PUBLIC_URL", &mut self.public_url),
            ("CLEF_DATABASE_URL", &mut self.database_url),
            ("CLEF_PEPPER", &mut self.pepper),
            ("CLEF_SMTP_HOST", &mut self.smtp_host),
            ("CLEF_SMTP_USERNAME", &mut self.smtp_username),
            ("CLEF_MAIL_FROM", &mut self.mail_from),
        ] {
            if let Some(v) = env(k) {
                *slot = Some(v);
            }
        }
        if let Some(v) = env("CLEF_PEPPER_FILE") {
            self.pepper_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("CLEF_APP_PASSWORD_KEY_FILE") {
            self.app_password_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("CLEF_SMTP_PASSWORD_FILE") {
            self.smtp_password_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env("CLEF_SMTP_PORT") {
            self.smtp_port = Some(
                v.trim()
                    .parse::<u16>()
                    .context("CLEF_SMTP_PORT must be a port number (1 to 65535)")?,
            );
        }
        if let Some(v) = env("CLEF_SMTP_TLS") {
            self.smtp_tls = v.parse().context("CLEF_SMTP_TLS")?;
        }
        for (k, slot) in [
            ("CLEF_IDLE_TIMEOUT_DAYS", &mut self.idle_timeout_days),
            (
                "CLEF_ABSOLUTE_LIFETIME_DAYS",
                &mut self.absolute_lifetime_days,
            ),
            ("CLEF_DEFAULT_MAX_DEVICES", &mut self.default_max_devices),
            ("CLEF_DEFAULT_MAX_STREAMS", &mut self.default_max_streams),
        ] {
            if let Some(n) = num(k)? {
                *slot = n;
            }
        }
        if let Some(v) = env("CLEF_TRUSTED_PROXIES") {
            // Commas, since IPv6 addresses contain colons.
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>()
                        .with_context(|| format!("CLEF_TRUSTED_PROXIES: {s} is not an IP address"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(v) = paths("CLEF_MUSIC_DIRS") {
            self.music_dirs = v;
        }
        if let Some(v) = paths("CLEF_EXPORT_ROOTS") {
            self.export_roots = v;
        }
        if let Some(n) = num("CLEF_EXPORT_QUOTA_MB")? {
            self.export_quota_mb =
                Some(u64::try_from(n).context("CLEF_EXPORT_QUOTA_MB must not be negative")?);
        }
        Ok(())
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.idle_timeout_days < 1 || self.absolute_lifetime_days < 1 {
            bail!("idle_timeout_days and absolute_lifetime_days must be at least 1");
        }
        if !(1..=1000).contains(&self.default_max_devices)
            || !(1..=1000).contains(&self.default_max_streams)
        {
            bail!("default_max_devices and default_max_streams must be between 1 and 1000");
        }
        if let Some(u) = &self.public_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                bail!("public_url must start with http:// or https://");
            }
        }
        self.validate_mail()
    }

    /// The mail settings that can be checked without reading files: they must describe one
    /// relay, or none.
    fn validate_mail(&self) -> anyhow::Result<()> {
        if self.smtp_port == Some(0) {
            bail!("smtp_port must be between 1 and 65535");
        }
        if self.smtp_host().is_none() {
            for (key, set) in [
                ("smtp_port", self.smtp_port.is_some()),
                ("smtp_username", self.smtp_username.is_some()),
                ("smtp_password_file", self.smtp_password_file.is_some()),
            ] {
                if set {
                    bail!("{key} is set but smtp_host is not: name the SMTP relay with smtp_host, or remove {key}");
                }
            }
        }
        match (&self.smtp_username, &self.smtp_password_file) {
            (Some(_), None) => bail!("smtp_username is set but smtp_password_file is not: put the relay's password in a file and name it with smtp_password_file"),
            (None, Some(_)) => bail!("smtp_password_file is set but smtp_username is not: name the account with smtp_username"),
            _ => {}
        }
        if let Some(from) = &self.mail_from {
            clef_mail::check_from(from).context("mail_from")?;
        }
        Ok(())
    }

    /// The relay's host, if one is configured (an empty value counts as none).
    fn smtp_host(&self) -> Option<&str> {
        self.smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
    }

    /// The sender: `mail_from`, else `Clef <clef@HOST>` with the public URL's host name, else
    /// `Clef <clef@localhost>` (also when the public URL names an IP address).
    pub fn mail_from(&self) -> String {
        if let Some(from) = &self.mail_from {
            return from.trim().to_owned();
        }
        let host = self
            .public_url
            .as_deref()
            .and_then(url_host)
            .filter(|h| h.parse::<IpAddr>().is_err())
            .map(str::to_ascii_lowercase)
            .filter(|h| clef_mail::check_from(&format!("clef@{h}")).is_ok());
        format!("Clef <clef@{}>", host.as_deref().unwrap_or("localhost"))
    }

    /// How Clef sends e-mail: through `smtp_host` when set (the password read from
    /// `smtp_password_file` now), else into `<data_dir>/outbox`.
    pub fn mail_config(&self) -> anyhow::Result<clef_mail::MailConfig> {
        self.validate_mail()?;
        let smtp = match self.smtp_host() {
            None => None,
            Some(host) => {
                let password = match &self.smtp_password_file {
                    Some(path) => Some(read_smtp_password(path)?),
                    None => None,
                };
                Some(clef_mail::SmtpConfig {
                    host: host.to_owned(),
                    port: self.smtp_port.unwrap_or(self.smtp_tls.default_port()),
                    tls: self.smtp_tls,
                    username: self.smtp_username.clone(),
                    password,
                })
            }
        };
        let cfg = clef_mail::MailConfig {
            smtp,
            from: self.mail_from(),
            outbox_dir: self.data_dir.join("outbox"),
            retry: clef_mail::RetryPolicy::default(),
        };
        cfg.check().context("mail settings")?;
        Ok(cfg)
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The address to open in a browser: `public_url` when set, else the address the server
    /// really listens on (port 0 resolved), with a wildcard address replaced by loopback, which
    /// browsers can open.
    pub fn browse_url(&self, bound: std::net::SocketAddr) -> String {
        if self.public_url.is_some() {
            return self.public_url();
        }
        let mut addr = bound;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("clef.db").display()
            )
        })
    }

    /// The pepper: configured, read from a file, or created once in the data folder.
    pub fn pepper(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(p) = &self.pepper {
            return Ok(p.as_bytes().to_vec());
        }
        let path = self
            .pepper_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("pepper"));
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(text.trim().as_bytes().to_vec());
        }
        if self.pepper_file.is_some() {
            bail!("pepper_file {} does not exist", path.display());
        }
        let mut bytes = [0u8; 32];
        clef_core::Random::fill(&clef_core::OsRandom, &mut bytes);
        let text = hex::encode(bytes);
        write_private(&path, &text)?;
        tracing::info!(path = %path.display(), "created a new password pepper; back it up with the database");
        Ok(text.into_bytes())
    }
}

impl Config {
    /// The key app passwords are sealed with: read from its file, or created once in the data
    /// folder. Every node of a cluster needs the same file, as it needs the same pepper.
    pub fn app_password_key(&self) -> anyhow::Result<clef_accounts::subsonic::SealKey> {
        let path = self
            .app_password_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("app-password.key"));
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return clef_accounts::subsonic::SealKey::from_hex(&text)
                .with_context(|| format!("reading {}", path.display()));
        }
        if self.app_password_key_file.is_some() {
            bail!("app_password_key_file {} does not exist", path.display());
        }
        let key = clef_accounts::subsonic::SealKey::generate(&clef_core::OsRandom);
        write_private(&path, &key.to_hex())?;
        tracing::info!(path = %path.display(), "created a new app password key; back it up with the database");
        Ok(key)
    }
}

/// The host name in an `http(s)://` URL (no user, port or path); none for an IPv6 literal.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.starts_with('[') {
        return None;
    }
    host_port.split(':').next().filter(|h| !h.is_empty())
}

/// The relay's password: the file's text less its trailing line break.
fn read_smtp_password(path: &Path) -> anyhow::Result<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("smtp_password_file {} does not exist", path.display())
        }
        Err(e) => {
            return Err(e).with_context(|| format!("reading smtp_password_file {}", path.display()))
        }
    };
    let password = text.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!("smtp_password_file {} is empty", path.display());
    }
    Ok(password.to_owned())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn the_printed_address_is_one_a_browser_can_open() {
        let mut c = Config::load(&Overrides::default(), &env_of(&[])).unwrap();
        let bound = "0.0.0.0:4533".parse().unwrap();
        assert_eq!(c.browse_url(bound), "http://127.0.0.1:4533");
        let bound = "[::]:80".parse().unwrap();
        assert_eq!(c.browse_url(bound), "http://[::1]:80");
        let bound = "192.0.2.7:4600".parse().unwrap();
        assert_eq!(c.browse_url(bound), "http://192.0.2.7:4600");
        c.public_url = Some("https://music.example/".into());
        assert_eq!(c.browse_url(bound), "https://music.example");
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "default_max_devices = 3\nidle_timeout_days = 7\nlisten = \"127.0.0.1:9000\"\n",
        )
        .unwrap();
        let env = env_of(&[
            ("CLEF_DEFAULT_MAX_DEVICES", "4"),
            ("CLEF_EXPORT_ROOTS", "/srv/usb:/home/anna/Music"),
        ]);
        let flags = Overrides {
            config: Some(file),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        };
        let c = Config::load(&flags, &env).unwrap();
        assert_eq!(c.default_max_devices, 4, "env beats file");
        assert_eq!(c.idle_timeout_days, 7, "file beats default");
        assert_eq!(c.listen.port(), 9100, "flag beats file");
        assert_eq!(
            c.export_roots,
            vec![PathBuf::from("/srv/usb"), PathBuf::from("/home/anna/Music")]
        );
    }

    #[test]
    fn bad_values_are_refused_clearly() {
        let env = env_of(&[("CLEF_DEFAULT_MAX_DEVICES", "six")]);
        let e = Config::load(&Overrides::default(), &env).unwrap_err();
        assert!(format!("{e:#}").contains("CLEF_DEFAULT_MAX_DEVICES"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "max_devicez = 3\n").unwrap();
        let e = Config::load(
            &Overrides {
                config: Some(file),
                ..Default::default()
            },
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("unknown field"), "{e:#}");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = Config {
            pepper: Some("s3cret-pepper".into()),
            database_url: Some("postgres://u:pw@h/db".into()),
            ..Default::default()
        };
        let s = format!("{c:?}");
        assert!(!s.contains("s3cret") && !s.contains("pw@"), "{s}");
    }

    #[test]
    fn mail_keys_layer_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "smtp_host = \"file.example.org\"\nsmtp_tls = \"tls\"\nsmtp_port = 2465\n\
             smtp_username = \"clef\"\nsmtp_password_file = \"/run/secrets/smtp\"\n\
             mail_from = \"File <clef@file.example.org>\"\n",
        )
        .unwrap();
        let flags = |smtp_port| Overrides {
            config: Some(file.clone()),
            smtp_port,
            ..Default::default()
        };
        let c = Config::load(&flags(None), &env_of(&[])).unwrap();
        assert_eq!(c.smtp_host.as_deref(), Some("file.example.org"));
        assert_eq!(c.smtp_tls, clef_mail::SmtpTls::Tls);
        assert_eq!(c.smtp_port, Some(2465));
        assert_eq!(c.smtp_username.as_deref(), Some("clef"));
        assert_eq!(
            c.smtp_password_file,
            Some(PathBuf::from("/run/secrets/smtp"))
        );
        assert_eq!(c.mail_from(), "File <clef@file.example.org>");

        let env = env_of(&[
            ("CLEF_SMTP_HOST", "env.example.org"),
            ("CLEF_SMTP_TLS", "none"),
            ("CLEF_SMTP_PORT", "2525"),
            ("CLEF_SMTP_USERNAME", "env-user"),
            ("CLEF_SMTP_PASSWORD_FILE", "/etc/clef/smtp-password"),
            ("CLEF_MAIL_FROM", "clef@env.example.org"),
        ]);
        let c = Config::load(&flags(None), &env).unwrap();
        assert_eq!(
            c.smtp_host.as_deref(),
            Some("env.example.org"),
            "env beats file"
        );
        assert_eq!(c.smtp_tls, clef_mail::SmtpTls::None);
        assert_eq!(c.smtp_port, Some(2525));
        assert_eq!(c.smtp_username.as_deref(), Some("env-user"));
        assert_eq!(
            c.smtp_password_file,
            Some(PathBuf::from("/etc/clef/smtp-password"))
        );
        assert_eq!(c.mail_from(), "clef@env.example.org");

        let all_flags = Overrides {
            smtp_host: Some("flag.example.org".into()),
            smtp_tls: Some(clef_mail::SmtpTls::StartTls),
            smtp_username: Some("flag-user".into()),
            smtp_password_file: Some(PathBuf::from("/flag/pw")),
            mail_from: Some("Flag <clef@flag.example.org>".into()),
            ..flags(Some(2587))
        };
        let c = Config::load(&all_flags, &env).unwrap();
        assert_eq!(
            c.smtp_host.as_deref(),
            Some("flag.example.org"),
            "flag beats env"
        );
        assert_eq!(c.smtp_tls, clef_mail::SmtpTls::StartTls);
        assert_eq!(c.smtp_port, Some(2587));
        assert_eq!(c.smtp_username.as_deref(), Some("flag-user"));
        assert_eq!(c.smtp_password_file, Some(PathBuf::from("/flag/pw")));
        assert_eq!(c.mail_from(), "Flag <clef@flag.example.org>");
    }

    #[test]
    fn mail_defaults_port_by_tls_sender_by_public_url_and_the_outbox_without_a_relay() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        assert_eq!(c.smtp_tls, clef_mail::SmtpTls::StartTls);
        let m = c.mail_config().unwrap();
        assert!(m.smtp.is_none());
        assert_eq!(m.outbox_dir, dir.path().join("outbox"));
        assert_eq!(m.from, "Clef <clef@localhost>");
        assert_eq!(m.retry, clef_mail::RetryPolicy::default());

        for (url, from) in [
            ("https://Music.Example.org", "Clef <clef@music.example.org>"),
            (
                "https://u:p@music.example.org:8443/clef/",
                "Clef <clef@music.example.org>",
            ),
            ("http://192.0.2.7:4533", "Clef <clef@localhost>"),
            ("http://[2001:db8::1]:4533", "Clef <clef@localhost>"),
        ] {
            let c = Config {
                public_url: Some(url.into()),
                ..c.clone()
            };
            assert_eq!(c.mail_from(), from, "{url}");
        }

        for (tls, port) in [
            (clef_mail::SmtpTls::StartTls, 587),
            (clef_mail::SmtpTls::Tls, 465),
            (clef_mail::SmtpTls::None, 25),
        ] {
            let c = Config {
                smtp_host: Some("smtp.example.org".into()),
                smtp_tls: tls,
                ..c.clone()
            };
            let smtp = c.mail_config().unwrap().smtp.unwrap();
            assert_eq!(
                (smtp.host.as_str(), smtp.port, smtp.tls),
                ("smtp.example.org", port, tls)
            );
            assert_eq!((smtp.username, smtp.password), (None, None));
        }
        let c = Config {
            smtp_host: Some("smtp.example.org".into()),
            smtp_port: Some(2525),
            ..c.clone()
        };
        assert_eq!(c.mail_config().unwrap().smtp.unwrap().port, 2525);
        // An empty host, as an emptied environment variable gives, means no relay.
        let c = Config {
            smtp_host: Some(" ".into()),
            ..Config::default()
        };
        assert!(c.mail_config().unwrap().smtp.is_none());
    }

    #[test]
    fn the_smtp_password_is_read_from_its_file_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("smtp-password");
        std::fs::write(&pw, "s3cret pass\n").unwrap();
        let c = Config {
            data_dir: dir.path().to_owned(),
            smtp_host: Some("smtp.example.org".into()),
            smtp_username: Some("clef@example.org".into()),
            smtp_password_file: Some(pw.clone()),
            ..Config::default()
        };
        let smtp = c.mail_config().unwrap().smtp.unwrap();
        assert_eq!(smtp.username.as_deref(), Some("clef@example.org"));
        assert_eq!(smtp.password.as_deref(), Some("s3cret pass"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{:?}", c.mail_config().unwrap()).contains("s3cret"));

        std::fs::write(&pw, "").unwrap();
        let e = format!("{:#}", c.mail_config().unwrap_err());
        assert!(
            e.contains("smtp_password_file") && e.contains("empty"),
            "{e}"
        );

        let missing = Config {
            smtp_password_file: Some(dir.path().join("nope")),
            ..c
        };
        let e = format!("{:#}", missing.mail_config().unwrap_err());
        assert!(
            e.contains("smtp_password_file") && e.contains("does not exist"),
            "{e}"
        );
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn bad_mail_settings_are_refused_clearly() {
        let load_env = |pairs: &[(&str, &str)]| {
            format!(
                "{:#}",
                Config::load(&Overrides::default(), &env_of(pairs)).unwrap_err()
            )
        };
        let e = load_env(&[("CLEF_SMTP_TLS", "ssl")]);
        assert!(
            e.contains("CLEF_SMTP_TLS") && e.contains("starttls, tls or none"),
            "{e}"
        );
        let e = load_env(&[("CLEF_SMTP_HOST", "h"), ("CLEF_SMTP_PORT", "70000")]);
        assert!(e.contains("CLEF_SMTP_PORT"), "{e}");
        let e = load_env(&[("CLEF_SMTP_HOST", "h"), ("CLEF_SMTP_PORT", "0")]);
        assert!(e.contains("smtp_port"), "{e}");
        let e = load_env(&[("CLEF_SMTP_USERNAME", "clef")]);
        assert!(
            e.contains("smtp_username") && e.contains("smtp_host"),
            "{e}"
        );
        let e = load_env(&[("CLEF_SMTP_HOST", "h"), ("CLEF_SMTP_USERNAME", "clef")]);
        assert!(e.contains("smtp_password_file"), "{e}");
        let e = load_env(&[("CLEF_SMTP_HOST", "h"), ("CLEF_SMTP_PASSWORD_FILE", "/pw")]);
        assert!(e.contains("smtp_username"), "{e}");
        let e = load_env(&[("CLEF_MAIL_FROM", "Clef <not an address>")]);
        assert!(e.contains("mail_from") && e.contains("not valid"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "smtp_tls = \"ssl\"\n").unwrap();
        let flags = Overrides {
            config: Some(file),
            ..Default::default()
        };
        let e = format!("{:#}", Config::load(&flags, &env_of(&[])).unwrap_err());
        assert!(
            e.contains("smtp_tls") && e.contains("starttls, tls or none"),
            "{e}"
        );
    }

    #[test]
    fn the_app_password_key_is_made_once_kept_private_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let first = c.app_password_key().unwrap().to_hex();
        let path = dir.path().join("app-password.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(c.app_password_key().unwrap().to_hex(), first, "kept");
        std::fs::write(&path, "not a key").unwrap();
        let e = c.app_password_key().unwrap_err();
        assert!(
            format!("{e:#}").contains("64 hexadecimal characters"),
            "{e:#}"
        );
        let named = Config {
            app_password_key_file: Some(dir.path().join("missing.key")),
            ..c
        };
        assert!(format!("{:#}", named.app_password_key().unwrap_err()).contains("does not exist"));
    }
}
