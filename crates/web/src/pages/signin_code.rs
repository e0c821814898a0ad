//! The step after the password for an account with two-step sign-in: the code from the
//! authenticator app (or a recovery code, behind a disclosure that needs no script), posted with
//! the challenge the password earned.
//!
//! The challenge is a secret and travels only in the form's hidden field, never in a URL. A
//! session is issued only once both steps passed, through the same path as a password sign-in
//! (`signin::completed_to`), so the pages that send people to sign in first (an app's consent
//! page, `/device`) are reached again only by a session that gave its code. At the device limit
//! the answer is the password sign-in's device-limit page, whose ticket finishes the sign-in.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::{AccountsError, SecondStep};
use clef_http::{AppState, ClientIp};
use clef_store::CredentialKind;
use maud::html;
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::layout::{self, csrf_field, Flash};
use crate::pages::signin::{self, safe_next};
use crate::pages::two_step::MAX_PRESENTED_CODE;
use crate::reply;

/// Where the code is posted.
pub const PATH: &str = "/signin/code";

/// The longest challenge looked at (ours are 43 characters).
const MAX_PRESENTED_CHALLENGE: usize = 256;

/// What the code page carries from the password step.
#[derive(Debug, Default)]
pub(crate) struct CodeView<'a> {
    pub challenge: &'a str,
    /// What was typed on the sign-in form, to fill it again should the sign-in expire.
    pub username: &'a str,
    pub device_name: &'a str,
    /// The page to return to after signing in (already checked by `safe_next`).
    pub next: Option<&'a str>,
    pub flash: Option<Flash>,
    /// Open the recovery-code form (the last try used one).
    pub recovery: bool,
}

/// The hidden fields both forms carry.
fn carried(csrf: &CsrfToken, view: &CodeView<'_>) -> maud::Markup {
    html! {
        (csrf_field(csrf.value()))
        input type="hidden" name="challenge" value=(view.challenge);
        input type="hidden" name="username" value=(view.username);
        input type="hidden" name="device_name" value=(view.device_name);
        @if let Some(next) = view.next {
            input type="hidden" name="next" value=(next);
        }
    }
}

/// The "Two-step sign-in" page.
pub(crate) fn render(csrf: &CsrfToken, status: StatusCode, view: CodeView<'_>) -> Response {
    let cancel = match view.next {
        Some(n) => format!(
            "/signin?{}",
            serde_urlencoded::to_string([("next", n)]).unwrap_or_default()
        ),
        None => "/signin".to_owned(),
    };
    let body = html! {
        h1 #code-title { "Two-step sign-in" }
        p.lead { "Enter the 6-digit code your authenticator app shows for Clef." }
        form.stacked #code-form method="post" action=(PATH) {
            (carried(csrf, &view))
            label for="code" { "Code from your authenticator app" }
            input #code .otp type="text" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="10" required autofocus[!view.recovery];
            button.primary type="submit" { "Sign in" }
        }
        details.recovery #use-recovery open[view.recovery] {
            summary { "Use a recovery code instead" }
            form.stacked #recovery-form method="post" action=(PATH) {
                (carried(csrf, &view))
                label for="recovery_code" { "Recovery code" }
                input #recovery_code type="text" name="recovery_code" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength=(MAX_PRESENTED_CODE) required autofocus[view.recovery];
                p.hint { "One of the codes you kept when you turned two-step sign-in on. Each works once." }
                button.primary type="submit" { "Sign in" }
            }
        }
        (crate::pages::passkeys::second_step_button(csrf, &view))
        p.signin-help { a #code-cancel href=(cancel) { "Cancel" } }
    };
    csrf.attach(reply::html(
        status,
        layout::bare("Two-step sign-in", view.flash.as_ref(), body),
    ))
}

/// After a right password: the code page for `challenge`.
pub(crate) fn ask(
    csrf: &CsrfToken,
    challenge: &str,
    username: &str,
    device_name: &str,
    next: &str,
) -> Response {
    render(
        csrf,
        StatusCode::OK,
        CodeView {
            challenge,
            username,
            device_name,
            next: safe_next(Some(next)),
            ..CodeView::default()
        },
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    challenge: String,
    code: String,
    recovery_code: String,
    username: String,
    device_name: String,
    next: String,
    csrf: String,
}

impl HasCsrf for CodeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `GET /signin/code`: there is nothing to show without the password step.
pub async fn show() -> Response {
    reply::see_other("/signin")
}

/// `POST /signin/code`.
pub async fn submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { form, csrf }: CsrfForm<CodeForm>,
) -> Response {
    let code = form.code.trim();
    let recovery = form.recovery_code.trim();
    let used_recovery = code.is_empty() && !recovery.is_empty();
    // The same page again, the challenge kept, saying what went wrong.
    let again = |p: &Problem| {
        p.decorate(render(
            &csrf,
            p.status,
            CodeView {
                challenge: &form.challenge,
                username: &form.username,
                device_name: &form.device_name,
                next: safe_next(Some(&form.next)),
                flash: Flash::error(p.message.clone()),
                recovery: used_recovery,
            },
        ))
    };
    // Back to the sign-in form, what was typed there kept.
    let restart = |p: &Problem| {
        signin::render_problem(&csrf, p, &form.username, &form.device_name, &form.next)
    };
    if form.challenge.is_empty() || form.challenge.len() > MAX_PRESENTED_CHALLENGE {
        return restart(&errors::describe(&AccountsError::ChallengeInvalid));
    }
    let (code, recovery_code) = match (code.is_empty(), recovery.is_empty()) {
        (false, _) => (Some(code), None),
        (true, false) => (None, Some(recovery)),
        (true, true) => {
            return again(&Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Enter the code from your authenticator app.",
            ))
        }
    };
    if code
        .or(recovery_code)
        .is_some_and(|c| c.len() > MAX_PRESENTED_CODE)
    {
        return again(&errors::describe(&AccountsError::InvalidCode));
    }
    let step = SecondStep {
        challenge: form.challenge.clone(),
        code: code.map(str::to_owned),
        recovery_code: recovery_code.map(str::to_owned),
        credential: CredentialKind::WebSession,
        ip,
        replace: None,
    };
    let result = st.accounts.sign_in_second_step(step).await;
    match signin::finish(&st, &csrf, result, &form.next) {
        Ok(r) => r,
        Err(e @ (AccountsError::InvalidCode | AccountsError::Throttled { .. })) => {
            again(&errors::describe(&e))
        }
        Err(e) => restart(&errors::describe(&e)),
    }
}
