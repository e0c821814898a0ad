//! Choosing a new password after an admin set a temporary one: until it is done, every other page
//! sends the browser here (see `auth::require`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use maud::html;

use crate::auth;
use crate::csrf::{CsrfForm, CsrfToken};
use crate::errors::{self, Problem};
use crate::layout::{self, csrf_field, Flash};
use crate::pages::account::PasswordForm;
use crate::pages::signin::LANDING;
use crate::reply;

fn render(csrf: &CsrfToken, status: StatusCode, username: &str, flash: Option<Flash>) -> Response {
    let body = html! {
        h1 #new-password-title { "Choose a new password" }
        p {
            "An administrator gave " strong { (username) } " a temporary password. "
            "Choose your own to continue; nobody else will know it."
        }
        form.stacked method="post" action=(auth::NEW_PASSWORD_PATH) {
            (csrf_field(csrf.value()))
            label for="current_password" { "Temporary password" }
            input #current_password type="password" name="current_password" autocomplete="current-password" required;
            label for="new_password" { "New password" }
            input #new_password type="password" name="new_password" autocomplete="new-password" minlength="8" maxlength="128" required;
            label for="confirm_password" { "Repeat the new password" }
            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" minlength="8" maxlength="128" required;
            p.hint { "8 to 128 characters." }
            button.primary type="submit" { "Save and continue" }
        }
        form.inline method="post" action="/signout" {
            (csrf_field(csrf.value()))
            button.subtle #sign-out type="submit" { "Sign out" }
        }
    };
    csrf.attach(reply::html(
        status,
        layout::bare("Choose a new password", flash.as_ref(), body),
    ))
}

/// `GET /account/new-password`.
pub async fn show(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    csrf: CsrfToken,
) -> Response {
    let ctx = match auth::signed_in(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.user.must_change_password {
        return reply::see_other("/account");
    }
    render(&csrf, StatusCode::OK, &ctx.user.username, None)
}

/// `POST /account/new-password`.
pub async fn submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<PasswordForm>,
) -> Response {
    let ctx = match auth::signed_in(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let problem = |p: Problem| {
        p.decorate(render(
            &csrf,
            p.status,
            &ctx.user.username,
            Flash::error(p.message.clone()),
        ))
    };
    if let Some(p) = form.problem() {
        return problem(p);
    }
    if form.new_password == form.current_password {
        return problem(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a password other than the temporary one.",
        ));
    }
    match st
        .accounts
        .change_password(
            &ctx,
            Password::presented(form.current_password),
            form.new_password,
        )
        .await
    {
        Ok(()) => reply::see_other(LANDING),
        Err(e) => problem(errors::describe(&e)),
    }
}
