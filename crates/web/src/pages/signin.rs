//! The sign-in page and form, and `/`, which sends people to sign in or to their devices.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, SignIn, SignedIn};
use clef_core::Password;
use clef_http::{signed_out_message, AppState, ClientIp};
use clef_store::CredentialKind;
use maud::{html, Markup};
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::layout::{self, csrf_field, Flash};
use crate::pages::{limit, password_reset};
use crate::{agent, auth, cookies, reply};

/// The longest password sign-in will look at; anything longer cannot be right.
const MAX_PRESENTED_PASSWORD: usize = 1024;

/// Where a signed-in listener lands: the music.
pub(crate) const LANDING: &str = "/library";

/// `GET /`: to the library when signed in; before the first account exists, how to create the
/// admin; else to sign in.
pub async fn home(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    match st.accounts.needs_setup().await {
        Ok(true) => return setup_pending(),
        Ok(false) => {}
        Err(e) => return errors::page(&e, None),
    }
    match auth::require(&st, &headers, &ip).await {
        Ok(_) => reply::see_other(LANDING),
        Err(redirect) => redirect,
    }
}

/// Before setup: how to create the admin account.
fn setup_pending() -> Response {
    let body = html! {
        h1 { "Finish setting up Clef" }
        p { "Clef has no admin account yet. Create one in either of these ways:" }
        ol #setup-steps {
            li {
                "Open the one-time link that " code { "clef serve" }
                " printed when it started (it begins with " code { "/setup?token=" }
                "). Restart the server to get a new link if you lost it."
            }
            li {
                "Or, on the server, run " code { "clef user add NAME --admin" }
                " with the same " code { "--data-dir" } ", then sign in here."
            }
        }
        p { a href="/signin" { "Sign in" } }
    };
    reply::html(StatusCode::OK, layout::bare("Set up Clef", None, body))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SigninQuery {
    reason: Option<String>,
    created: Option<String>,
    next: Option<String>,
}

/// Where to go after signing in, when a page sent the person here first: only our own pages
/// that ask for it (an app's consent page), never anywhere else.
pub(crate) fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        (n.starts_with("/oauth/authorize?") || *n == "/device" || n.starts_with("/device?"))
            && !n.contains(['\\', '\r', '\n'])
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SigninForm {
    username: String,
    password: String,
    device_name: String,
    next: String,
    csrf: String,
}

impl HasCsrf for SigninForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// What the sign-in form shows besides its fields.
#[derive(Debug, Default)]
pub(crate) struct SigninView<'a> {
    pub username: &'a str,
    pub device_name: &'a str,
    /// Why this device was signed out, as told by the reason code in the URL.
    pub reason: Option<clef_accounts::SignOutReason>,
    pub flash: Option<Flash>,
    /// The page to return to after signing in.
    pub next: Option<&'a str>,
}

