//! The command line: `clef serve`, `clef user …`, `clef devices …`, `clef scan`, `clef export`,
//! `clef migrate`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser, Subcommand};
use clef_accounts::Actor;
use clef_core::{DeviceId, OsRandom, SystemClock};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "clef",
    version,
    about = "Clef: your music, on every device you own, under your control"
)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data folder: database, pepper, caches. Default ./clef-data.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on. Default 127.0.0.1:4533.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// The address people use to reach Clef, such as https://music.example.org.
        #[arg(long)]
        public_url: Option<String>,
        /// A music folder (repeatable).
        #[arg(long = "music")]
        music: Vec<PathBuf>,
        /// The SMTP relay Clef's e-mail goes through, such as smtp.example.org. Without one,
        /// messages are written into the outbox folder in the data folder.
        #[arg(long, value_name = "HOST")]
        smtp_host: Option<String>,
        /// The relay's port. Default 587 for starttls, 465 for tls, 25 for none.
        #[arg(long, value_name = "PORT")]
        smtp_port: Option<u16>,
        /// How the connection to the relay is secured: starttls (the default), tls, or none (only
        /// for a relay on this machine).
        #[arg(long, value_name = "MODE")]
        smtp_tls: Option<clef_mail::SmtpTls>,
        /// The name Clef signs in to the relay with (needs --smtp-password-file).
        #[arg(long, value_name = "NAME")]
        smtp_username: Option<String>,
        /// A file holding the relay's password (a trailing newline is ignored).
        #[arg(long, value_name = "FILE")]
        smtp_password_file: Option<PathBuf>,
        /// The sender of Clef's e-mail, such as "Clef <clef@example.org>". Default: Clef at the
        /// public URL's host name.
        #[arg(long, value_name = "ADDRESS")]
        mail_from: Option<String>,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// See and sign out a user's devices.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Scan the music folders now, with a progress bar.
    Scan,
    /// Convert a playlist or an album into a folder, with a progress bar.
    Export(crate::export_cli::ExportArgs),
    /// Bring the database schema up to date and exit.
    Migrate,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (asks for the password twice).
    Add {
        /// The new user's name: letters, digits, and . _ - @.
        name: String,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
        /// The user's e-mail address, for "forgot password" links and security notices.
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password; signs out every device of that user.
    Passwd {
        /// The user.
        name: String,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a user and sign out all of their devices.
    Disable {
        /// The user.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user.
        name: String,
    },
    /// List users.
    List,
    /// Set a user's device and stream limits.
    Limits {
        /// The user.
        name: String,
        /// How many devices may be signed in at once.
        #[arg(long)]
        devices: Option<i64>,
        /// How many devices may play at once.
        #[arg(long)]
        streams: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List a user's signed-in devices.
    List {
        /// The user.
        user: String,
    },
    /// Sign out one device of a user.
    Revoke {
        /// The user.
        user: String,
        /// The device's id, as `clef devices list` shows it.
        device_id: String,
    },
}

impl Cli {
    /// Parses the process's arguments; a mistake prints clap's message and usage and exits
    /// with status 2.
    pub fn parse_checked() -> Self {
        let cli = Self::parse();
        if let Command::Export(args) = &cli.command {
            // What to export is asked for first, then where to.
            let missing = if args.playlist.is_none() && args.album.is_none() {
                Some(crate::export_cli::NO_SOURCE)
            } else if args.out.is_none() {
                Some(crate::export_cli::NO_OUT)
            } else {
                None
            };
            if let Some(message) = missing {
                let mut command = Self::command();
                command.build();
                if let Some(export) = command.find_subcommand_mut("export") {
                    export
                        .error(clap::error::ErrorKind::MissingRequiredArgument, message)
                        .exit();
                }
            }
        }
        cli
    }

    /// The log filter when `CLEF_LOG` is not set: the server tells its life, the other
    /// commands only problems, so their output stands alone.
    pub fn default_log(&self) -> &'static str {
        match self.command {
            Command::Serve { .. } => crate::telemetry::SERVER_LOG,
            _ => crate::telemetry::COMMAND_LOG,
        }
    }
}

/// The password for `user add` and `user passwd`: the first line of standard input, or typed
/// twice at the terminal.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password: pipe it in with --password-stdin");
    }
    let prompt = |text: &str| {
        rpassword::prompt_password(text).context("reading the password from the terminal")
    };
    let first = prompt("New password: ")?;
    let again = prompt("Again: ")?;
    if first != again {
        bail!("the two passwords differ");
    }
    Ok(first)
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut flags = Overrides {
        config: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        ..Default::default()
    };
    if let Command::Serve {
        listen,
        public_url,
        music,
        smtp_host,
        smtp_port,
        smtp_tls,
        smtp_username,
        smtp_password_file,
        mail_from,
    } = &cli.command
    {
        flags.listen = *listen;
        flags.public_url = public_url.clone();
        flags.music_dirs = music.clone();
        flags.smtp_host = smtp_host.clone();
        flags.smtp_port = *smtp_port;
        flags.smtp_tls = *smtp_tls;
        flags.smtp_username = smtp_username.clone();
        flags.smtp_password_file = smtp_password_file.clone();
        flags.mail_from = mail_from.clone();
    }
    let cfg = Config::from_process(&flags)?;
    if let Command::Serve { .. } = cli.command {
        return serve(cfg).await;
    }
    if let Command::Scan = cli.command {
        return scan(cfg).await;
    }
    if let Command::Export(args) = cli.command {
        return crate::export_cli::export(cfg, args).await;
    }
    let (_store, accounts) =
        crate::open_services(&cfg, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    let c = Actor::Console;
    match cli.command {
        Command::Serve { .. } | Command::Scan | Command::Export(_) | Command::Migrate => {
            println!("database is up to date")
        }
        Command::User(UserCommand::Add {
            name,
            admin,
            email,
            password_stdin,
        }) => {
            let password = read_password(password_stdin)?;
            let u = accounts
                .create_user_with_email(c, &name, password, admin, email.as_deref())
                .await?;
            println!(
                "created {}{}",
                u.username,
                if u.is_admin { " (admin)" } else { "" }
            );
        }
        Command::User(UserCommand::Passwd {
            name,
            password_stdin,
        }) => {
            let n = accounts
                .reset_password_from_console(&name, read_password(password_stdin)?)
                .await?;
            match n {
                1 => println!("password set; 1 device signed out"),
                n => println!("password set; {n} devices signed out"),
            }
        }
        Command::User(UserCommand::Disable { name }) => {
            accounts.set_disabled(c, &name, true).await?;
            println!("{name} disabled and signed out everywhere");
        }
        Command::User(UserCommand::Enable { name }) => {
            accounts.set_disabled(c, &name, false).await?;
            println!("{name} enabled");
        }
        Command::User(UserCommand::List) => {
            let users = accounts.list_users(c).await?;
            println!(
                "{:<24} {:<6} {:<9} {:>7} {:>7}",
                "USER", "ADMIN", "STATE", "DEVICES", "STREAMS"
            );
            for u in users {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<6} {:<9} {:>7} {:>7}",
                    u.username,
                    if u.is_admin { "yes" } else { "" },
                    state,
                    u.max_devices,
                    u.max_streams
                );
            }
        }
        Command::User(UserCommand::Limits {
            name,
            devices,
            streams,
        }) => {
            let u = accounts.set_limits(c, &name, devices, streams).await?;
            println!(
                "{}: up to {} devices, {} streams",
                u.username, u.max_devices, u.max_streams
            );
        }
        Command::Devices(DevicesCommand::List { user }) => {
            let devices = accounts.devices_of(c, &user).await?;
            println!(
                "{:<32}  {:<24} {:<8} {:<16} {:<20}",
                "ID", "NAME", "TYPE", "IP", "LAST SEEN"
            );
            for d in devices {
                println!(
                    "{:<32}  {:<24} {:<8} {:<16} {:<20}",
                    d.id,
                    d.name,
                    d.device_type,
                    d.ip,
                    d.last_seen.to_rfc3339()
                );
            }
        }
        Command::Devices(DevicesCommand::Revoke { user, device_id }) => {
            let id =
                DeviceId::parse(&device_id).context("a device id is 32 hexadecimal characters")?;
            accounts.revoke_from_console(&user, &id).await?;
            println!("device {id} signed out");
        }
    }
    Ok(())
}

