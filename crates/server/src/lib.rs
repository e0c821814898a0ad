//! The `clef` server as a library: configuration, wiring of store, services and front-ends, and
//! serving. The binary in `main.rs` is a thin command line over it; tests start it on port 0.

pub mod cli;
pub mod config;
mod export_cli;
pub mod listen;
mod telemetry;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use clef_accounts::{Accounts, AccountsConfig};
use clef_core::{Clock, Random};
use clef_http::{AppState, HttpConfig};
use clef_library::{Library, LibraryConfig};
use clef_store::SqlStore;

pub use config::Config;
pub use listen::ListenLimits;
pub use telemetry::{init_tracing, install_panic_hook};

/// A wired application, ready to serve.
#[derive(Clone)]
pub struct App {
    pub router: Router,
    /// Connection caps and timeouts; tests shorten them.
    pub listen: ListenLimits,
    pub accounts: Accounts,
    pub library: Library,
    pub exports: clef_export::Exports,
    pub store: Arc<SqlStore>,
}

/// Opens the store (running migrations) and builds the accounts service.
pub async fn open_services(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
) -> anyhow::Result<(Arc<SqlStore>, Accounts)> {
    open_services_with(cfg, clock, rng, |_| {}).await
}

/// Like `open_services`, letting the caller adjust the accounts settings first (tests use it for
/// short timeouts).
pub async fn open_services_with(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
    tweak: impl FnOnce(&mut AccountsConfig),
) -> anyhow::Result<(Arc<SqlStore>, Accounts)> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating the data folder {}", cfg.data_dir.display()))?;
    let store = Arc::new(
        SqlStore::connect(&cfg.database_url())
            .await
            .context("opening the database")?,
    );
    let mut acfg = AccountsConfig::with_pepper(cfg.pepper()?);
    acfg.subsonic_key = cfg.app_password_key()?;
    acfg.idle_timeout_secs = cfg.idle_timeout_days * 86_400;
    acfg.absolute_lifetime_secs = cfg.absolute_lifetime_days * 86_400;
    acfg.default_max_devices = cfg.default_max_devices;
    acfg.default_max_streams = cfg.default_max_streams;
    acfg.public_url = cfg.public_url();
    tweak(&mut acfg);
    let accounts = Accounts::new(store.clone(), clock, rng, acfg)?;
    Ok((store, accounts))
}

/// The music folders to scan. With none configured, the sample library in the data folder, written
/// on first use.
pub fn music_dirs(cfg: &Config) -> anyhow::Result<Vec<std::path::PathBuf>> {
    if !cfg.music_dirs.is_empty() {
        return Ok(cfg.music_dirs.clone());
    }
    let sample = cfg.data_dir.join("sample-music");
    if !sample.exists() {
        let n = clef_library::write_sample_library(&sample)
            .map_err(|e| anyhow::anyhow!("writing the sample library: {e}"))?;
        tracing::info!(tracks = n, folder = %sample.display(), "wrote the sample library");
    }
    Ok(vec![sample])
}

/// The folders exports go into. With none configured, `exports` in the data folder, created
/// here; a folder that cannot be created is reported on the Export page, not at start.
pub fn export_roots(cfg: &Config) -> Vec<std::path::PathBuf> {
    if !cfg.export_roots.is_empty() {
        return cfg.export_roots.clone();
    }
    let default = cfg.data_dir.join("exports");
    if let Err(e) = std::fs::create_dir_all(&default) {
        tracing::warn!(folder = %default.display(), error = %e, "cannot create the export folder");
    }
    vec![default]
}

/// Opens the library over the store (loading the catalog; no scan).
pub async fn open_library(
    cfg: &Config,
    store: Arc<SqlStore>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
) -> anyhow::Result<Library> {
    let dirs = music_dirs(cfg)?;
    let lcfg = LibraryConfig::new(dirs, cfg.data_dir.join("cache"));
    Library::open(store, clock, rng, lcfg)
        .await
        .context("loading the library")
}

/// Every hour, forgets the Subsonic token-login salts older than their window.
async fn forget_salts(accounts: Accounts) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = accounts.forget_old_salts().await {
            tracing::warn!(error = %e, "could not forget old Subsonic salts");
        }
    }
}

/// Builds the whole application: REST API, Subsonic API, web pages and security headers.
pub async fn build_app(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
) -> anyhow::Result<App> {
    build_app_with(cfg, clock, rng, |_| {}, |_| {}).await
}

