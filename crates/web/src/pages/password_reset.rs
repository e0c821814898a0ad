//! "Forgot password?": asking for a link by e-mail, and the mailed link's page, which sets a new
//! password and signs out every device, app and player (the person then signs in; nothing signs
//! them in).
//!
//! These pages are for someone not signed in, and the link is opened from a mail client. Like
//! the setup page, the link's pages send no referrer (the token is in their address), so their
//! form posts with `Origin: null`, which `same_origin` takes as ours only with
//! `Sec-Fetch-Site: same-origin`; the form carries the double-submit CSRF token as every form
//! does. Showing a page never changes anything: the link is used only by the form's post.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, RESET_LINK_MINUTES};
use clef_http::{AppState, ClientIp};
use maud::html;
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::format::count;
use crate::layout::{self, csrf_field, Flash};
use crate::reply::{self, no_referrer};
use crate::{auth, cookies};

/// Where a reset is asked for, and where the mailed link leads.
pub const PATH: &str = "/password-reset";

/// What the page says after a request, whatever was typed and whether or not an account matches.
pub fn sent_message() -> String {
    format!(
        "If an account with an e-mail address matches, a link to choose a new password is on its \
         way. It works once, for {RESET_LINK_MINUTES} minutes."
    )
}

/// The longest user name or address the request form takes.
const MAX_LOGIN: usize = 254;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetQuery {
    /// The mailed link's token.
    token: Option<String>,
    /// Set by the redirect after a request.
    sent: Option<String>,
    /// Set by the redirect after a new password was chosen.
    changed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    login: String,
    csrf: String,
}

impl HasCsrf for RequestForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewPasswordForm {
    token: String,
    new_password: String,
    confirm_password: String,
    csrf: String,
}

impl HasCsrf for NewPasswordForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The form asking for a link.
fn request_form(
    csrf: &CsrfToken,
    status: StatusCode,
    login: &str,
    flash: Option<Flash>,
) -> Response {
    let body = html! {
        h1 #reset-title { "Forgot your password?" }
        p {
            "Type your user name or your account's e-mail address. If the account has an e-mail "
            "address, a link to choose a new password is sent to it."
        }
        form.stacked method="post" action=(PATH) {
            (csrf_field(csrf.value()))
            label for="login" { "User name or e-mail address" }
            input #login type="text" name="login" value=(login) autocomplete="username" autocapitalize="none" spellcheck="false" maxlength=(MAX_LOGIN) required autofocus;
            button.primary type="submit" { "Send me a link" }
        }
        p.hint {
            "No e-mail address on your account? Ask the admin of this Clef server for a temporary password."
        }
        p { a href="/signin" { "Back to sign in" } }
    };
    csrf.attach(reply::html(
        status,
        layout::bare("Forgot your password?", flash.as_ref(), body),
    ))
}

/// The same page for every request: nothing tells whether an account matched.
fn sent_page() -> Response {
    let body = html! {
        h1 #reset-sent-title { "Check your e-mail" }
        p #reset-sent { (sent_message()) }
        p.hint {
            "Nothing after a few minutes? Look in your spam folder, or ask the admin of this Clef server."
        }
        p { a href="/signin" { "Back to sign in" } }
    };
    reply::html(
        StatusCode::OK,
        layout::bare("Check your e-mail", None, body),
    )
}

/// After the new password: sign in again (the session this browser had is gone too).
fn changed_page() -> Response {
    let body = html! {
        h1 #reset-done-title { "Password changed" }
        p #reset-done {
            "Your password was changed. Every device, app and player was signed out. "
            "Sign in with your new password."
        }
        p { a.button-link #reset-sign-in href="/signin" { "Sign in" } }
    };
    reply::html(StatusCode::OK, layout::bare("Password changed", None, body))
}

