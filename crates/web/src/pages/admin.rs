//! Admin pages: users with their limits and access, and every user's security log.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, Actor, AuthContext};
use clef_core::InputError;
use clef_http::{AppState, ClientIp};
use clef_store::User;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{Bare, CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::confirm::Confirmed;
use crate::pages::security::events_table;
use crate::pages::{signed_in_error, signed_in_page};
use crate::reply;

/// How many entries the admin log shows.
const SHOWN: i64 = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UsersQuery {
    notice: Option<String>,
    /// Whom a reset link was sent to (`notice=reset_link`).
    user: Option<String>,
}

impl UsersQuery {
    fn flash(&self) -> Option<Flash> {
        match self.notice.as_deref()? {
            "created" => Flash::notice("User created."),
            "limits" => Flash::notice("Limits saved."),
            "disabled" => Flash::notice("User disabled and signed out everywhere."),
            "enabled" => Flash::notice("User enabled."),
            "admin_on" => Flash::notice("The user is now an admin."),
            "admin_off" => Flash::notice("The user is no longer an admin."),
            "deleted" => Flash::notice("User deleted, with their devices, playlists and export history. Their exported files stay."),
            "password" => Flash::notice("Temporary password set and every device of theirs signed out. They choose a new password at their next sign-in."),
            "two_step_off" => Flash::notice("Two-step sign-in turned off. They sign in with their password alone until they turn it on again."),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateForm {
    username: String,
    password: String,
    email: String,
    is_admin: Option<String>,
    csrf: String,
}

impl HasCsrf for CreateForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LimitsForm {
    max_devices: String,
    max_streams: String,
    csrf: String,
}

impl HasCsrf for LimitsForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The admin pages' sub-navigation.
pub(crate) fn admin_nav(current: &str) -> Markup {
    let link = |href: &str, label: &str| {
        let here = current == label;
        html! {
            a href=(href) class=[here.then_some("current")] aria-current=[here.then_some("page")] { (label) }
        }
    };
    html! {
        div.subnav {
            nav aria-label="Admin" {
                (link("/admin/users", "Users"))
                (link("/admin/security", "Security log"))
                (link("/admin/library", "Library"))
            }
        }
    }
}

fn user_row(u: &User, me: &AuthContext, csrf: &str) -> Markup {
    let name = &u.username;
    let action = |what: &str, label: &str, class: &str, fields: Markup| {
        html! {
            form.inline method="post" action={ "/admin/users/" (name) "/" (what) } {
                (csrf_field(csrf))
                (fields)
                button type="submit" class=(class) { (label) }
            }
        }
    };
    html! {
        tr data-username=(name) {
            td.username {
                (name) @if u.id == me.user.id { " " span.badge.this-device { "You" } }
                @if let Some(address) = &u.email { div.hint.email { (address) } }
            }
            td.admin data-label="Admin" { @if u.is_admin { span.badge { "Admin" } } @else { "—" } }
            td.state data-label="State" {
                @if u.disabled { span.badge.disabled { "Disabled" } } @else { "Active" }
                @if u.must_change_password { div.hint { "Must choose a new password" } }
                @if u.totp_enabled_at.is_some() { div.hint.two-step { "Two-step sign-in on" } }
            }
            td.max-devices data-label="Max devices" { (u.max_devices) }
            td.max-streams data-label="Max streams" { (u.max_streams) }
            td.actions {
                form.inline.limits method="post" action={ "/admin/users/" (name) "/limits" } {
                    (csrf_field(csrf))
                    span.limit-field {
                        label for={ "max_devices-" (name) } { "Devices" }
                        input.num id={ "max_devices-" (name) } type="number" name="max_devices" min="1" max="1000" value=(u.max_devices);
                    }
                    span.limit-field {
                        label for={ "max_streams-" (name) } { "Streams" }
                        input.num id={ "max_streams-" (name) } type="number" name="max_streams" min="1" max="1000" value=(u.max_streams);
                    }
                    button.subtle type="submit" { "Save limits" }
                }
                @if u.id != me.user.id {
                    div.user-actions {
                        @if u.is_admin {
                            (action("admin", "Remove admin", "subtle remove-admin", html! { input type="hidden" name="is_admin" value="off"; }))
                        } @else {
                            (action("admin", "Make admin", "subtle make-admin", html! { input type="hidden" name="is_admin" value="on"; }))
                        }
                        (action("password", "Reset password", "subtle reset-password", html! {}))
                        @if u.totp_enabled_at.is_some() {
                            (action("two-step", "Turn off two-step sign-in", "subtle turn-off-two-step", html! {}))
                        }
                        @if u.disabled {
                            (action("enable", "Enable", "subtle enable", html! {}))
                        } @else {
                            (action("disable", "Disable", "danger disable", html! {}))
                        }
                        (action("delete", "Delete", "danger delete", html! {}))
                    }
                }
            }
        }
    }
}

async fn render_users(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
) -> Response {
    let users = match st.accounts.list_users(Actor::Admin(ctx)).await {
        Ok(u) => u,
        Err(e) => return signed_in_error(ctx, csrf, Some(Section::Admin), &e),
    };
    let body = html! {
        (admin_nav("Users"))
        h1 { "Users" }
        section.panel #create-user {
            h2 { "Create a user" }
            form.row method="post" action="/admin/users" {
                (csrf_field(csrf.value()))
                div.field {
                    label for="new-username" { "User name" }
                    input #new-username type="text" name="username" autocomplete="off" autocapitalize="none" spellcheck="false" required;
                }
                div.field {
                    label for="new-password" { "Password" }
                    input #new-password type="password" name="password" autocomplete="new-password" minlength="8" maxlength="128" required;
                }
                div.field {
                    label for="new-email" { "E-mail " span.hint { "(optional)" } }
                    input #new-email type="email" name="email" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="254";
                }
                label.check {
                    input #new-is-admin type="checkbox" name="is_admin" value="on";
                    " Administrator"
                }
                button.primary type="submit" { "Create user" }
            }
        }
        div.table-wrap {
            table.users.stack #users {
                thead { tr { th { "User name" } th { "Admin" } th { "State" } th { "Max devices" } th { "Max streams" } th { "Change" } } }
                tbody { @for u in &users { (user_row(u, ctx, csrf.value())) } }
            }
        }
    };
    signed_in_page(ctx, csrf, Section::Admin, status, "Users", flash, body)
}

/// The 403 page for someone who is not an admin; `None` for an admin.
fn refuse_non_admin(ctx: &AuthContext, csrf: &CsrfToken) -> Option<Response> {
    ctx.require_admin()
        .err()
        .map(|e| signed_in_error(ctx, csrf, Some(Section::Admin), &e))
}

/// `GET /admin/users`.
pub async fn users(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<UsersQuery>,
) -> Response {
    if let Some(r) = refuse_non_admin(&ctx, &csrf) {
        return r;
    }
    let flash = match (q.notice.as_deref(), q.user.as_deref()) {
        // Where the link went, masked, as the admin may not read the whole address.
        (Some("reset_link"), Some(name)) => st
            .accounts
            .user(Actor::Admin(&ctx), name)
            .await
            .ok()
            .and_then(|u| u.email)
            .and_then(|to| {
                Flash::notice(format!(
                    "A reset link was sent to {}.",
                    clef_core::mask_email(&to)
                ))
            }),
        _ => q.flash(),
    };
    render_users(&st, &ctx, &csrf, StatusCode::OK, flash).await
}

/// Signs in the admin behind a posted form; anyone else gets the 403 page.
pub(crate) async fn posting_admin(
    st: &AppState,
    headers: &HeaderMap,
    ip: &str,
    csrf: &CsrfToken,
) -> Result<AuthContext, Response> {
    let ctx = auth::require(st, headers, ip).await?;
    match refuse_non_admin(&ctx, csrf) {
        Some(r) => Err(r),
        None => Ok(ctx),
    }
}

/// After a failed admin action: the users page again, saying what went wrong.
pub(crate) async fn failed(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    e: &AccountsError,
) -> Response {
    let p: Problem = errors::describe(e);
    let res = render_users(st, ctx, csrf, p.status, Flash::error(p.message.clone())).await;
    p.decorate(res)
}

/// `POST /admin/users`.
pub async fn create_user(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<CreateForm>,
) -> Response {
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .accounts
        .create_user_with_email(
            Actor::Admin(&ctx),
            &form.username,
            form.password,
            form.is_admin.is_some(),
            Some(&form.email),
        )
        .await
    {
        Ok(_) => reply::see_other("/admin/users?notice=created"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

/// An optional limit as typed: blank means "leave it".
fn parse_limit(field: &'static str, s: &str) -> Result<Option<i64>, AccountsError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| {
        AccountsError::Invalid(InputError {
            field,
            message: "must be a whole number".into(),
        })
    })
}

/// `POST /admin/users/{name}/limits`.
pub async fn set_limits(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<LimitsForm>,
) -> Response {
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let limits = parse_limit("max_devices", &form.max_devices)
        .and_then(|d| Ok((d, parse_limit("max_streams", &form.max_streams)?)));
    let result = match limits {
        Ok((devices, streams)) => {
            st.accounts
                .set_limits(Actor::Admin(&ctx), &name, devices, streams)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => reply::see_other("/admin/users?notice=limits"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

async fn set_disabled(
    st: AppState,
    ip: String,
    headers: HeaderMap,
    name: String,
    csrf: CsrfToken,
    disabled: bool,
) -> Response {
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .accounts
        .set_disabled(Actor::Admin(&ctx), &name, disabled)
        .await
    {
        Ok(_) if disabled => reply::see_other("/admin/users?notice=disabled"),
        Ok(_) => reply::see_other("/admin/users?notice=enabled"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

/// `POST /admin/users/{name}/disable`, after a confirmation.
pub async fn disable(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    if !form.yes() {
        return crate::pages::admin_users::ask(
            &st,
            &headers,
            &ip,
            &csrf,
            &name,
            crate::pages::admin_users::Ask::Disable,
        )
        .await;
    }
    set_disabled(st, ip, headers, name, csrf, true).await
}

/// `POST /admin/users/{name}/enable`.
pub async fn enable(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    set_disabled(st, ip, headers, name, csrf, false).await
}

/// `GET /admin/security`.
pub async fn security(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
) -> Response {
    if let Some(r) = refuse_non_admin(&ctx, &csrf) {
        return r;
    }
    let loaded = async {
        let events = st.accounts.all_security_events(&ctx, SHOWN).await?;
        let users = st.accounts.list_users(Actor::Admin(&ctx)).await?;
        Ok::<_, AccountsError>((events, users))
    };
    let (events, users) = match loaded.await {
        Ok(v) => v,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Admin), &e),
    };
    let names: HashMap<_, _> = users.into_iter().map(|u| (u.id, u.username)).collect();
    let body = html! {
        (admin_nav("Security log"))
        h1 { "Security log: all users" }
        p.lead { "Newest first. Times are UTC." }
        (events_table(&events, Some(&names)))
    };
    signed_in_page(
        &ctx,
        &csrf,
        Section::Admin,
        StatusCode::OK,
        "Security log: all users",
        None,
        body,
    )
}
