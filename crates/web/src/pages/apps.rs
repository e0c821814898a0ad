//! The Apps page: every app with access to the account — who registered it, what it may do, when
//! it was given access and last used, the devices authorised through it — each with a Remove
//! access button; below it, the apps the user registered (`apps_registered`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext, EventKind};
use clef_http::{AppState, ClientIp};
use clef_store::GrantView;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::apps_registered::{self, RegisterForm};
use crate::pages::confirm::{self, Confirmed, Question};
use crate::pages::{signed_in_error, signed_in_page};
use crate::reply;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppsQuery {
    notice: Option<String>,
}

/// The app named by the newest entry of `kind` that this device made in the account's log: a
/// notice names an app from the log, never from the URL.
async fn logged_app(st: &AppState, ctx: &AuthContext, kind: EventKind) -> Option<String> {
    let events = st.accounts.security_events(ctx, 50).await.ok()?;
    let e = events
        .into_iter()
        .find(|e| e.kind == kind.as_str() && e.device_id.as_ref() == Some(&ctx.device.id))?;
    let detail = e.detail?;
    if kind != EventKind::AppAccessRemoved {
        return Some(detail);
    }
    // "Party queue, by Kitchen laptop": the app, and the device that removed its access.
    let by = format!(", by {}", ctx.device.name);
    match detail.strip_suffix(&by) {
        Some(name) => Some(name.to_owned()),
        None => detail.rsplit_once(", by ").map(|(name, _)| name.to_owned()),
    }
}

/// Notices are chosen by code; the app they name comes from the account's log.
async fn flash(st: &AppState, ctx: &AuthContext, q: &AppsQuery) -> Option<Flash> {
    match q.notice.as_deref()? {
        "access_removed" => match logged_app(st, ctx, EventKind::AppAccessRemoved).await {
            Some(name) => Flash::notice(format!(
                "Removed the access of “{name}”. Its sign-ins and the devices authorised through it are signed out."
            )),
            None => Flash::notice("The app's access was removed."),
        },
        "app_deleted" => match logged_app(st, ctx, EventKind::AppDeleted).await {
            Some(name) => Flash::notice(format!(
                "Deleted “{name}”. Every account's access to it has ended."
            )),
            None => Flash::notice("The app was deleted."),
        },
        _ => None,
    }
}

fn grant_row(g: &GrantView, csrf: &str) -> Markup {
    html! {
        tr data-grant-id=(g.grant.id) data-client-id=(g.app.client_id) {
            td.app {
                strong.app-name { (g.app.name) }
                div.meta.app-owner { "registered by " (g.app.owner_name) }
            }
            td.scopes data-label="Can" {
                @for s in g.grant.scopes.iter() {
                    div.scope data-scope=(s.as_str()) { (s.describe()) }
                }
            }
            td.time data-label="Access given" { (when(g.grant.created_at)) }
            td.time data-label="Last used" { (when(g.last_used)) }
            td.app-devices data-label="Devices" {
                @if g.devices.is_empty() {
                    span.meta { "None" }
                }
                @for d in &g.devices {
                    div.app-device { (d.name) " " span.meta { "(" (d.device_type) ")" } }
                }
            }
            td.actions {
                form.inline method="post" action={ "/apps/" (g.grant.id) "/remove" } {
                    (csrf_field(csrf))
                    button.danger.remove-access type="submit" {
                        "Remove access" span.sr-only { " of " (g.app.name) }
                    }
                }
            }
        }
    }
}

fn access_list(grants: &[GrantView], csrf: &str) -> Markup {
    html! {
        @if grants.is_empty() {
            div.panel #no-apps {
                p.empty { "No app has access to your account." }
                p.hint {
                    "An app gets access only when you allow it: it sends you to a Clef page that "
                    "names the app and what it asks to do, where you choose Allow; or a TV or "
                    "speaker shows a code that you type at " a href="/device" { "the device page" } ". "
                    "Apps you allow are listed here, and you can remove their access at any time."
                }
            }
        } @else {
            div.table-wrap {
                table.apps.stack #app-access {
                    thead { tr {
                        th { "App" } th { "Can" } th { "Access given" } th { "Last used" }
                        th { "Devices" } th { span.sr-only { "Action" } }
                    } }
                    tbody { @for g in grants { (grant_row(g, csrf)) } }
                }
            }
        }
    }
}

/// The Apps page, with the register form as given (empty, or as typed with its error).
pub(crate) async fn render(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
    form: &RegisterForm,
    form_error: Option<&str>,
) -> Response {
    let grants = match st.accounts.app_grants(ctx).await {
        Ok(g) => g,
        Err(e) => return signed_in_error(ctx, csrf, Some(Section::Apps), &e),
    };
    let mine = match st.accounts.my_apps(ctx).await {
        Ok(a) => a,
        Err(e) => return signed_in_error(ctx, csrf, Some(Section::Apps), &e),
    };
    let body = html! {
        h1 { "Apps" }
        p.lead {
            "Apps you allowed to use your account. Removing an app's access ends it at once: "
            "its sign-ins end, its music stops and the devices authorised through it are signed out."
        }
        section #apps-with-access { (access_list(&grants, csrf.value())) }
        (apps_registered::section(&mine, csrf.value(), form, form_error))
    };
    signed_in_page(ctx, csrf, Section::Apps, status, "Apps", flash, body)
}

/// `GET /apps`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<AppsQuery>,
) -> Response {
    let flash = flash(&st, &ctx, &q).await;
    let form = RegisterForm::default();
    render(&st, &ctx, &csrf, StatusCode::OK, flash, &form, None).await
}

/// What removing an app's access does, in a sentence or two.
fn consequence(g: &GrantView) -> String {
    let name = &g.app.name;
    let mut s = format!(
        "{name} will lose access to your account at once: every sign-in it holds ends and any music it plays stops."
    );
    if !g.devices.is_empty() {
        let devices: Vec<&str> = g.devices.iter().map(|d| d.name.as_str()).collect();
        s.push_str(&format!(
            " The devices authorised through it are signed out too: {}.",
            devices.join(", ")
        ));
    }
    s.push_str(" To use it again you would have to allow it again.");
    s
}

/// `POST /apps/{grant_id}/remove`.
pub async fn remove(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(grant_id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let grants = match st.accounts.app_grants(&ctx).await {
        Ok(g) => g,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e),
    };
    let Some(g) = grants.iter().find(|g| g.grant.id == grant_id) else {
        let e = AccountsError::NotFound("app access");
        return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e);
    };
    if !form.yes() {
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: format!("Remove the access of {}?", g.app.name),
                consequence: consequence(g),
                action: format!("/apps/{}/remove", g.grant.id),
                yes: "Remove access".to_owned(),
                cancel: "/apps",
                carry: vec![],
                fields: None,
                before: None,
                section: Section::Apps,
            },
        );
    }
    if let Err(e) = st.accounts.remove_app_access(&ctx, &grant_id).await {
        return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e);
    }
    reply::see_other("/apps?notice=access_removed")
}