/// The page of a mailed link that cannot be used, with where to get a new one. Sent without a
/// referrer, as the link's own pages are.
pub(crate) fn link_invalid(again_href: &str, again_label: &str) -> Response {
    let p = errors::describe(&AccountsError::LinkInvalid);
    let body = html! {
        h1 #link-invalid { "This link does not work any more" }
        p #link-invalid-why { (p.message) }
        p { a.button-link #ask-again href=(again_href) { (again_label) } }
    };
    no_referrer(reply::html(
        p.status,
        layout::bare("Link not valid", None, body),
    ))
}

fn reset_link_invalid() -> Response {
    link_invalid(PATH, "Ask for a new link")
}

/// A failure on a link's page that is not the link's: said plainly, without a referrer.
fn link_problem(p: &Problem) -> Response {
    p.decorate(no_referrer(errors::problem_page(p, None)))
}

/// The mailed link's form: the new password twice, the token carried in a hidden field.
fn new_password_form(
    csrf: &CsrfToken,
    status: StatusCode,
    token: &str,
    flash: Option<Flash>,
) -> Response {
    let body = html! {
        h1 #reset-form-title { "Choose a new password" }
        p {
            "Every device, app and player signed in to your account is signed out when it "
            "changes. You then sign in with the new password."
        }
        form.stacked method="post" action={ (PATH) "/new" } {
            (csrf_field(csrf.value()))
            input type="hidden" name="token" value=(token);
            label for="new_password" { "New password" }
            input #new_password type="password" name="new_password" autocomplete="new-password" minlength="8" maxlength="128" required autofocus;
            label for="confirm_password" { "Repeat the new password" }
            input #confirm_password type="password" name="confirm_password" autocomplete="new-password" minlength="8" maxlength="128" required;
            p.hint { "8 to 128 characters; 15 or more (a few unrelated words) is best." }
            button.primary type="submit" { "Change password" }
        }
    };
    no_referrer(csrf.attach(reply::html(
        status,
        layout::bare("Choose a new password", flash.as_ref(), body),
    )))
}

/// `GET /password-reset`: the request form; with `?token=`, the mailed link's form.
pub async fn show(
    State(st): State<AppState>,
    csrf: CsrfToken,
    Query(q): Query<ResetQuery>,
) -> Response {
    if let Some(token) = q.token {
        return match st.accounts.reset_link_valid(&token).await {
            Ok(true) => new_password_form(&csrf, StatusCode::OK, &token, None),
            Ok(false) => reset_link_invalid(),
            Err(e) => link_problem(&errors::describe(&e)),
        };
    }
    if q.sent.is_some() {
        return sent_page();
    }
    if q.changed.is_some() {
        return changed_page();
    }
    request_form(&csrf, StatusCode::OK, "", None)
}

/// "Try again in 3 minutes.": requests are counted in windows of minutes.
fn throttled(retry_after_secs: i64) -> Problem {
    let minutes = (retry_after_secs + 59) / 60;
    Problem {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!(
            "Too many requests for a link. Try again in {}.",
            count(minutes.max(1), "minute", "minutes")
        ),
        retry_after: Some(retry_after_secs),
    }
}

/// `POST /password-reset`: asks for a link, then the same page whatever was typed.
pub async fn request(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { form, csrf }: CsrfForm<RequestForm>,
) -> Response {
    let login = form.login.trim();
    let problem = |p: Problem| {
        let kept: String = login.chars().take(MAX_LOGIN).collect();
        p.decorate(request_form(
            &csrf,
            p.status,
            &kept,
            Flash::error(p.message.clone()),
        ))
    };
    if login.is_empty() {
        return problem(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Type your user name or e-mail address.",
        ));
    }
    if login.len() > MAX_LOGIN {
        // No account has such a name or address: the same answer as for any other.
        return reply::see_other(&format!("{PATH}?sent=1"));
    }
    match st.accounts.request_password_reset(login, &ip).await {
        Ok(()) => reply::see_other(&format!("{PATH}?sent=1")),
        Err(AccountsError::Throttled { retry_after_secs }) => problem(throttled(retry_after_secs)),
        Err(e) => problem(errors::describe(&e)),
    }
}

/// `POST /password-reset/new`: sets the new password with the link, signs everything out, and
/// sends the browser to sign in (dropping its own session cookie, which no longer works).
pub async fn choose(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<NewPasswordForm>,
) -> Response {
    let again = |p: Problem| {
        p.decorate(new_password_form(
            &csrf,
            p.status,
            &form.token,
            Flash::error(p.message.clone()),
        ))
    };
    // An expired link says so before anything else is asked again.
    match st.accounts.reset_link_valid(&form.token).await {
        Ok(true) => {}
        Ok(false) => return reset_link_invalid(),
        Err(e) => return link_problem(&errors::describe(&e)),
    }
    if form.new_password != form.confirm_password {
        return again(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new passwords do not match. Nothing was changed.",
        ));
    }
    match st
        .accounts
        .reset_password_with_link(&form.token, form.new_password, &ip)
        .await
    {
        Ok(()) => {
            let res = no_referrer(reply::see_other(&format!("{PATH}?changed=1")));
            if auth::has_session_cookie(&st, &headers) {
                reply::with_cookie(res, &cookies::clear_session(&st.http))
            } else {
                res
            }
        }
        Err(AccountsError::LinkInvalid) => reset_link_invalid(),
        // The only input checked is the new password; say so.
        Err(AccountsError::Invalid(mut input)) => {
            input.field = "new_password";
            again(errors::describe(&AccountsError::Invalid(input)))
        }
        Err(e) => again(errors::describe(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_requests_are_told_in_minutes() {
        let p = throttled(61);
        assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            p.message,
            "Too many requests for a link. Try again in 2 minutes."
        );
        assert_eq!(p.retry_after, Some(61));
        assert_eq!(
            throttled(5).message,
            "Too many requests for a link. Try again in 1 minute."
        );
    }

    #[test]
    fn the_sent_message_names_the_links_lifetime() {
        assert_eq!(
            sent_message(),
            "If an account with an e-mail address matches, a link to choose a new password is \
             on its way. It works once, for 30 minutes."
        );
    }
}
