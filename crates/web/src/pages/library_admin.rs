//! The admin's Library page: the catalog's size, scan progress and the last scan's numbers, a
//! Scan now button, and the files that could not be read with why.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_http::{AppState, ClientIp};
use clef_library::{LibraryError, ScanProgress};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{Bare, CsrfForm, CsrfToken};
use crate::errors::describe_library;
use crate::format::{count, when};
use crate::layout::{csrf_field, Extras, Flash, Section};
use crate::pages::admin::admin_nav;
use crate::pages::{signed_in_error, signed_in_page_with, signed_in_problem};
use crate::reply;

/// While a scan runs the page reloads itself this often (a meta refresh: no script needed).
const REFRESH_SECS: u32 = 2;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LibraryQuery {
    notice: Option<String>,
}

fn phase(p: &ScanProgress) -> &'static str {
    match p.phase.as_str() {
        "walking" => "Looking for files",
        "reading" => "Reading tags",
        "saving" => "Saving",
        _ if p.running => "Running",
        _ => "Idle",
    }
}

fn progress_panel(p: &ScanProgress) -> Markup {
    html! {
        section.panel #scan-progress {
            h2 { "Scan" }
            dl.facts {
                dt { "State" }
                dd #scan-state data-running=(p.running) { (phase(p)) }
                @if p.running {
                    dt { "Files found" } dd #scan-found { (p.files_found) }
                    dt { "Read" } dd #scan-read { (p.read) " of " (p.to_read) }
                }
            }
            @if p.running && p.to_read > 0 {
                progress #scan-bar max=(p.to_read) value=(p.read) { (p.read) " of " (p.to_read) }
            }
        }
    }
}

fn last_panel(p: &ScanProgress) -> Markup {
    html! {
        section.panel #last-scan {
            h2 { "Last scan" }
            @match &p.last {
                None => p.empty { "No scan has finished since the server started." },
                Some(r) => dl.facts {
                    dt { "Files" } dd #last-files { (r.files) }
                    dt { "Added" } dd #last-added { (r.added) }
                    dt { "Changed" } dd { (r.changed) }
                    dt { "Moved" } dd { (r.moved) }
                    dt { "Deleted" } dd { (r.deleted) }
                    dt { "Unchanged" } dd { (r.unchanged) }
                    dt { "Unreadable" } dd #last-unreadable { (r.unreadable) }
                    dt { "Took" } dd { (format!("{:.1} s", r.duration_ms as f64 / 1000.0)) }
                },
            }
        }
    }
}

/// `GET /admin/library`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<LibraryQuery>,
) -> Response {
    if let Err(e) = ctx.require_admin() {
        return signed_in_error(&ctx, &csrf, Some(Section::Admin), &e);
    }
    let flash = match q.notice.as_deref() {
        Some("scan_started") => Flash::notice("Scan started."),
        Some("scan_running") => Flash::notice("A scan is already running."),
        _ => None,
    };
    let problems = match st.library.problems().await {
        Ok(p) => p,
        Err(e) => {
            let p = describe_library(&e);
            return p.decorate(signed_in_problem(&ctx, &csrf, Some(Section::Admin), &p));
        }
    };
    let progress = st.library.progress();
    let catalog = st.library.catalog();
    let dirs = &st.library.config().music_dirs;
    let body = html! {
        (admin_nav("Library"))
        h1 { "Library" }
        section.panel #library-size {
            dl.facts {
                dt { "Tracks" } dd #library-tracks { (catalog.track_count()) }
                dt { "Albums" } dd #library-albums { (catalog.album_count()) }
                dt { "Artists" } dd #library-artists { (catalog.artists().len()) }
                dt { "Music folders" }
                dd { @for d in dirs { code { (d.display()) } br; } }
            }
        }
        div.panels {
            (progress_panel(&progress))
            (last_panel(&progress))
        }
        form.inline #scan-now method="post" action="/admin/library/scan" {
            (csrf_field(csrf.value()))
            button.primary type="submit" disabled[progress.running] { "Scan now" }
        }
        section #problems {
            h2 { "Unreadable files" }
            @if problems.is_empty() {
                p.empty #no-problems { "None: every file could be read." }
            } @else {
                p.meta { (count(problems.len(), "file", "files")) " could not be read." }
                div.table-wrap {
                    table.problems.stack {
                        thead { tr { th { "File" } th { "Why" } th { "When" } } }
                        tbody {
                            @for p in &problems {
                                tr { td.path { (p.path) } td.detail data-label="Why" { (p.reason) } td.time data-label="When" { (when(p.at)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    let extras = Extras {
        player: None,
        refresh_secs: progress.running.then_some(REFRESH_SECS),
        script: None,
    };
    signed_in_page_with(
        &ctx,
        &csrf,
        Section::Admin,
        StatusCode::OK,
        "Library",
        flash,
        body,
        &extras,
    )
}

/// `POST /admin/library/scan`.
pub async fn scan(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = ctx.require_admin() {
        return signed_in_error(&ctx, &csrf, Some(Section::Admin), &e);
    }
    match st.library.start_scan() {
        Ok(()) => {
            tracing::info!(by = %ctx.user.username, "scan started from the admin page");
            reply::see_other("/admin/library?notice=scan_started")
        }
        Err(LibraryError::ScanRunning) => reply::see_other("/admin/library?notice=scan_running"),
        Err(e) => {
            let p = describe_library(&e);
            p.decorate(signed_in_problem(&ctx, &csrf, Some(Section::Admin), &p))
        }
    }
}
