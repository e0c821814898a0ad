//! The Security log page: sign-ins, new devices, sign-outs and password changes, newest first.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_core::UserId;
use clef_http::AppState;
use clef_store::SecurityEvent;
use maud::{html, Markup};

use crate::auth::WebAuth;
use crate::csrf::CsrfToken;
use crate::format::when;
use crate::layout::Section;
use crate::pages::{signed_in_error, signed_in_page};

/// How many entries the page shows.
const SHOWN: i64 = 200;

/// The log as a table; with `users`, a User column names whose entry each is.
pub(crate) fn events_table(
    events: &[SecurityEvent],
    users: Option<&HashMap<UserId, String>>,
) -> Markup {
    html! {
        @if events.is_empty() {
            p.empty { "Nothing here yet." }
        } @else {
            div.table-wrap {
                table.events.stack #events {
                    thead { tr {
                        th { "Time" }
                        @if users.is_some() { th { "User" } }
                        th { "What" } th { "Device" } th { "IP" } th { "Detail" }
                    } }
                    tbody {
                        @for e in events {
                            tr data-kind=(e.kind) {
                                td.time data-label="Time" { (when(e.at)) }
                                @if let Some(names) = users {
                                    td.user data-label="User" { (names.get(&e.user_id).map(String::as_str).unwrap_or("(deleted)")) }
                                }
                                td.what data-label="What" { (clef_accounts::EventKind::describe(&e.kind)) }
                                td data-label="Device" { (e.device_name.as_deref().unwrap_or("—")) }
                                td.ip data-label="IP" { (e.ip.as_deref().unwrap_or("—")) }
                                td.detail data-label="Detail" { (e.detail.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /security`.
pub async fn show(State(st): State<AppState>, WebAuth(ctx): WebAuth, csrf: CsrfToken) -> Response {
    let events = match st.accounts.security_events(&ctx, SHOWN).await {
        Ok(e) => e,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Security), &e),
    };
    let body = html! {
        h1 { "Security log" }
        p.lead { "What happened to your account, newest first. Times are UTC." }
        (events_table(&events, None))
    };
    signed_in_page(
        &ctx,
        &csrf,
        Section::Security,
        StatusCode::OK,
        "Security log",
        None,
        body,
    )
}