/// `clef scan`: scans in this process with a progress bar, then prints the numbers.
async fn scan(cfg: Config) -> anyhow::Result<()> {
    let (store, _accounts) =
        crate::open_services(&cfg, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    let library =
        crate::open_library(&cfg, store, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len} files ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let scanning = library.scan();
    tokio::pin!(scanning);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    let report = loop {
        tokio::select! {
            r = &mut scanning => break r?,
            _ = tick.tick() => {
                let p = library.progress();
                bar.set_message(p.phase.clone());
                bar.set_length(p.to_read as u64);
                bar.set_position(p.read as u64);
            }
        }
    };
    bar.finish_and_clear();
    println!(
        "Scanned {} files in {} ms: {} added, {} changed, {} moved, {} deleted, {} unchanged, {} unreadable.",
        report.files,
        report.duration_ms,
        report.added,
        report.changed,
        report.moved,
        report.deleted,
        report.unchanged,
        report.unreadable
    );
    if report.unreadable > 0 {
        for p in library.problems().await? {
            println!("  unreadable: {} ({})", p.path, p.reason);
        }
    }
    Ok(())
}

async fn serve(mut cfg: Config) -> anyhow::Result<()> {
    // Listening for the stop signals first: a SIGTERM sent once the address is printed stops
    // the server gracefully.
    let stop = crate::shutdown_signal()?;
    let files = crate::listen::raise_open_file_limit();
    tracing::debug!(limit = ?files, "open-file limit");
    warn_of_unusable_music_dirs(&cfg);
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    // With port 0 the system chose one; the printed links and the origin checks use it.
    cfg.listen = listener.local_addr()?;
    let app = crate::build_app(&cfg, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    // The first scan runs in the background while the server already answers.
    if let Err(e) = app.library.start_scan() {
        tracing::warn!(error = %e, "could not start the first scan");
    }
    let url = cfg.browse_url(cfg.listen);
    println!(
        "Clef is listening on http://{} (data in {})",
        cfg.listen,
        cfg.data_dir.display()
    );
    if let Some(token) = app.accounts.issue_setup_token().await? {
        println!("No admin yet. Open this link to create one (it works once):\n\n    {url}/setup?token={}\n", token.expose());
    } else {
        println!("Open {url}/ to sign in.");
    }
    crate::serve_until(app, listener, stop).await
}

/// Says, in the log and on standard error, which music folders cannot be scanned. The server
/// still starts: the folder may be a disk not mounted yet.
fn warn_of_unusable_music_dirs(cfg: &Config) {
    for dir in &cfg.music_dirs {
        let problem = match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => "is not a folder",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
            Err(_) => "cannot be read",
        };
        tracing::warn!(folder = %dir.display(), "the music folder {problem}");
        eprintln!(
            "warning: the music folder {} {problem}; Clef serves without it (scan again once it is there)",
            dir.display()
        );
    }
}
