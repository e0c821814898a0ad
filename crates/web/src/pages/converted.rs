//! The Converted tab: every export newest first, one export's page with its files and progress
//! bars (filled in live by `/static/export.js` from the export's server-sent events, or by a
//! reload every few seconds without script), its ZIP, Cancel and Remove from history.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_export::{ExportError, ExportSettings, JobProgress};
use clef_http::{AppState, ClientIp};
use clef_store::{ExportFile, ExportJob, ExportState, FileState};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth;
use crate::auth::WebAuth;
use crate::csrf::{Bare, CsrfForm, CsrfToken};
use crate::errors::describe_export;
use crate::format::{count, size, when};
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::export::{export_page, tabs};
use crate::pages::missing::{self, Missing};
use crate::pages::signed_in_problem;
use crate::reply;

/// The history shows at most this many exports.
const HISTORY_LIMIT: usize = 200;

/// Without script, a running export's page reloads this often.
const REFRESH_SECS: u32 = 3;

/// "MP3 320 kbps", "MP3 VBR V2", "FLAC level 5, 24-bit", "WAV".
pub(crate) fn settings_summary(json: &str) -> String {
    let Ok(s) = ExportSettings::from_json(json) else {
        return "—".to_owned();
    };
    let format = s.format.to_ascii_uppercase();
    let mut parts = vec![];
    match (s.bitrate, s.vbr) {
        (Some(k), _) => parts.push(format!("{k} kbps")),
        (None, Some(q)) => parts.push(format!("VBR V{q}")),
        (None, None) if format == "MP3" => parts.push("320 kbps".to_owned()),
        (None, None) if format == "AAC" => parts.push("256 kbps".to_owned()),
        _ => {}
    }
    if format == "FLAC" {
        parts.push(format!("level {}", s.compression.unwrap_or(5)));
    }
    if let Some(d) = s.bit_depth {
        parts.push(format!("{d}-bit"));
    }
    if parts.is_empty() {
        format
    } else {
        format!("{format} {}", parts.join(", "))
    }
}

fn state_label(job: &ExportJob, files: &[ExportFile]) -> String {
    let failed = files
        .iter()
        .filter(|f| f.state == FileState::Failed)
        .count();
    match (job.state, failed) {
        (ExportState::Running, _) => "Running".to_owned(),
        (ExportState::Done, 0) => "Done".to_owned(),
        (ExportState::Done, n) => format!("Done, {n} failed"),
        (ExportState::Cancelled, _) => "Cancelled".to_owned(),
        (ExportState::Failed, _) => "Failed".to_owned(),
    }
}

fn total_size(files: &[ExportFile]) -> i64 {
    files.iter().filter_map(|f| f.size).sum()
}

/// The size written, or a dash while a running export has written nothing yet.
fn size_so_far(job: &ExportJob, files: &[ExportFile]) -> String {
    match total_size(files) {
        0 if job.state == ExportState::Running => "—".to_owned(),
        n => size(n),
    }
}

