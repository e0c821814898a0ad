//! The account's e-mail address: its section on the Account page (the address, changing it with
//! the current password, the new-device notice), and the page of the confirmation link mailed to
//! a new address.
//!
//! The confirmation link may be opened in any browser, signed in or not: its token is what
//! counts. Its pages send no referrer and its form is protected like the setup page's (see
//! `password_reset.rs`); showing the page changes nothing, only its Confirm button does.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, AuthContext, EmailChange};
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth;
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::layout::{self, csrf_field, Flash};
use crate::pages::account::{self, MAX_PRESENTED_PASSWORD};
use crate::pages::password_reset::link_invalid;
use crate::reply::{self, no_referrer};

/// Where a confirmation link leads.
pub const CONFIRM_PATH: &str = "/account/email/confirm";

/// What the notices checkbox's hint says is always sent.
const ALWAYS_SENT: &str = "Security notices (a changed password or e-mail address, two-step \
                           sign-in turned on or off, an app given access) are always sent.";

/// The Account page's E-mail section; `typed` is what the address field showed when a change
/// failed, so it is not lost.
pub(crate) fn section(ctx: &AuthContext, csrf: &CsrfToken, typed: &str) -> Markup {
    let u = &ctx.user;
    html! {
        section.panel #account-email {
            h2 { "E-mail" }
            @match &u.email {
                Some(address) => p #email-current { "Your address: " strong #email-address { (address) } },
                None => p #email-current { "None: you cannot reset a forgotten password by e-mail." },
            }
            form.stacked #change-email method="post" action="/account/email" {
                (csrf_field(csrf.value()))
                label for="new_email" { "New address" }
                input #new_email type="email" name="email" value=(typed) autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="254";
                p.hint {
                    "It changes when you follow the link we send to it. "
                    @if u.email.is_some() { "Leave it empty to remove your address." }
                }
                label for="email_password" { "Current password" }
                input #email_password type="password" name="current_password" autocomplete="current-password" required;
                button.primary type="submit" { "Change address" }
            }
            form.stacked #email-notices method="post" action="/account/notices" {
                (csrf_field(csrf.value()))
                label.check {
                    input #notify_new_device type="checkbox" name="notify_new_device" value="on" checked[u.notify_new_device];
                    " E-mail me when a new device signs in"
                }
                p.hint {
                    (ALWAYS_SENT)
                    @if u.email.is_none() { " They need an address to reach you." }
                }
                button type="submit" { "Save" }
            }
        }
    }
}