pub(crate) fn render(csrf: &CsrfToken, status: StatusCode, view: SigninView<'_>) -> Response {
    let body: Markup = html! {
        h1 { "Sign in to Clef" }
        @if let Some(code) = view.reason {
            p #signed-out-reason .flash.notice role="status" { (signed_out_message(code)) }
        }
        @if view.next.is_some() {
            p #signin-for-app .flash.notice role="status" { "Sign in to answer a request for access to your account." }
        }
        form.stacked method="post" action="/signin" {
            (csrf_field(csrf.value()))
            @if let Some(next) = view.next {
                input type="hidden" name="next" value=(next);
            }
            label for="username" { "User name" }
            input #username type="text" name="username" value=(view.username) autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            label for="device_name" { "Name this device " span.hint { "(optional)" } }
            input #device_name type="text" name="device_name" value=(view.device_name) maxlength="64" placeholder="such as Kitchen laptop";
            button.primary type="submit" { "Sign in" }
        }
        (crate::pages::passkeys::signin_button(csrf, view.next))
        p.signin-help { a #forgot-password href=(password_reset::PATH) { "Forgot password?" } }
    };
    csrf.attach(reply::html(
        status,
        layout::bare("Sign in", view.flash.as_ref(), body),
    ))
}

/// Re-renders the form with what went wrong, keeping what was typed but the password, and the
/// page to return to.
pub(crate) fn render_problem(
    csrf: &CsrfToken,
    p: &Problem,
    username: &str,
    device_name: &str,
    next: &str,
) -> Response {
    let view = SigninView {
        username,
        device_name,
        reason: None,
        flash: Flash::error(p.message.clone()),
        next: safe_next(Some(next)),
    };
    p.decorate(render(csrf, p.status, view))
}

/// `GET /signin`.
pub async fn show(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    csrf: CsrfToken,
    Query(q): Query<SigninQuery>,
) -> Response {
    let mut stale = false;
    let next = safe_next(q.next.as_deref());
    if auth::has_session_cookie(&st, &headers) {
        match auth::require(&st, &headers, &ip).await {
            Ok(_) => return reply::see_other(next.unwrap_or(LANDING)),
            Err(_) => stale = true,
        }
    }
    let flash = q
        .created
        .is_some()
        .then(|| Flash::Notice("Admin account created. Sign in.".to_owned()));
    let view = SigninView {
        reason: q.reason.as_deref().and_then(auth::known_reason),
        flash,
        next,
        ..SigninView::default()
    };
    let res = render(&csrf, StatusCode::OK, view);
    if stale {
        reply::with_cookie(res, &cookies::clear_session(&st.http))
    } else {
        res
    }
}

/// Where a sign-in step that may admit a device leads: the session and on to `next`, or the
/// device-limit page (with its ticket to free a slot); any other error is handed back for the
/// caller's own page. Password, code, recovery code and passkey sign-ins all end here.
pub(crate) fn finish(
    st: &AppState,
    csrf: &CsrfToken,
    result: Result<SignedIn, AccountsError>,
    next: &str,
) -> Result<Response, AccountsError> {
    match result {
        Ok(done) => Ok(completed_to(
            st,
            &done,
            safe_next(Some(next)).unwrap_or(LANDING),
        )),
        Err(AccountsError::DeviceLimitReached {
            limit,
            devices,
            continue_token,
        }) => Ok(limit::render(
            csrf,
            limit,
            &devices,
            continue_token.as_deref(),
            next,
        )),
        Err(e) => Err(e),
    }
}

/// The response to a completed sign-in: the new session cookie, a new CSRF token, and on to
/// `to`. The session token is new at every sign-in, so a planted cookie never counts.
pub(crate) fn completed_to(st: &AppState, done: &SignedIn, to: &str) -> Response {
    let max_age = st.accounts.config().absolute_lifetime_secs;
    let res = reply::with_cookie(
        reply::see_other(to),
        &cookies::set_session(&st.http, done.token.expose(), max_age),
    );
    CsrfToken::fresh(&st.http).attach(res)
}

/// `POST /signin`.
pub async fn submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<SigninForm>,
) -> Response {
    let problem = |e: AccountsError| {
        render_problem(
            &csrf,
            &errors::describe(&e),
            &form.username,
            &form.device_name,
            &form.next,
        )
    };
    if form.password.is_empty() || form.password.len() > MAX_PRESENTED_PASSWORD {
        return problem(AccountsError::InvalidCredentials);
    }
    let device = match agent::device_info(&form.device_name, &headers) {
        Ok(d) => d,
        Err(e) => return problem(e),
    };
    let attempt = SignIn {
        username: form.username.clone(),
        password: Password::presented(form.password.clone()),
        device,
        credential: CredentialKind::WebSession,
        ip,
        replace: None,
    };
    let result = st.accounts.sign_in(attempt).await;
    match finish(&st, &csrf, result, &form.next) {
        Ok(r) => r,
        // Two-step sign-in: the code page, carrying the challenge the password earned.
        Err(AccountsError::SecondFactorRequired { challenge, .. }) => {
            crate::pages::signin_code::ask(
                &csrf,
                &challenge,
                &form.username,
                &form.device_name,
                &form.next,
            )
        }
        Err(e) => problem(e),
    }
}