/// The Cancel or Remove button of an export.
fn end_button(job: &ExportJob, csrf: &str) -> Markup {
    html! {
        @if job.state == ExportState::Running {
            form.inline method="post" action={ "/export/" (job.id) "/cancel" } {
                (csrf_field(csrf))
                button.danger.cancel-export type="submit" { "Cancel" }
            }
        } @else {
            form.inline method="post" action={ "/export/" (job.id) "/remove" } {
                (csrf_field(csrf))
                button.subtle.remove-export type="submit" title="The files stay where they were saved" { "Remove from history" }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    notice: Option<String>,
}

impl NoticeQuery {
    fn flash(&self) -> Option<Flash> {
        match self.notice.as_deref()? {
            "removed" => {
                Flash::notice("Removed from the history; the files stay where they were saved.")
            }
            "cancelled" => Flash::notice("Export cancelled; the files already converted stay."),
            _ => None,
        }
    }
}

fn export_problem(ctx: &AuthContext, csrf: &CsrfToken, e: &ExportError) -> Response {
    if matches!(e, ExportError::NotFound) {
        return missing::signed_in(ctx, csrf, Missing::Export);
    }
    signed_in_problem(ctx, csrf, Some(Section::Export), &describe_export(e))
}

/// `GET /export/history`: the Converted tab.
pub async fn history(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let jobs = match st.exports.list(&ctx.user.id).await {
        Ok(j) => j,
        Err(e) => return export_problem(&ctx, &csrf, &e),
    };
    let mut rows = Vec::new();
    for job in jobs.into_iter().take(HISTORY_LIMIT) {
        match st.exports.get(&ctx.user.id, &job.id).await {
            Ok(row) => rows.push(row),
            // Removed since the list was read.
            Err(ExportError::NotFound) => {}
            Err(e) => return export_problem(&ctx, &csrf, &e),
        }
    }
    let view = st.exports.view(&ctx.user);
    let body = html! {
        (tabs("Converted"))
        h1 { "Converted" }
        @if rows.is_empty() {
            p.empty #no-exports { "Nothing exported yet. " a href="/export" { "Start an export." } }
        } @else {
            div.table-wrap {
                table.stack #exports {
                    thead { tr {
                        th { "Export" } th { "Format" } th { "State" } th { "Files" } th { "Size" }
                        th { "Saved in" } th { "Started" } th.actions { span.sr-only { "Actions" } }
                    } }
                    tbody {
                        @for (job, files) in &rows {
                            tr data-export-id=(job.id) data-state=(job.state.as_str()) {
                                td.name { a.export-link href={ "/export/" (job.id) } { (job.title) } }
                                td.nowrap data-label="Format" { (settings_summary(&job.settings)) }
                                td.state.nowrap data-label="State" { (state_label(job, files)) }
                                td data-label="Files" { (files.len()) }
                                td.nowrap data-label="Size" { (size_so_far(job, files)) }
                                td.folder data-label="Saved in" { code title=[view.is_admin().then_some(&job.out_dir)] { (view.relative(&job.out_dir)) } }
                                td.time data-label="Started" { (when(job.created_at)) }
                                td.actions {
                                    a.button-link.download-zip href={ "/api/v1/exports/" (job.id) "/zip" } download { "Download ZIP" }
                                    (end_button(job, csrf.value()))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    export_page(
        &ctx,
        &csrf,
        StatusCode::OK,
        "Converted",
        q.flash(),
        body,
        None,
    )
}

/// A progress bar with its percentage beside it.
fn bar(id: Option<&str>, label: &str, fraction: f32) -> Markup {
    let pct = (fraction.clamp(0.0, 1.0) * 100.0).round();
    html! {
        span.bar {
            progress id=[id] max="100" value=(pct) aria-label=(label) { (pct) "%" }
            span.pct { (pct) "%" }
        }
    }
}

/// `GET /export/{id}`: one export with its files and progress.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (job, files) = match st.exports.get(&ctx.user.id, &id).await {
        Ok(x) => x,
        Err(e) => return export_problem(&ctx, &csrf, &e),
    };
    let running = job.state == ExportState::Running;
    // The live state when it runs here; otherwise what is stored.
    let live: Option<JobProgress> = st
        .exports
        .progress(&id)
        .map(|rx| rx.borrow().clone())
        .filter(|_| running);
    let fraction = |f: &ExportFile| match (&live, f.state) {
        (_, FileState::Done | FileState::Failed) => 1.0,
        (Some(p), FileState::Pending) => p
            .files
            .iter()
            .find(|x| x.position == f.position)
            .map_or(0.0, |x| x.fraction),
        (None, FileState::Pending) => 0.0,
    };
    let overall = match &live {
        Some(p) => p.overall,
        None if files.is_empty() => 1.0,
        None => files.iter().map(fraction).sum::<f32>() / files.len() as f32,
    };
    let file_state = |f: &ExportFile| -> &'static str {
        match (&live, f.state) {
            (_, FileState::Done) => "Done",
            (_, FileState::Failed) => "Failed",
            (Some(_), FileState::Pending) if fraction(f) > 0.0 => "Converting",
            (_, FileState::Pending) if running => "Waiting",
            (_, FileState::Pending) => "Not converted",
        }
    };
    let done = files.iter().filter(|f| f.state == FileState::Done).count();
    let view = st.exports.view(&ctx.user);
    let body = html! {
        (tabs("Converted"))
        p.crumbs { a href="/export/history" { "Converted" } }
        h1 #export-name { (job.title) }
        p.meta {
            (settings_summary(&job.settings)) " · " (count(files.len(), "file", "files")) " · " (size_so_far(&job, &files))
        }
        section.panel #export-progress data-events={ "/api/v1/exports/" (job.id) "/events" } data-state=(job.state.as_str()) {
            div.overall {
                span.label { "Overall" }
                (bar(Some("overall-bar"), "Overall progress", overall))
            }
            p #export-state role="status" aria-live="polite" {
                (state_label(&job, &files)) " · " span #export-done { (done) } " of " (files.len()) " converted"
            }
            @if let Some(err) = &job.error { p.flash.error #export-failure { (view.text(err)) } }
            div.export-actions {
                a.button-link #download-zip href={ "/api/v1/exports/" (job.id) "/zip" } download { "Download ZIP" }
                (end_button(&job, csrf.value()))
            }
        }
        dl.facts {
            dt { "Saved in" } dd { code #export-folder { (view.folder(&job.out_dir)) } }
            dt { "File names" } dd { code { (job.pattern) } }
            dt { "Started" } dd { (when(job.created_at)) }
            @if let Some(t) = job.finished_at { dt { "Ended" } dd { (when(t)) } }
        }
        div.table-wrap {
            table.stack #export-files data-state=(job.state.as_str()) {
                thead { tr { th.no { "#" } th { "File" } th { "Size" } th { "State" } th.progress-col { "Progress" } } }
                tbody {
                    @for f in &files {
                        tr data-position=(f.position) {
                            td.no { (f.position + 1) }
                            td.path { (f.rel_path) }
                            td.size data-label="Size" { @if let Some(b) = f.size { (size(b)) } }
                            td.file-state data-label="State" {
                                (file_state(f))
                                @if let Some(e) = &f.error { span.file-error { ": " (view.text(e)) } }
                            }
                            td.progress-col data-label="Progress" { (bar(None, &format!("Progress of {}", f.rel_path), fraction(f))) }
                        }
                    }
                }
            }
        }
    };
    let refresh = running.then_some(REFRESH_SECS);
    export_page(
        &ctx,
        &csrf,
        StatusCode::OK,
        &job.title,
        q.flash(),
        body,
        refresh,
    )
}

/// `POST /export/{id}/cancel`.
pub async fn cancel(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.exports.cancel(&ctx.user.id, &id).await {
        Ok(job) => reply::see_other(&format!("/export/{}?notice=cancelled", job.id)),
        Err(e) => export_problem(&ctx, &csrf, &e),
    }
}

/// `POST /export/{id}/remove`: removes an ended export from the history (its files stay).
pub async fn remove(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.exports.delete(&ctx.user.id, &id).await {
        Ok(()) => reply::see_other("/export/history?notice=removed"),
        Err(e) => export_problem(&ctx, &csrf, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_as_people_say_them() {
        assert_eq!(
            settings_summary(r#"{"format":"mp3","bitrate":320}"#),
            "MP3 320 kbps"
        );
        assert_eq!(
            settings_summary(r#"{"format":"mp3","vbr":2}"#),
            "MP3 VBR V2"
        );
        assert_eq!(
            settings_summary(r#"{"format":"flac","bit_depth":24,"compression":8}"#),
            "FLAC level 8, 24-bit"
        );
        assert_eq!(settings_summary(r#"{"format":"wav"}"#), "WAV");
        assert_eq!(settings_summary(r#"{"format":"aac"}"#), "AAC 256 kbps");
        assert_eq!(
            settings_summary(r#"{"format":"aac","bitrate":128}"#),
            "AAC 128 kbps"
        );
        assert_eq!(settings_summary(r#"{"format":"alac"}"#), "ALAC");
        assert_eq!(settings_summary("not json"), "—");
    }
}
