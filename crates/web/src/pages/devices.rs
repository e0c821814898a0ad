//! The Devices page: every signed-in device of the account, each with a Sign out button.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, DeviceView, SignOutReason};
use clef_core::DeviceId;
use clef_http::{AppState, ClientIp};
use clef_library::Catalog;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{Bare, CsrfForm, CsrfToken};
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::confirm::{self, Confirmed, Question};
use crate::pages::{signed_in_error, signed_in_page};
use crate::reply;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DevicesQuery {
    notice: Option<String>,
    n: Option<u32>,
}

impl DevicesQuery {
    /// Notices are chosen by code, never echoed from the URL.
    fn flash(&self) -> Option<Flash> {
        match self.notice.as_deref()? {
            "device_signed_out" => Flash::notice("The device was signed out."),
            "signed_out_everywhere" => match self.n.unwrap_or(0) {
                1 => Flash::notice("Signed out 1 other device. This one stays signed in."),
                n => Flash::notice(format!(
                    "Signed out {n} other devices. This one stays signed in."
                )),
            },
            _ => None,
        }
    }
}

/// "Title by Artist" for a track id, if the library still has it.
fn track_label(catalog: &Catalog, id: &str) -> Option<String> {
    let t = catalog.track(id)?;
    let artists: Vec<&str> = t.artists.iter().map(|a| a.name.as_str()).collect();
    Some(if artists.is_empty() {
        t.title.clone()
    } else {
        format!("{} by {}", t.title, artists.join(", "))
    })
}

fn device_row(v: &DeviceView, csrf: &str, catalog: &Catalog) -> Markup {
    let d = &v.device;
    let playing = v
        .playing_track
        .as_deref()
        .and_then(|id| track_label(catalog, id));
    html! {
        tr data-device-id=(d.id) class=[v.current.then_some("current")] {
            td.name {
                span.device-name { (d.name) }
                @if v.current { " " span.badge.this-device { "This device" } }
                @if v.playing {
                    @if let Some(label) = &playing {
                        div.device-playing { "Playing now: " span.device-playing-track { (label) } }
                    } @else {
                        " " span.badge.playing { "Playing now" }
                    }
                }
            }
            td data-label="Type" { (d.device_type) }
            td data-label="Client" { (d.client) }
            td.ip data-label="IP" { (d.ip) }
            td.time data-label="First seen" { (when(d.first_seen)) }
            td.time data-label="Last seen" { (when(d.last_seen)) }
            td.actions {
                form.inline method="post" action={ "/devices/" (d.id) "/signout" } {
                    (csrf_field(csrf))
                    button.danger.sign-out-device type="submit" { "Sign out" }
                }
            }
        }
    }
}

/// `GET /devices`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<DevicesQuery>,
) -> Response {
    let devices = match st.accounts.devices(&ctx).await {
        Ok(d) => d,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Devices), &e),
    };
    let catalog = st.library.catalog();
    let body = html! {
        h1 { "Devices" }
        p.lead {
            "Every browser and app signed in to your account. "
            "Signing one out ends its access at its next request."
        }
        div.table-wrap {
            table.devices.stack #devices {
                thead { tr { th { "Name" } th { "Type" } th { "Client" } th { "IP" } th { "First seen" } th { "Last seen" } th { span.sr-only { "Action" } } } }
                tbody { @for v in &devices { (device_row(v, csrf.value(), &catalog)) } }
            }
        }
        p.meta { "Limit: " (ctx.user.max_devices) " devices. " (devices.len()) " signed in." }
        (crate::pages::app_passwords::form(csrf.value(), "", "phone", "app_password"))
    };
    signed_in_page(
        &ctx,
        &csrf,
        Section::Devices,
        StatusCode::OK,
        "Devices",
        q.flash(),
        body,
    )
}

/// `POST /devices/{id}/signout`.
pub async fn sign_out(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let not_found = || {
        signed_in_error(
            &ctx,
            &csrf,
            Some(Section::Devices),
            &AccountsError::NotFound("device"),
        )
    };
    let Some(id) = DeviceId::parse(&id) else {
        return not_found();
    };
    if !form.yes() {
        let devices = match st.accounts.devices(&ctx).await {
            Ok(d) => d,
            Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Devices), &e),
        };
        let Some(v) = devices.iter().find(|v| v.device.id == id) else {
            return not_found();
        };
        let consequence = if v.current {
            "This browser will be signed out, and you will need your password to sign in again."
                .to_owned()
        } else {
            format!(
                "{} will be signed out at once, its music stopped, and told why. Signing in there again needs the password.",
                v.device.name
            )
        };
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: format!("Sign out {}?", v.device.name),
                consequence,
                action: format!("/devices/{}/signout", id),
                yes: "Sign it out".to_owned(),
                cancel: "/devices",
                carry: vec![],
                fields: None,
                before: None,
                section: Section::Devices,
            },
        );
    }
    if let Err(e) = st.accounts.sign_out_device(&ctx, &id).await {
        return signed_in_error(&ctx, &csrf, Some(Section::Devices), &e);
    }
    if id == ctx.device.id {
        auth::signed_out_redirect(&st, &auth::signin_url(SignOutReason::SignedOutByUser))
    } else {
        reply::see_other("/devices?notice=device_signed_out")
    }
}

/// `POST /signout`: signs this device out.
pub async fn sign_out_this(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match auth::signed_in(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = st.accounts.sign_out_current(&ctx).await {
        return signed_in_error(&ctx, &csrf, None, &e);
    }
    auth::signed_out_redirect(&st, &auth::signin_url(SignOutReason::SignedOutByUser))
}
