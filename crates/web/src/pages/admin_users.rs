//! The admin's actions on one user beyond limits: make or remove an admin, reset a password (a
//! link e-mailed to the user's address, or a temporary password), disable, delete. Each that
//! takes something away asks first (`confirm.rs`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use clef_accounts::{Actor, RESET_LINK_MINUTES};
use clef_http::{AppState, ClientIp};
use maud::html;
use serde::Deserialize;

use crate::csrf::{Bare, CsrfForm, CsrfToken, HasCsrf};
use crate::layout::{csrf_field, Section};
use crate::pages::admin::{failed, posting_admin};
use crate::pages::confirm::{self, is_yes, Confirmed, Question};
use crate::reply;

/// What is being asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    Disable,
    Delete,
    RemoveAdmin,
    ResetPassword,
}

/// The confirmation page for `ask` on user `name` (refused to non-admins).
pub(crate) async fn ask(
    st: &AppState,
    headers: &HeaderMap,
    ip: &str,
    csrf: &CsrfToken,
    name: &str,
    ask: Ask,
) -> Response {
    let ctx = match posting_admin(st, headers, ip, csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // The user must exist; the page names them as stored.
    let user = match st.accounts.user(Actor::Admin(&ctx), name).await {
        Ok(u) => u,
        Err(e) => return failed(st, &ctx, csrf, &e).await,
    };
    let n = &user.username;
    let (title, consequence, yes, what) = match ask {
        Ask::Disable => (
            format!("Disable {n}?"),
            format!("{n} is signed out on every device at once, their music stops, and they cannot sign in until an admin enables the account again."),
            format!("Disable {n}"),
            "disable",
        ),
        Ask::Delete => (
            format!("Delete {n}?"),
            format!("{n} is signed out everywhere and the account goes, with its devices, playlists, export history and security log. Files already exported stay where they are. This cannot be undone."),
            format!("Delete {n}"),
            "delete",
        ),
        Ask::RemoveAdmin => (
            format!("Remove admin rights from {n}?"),
            format!("{n} keeps the account but can no longer manage users, limits or the library."),
            "Remove admin rights".to_owned(),
            "admin",
        ),
        Ask::ResetPassword if user.email.is_some() => (
            format!("Reset the password of {n}?"),
            format!("{n} has an e-mail address: send them a link to choose a new password themselves. Nothing changes until they use it."),
            "Set the temporary password".to_owned(),
            "password",
        ),
        Ask::ResetPassword => (
            format!("Give {n} a temporary password?"),
            temporary_consequence(n),
            "Set the temporary password".to_owned(),
            "password",
        ),
    };
    // With an address, the link comes first; the temporary password stays, below it.
    let before = match (&user.email, ask) {
        (Some(address), Ask::ResetPassword) => Some(html! {
            form.stacked #reset-link-form method="post" action={ "/admin/users/" (n) "/reset-link" } {
                (csrf_field(csrf.value()))
                p.hint {
                    "The link goes to " (clef_core::mask_email(address)) ". It works once, for "
                    (RESET_LINK_MINUTES) " minutes, and choosing the new password signs them out everywhere."
                }
                button.primary #send-reset-link type="submit" { "E-mail a reset link" }
            }
            h2 #temporary-password-heading { "Or give a temporary password" }
            p { (temporary_consequence(n)) }
        }),
        _ => None,
    };
    let fields = (ask == Ask::ResetPassword).then(|| {
        html! {
            label for="temporary-password" { "Temporary password" }
            input #temporary-password type="password" name="password" autocomplete="new-password" minlength="8" maxlength="128" required;
            p.hint { "8 to 128 characters." }
        }
    });
    let carry = match ask {
        Ask::RemoveAdmin => vec![("is_admin", "off".to_owned())],
        _ => vec![],
    };
    confirm::page(
        &ctx,
        csrf,
        Question {
            title,
            consequence,
            action: format!("/admin/users/{}/{what}", user.username),
            yes,
            cancel: "/admin/users",
            carry,
            before,
            fields,
            section: Section::Admin,
        },
    )
}

fn temporary_consequence(n: &str) -> String {
    format!("{n} is signed out on every device at once. Tell them the temporary password: at their next sign-in they must choose a new one before anything else.")
}

/// `POST /admin/users/{name}/reset-link`: mails the user a link to choose a new password (nothing
/// changes until they use it, so nothing is asked first).
pub async fn send_reset_link(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { csrf, .. }: CsrfForm<Bare>,
) -> Response {
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .accounts
        .send_reset_link_by_admin(Actor::Admin(&ctx), &name)
        .await
    {
        Ok(_) => reply::see_other(&format!(
            "/admin/users?notice=reset_link&user={}",
            crate::format::query_value(&name)
        )),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

/// `POST /admin/users/{name}/delete`, after a confirmation.
pub async fn delete(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    if !form.yes() {
        return ask(&st, &headers, &ip, &csrf, &name, Ask::Delete).await;
    }
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.accounts.delete_user(Actor::Admin(&ctx), &name).await {
        Ok(()) => reply::see_other("/admin/users?notice=deleted"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AdminForm {
    /// "on" or "off".
    is_admin: String,
    confirm: String,
    csrf: String,
}

impl HasCsrf for AdminForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/users/{name}/admin`: make an admin, or (after a confirmation) remove one.
pub async fn set_admin(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<AdminForm>,
) -> Response {
    let on = form.is_admin == "on";
    if !on && !is_yes(&form.confirm) {
        return ask(&st, &headers, &ip, &csrf, &name, Ask::RemoveAdmin).await;
    }
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.accounts.set_admin(Actor::Admin(&ctx), &name, on).await {
        Ok(_) if on => reply::see_other("/admin/users?notice=admin_on"),
        Ok(_) => reply::see_other("/admin/users?notice=admin_off"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    password: String,
    confirm: String,
    csrf: String,
}

impl HasCsrf for ResetForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /admin/users/{name}/password`: the confirmation page with the temporary password's
/// field, then the reset.
pub async fn reset_password(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<ResetForm>,
) -> Response {
    if !is_yes(&form.confirm) {
        return ask(&st, &headers, &ip, &csrf, &name, Ask::ResetPassword).await;
    }
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st
        .accounts
        .reset_password_by_admin(Actor::Admin(&ctx), &name, form.password)
        .await
    {
        Ok(_) => reply::see_other("/admin/users?notice=password"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}
