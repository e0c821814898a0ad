//! First run: the one-time setup link's page, which creates the admin account.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::AccountsError;
use clef_http::AppState;
use maud::html;
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors;
use crate::layout::{self, csrf_field, Flash};
use crate::reply::{self, no_referrer};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupQuery {
    token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    token: String,
    username: String,
    password: String,
    csrf: String,
}

impl HasCsrf for SetupForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

fn form(
    csrf: &CsrfToken,
    status: StatusCode,
    token: &str,
    username: &str,
    flash: Option<Flash>,
) -> Response {
    let body = html! {
        h1 { "Create the admin account" }
        p { "This account manages users and their limits. The link works once." }
        form.stacked method="post" action="/setup" {
            (csrf_field(csrf.value()))
            input type="hidden" name="token" value=(token);
            label for="username" { "User name" }
            input #username type="text" name="username" value=(username) autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="new-password" minlength="8" maxlength="128" required;
            p.hint { "8 to 128 characters." }
            button.primary type="submit" { "Create the admin account" }
        }
    };
    no_referrer(csrf.attach(reply::html(
        status,
        layout::bare("Set up Clef", flash.as_ref(), body),
    )))
}

fn unavailable() -> Response {
    let p = errors::describe(&AccountsError::SetupUnavailable);
    no_referrer(errors::message_page(
        p.status,
        "Setup link not valid",
        &p.message,
    ))
}

/// `GET /setup?token=…`.
pub async fn show(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Query(q): Query<SetupQuery>,
) -> Response {
    if !st.accounts.setup_token_valid(&q.token) {
        return unavailable();
    }
    form(&csrf, StatusCode::OK, &q.token, "", None)
}

/// `POST /setup`.
pub async fn submit(
    State(st): State<AppState>,
    CsrfForm { form: f, csrf }: CsrfForm<SetupForm>,
) -> Response {
    match st
        .accounts
        .complete_setup(&f.token, &f.username, f.password)
        .await
    {
        Ok(_) => reply::see_other("/signin?created=1"),
        Err(AccountsError::SetupUnavailable) => unavailable(),
        Err(e) => {
            let p = errors::describe(&e);
            p.decorate(form(
                &csrf,
                p.status,
                &f.token,
                &f.username,
                Flash::error(p.message.clone()),
            ))
        }
    }
}