/// Like `build_app`, with adjusted accounts and export settings (tests shorten timeouts, make
/// hashing cheap, or give the export folder a fixed free space).
pub async fn build_app_with(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
    tweak: impl FnOnce(&mut AccountsConfig),
    tweak_exports: impl FnOnce(&mut clef_export::ExportsConfig),
) -> anyhow::Result<App> {
    let (store, accounts) = open_services_with(cfg, clock.clone(), rng.clone(), tweak).await?;
    let mailer = clef_mail::Mailer::start(cfg.mail_config()?).context("starting the mailer")?;
    tracing::info!(to = %mailer.describe(), "e-mail goes to");
    let accounts = accounts.with_mailer(mailer);
    let library = open_library(cfg, store.clone(), clock.clone(), rng.clone()).await?;
    let mut export_cfg = clef_export::ExportsConfig {
        quota_bytes: cfg.export_quota_mb.map(|mb| mb.saturating_mul(1_000_000)),
        ..clef_export::ExportsConfig::new(export_roots(cfg))
    };
    tweak_exports(&mut export_cfg);
    let exports = clef_export::Exports::new(store.clone(), library.clone(), clock, rng, export_cfg);
    // Exports that were running when the server stopped carry on where they were.
    match exports.resume_unfinished().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(exports = n, "resumed unfinished exports"),
        Err(e) => tracing::error!(error = %e, "could not resume exports"),
    }
    // Cuts open streams of signed-out devices and renews the leases of the others.
    tokio::spawn(accounts.clone().run_stream_sweeper());
    // Forgets Subsonic token-login salts past their window.
    tokio::spawn(forget_salts(accounts.clone()));
    // Picks up scans made by `clef scan` or by another node.
    tokio::spawn(
        library
            .clone()
            .run_refresher(std::time::Duration::from_secs(5)),
    );
    let state = AppState {
        accounts: accounts.clone(),
        library: library.clone(),
        exports: exports.clone(),
        http: Arc::new(HttpConfig {
            public_url: cfg.public_url(),
            trusted_proxies: cfg.trusted_proxies.clone(),
        }),
        limits: clef_http::limits::WorkLimits::default(),
    };
    let router = clef_web::router(state.clone())
        .merge(clef_subsonic::router(state.clone()))
        .merge(clef_api::router(state))
        .layer(axum::middleware::from_fn(clef_http::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            cfg.public_url.as_deref().and_then(clef_http::host_of_url),
            clef_http::host_guard,
        ))
        .layer(telemetry::http_trace_layer());
    Ok(App {
        router,
        listen: ListenLimits {
            unlimited: cfg.trusted_proxies.clone(),
            ..ListenLimits::default()
        },
        accounts,
        library,
        exports,
        store,
    })
}

/// Serves `app` on `listener` until the task is dropped, with no signal handlers (a test
/// process keeps its own); `clef serve` stops on signals through [`serve_until`].
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    serve_until(app, listener, std::future::pending()).await
}

/// How long a stop lets conversions under way finish their file before abandoning it.
const EXPORT_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` completes; then stops accepting, cuts the open audio
/// streams (a player that stopped reading must not hold the process), gives the other requests
/// under way `listen.drain` to finish and, at the same time, lets running exports finish or
/// abandon their files and record them (see `Exports::stop`). Returns within about 8 s.
pub async fn serve_until(
    app: App,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (accounts, exports) = (app.accounts.clone(), app.exports.clone());
    let (stopping, stopped) = tokio::sync::oneshot::channel();
    let stop = async move {
        stop.await;
        let cut = accounts.stop_all_streams();
        if cut > 0 {
            tracing::info!(streams = cut, "open streams closed for the stop");
        }
        let _ = stopping.send(());
    };
    let mailer = app.accounts.mailer().cloned();
    let exports_stop = async move {
        if stopped.await.is_ok() {
            let mail = async {
                if let Some(m) = &mailer {
                    if !m.flush(EXPORT_GRACE).await {
                        tracing::warn!("mail still queued at the stop was not sent");
                    }
                }
            };
            tokio::join!(exports.stop(EXPORT_GRACE), mail);
        }
    };
    tokio::join!(
        listen::serve_connections(listener, app.router, app.listen, stop),
        exports_stop
    );
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what `kill`, systemd and container runtimes send).
/// The handlers are installed at once, so a signal that arrives before the future is awaited
/// still counts.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("listening for Ctrl-C")?;
    Ok(async move {
        #[cfg(unix)]
        let signal = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "Ctrl-C",
        };
        #[cfg(not(unix))]
        let signal = {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        };
        tracing::info!(signal, "shutting down");
    })
}
