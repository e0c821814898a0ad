//! `/device`: where a listener types the code a TV, speaker or command-line tool shows, sees
//! which app and device asks for what, and approves or denies, on a signed-in phone or computer.
//! At the device limit it offers the sign-in page's choice: sign one out and continue.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::oauth::{display_user_code, DeviceRequest};
use clef_accounts::{AccountsError, AuthContext};
use clef_core::{DeviceId, DeviceType};
use clef_http::{AppState, ClientIp};
use clef_store::Device;
use maud::{html, Markup};
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors;
use crate::format::{count, when};
use crate::layout::{self, csrf_field, Flash};
use crate::{auth, reply};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeQuery {
    code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Answer {
    code: String,
    decision: String,
    replace_device_id: String,
    csrf: String,
}

impl HasCsrf for Answer {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn page(
    csrf: &CsrfToken,
    status: StatusCode,
    title: &str,
    flash: Option<Flash>,
    body: Markup,
) -> Response {
    csrf.attach(reply::html(
        status,
        layout::bare(title, flash.as_ref(), body),
    ))
}

fn entry_form(typed: &str) -> Markup {
    html! {
        h1 #device-title { "Sign in a TV or speaker" }
        p { "Type the code your TV, speaker or app shows." }
        form.stacked method="get" action="/device" {
            label for="code" { "Code" }
            input #code type="text" name="code" value=(typed) autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="BCDF-GHJK" maxlength="16" required autofocus;
            button.primary type="submit" { "Continue" }
        }
    }
}

fn request_view(csrf: &CsrfToken, req: &DeviceRequest, ctx: &AuthContext) -> Markup {
    let code = display_user_code(&req.code.user_code);
    let kind =
        DeviceType::parse(&req.code.device_type).map_or("A device", DeviceType::with_article);
    html! {
        h1 #device-title { "Sign in " strong { (req.code.device_name) } "?" }
        p #device-who { (kind) " using " strong { (req.app.name) } " (registered by " (req.app.owner_name) ") asks to use your account, " strong { (ctx.user.username) } ". Check that the code on its screen is " strong #device-code { (code) } "." }
        p { "If you allow it, it can:" }
        ul #consent-scopes {
            @for s in req.code.scopes.iter() {
                li data-scope=(s.as_str()) { (s.describe()) }
            }
        }
        p.hint { "It becomes one of your devices: listed on the Devices page, counted against your limit, and signed out like any other." }
        form.stacked method="post" action="/device" {
            (csrf_field(csrf.value()))
            input type="hidden" name="code" value=(req.code.user_code);
            div.actions {
                button.primary #approve type="submit" name="decision" value="approve" { "Allow" }
                button #deny type="submit" name="decision" value="deny" { "Deny" }
            }
        }
    }
}

fn limit_view(csrf: &CsrfToken, code: &str, limit: i64, devices: &[Device]) -> Markup {
    html! {
        h1 #device-limit { "Device limit reached" }
        p { "This account is signed in on " (count(limit, "device", "devices")) ", its limit. Sign one out to let the new device in." }
        div.table-wrap {
            table.devices.stack {
                thead { tr { th { "Name" } th { "Type" } th { "Client" } th { "Last seen" } th { span.sr-only { "Action" } } } }
                tbody {
                    @for d in devices {
                        tr data-device-id=(d.id) {
                            td.name { (d.name) }
                            td data-label="Type" { (d.device_type) }
                            td data-label="Client" { (d.client) }
                            td.time data-label="Last seen" { (when(d.last_seen)) }
                            td.actions {
                                form.inline method="post" action="/device" {
                                    (csrf_field(csrf.value()))
                                    input type="hidden" name="code" value=(code);
                                    input type="hidden" name="decision" value="approve";
                                    input type="hidden" name="replace_device_id" value=(d.id);
                                    button.replace.danger type="submit" data-device-id=(d.id) { "Sign out this one and continue" }
                                }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/device" { "Cancel" } }
    }
}

async fn signed_in(
    st: &AppState,
    headers: &HeaderMap,
    ip: &str,
    back: &str,
) -> Result<AuthContext, Response> {
    if !auth::has_session_cookie(st, headers) {
        let next = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
        return Err(reply::see_other(&format!("/signin?{next}")));
    }
    auth::require(st, headers, ip).await
}

/// `GET /device` and `GET /device?code=…`.
pub async fn show(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    csrf: CsrfToken,
    Query(q): Query<CodeQuery>,
    uri: axum::http::Uri,
) -> Response {
    let back = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/device");
    let ctx = match signed_in(&st, &headers, &ip, back).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(typed) = q.code.filter(|c| !c.trim().is_empty()) else {
        return page(
            &csrf,
            StatusCode::OK,
            "Sign in a device",
            None,
            entry_form(""),
        );
    };
    match st.accounts.device_request(&ctx, &typed).await {
        Ok(req) => page(&csrf, StatusCode::OK, "Sign in a device", None, request_view(&csrf, &req, &ctx)),
        Err(AccountsError::NotFound(_)) => page(
            &csrf,
            StatusCode::NOT_FOUND,
            "Sign in a device",
            Flash::error("That code is not right, or it expired. Check the code on the device's screen, or start again there."),
            entry_form(&typed),
        ),
        Err(e) => {
            let p = errors::describe(&e);
            p.decorate(page(&csrf, p.status, "Sign in a device", Flash::error(p.message.clone()), entry_form(&typed)))
        }
    }
}

/// `POST /device`: the answer.
pub async fn answer(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<Answer>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let approve = form.decision == "approve";
    let replace = DeviceId::parse(&form.replace_device_id);
    match st
        .accounts
        .answer_device_code(&ctx, &form.code, approve, replace)
        .await
    {
        Ok(()) if approve => page(
            &csrf,
            StatusCode::OK,
            "Device signed in",
            None,
            html! {
                h1 #device-done { "Done" }
                p { "The device is signed in. You can go back to it now." }
                p { a href="/devices" { "See your devices" } }
            },
        ),
        Ok(()) => page(
            &csrf,
            StatusCode::OK,
            "Device refused",
            None,
            html! {
                h1 #device-done { "Refused" }
                p { "The device was not signed in." }
            },
        ),
        Err(AccountsError::DeviceLimitReached { limit, devices, .. }) => page(
            &csrf,
            StatusCode::CONFLICT,
            "Device limit reached",
            None,
            limit_view(&csrf, &form.code, limit, &devices),
        ),
        Err(AccountsError::NotFound("code")) => page(
            &csrf,
            StatusCode::NOT_FOUND,
            "Sign in a device",
            Flash::error("That code is not right, or it expired or was already answered."),
            entry_form(""),
        ),
        Err(e) => {
            let p = errors::describe(&e);
            p.decorate(page(
                &csrf,
                p.status,
                "Sign in a device",
                Flash::error(p.message.clone()),
                entry_form(&form.code),
            ))
        }
    }
}
