//! Passkeys on the web: the Account page's "Passkeys" section (each with when it was added and
//! last used, Add with the password and a name, Remove confirmed), "Sign in with a passkey" on
//! the sign-in page, and "Use a passkey instead" on the two-step code page.
//!
//! The browser's part runs in `/static/passkeys.js` (no inline script): it asks for a
//! ceremony's options with a `fetch` form post (CSRF token, same origin) answered in JSON, hands
//! them to `navigator.credentials.create` or `.get`, and posts the answer in an ordinary form,
//! which is answered like every other form here (a redirect with the session cookie, the
//! device-limit page, or the page again saying what went wrong). Without script, or in a browser
//! without WebAuthn, none of it shows.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use clef_accounts::{
    AccountsError, AuthContext, PasskeyCeremony, PasskeySecondStep, PasskeySignIn,
};
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use clef_store::CredentialKind;
use maud::{html, Markup};
use serde::Deserialize;

use crate::assets::PASSKEYS_SCRIPT_URL;
use crate::auth;
use crate::csrf::{Bare, CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::account::{self, MAX_PRESENTED_PASSWORD};
use crate::pages::confirm::{self, Confirmed, Question};
use crate::pages::signed_in_error;
use crate::pages::signin::{self, safe_next};
use crate::pages::signin_code::{self, CodeView};
use crate::{agent, reply};

/// Where the Account page's Add asks for a ceremony.
pub const ADD_OPTIONS_PATH: &str = "/account/passkeys/options";
/// Where the new passkey is posted.
pub const ADD_PATH: &str = "/account/passkeys";
/// Whether this server offers passkeys (`{"available": bool}`).
pub const AVAILABLE_PATH: &str = "/signin/passkey/available";
/// Where "Sign in with a passkey" asks for a ceremony.
pub const SIGNIN_OPTIONS_PATH: &str = "/signin/passkey/options";
/// Where the passkey's answer signs in.
pub const SIGNIN_PATH: &str = "/signin/passkey";
/// Whether a two-step challenge's account has passkeys (`{"available": bool}`).
pub const SECOND_STEP_AVAILABLE_PATH: &str = "/signin/passkey/second-step/available";
/// Where "Use a passkey instead" asks for a ceremony.
pub const SECOND_STEP_OPTIONS_PATH: &str = "/signin/passkey/second-step/options";
/// Where the passkey's answer to the two-step challenge signs in.
pub const SECOND_STEP_PATH: &str = "/signin/passkey/second-step";

/// The longest browser answer looked at (an attestation with a certificate chain is a few KB).
const MAX_PRESENTED_ANSWER: usize = 64 * 1024;
/// The longest ceremony token or challenge looked at (ours are 43 characters).
const MAX_PRESENTED_TOKEN: usize = 256;

/// A ceremony's options as JSON for the script.
fn ceremony_json(c: PasskeyCeremony) -> Response {
    Json(serde_json::json!({ "ceremony": c.token, "options": c.options })).into_response()
}

/// What went wrong, as JSON for the script: `{"error": "…"}` with the page's status.
fn problem_json(p: &Problem) -> Response {
    p.decorate((p.status, Json(serde_json::json!({ "error": p.message }))).into_response())
}

fn available_json(available: bool) -> Response {
    Json(serde_json::json!({ "available": available })).into_response()
}

fn too_long(s: &str, max: usize) -> bool {
    s.is_empty() || s.len() > max
}

// ---------------------------------------------------------------------------------------------
// The Account page

/// The Account page's "Passkeys" section.
pub(crate) async fn section(st: &AppState, ctx: &AuthContext, csrf: &CsrfToken) -> Markup {
    let available = st.accounts.passkeys_available();
    let list = match st.accounts.passkeys(ctx).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "passkeys could not be listed");
            Vec::new()
        }
    };
    html! {
        section.panel #passkeys {
            h2 { "Passkeys" }
            p.hint {
                "A passkey signs you in with this device's screen lock, fingerprint or face, or with a security key, "
                "instead of your password and the code from your authenticator app."
            }
            @if list.is_empty() {
                p #no-passkeys { "No passkeys yet." }
            } @else {
                div.table-wrap {
                    table.stack #passkey-list {
                        thead { tr { th { "Name" } th { "Added" } th { "Last used" } th { span.sr-only { "Action" } } } }
                        tbody {
                            @for p in &list {
                                tr data-passkey-id=(p.id) {
                                    td.name { span.passkey-name { (p.name) } }
                                    td.time.passkey-added data-label="Added" { (when(p.created_at)) }
                                    td.time.passkey-last-used data-label="Last used" {
                                        @match p.last_used_at {
                                            Some(t) => (when(t)),
                                            None => "Never",
                                        }
                                    }
                                    td.actions {
                                        form.inline method="post" action={ "/account/passkeys/" (p.id) "/remove" } {
                                            (csrf_field(csrf.value()))
                                            button.danger.remove-passkey type="submit" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if available {
                p #passkey-unsupported .hint { "Adding a passkey needs JavaScript and a browser that supports passkeys." }
                form.stacked #add-passkey hidden method="post" action=(ADD_OPTIONS_PATH) {
                    (csrf_field(csrf.value()))
                    label for="passkey_name" { "Name it" }
                    input #passkey_name type="text" name="name" maxlength="64" placeholder="such as Laptop or Phone" required;
                    label for="passkey_password" { "Current password" }
                    input #passkey_password type="password" name="current_password" autocomplete="current-password" required;
                    p #add-passkey-error .flash.error role="alert" hidden {}
                    button.primary type="submit" { "Add a passkey" }
                }
                form #add-passkey-finish hidden method="post" action=(ADD_PATH) {
                    (csrf_field(csrf.value()))
                    input type="hidden" name="ceremony";
                    input type="hidden" name="credential";
                }
                script src=(*PASSKEYS_SCRIPT_URL) defer {}
            } @else {
                p #passkeys-unavailable .hint {
                    "Passkeys need this server to be reached by a name such as music.example.org (its "
                    code { "public_url" } "), not by an IP address."
                }
            }
        }
    }
}

/// The notice on the Account page after a change, from the redirect's query.
pub(crate) fn flash(passkey: Option<&str>) -> Option<Flash> {
    match passkey? {
        "added" => Flash::notice("Passkey added. It signs you in without your password."),
        "removed" => Flash::notice("Passkey removed. It no longer signs you in."),
        _ => None,
    }
}

/// The Account page with what went wrong.
async fn account_problem(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    p: &Problem,
) -> Response {
    p.decorate(
        account::render_with(st, ctx, csrf, p.status, Flash::error(p.message.clone()), "").await,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddForm {
    name: String,
    current_password: String,
    csrf: String,
}

impl HasCsrf for AddForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/passkeys/options`: the password again and a name; the options to make the
/// passkey with, in JSON.
pub async fn add_options(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, .. }: CsrfForm<AddForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if form.current_password.len() > MAX_PRESENTED_PASSWORD {
        return problem_json(&errors::describe(&AccountsError::WrongCurrentPassword));
    }
    let current = Password::presented(form.current_password);
    match st
        .accounts
        .begin_passkey_registration(&ctx, current, &form.name)
        .await
    {
        Ok(c) => ceremony_json(c),
        Err(e) => problem_json(&errors::describe(&e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    ceremony: String,
    credential: String,
    csrf: String,
}

impl HasCsrf for AnswerForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/passkeys`: the passkey the browser made.
pub async fn add(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<AnswerForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if too_long(&form.ceremony, MAX_PRESENTED_TOKEN)
        || too_long(&form.credential, MAX_PRESENTED_ANSWER)
    {
        let p = errors::describe(&AccountsError::PasskeyRefused);
        return account_problem(&st, &ctx, &csrf, &p).await;
    }
    match st
        .accounts
        .finish_passkey_registration(&ctx, &form.ceremony, &form.credential)
        .await
    {
        Ok(_) => reply::see_other("/account?passkey=added"),
        Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

/// `POST /account/passkeys/{id}/remove`: after a confirmation naming the passkey.
pub async fn remove(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !form.yes() {
        let name = match st.accounts.passkeys(&ctx).await {
            Ok(list) => list.into_iter().find(|p| p.id == id).map(|p| p.name),
            Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Account), &e),
        };
        let Some(name) = name else {
            let e = AccountsError::NotFound("passkey");
            return signed_in_error(&ctx, &csrf, Some(Section::Account), &e);
        };
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: format!("Remove the passkey “{name}”?"),
                consequence: "It will no longer sign in to your account. Your password, and any \
                              other passkey, still do. You may also delete it from the device \
                              or password manager that keeps it."
                    .to_owned(),
                action: format!("/account/passkeys/{id}/remove"),
                yes: "Remove passkey".to_owned(),
                cancel: "/account#passkeys",
                carry: vec![],
                before: None,
                fields: None,
                section: Section::Account,
            },
        );
    }
    match st.accounts.remove_passkey(&ctx, &id).await {
        Ok(_) => reply::see_other("/account?passkey=removed"),
        Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Signing in

/// "Sign in with a passkey" for the sign-in page: shown by the script once the server says it
/// offers passkeys and the browser has WebAuthn. The device name typed in the password form is
/// taken along.
pub(crate) fn signin_button(csrf: &CsrfToken, next: Option<&str>) -> Markup {
    html! {
        div #passkey-signin .passkey-signin hidden data-available=(AVAILABLE_PATH) data-options=(SIGNIN_OPTIONS_PATH) {
            p.or { "or" }
            button #passkey-signin-button type="button" { "Sign in with a passkey" }
            p #passkey-signin-error .flash.error role="alert" hidden {}
            form #passkey-signin-form hidden method="post" action=(SIGNIN_PATH) {
                (csrf_field(csrf.value()))
                @if let Some(next) = next {
                    input type="hidden" name="next" value=(next);
                }
                input type="hidden" name="device_name";
                input type="hidden" name="ceremony";
                input type="hidden" name="credential";
            }
        }
        script src=(*PASSKEYS_SCRIPT_URL) defer {}
    }
}

/// `GET /signin/passkey/available`.
pub async fn available(State(st): State<AppState>) -> Response {
    available_json(st.accounts.passkeys_available())
}

/// `POST /signin/passkey/options`: a ceremony for whichever passkey the browser offers.
pub async fn signin_options(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { .. }: CsrfForm<Bare>,
) -> Response {
    match st.accounts.begin_passkey_sign_in(&ip).await {
        Ok(c) => ceremony_json(c),
        Err(e) => problem_json(&errors::describe(&e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SigninForm {
    ceremony: String,
    credential: String,
    device_name: String,
    next: String,
    csrf: String,
}

impl HasCsrf for SigninForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /signin/passkey`: signs in with the passkey's answer, as a password sign-in would.
pub async fn signin(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<SigninForm>,
) -> Response {
    let problem = |e: AccountsError| {
        signin::render_problem(
            &csrf,
            &errors::describe(&e),
            "",
            &form.device_name,
            &form.next,
        )
    };
    if too_long(&form.ceremony, MAX_PRESENTED_TOKEN)
        || too_long(&form.credential, MAX_PRESENTED_ANSWER)
    {
        return problem(AccountsError::PasskeyRefused);
    }
    let device = match agent::device_info(&form.device_name, &headers) {
        Ok(d) => d,
        Err(e) => return problem(e),
    };
    let attempt = PasskeySignIn {
        ceremony: form.ceremony.clone(),
        response: form.credential.clone(),
        device,
        credential: CredentialKind::WebSession,
        ip,
    };
    let result = st.accounts.sign_in_with_passkey(attempt).await;
    match signin::finish(&st, &csrf, result, &form.next) {
        Ok(r) => r,
        Err(e) => problem(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The two-step code page

/// "Use a passkey instead" for the two-step code page: shown by the script once the server says
/// the challenge's account has a passkey and the browser has WebAuthn.
pub(crate) fn second_step_button(csrf: &CsrfToken, view: &CodeView<'_>) -> Markup {
    html! {
        div #passkey-second-step .passkey-signin hidden data-available=(SECOND_STEP_AVAILABLE_PATH) data-options=(SECOND_STEP_OPTIONS_PATH) {
            button #passkey-second-step-button type="button" { "Use a passkey instead" }
            p #passkey-second-step-error .flash.error role="alert" hidden {}
            form #passkey-second-step-form hidden method="post" action=(SECOND_STEP_PATH) {
                (csrf_field(csrf.value()))
                input type="hidden" name="challenge" value=(view.challenge);
                input type="hidden" name="username" value=(view.username);
                input type="hidden" name="device_name" value=(view.device_name);
                @if let Some(next) = view.next {
                    input type="hidden" name="next" value=(next);
                }
                input type="hidden" name="ceremony";
                input type="hidden" name="credential";
            }
        }
        script src=(*PASSKEYS_SCRIPT_URL) defer {}
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeForm {
    challenge: String,
    csrf: String,
}

impl HasCsrf for ChallengeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /signin/passkey/second-step/available`.
pub async fn second_step_available(
    State(st): State<AppState>,
    CsrfForm { form, .. }: CsrfForm<ChallengeForm>,
) -> Response {
    if too_long(&form.challenge, MAX_PRESENTED_TOKEN) {
        return available_json(false);
    }
    match st.accounts.challenge_has_passkeys(&form.challenge).await {
        Ok(has) => available_json(has),
        Err(e) => problem_json(&errors::describe(&e)),
    }
}

/// `POST /signin/passkey/second-step/options`: a ceremony for that account's passkeys.
pub async fn second_step_options(
    State(st): State<AppState>,
    CsrfForm { form, .. }: CsrfForm<ChallengeForm>,
) -> Response {
    if too_long(&form.challenge, MAX_PRESENTED_TOKEN) {
        return problem_json(&errors::describe(&AccountsError::ChallengeInvalid));
    }
    match st.accounts.begin_passkey_second_step(&form.challenge).await {
        Ok(c) => ceremony_json(c),
        Err(e) => problem_json(&errors::describe(&e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SecondStepForm {
    challenge: String,
    ceremony: String,
    credential: String,
    username: String,
    device_name: String,
    next: String,
    csrf: String,
}

impl HasCsrf for SecondStepForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /signin/passkey/second-step`: the two-step challenge answered with a passkey.
pub async fn second_step(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    CsrfForm { form, csrf }: CsrfForm<SecondStepForm>,
) -> Response {
    // The code page again, the challenge kept, saying what went wrong.
    let again = |p: &Problem| {
        p.decorate(signin_code::render(
            &csrf,
            p.status,
            CodeView {
                challenge: &form.challenge,
                username: &form.username,
                device_name: &form.device_name,
                next: safe_next(Some(&form.next)),
                flash: Flash::error(p.message.clone()),
                recovery: false,
            },
        ))
    };
    // Back to the sign-in form, what was typed there kept.
    let restart = |p: &Problem| {
        signin::render_problem(&csrf, p, &form.username, &form.device_name, &form.next)
    };
    if too_long(&form.challenge, MAX_PRESENTED_TOKEN) {
        return restart(&errors::describe(&AccountsError::ChallengeInvalid));
    }
    if too_long(&form.ceremony, MAX_PRESENTED_TOKEN)
        || too_long(&form.credential, MAX_PRESENTED_ANSWER)
    {
        return again(&errors::describe(&AccountsError::PasskeyRefused));
    }
    let step = PasskeySecondStep {
        challenge: form.challenge.clone(),
        ceremony: form.ceremony.clone(),
        response: form.credential.clone(),
        credential: CredentialKind::WebSession,
        ip,
        replace: None,
    };
    let result = st.accounts.sign_in_second_step_with_passkey(step).await;
    match signin::finish(&st, &csrf, result, &form.next) {
        Ok(r) => r,
        Err(e @ AccountsError::PasskeyRefused) => again(&errors::describe(&e)),
        Err(e) => restart(&errors::describe(&e)),
    }
}
