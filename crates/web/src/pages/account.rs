//! The Account page: who is signed in, the e-mail address (`account_email.rs`), changing the
//! password, and signing out everywhere.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext, SignOutReason};
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use maud::html;
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::account_email;
use crate::pages::confirm::{self, Question};
use crate::pages::signed_in_page;
use crate::pages::two_step;
use crate::reply;

/// The longest current password the form will check.
pub(crate) const MAX_PRESENTED_PASSWORD: usize = 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountQuery {
    password_changed: Option<u32>,
    /// After an address change: `removed` or `unchanged`.
    email: Option<String>,
    /// After the notice setting changed: `on` or `off`.
    notices: Option<String>,
    /// After two-step sign-in was turned off: `off`.
    two_step: Option<String>,
    /// After a passkey was added or removed: `added` or `removed`.
    passkey: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    pub(crate) current_password: String,
    pub(crate) new_password: String,
    pub(crate) confirm_password: String,
    csrf: String,
}

impl PasswordForm {
    /// What is wrong with the form before any password is checked: new passwords that differ,
    /// or a current one longer than any password can be.
    pub(crate) fn problem(&self) -> Option<Problem> {
        if self.new_password != self.confirm_password {
            return Some(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The new passwords do not match. Nothing was changed.",
            ));
        }
        (self.current_password.len() > MAX_PRESENTED_PASSWORD)
            .then(|| errors::describe(&AccountsError::WrongCurrentPassword))
    }
}

impl HasCsrf for PasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EverywhereForm {
    keep_current: Option<String>,
    remove_apps: Option<String>,
    confirm: String,
    csrf: String,
}

impl HasCsrf for EverywhereForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn render(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
) -> Response {
    render_with(st, ctx, csrf, status, flash, "").await
}

/// The page, with `typed_email` kept in the address field after a failed change.
pub(crate) async fn render_with(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
    typed_email: &str,
) -> Response {
    let u = &ctx.user;
    let two_step = two_step::section(st, ctx, csrf).await;
    let passkeys = crate::pages::passkeys::section(st, ctx, csrf).await;
    let body = html! {
        h1 { "Account" }
        section.panel {
            dl.facts {
                dt { "User name" } dd #account-username { (u.username) }
                dt { "Role" } dd { @if u.is_admin { "Administrator" } @else { "Listener" } }
                dt { "Device limit" } dd { (u.max_devices) }
                dt { "Stream limit" } dd { (u.max_streams) }
                dt { "Member since" } dd { (when(u.created_at)) }
            }
        }
        (account_email::section(ctx, csrf, typed_email))
        section.panel #change-password {
            h2 { "Change password" }
            p.hint { "8 to 128 characters. Every other device is signed out when it changes." }
            form.stacked method="post" action="/account/password" {
                (csrf_field(csrf.value()))
                label for="current_password" { "Current password" }
                input #current_password type="password" name="current_password" autocomplete="current-password" required;
                label for="new_password" { "New password" }
                input #new_password type="password" name="new_password" autocomplete="new-password" minlength="8" maxlength="128" required;
                label for="confirm_password" { "Repeat the new password" }
                input #confirm_password type="password" name="confirm_password" autocomplete="new-password" minlength="8" maxlength="128" required;
                button.primary type="submit" { "Change password" }
            }
        }
        (two_step)
        (passkeys)
        section.panel #sign-out-everywhere {
            h2 { "Sign out everywhere" }
            p.hint { "Signs out every browser, player, TV and speaker on this account, for example after losing a phone." }
            form.stacked method="post" action="/account/signout-everywhere" {
                (csrf_field(csrf.value()))
                label.check {
                    input #keep_current type="checkbox" name="keep_current" value="on" checked;
                    " Keep me signed in on this device"
                }
                label.check {
                    input #remove_apps type="checkbox" name="remove_apps" value="on";
                    " Also remove every app's access"
                }
                button.danger type="submit" { "Sign out everywhere" }
            }
        }
    };
    signed_in_page(ctx, csrf, Section::Account, status, "Account", flash, body)
}

/// `GET /account`.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    Query(q): Query<AccountQuery>,
) -> Response {
    let flash = q
        .password_changed
        .and_then(|n| match n {
            1 => Flash::notice("Password changed. 1 other device was signed out."),
            n => Flash::notice(format!(
                "Password changed. {n} other devices were signed out."
            )),
        })
        .or_else(|| account_email::flash(&ctx, q.email.as_deref(), q.notices.as_deref()))
        .or_else(|| two_step::flash(q.two_step.as_deref()))
        .or_else(|| crate::pages::passkeys::flash(q.passkey.as_deref()));
    render(&st, &ctx, &csrf, StatusCode::OK, flash).await
}

async fn problem(st: &AppState, ctx: &AuthContext, csrf: &CsrfToken, p: &Problem) -> Response {
    p.decorate(render(st, ctx, csrf, p.status, Flash::error(p.message.clone())).await)
}

/// `POST /account/password`.
pub async fn change_password(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<PasswordForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(p) = form.problem() {
        return problem(&st, &ctx, &csrf, &p).await;
    }
    // Every other live device is signed out by the change; count them first to say so.
    let others = match st.accounts.devices(&ctx).await {
        Ok(d) => d.iter().filter(|v| !v.current).count(),
        Err(e) => return problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    };
    match st
        .accounts
        .change_password(
            &ctx,
            Password::presented(form.current_password),
            form.new_password,
        )
        .await
    {
        Ok(()) => reply::see_other(&format!("/account?password_changed={others}")),
        // The only input checked is the new password; say so.
        Err(AccountsError::Invalid(mut input)) => {
            input.field = "new_password";
            problem(
                &st,
                &ctx,
                &csrf,
                &errors::describe(&AccountsError::Invalid(input)),
            )
            .await
        }
        Err(e) => problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

/// `POST /account/signout-everywhere`.
pub async fn sign_out_everywhere(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<EverywhereForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let keep = form.keep_current.is_some();
    let apps = form.remove_apps.is_some();
    if !confirm::is_yes(&form.confirm) {
        let (title, consequence, mut carry) = if keep {
            (
                "Sign out every other device?",
                "Every other browser and app on this account is signed out at once and its music stopped. This one stays signed in.",
                vec![("keep_current", "on".to_owned())],
            )
        } else {
            (
                "Sign out everywhere?",
                "Every browser and app on this account, this one included, is signed out at once and its music stopped.",
                vec![],
            )
        };
        let mut consequence = consequence.to_owned();
        if apps {
            consequence.push_str(" Every app with access to your account loses it too.");
            carry.push(("remove_apps", "on".to_owned()));
        }
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: title.to_owned(),
                consequence,
                action: "/account/signout-everywhere".to_owned(),
                yes: "Sign out everywhere".to_owned(),
                cancel: "/account",
                carry,
                fields: None,
                before: None,
                section: Section::Account,
            },
        );
    }
    match st.accounts.sign_out_everywhere(&ctx, keep, apps).await {
        Ok(n) if keep => reply::see_other(&format!("/devices?notice=signed_out_everywhere&n={n}")),
        Ok(_) => {
            auth::signed_out_redirect(&st, &auth::signin_url(SignOutReason::SignedOutEverywhere))
        }
        Err(e) => problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}
