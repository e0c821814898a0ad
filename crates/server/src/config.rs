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
            export_roots
        );
        macro_rules! take_opt { ($($field:ident),*) => { $( if f.$field.is_some() { self.$field = f.$field; } )* } }
        take_opt!(
            public_url,
            database_url,
            pepper,
            pepper_file,
            app_password_key_file,
            export_quota_mb
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
        Ok(())
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
