//! Two-step sign-in on the Account page: its section (turn on with the password; once on, since
//! when, the recovery codes left and turning it off with the password and a code), the
//! enrolment page (the QR code, the key to type by hand, the first code), the recovery codes
//! shown once, and an admin turning it off for a user who lost their phone.
//!
//! The step after the password at sign-in is `signin_code.rs`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::{AccountsError, Actor, AuthContext, Enrolment};
use clef_core::Password;
use clef_http::{AppState, ClientIp};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors::{self, Problem};
use crate::format::{count, when};
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::account::{self, MAX_PRESENTED_PASSWORD};
use crate::pages::admin::{failed, posting_admin};
use crate::pages::confirm::{self, Confirmed, Question};
use crate::pages::{signed_in_error, signed_in_page};
use crate::reply;

/// The enrolment page.
pub const ENROL_PATH: &str = "/account/two-step";
/// Where the enrolment's first code is posted.
pub const CONFIRM_PATH: &str = "/account/two-step/confirm";
/// Where turning it off is posted.
pub const DISABLE_PATH: &str = "/account/two-step/disable";
/// Where the form for new recovery codes posts.
pub const CODES_PATH: &str = "/account/two-step/recovery-codes";

/// The longest code or recovery code looked at; anything longer cannot be right.
pub(crate) const MAX_PRESENTED_CODE: usize = 64;

/// The Account page's "Two-step sign-in" section.
pub(crate) async fn section(st: &AppState, ctx: &AuthContext, csrf: &CsrfToken) -> Markup {
    match ctx.user.totp_enabled_at {
        Some(since) => {
            let left = match st.accounts.recovery_codes_left(ctx).await {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::error!(error = %e, "recovery codes left could not be read");
                    None
                }
            };
            html! {
                section.panel #two-step {
                    h2 { "Two-step sign-in" }
                    p #two-step-state {
                        "On since " span #two-step-since { (when(since)) }
                        ". Signing in on the web or with the API asks for a code from your authenticator app after the password."
                    }
                    @if let Some(n) = left {
                        p #recovery-codes-left class=[(n <= 3).then_some("flash error")] {
                            @match n {
                                0 => "No recovery codes left: make new ones below.",
                                1..=3 => { "Only " (count(n, "recovery code", "recovery codes")) " left: make new ones below." },
                                n => { (count(n, "recovery code", "recovery codes")) " left." },
                            }
                        }
                    }
                    form.stacked #recovery-new method="post" action=(CODES_PATH) {
                        (csrf_field(csrf.value()))
                        label for="recovery_new_password" { "Current password" }
                        input #recovery_new_password type="password" name="current_password" autocomplete="current-password" required;
                        button type="submit" { "Make new recovery codes" }
                        p.hint { "The ten new codes replace all the old ones, used or not." }
                    }
                    p.hint { "To turn it off, give your password and a code from the app (or a recovery code)." }
                    form.stacked #two-step-off method="post" action=(DISABLE_PATH) {
                        (csrf_field(csrf.value()))
                        label for="two_step_off_password" { "Current password" }
                        input #two_step_off_password type="password" name="current_password" autocomplete="current-password" required;
                        label for="two_step_off_code" { "Code from the app, or a recovery code" }
                        input #two_step_off_code type="text" name="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength=(MAX_PRESENTED_CODE) required;
                        button.danger type="submit" { "Turn off" }
                    }
                }
            }
        }
        None => {
            let pending = match st.accounts.pending_enrolment(ctx).await {
                Ok(p) => p.is_some(),
                Err(e) => {
                    tracing::error!(error = %e, "a pending enrolment could not be read");
                    false
                }
            };
            html! {
                section.panel #two-step {
                    h2 { "Two-step sign-in" }
                    p #two-step-state { "Off. Your password alone signs you in." }
                    p.hint {
                        "When it is on, signing in also asks for a 6-digit code from an authenticator app on your phone "
                        "(such as Aegis, FreeOTP or Google Authenticator). App passwords for players keep working without one."
                    }
                    @if pending {
                        p #two-step-pending {
                            "You started turning it on: "
                            a href=(ENROL_PATH) { "continue with the key shown then" }
                            ", or start again below."
                        }
                    }
                    form.stacked #two-step-on method="post" action=(ENROL_PATH) {
                        (csrf_field(csrf.value()))
                        label for="two_step_password" { "Current password" }
                        input #two_step_password type="password" name="current_password" autocomplete="current-password" required;
                        button.primary type="submit" { "Turn on" }
                    }
                }
            }
        }
    }
}

