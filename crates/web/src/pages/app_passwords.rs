//! App passwords and API keys for Subsonic apps, from the Devices page: the form, the answer that
//! shows the new secret once (with the server address and user name to type into the app), and,
//! at the device limit, the choice of a device to sign out to make room.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::subsonic::SubsonicKind;
use clef_accounts::{AccountsError, AuthContext, DeviceInfo};
use clef_core::{DeviceId, DeviceName, DeviceType};
use clef_http::{AppState, ClientIp};
use clef_store::Device;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::WebAuth;
use crate::csrf::{CsrfForm, HasCsrf};
use crate::errors;
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::signed_in_page;

/// The types a Subsonic app runs on, as the form offers them.
const TYPES: [(&str, &str); 5] = [
    ("phone", "Phone"),
    ("tablet", "Tablet"),
    ("computer", "Computer"),
    ("speaker", "Speaker"),
    ("car", "Car"),
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewForm {
    name: String,
    #[serde(rename = "type")]
    device_type: String,
    kind: String,
    replace_device_id: String,
    csrf: String,
}

impl HasCsrf for NewForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The form on the Devices page, keeping what was typed.
pub(crate) fn form(csrf: &str, name: &str, device_type: &str, kind: &str) -> Markup {
    let api_key = kind == "api_key";
    html! {
        section #subsonic {
            h2 { "Subsonic apps" }
            p {
                "Phone and desktop players that speak Subsonic (Symfonium, DSub, Tempo, Feishin…) "
                "sign in with an app password of their own, never your account password. "
                "Each is a device: listed here, counted against your limit, signed out like any other."
            }
            form.stacked #app-password-form method="post" action="/devices/app-passwords" {
                (csrf_field(csrf))
                label for="subsonic-name" { "Device name" }
                input #subsonic-name type="text" name="name" value=(name) maxlength="64" required placeholder="such as Anna's phone";
                label for="subsonic-type" { "Type" }
                select #subsonic-type name="type" {
                    @for (value, label) in TYPES {
                        option value=(value) selected[value == device_type] { (label) }
                    }
                }
                fieldset {
                    legend { "Sign in with" }
                    label.check {
                        input #subsonic-kind-password type="radio" name="kind" value="app_password" checked[!api_key];
                        " An app password (any Subsonic app)"
                    }
                    label.check {
                        input #subsonic-kind-key type="radio" name="kind" value="api_key" checked[api_key];
                        " An API key (OpenSubsonic apps)"
                    }
                }
                button.primary #create-app-password type="submit" { "Create" }
            }
        }
    }
}

fn info(f: &NewForm) -> Result<DeviceInfo, AccountsError> {
    Ok(DeviceInfo {
        name: DeviceName::parse(&f.name)?,
        device_type: DeviceType::parse(if f.device_type.is_empty() {
            "phone"
        } else {
            &f.device_type
        })?,
        client: "Subsonic app".to_owned(),
    })
}

/// `POST /devices/app-passwords`.
pub async fn create(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    WebAuth(ctx): WebAuth,
    CsrfForm { form: f, csrf }: CsrfForm<NewForm>,
) -> Response {
    let kind = if f.kind == "api_key" {
        SubsonicKind::ApiKey
    } else {
        SubsonicKind::AppPassword
    };
    let replace = DeviceId::parse(&f.replace_device_id);
    let made = match info(&f) {
        Ok(i) => {
            st.accounts
                .create_subsonic_credential(&ctx, i, kind, replace, &ip)
                .await
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(made) => {
            let server = st.http.public_url.trim_end_matches('/').to_owned();
            let body = html! {
                h1 #subsonic-created { "Sign in " (f.name) }
                p { "In the app, add a server with these details:" }
                dl.details {
                    dt { "Server" } dd #subsonic-server { (server) }
                    dt { "User name" } dd #subsonic-username { (made.username) }
                    @match made.kind {
                        SubsonicKind::AppPassword => {
                            dt { "Password" } dd { code #subsonic-secret { (made.secret.expose()) } }
                        }
                        SubsonicKind::ApiKey => {
                            dt { "API key" } dd { code #subsonic-secret { (made.secret.expose()) } }
                        }
                    }
                }
                p #secret-once .flash.notice role="status" {
                    "Type it into the app now: it will not be shown again. "
                    "If it is lost, sign this device out and create another."
                }
                p { a href="/devices" { "Back to your devices" } }
            };
            signed_in_page(
                &ctx,
                &csrf,
                Section::Devices,
                StatusCode::CREATED,
                "New app password",
                None,
                body,
            )
        }
        Err(AccountsError::DeviceLimitReached { limit, devices, .. }) => {
            let body = limit_view(&ctx, csrf.value(), &f, limit, &devices);
            signed_in_page(
                &ctx,
                &csrf,
                Section::Devices,
                StatusCode::CONFLICT,
                "Device limit reached",
                None,
                body,
            )
        }
        Err(e) => {
            let p = errors::describe(&e);
            let body = html! {
                h1 { "Subsonic apps" }
                (form(csrf.value(), &f.name, &f.device_type, &f.kind))
            };
            p.decorate(signed_in_page(
                &ctx,
                &csrf,
                Section::Devices,
                p.status,
                "Subsonic apps",
                Flash::error(p.message.clone()),
                body,
            ))
        }
    }
}

/// At the limit: the devices holding the slots, each with "Sign out this one and continue".
fn limit_view(
    ctx: &AuthContext,
    csrf: &str,
    f: &NewForm,
    limit: i64,
    devices: &[Device],
) -> Markup {
    html! {
        h1 #device-limit { "Device limit reached" }
        p { "Your account is signed in on " (limit) " devices, its limit. Sign one out to add " strong { (f.name) } "." }
        div.table-wrap {
            table.devices.stack {
                thead { tr { th { "Name" } th { "Type" } th { "Client" } th { "Last seen" } th { span.sr-only { "Action" } } } }
                tbody {
                    @for d in devices {
                        tr data-device-id=(d.id) {
                            td.name { (d.name) @if d.id == ctx.device.id { " " span.badge.this-device { "This device" } } }
                            td data-label="Type" { (d.device_type) }
                            td data-label="Client" { (d.client) }
                            td.time data-label="Last seen" { (when(d.last_seen)) }
                            td.actions {
                                @if d.id != ctx.device.id {
                                    form.inline method="post" action="/devices/app-passwords" {
                                        (csrf_field(csrf))
                                        input type="hidden" name="name" value=(f.name);
                                        input type="hidden" name="type" value=(f.device_type);
                                        input type="hidden" name="kind" value=(f.kind);
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
        p { a href="/devices" { "Cancel" } }
    }
}
