//! The device-limit page of a refused sign-in, and freeing a slot to continue it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::AccountsError;
use clef_core::DeviceId;
use clef_http::{AppState, ClientIp};
use clef_store::Device;
use maud::html;
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::format::{count, when};
use crate::layout::{self, csrf_field};
use crate::pages::signin;
use crate::reply;

/// The 409 page listing the devices holding the slots, each with a button that signs it out and
/// completes the sign-in with the single-use `ticket`, then goes on to `next` (when it is a page
/// that may ask for sign-in: an app's consent page, `/device`).
pub(crate) fn render(
    csrf: &CsrfToken,
    limit: i64,
    devices: &[Device],
    ticket: Option<&str>,
    next: &str,
) -> Response {
    let next = signin::safe_next(Some(next));
    let cancel = match next {
        Some(n) => format!(
            "/signin?{}",
            serde_urlencoded::to_string([("next", n)]).unwrap_or_default()
        ),
        None => "/signin".to_owned(),
    };
    let body = html! {
        h1 #device-limit { "Device limit reached" }
        p { "This account is signed in on " (count(limit, "device", "devices")) ", its limit. Sign one out to continue." }
        @if ticket.is_none() {
            p.flash.error { "Sign in again to choose a device to sign out." }
        }
        div.table-wrap {
            table.devices.stack {
                thead { tr { th { "Name" } th { "Type" } th { "Client" } th { "IP" } th { "Last seen" } th { span.sr-only { "Action" } } } }
                tbody {
                    @for d in devices {
                        tr data-device-id=(d.id) {
                            td.name { (d.name) }
                            td data-label="Type" { (d.device_type) }
                            td data-label="Client" { (d.client) }
                            td.ip data-label="IP" { (d.ip) }
                            td.time data-label="Last seen" { (when(d.last_seen)) }
                            td.actions {
                                @if let Some(t) = ticket {
                                    form.inline method="post" action="/signin/continue" {
                                        (csrf_field(csrf.value()))
                                        input type="hidden" name="ticket" value=(t);
                                        @if let Some(n) = next {
                                            input type="hidden" name="next" value=(n);
                                        }
                                        input type="hidden" name="replace_device_id" value=(d.id);
                                        button.replace.danger type="submit" data-device-id=(d.id) { "Sign out this one and continue" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href=(cancel) { "Cancel" } }
    };
    csrf.attach(reply::html(
        StatusCode::CONFLICT,
        layout::bare("Device limit reached", None, body),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ContinueForm {
    ticket: String,
    replace_device_id: String,
    next: String,
    csrf: String,
}

impl HasCsrf for ContinueForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /signin/continue`.
pub async fn continue_sign_in(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { form, csrf }: CsrfForm<ContinueForm>,
) -> Response {
    let Some(replace) = DeviceId::parse(&form.replace_device_id) else {
        return signin::render_problem(
            &csrf,
            &errors::describe(&AccountsError::NotFound("device")),
            "",
            "",
            &form.next,
        );
    };
    match st
        .accounts
        .continue_sign_in(&form.ticket, replace, &ip)
        .await
    {
        Ok(done) => signin::completed_to(
            &st,
            &done,
            signin::safe_next(Some(&form.next)).unwrap_or(signin::LANDING),
        ),
        Err(AccountsError::DeviceLimitReached {
            limit,
            devices,
            continue_token,
        }) => render(
            &csrf,
            limit,
            &devices,
            continue_token.as_deref(),
            &form.next,
        ),
        Err(AccountsError::Unauthenticated) => {
            let p = Problem::new(
                StatusCode::UNAUTHORIZED,
                "That sign-in expired or was already finished. Sign in again.",
            );
            signin::render_problem(&csrf, &p, "", "", &form.next)
        }
        Err(e) => signin::render_problem(&csrf, &errors::describe(&e), "", "", &form.next),
    }
}