/// The notice on the Account page after a change, from the redirect's query.
pub(crate) fn flash(two_step: Option<&str>) -> Option<Flash> {
    match two_step? {
        "off" => Flash::notice("Two-step sign-in is off. Your password alone signs you in."),
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
    let flash = Flash::error(p.message.clone());
    p.decorate(account::render_with(st, ctx, csrf, p.status, flash, "").await)
}

/// The enrolment page: scan the QR code (or type the key), then give the first code.
fn enrol_page(
    ctx: &AuthContext,
    csrf: &CsrfToken,
    status: StatusCode,
    flash: Option<Flash>,
    e: &Enrolment,
) -> Response {
    let body = html! {
        h1 #two-step-title { "Turn on two-step sign-in" }
        ol.enrol-steps {
            li {
                h2 { "Add Clef to your authenticator app" }
                p { "Scan this QR code with the app." }
                // Drawn by our own code from the key (clef-accounts' `qr_svg`): nothing in it
                // came from outside.
                div.qr #two-step-qr { (PreEscaped(&e.qr_svg)) }
                p.hint {
                    "On this phone? "
                    a #two-step-open href=(e.otpauth_uri) { "Open it in your authenticator app" }
                    "."
                }
                p { "Cannot scan it? Type this key into the app instead (time-based, 6 digits):" }
                p { code.totp-key #two-step-key { (e.key) } }
            }
            li {
                h2 { "Enter the code it shows" }
                form.stacked #two-step-confirm method="post" action=(CONFIRM_PATH) {
                    (csrf_field(csrf.value()))
                    label for="enrol_code" { "Code from the app" }
                    input #enrol_code .otp type="text" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="10" required;
                    button.primary type="submit" { "Turn on" }
                }
            }
        }
        p { a #two-step-cancel href="/account" { "Cancel" } }
    };
    signed_in_page(
        ctx,
        csrf,
        Section::Account,
        status,
        "Turn on two-step sign-in",
        flash,
        body,
    )
}

/// `GET /account/two-step`: the enrolment waiting for its first code (the same key on every
/// reload); with none, back to the Account page.
pub async fn show(State(st): State<AppState>, WebAuth(ctx): WebAuth, csrf: CsrfToken) -> Response {
    if ctx.user.totp_enabled_at.is_some() {
        return reply::see_other("/account#two-step");
    }
    match st.accounts.pending_enrolment(&ctx).await {
        Ok(Some(e)) => enrol_page(&ctx, &csrf, StatusCode::OK, None, &e),
        Ok(None) => reply::see_other("/account#two-step"),
        Err(e) => signed_in_error(&ctx, &csrf, Some(Section::Account), &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BeginForm {
    current_password: String,
    csrf: String,
}

impl HasCsrf for BeginForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/two-step`: a new key after the password, then on to its page.
pub async fn begin(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<BeginForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = if form.current_password.len() > MAX_PRESENTED_PASSWORD {
        Err(AccountsError::WrongCurrentPassword)
    } else {
        st.accounts
            .begin_two_step(&ctx, Password::presented(form.current_password))
            .await
    };
    match result {
        Ok(_) => reply::see_other(ENROL_PATH),
        Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmForm {
    code: String,
    csrf: String,
}

impl HasCsrf for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The recovery codes, shown this once.
fn codes_page(ctx: &AuthContext, csrf: &CsrfToken, codes: &[String]) -> Response {
    let body = html! {
        h1 #recovery-title { "Two-step sign-in is on" }
        section.panel {
            h2 { "Your recovery codes" }
            p #recovery-keep { strong { "Keep these somewhere safe; each works once." } }
            p.hint {
                "Should you lose your phone, sign in with one of them instead of a code. "
                "This is the only time they are shown: print them or save them in your password manager now."
            }
            ol.recovery-codes #recovery-codes {
                @for c in codes { li { code { (c) } } }
            }
        }
        p { a #recovery-done href="/account" { "Back to Account" } }
    };
    signed_in_page(
        ctx,
        csrf,
        Section::Account,
        StatusCode::OK,
        "Your recovery codes",
        None,
        body,
    )
}

/// `POST /account/two-step/confirm`: the first code turns it on and answers the recovery codes
/// (this page is the only place they are ever shown, so it is not a redirect).
pub async fn confirm(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<ConfirmForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let code = form.code.trim();
    let result = if code.is_empty() || code.len() > MAX_PRESENTED_CODE {
        Err(AccountsError::InvalidCode)
    } else {
        st.accounts.confirm_two_step(&ctx, code).await
    };
    let e = match result {
        Ok(codes) => return codes_page(&ctx, &csrf, &codes),
        Err(e) => e,
    };
    match e {
        // Wrong code: the same key again, to try the next code.
        AccountsError::InvalidCode => match st.accounts.pending_enrolment(&ctx).await {
            Ok(Some(enrolment)) => {
                let p = errors::describe(&e);
                let flash = Flash::error(p.message.clone());
                p.decorate(enrol_page(&ctx, &csrf, p.status, flash, &enrolment))
            }
            Ok(None) => account_problem(&st, &ctx, &csrf, &nothing_pending()).await,
            Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
        },
        AccountsError::NotFound(_) => account_problem(&st, &ctx, &csrf, &nothing_pending()).await,
        e => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

/// `POST /account/two-step/recovery-codes`: ten new codes after the password, shown once.
pub async fn new_codes(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<BeginForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let result = if form.current_password.len() > MAX_PRESENTED_PASSWORD {
        Err(AccountsError::WrongCurrentPassword)
    } else {
        st.accounts
            .new_recovery_codes(&ctx, Password::presented(form.current_password))
            .await
    };
    match result {
        Ok(codes) => codes_page(&ctx, &csrf, &codes),
        Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

fn nothing_pending() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "Nothing is waiting for a code. Turn two-step sign-in on first.",
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DisableForm {
    current_password: String,
    code: String,
    csrf: String,
}

impl HasCsrf for DisableForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /account/two-step/disable`: needs the password and a code or a recovery code.
pub async fn disable(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<DisableForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let code = form.code.trim();
    let result = if form.current_password.len() > MAX_PRESENTED_PASSWORD {
        Err(AccountsError::WrongCurrentPassword)
    } else if code.is_empty() || code.len() > MAX_PRESENTED_CODE {
        Err(AccountsError::InvalidCode)
    } else {
        st.accounts
            .disable_two_step(&ctx, Password::presented(form.current_password), code)
            .await
    };
    match result {
        Ok(()) => reply::see_other("/account?two_step=off"),
        Err(e) => account_problem(&st, &ctx, &csrf, &errors::describe(&e)).await,
    }
}

/// `POST /admin/users/{name}/two-step`: an admin turns a user's two-step sign-in off (a lost
/// phone), after a confirmation.
pub async fn admin_turn_off(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(name): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    let ctx = match posting_admin(&st, &headers, &ip, &csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !form.yes() {
        // The user must exist; the page names them as stored.
        let user = match st.accounts.user(Actor::Admin(&ctx), &name).await {
            Ok(u) => u,
            Err(e) => return failed(&st, &ctx, &csrf, &e).await,
        };
        let n = &user.username;
        let told = if user.email.is_some() {
            " It is written in their security log, and they are told by e-mail."
        } else {
            " It is written in their security log."
        };
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: format!("Turn off two-step sign-in for {n}?"),
                consequence: format!(
                    "For a lost phone: {n} then signs in with the password alone, until they turn two-step sign-in on again from their Account page.{told}"
                ),
                action: format!("/admin/users/{n}/two-step"),
                yes: "Turn it off".to_owned(),
                cancel: "/admin/users",
                carry: vec![],
                before: None,
                fields: None,
                section: Section::Admin,
            },
        );
    }
    match st
        .accounts
        .disable_two_step_by_admin(Actor::Admin(&ctx), &name)
        .await
    {
        Ok(()) => reply::see_other("/admin/users?notice=two_step_off"),
        Err(e) => failed(&st, &ctx, &csrf, &e).await,
    }
}