/// The notice on the Account page after a change, from the redirect's query.
pub(crate) fn flash(
    ctx: &AuthContext,
    email: Option<&str>,
    notices: Option<&str>,
) -> Option<Flash> {
    match (email, notices) {
        (Some("removed"), _) => Flash::notice(
            "Your e-mail address was removed. You can no longer reset a forgotten password by e-mail.",
        ),
        (Some("unchanged"), _) if ctx.user.email.is_some() => {
            Flash::notice("That is already your address. Nothing was changed.")
        }
        (Some("unchanged"), _) => Flash::notice("You have no address to remove. Nothing was changed."),
        (_, Some("on")) => Flash::notice("You will be e-mailed when a new device signs in."),
        (_, Some("off")) => Flash::notice(
            "You will not be e-mailed when a new device signs in. Security notices are still sent.",
        ),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
    current_password: String,
    csrf: String,
}

impl HasCsrf for EmailForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/email`: a new address gets a confirmation link; an empty one removes it.
pub async fn change(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<EmailForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let typed = form.email.trim();
    let (st, ctx, csrf) = (&st, &ctx, &csrf);
    let problem = |p: Problem| async move {
        let flash = Flash::error(p.message.clone());
        p.decorate(account::render_with(st, ctx, csrf, p.status, flash, typed).await)
    };
    if form.current_password.len() > MAX_PRESENTED_PASSWORD {
        return problem(errors::describe(&AccountsError::WrongCurrentPassword)).await;
    }
    let address = (!typed.is_empty()).then_some(typed);
    match st
        .accounts
        .change_email(ctx, Password::presented(form.current_password), address)
        .await
    {
        // The address is named on the page, not in a URL: this page is the answer.
        Ok(EmailChange::Pending(to)) => {
            account::render_with(
                st,
                ctx,
                csrf,
                StatusCode::OK,
                Flash::notice(format!(
                    "We sent a confirmation link to {to}; your address changes when you follow it."
                )),
                "",
            )
            .await
        }
        Ok(EmailChange::Removed) => reply::see_other("/account?email=removed"),
        Ok(EmailChange::Unchanged) => reply::see_other("/account?email=unchanged"),
        Err(e) => problem(errors::describe(&e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticesForm {
    notify_new_device: Option<String>,
    csrf: String,
}

impl HasCsrf for NoticesForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/notices`: the new-device e-mail on or off (an unticked box sends nothing).
pub async fn set_notices(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<NoticesForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let on = form.notify_new_device.is_some();
    match st.accounts.set_new_device_notices(&ctx, on).await {
        Ok(()) if on => reply::see_other("/account?notices=on"),
        Ok(()) => reply::see_other("/account?notices=off"),
        Err(e) => {
            let p = errors::describe(&e);
            p.decorate(
                account::render_with(
                    &st,
                    &ctx,
                    &csrf,
                    p.status,
                    Flash::error(p.message.clone()),
                    "",
                )
                .await,
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmQuery {
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    token: String,
    csrf: String,
}

impl HasCsrf for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn confirm_link_invalid() -> Response {
    link_invalid("/account", "Ask for a new link on your Account page")
}

/// A page of the confirmation link's, without a referrer.
fn link_page(status: StatusCode, title: &str, body: Markup) -> Response {
    no_referrer(reply::html(status, layout::bare(title, None, body)))
}

fn failure(p: &Problem) -> Response {
    p.decorate(no_referrer(errors::problem_page(p, None)))
}

/// `GET /account/email/confirm?token=…`: asks; changes nothing.
pub async fn show_confirm(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Query(q): Query<ConfirmQuery>,
) -> Response {
    let address = match st.accounts.email_confirmation(&q.token).await {
        Ok(Some(a)) => a,
        Ok(None) => return confirm_link_invalid(),
        Err(e) => return failure(&errors::describe(&e)),
    };
    let title = format!("Use {address} as the e-mail address of your Clef account?");
    let body = html! {
        h1 #confirm-email-title { (title) }
        p {
            "Links to reset a forgotten password and security notices will be sent there. "
            "If the account had an address, it is told of the change."
        }
        form.stacked method="post" action=(CONFIRM_PATH) {
            (csrf_field(csrf.value()))
            input type="hidden" name="token" value=(q.token);
            div.actions {
                button.primary #confirm-email type="submit" { "Confirm" }
                a.button-link href="/" { "Not now" }
            }
        }
    };
    csrf.attach(link_page(
        StatusCode::OK,
        "Confirm your e-mail address",
        body,
    ))
}

/// `POST /account/email/confirm`: uses the link. The page names the address, so it is the
/// answer itself rather than a redirect.
pub async fn confirm(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { form, .. }: CsrfForm<ConfirmForm>,
) -> Response {
    match st.accounts.confirm_email(&form.token, &ip).await {
        Ok(address) => link_page(
            StatusCode::OK,
            "E-mail address confirmed",
            html! {
                h1 #email-confirmed-title { "E-mail address confirmed" }
                p #email-confirmed { "Your address is now " strong { (address) } "." }
                p { a.button-link href="/account" { "Go to your account" } }
            },
        ),
        Err(AccountsError::LinkInvalid) => confirm_link_invalid(),
        Err(AccountsError::Conflict(_)) => link_page(
            StatusCode::CONFLICT,
            "Address taken",
            html! {
                h1 #email-taken-title { "That address is taken" }
                p #email-taken {
                    "Another Clef account now uses this address, so it cannot become yours. "
                    "Your address was not changed. Choose another on your Account page."
                }
                p { a.button-link href="/account" { "Go to your account" } }
            },
        ),
        Err(e) => failure(&errors::describe(&e)),
    }
}
