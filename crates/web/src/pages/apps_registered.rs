//! The Apps page's part for developers: the apps the user registered, each with Delete, the form
//! to register one, and a registered app's page, which shows a confidential app's secret once.
//!
//! The secret never goes into a URL: the answer to the register form sets it in a cookie that only
//! the app's page is sent (for a few minutes), and that page shows it once and clears the cookie,
//! so reloading it, or coming back later, shows that it is gone.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::oauth::NewApp;
use clef_accounts::{AccountsError, AuthContext};
use clef_core::{InputError, SecretToken};
use clef_http::{session_cookie_value, AppState, ClientIp, HttpConfig};
use clef_store::App;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, WebAuth};
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::format::when;
use crate::layout::{csrf_field, Flash, Section};
use crate::pages::apps;
use crate::pages::confirm::{self, Confirmed, Question};
use crate::pages::{signed_in_error, signed_in_page};
use crate::reply;

/// The cookie carrying a new app's secret from the register form to the app's page.
const SECRET_COOKIE: &str = "clef_new_app_secret";

/// How long the secret waits in its cookie for the app's page.
const SECRET_COOKIE_SECS: u32 = 300;

/// The register form, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    name: String,
    /// One per line.
    redirect_uris: String,
    confidential: Option<String>,
    csrf: String,
}

impl HasCsrf for RegisterForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl RegisterForm {
    fn to_new_app(&self) -> NewApp {
        NewApp {
            name: self.name.clone(),
            redirect_uris: self
                .redirect_uris
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            confidential: self.confidential.is_some(),
        }
    }
}

/// What is wrong with the form, as a sentence.
fn input_message(i: &InputError) -> String {
    match i.field {
        "name" => format!("The app's name {}.", i.message),
        "redirect_uris" if i.message.starts_with("give") => {
            "Give 1 to 10 redirect URIs, one per line.".to_owned()
        }
        "redirect_uris" => format!("The redirect URI {}.", i.message),
        _ => format!("{}.", i.message.trim_end_matches('.')),
    }
}

/// The `Set-Cookie` value carrying `secret` to the page of app `client_id`, or clearing it.
fn secret_cookie(http: &HttpConfig, client_id: &str, secret: Option<&str>) -> String {
    format!(
        "{SECRET_COOKIE}={}; Path=/apps/registered/{client_id}; HttpOnly; SameSite=Strict; Max-Age={}{}",
        secret.unwrap_or(""),
        secret.map_or(0, |_| SECRET_COOKIE_SECS),
        if http.secure_cookies() { "; Secure" } else { "" }
    )
}

fn app_row(a: &App, csrf: &str) -> Markup {
    html! {
        tr data-client-id=(a.client_id) {
            td.app {
                strong { a.app-name href={ "/apps/registered/" (a.client_id) } { (a.name) } }
            }
            // As the Converted page's folders: code that wraps anywhere rather than widen the table.
            td.folder.client-id data-label="Client ID" { code { (a.client_id) } }
            td.folder.redirects data-label="Redirect URIs" {
                @for uri in &a.redirect_uris { div { code { (uri) } } }
            }
            td data-label="Type" { @if a.confidential() { "Confidential" } @else { "Public" } }
            td.actions {
                form.inline method="post" action={ "/apps/registered/" (a.client_id) "/delete" } {
                    (csrf_field(csrf))
                    button.danger.delete-app type="submit" {
                        "Delete" span.sr-only { " " (a.name) }
                    }
                }
            }
        }
    }
}

/// The Apps page's lower part: the user's apps and the register form.
pub(crate) fn section(
    apps: &[App],
    csrf: &str,
    form: &RegisterForm,
    error: Option<&str>,
) -> Markup {
    html! {
        section #registered-apps {
            h2 { "Apps you registered" }
            p.hint {
                "For developers: a registered app can ask the people on this server for access "
                "with OAuth 2.0 (the authorization code flow with PKCE, or the device flow for "
                "TVs and speakers). It identifies itself with its client ID."
            }
            @if apps.is_empty() {
                p.empty #no-registered-apps { "You have not registered an app." }
            } @else {
                div.table-wrap {
                    table.registered-apps.stack #registered {
                        thead { tr {
                            th { "Name" } th { "Client ID" } th { "Redirect URIs" } th { "Type" }
                            th { span.sr-only { "Action" } }
                        } }
                        tbody { @for a in apps { (app_row(a, csrf)) } }
                    }
                }
            }
        }
        section.panel #register-app {
            h2 { "Register an app" }
            @if let Some(message) = error {
                p #error .flash.error role="alert" { (message) }
            }
            form.stacked method="post" action="/apps/registered#register-app" {
                (csrf_field(csrf))
                label for="app-name" { "Name" }
                input #app-name type="text" name="name" value=(form.name) maxlength="80" required;
                label for="app-redirect-uris" { "Redirect URIs" }
                textarea #app-redirect-uris name="redirect_uris" rows="3" required
                    placeholder="https://app.example/callback" { (form.redirect_uris) }
                p.hint {
                    "One per line: https, http on 127.0.0.1, [::1] or localhost for an app on "
                    "the same computer, or an app's own scheme such as com.example.player:/callback."
                }
                label.check {
                    input #app-confidential type="checkbox" name="confidential" value="on"
                        checked[form.confidential.is_some()];
                    " Confidential (has a secret)"
                }
                p.hint {
                    "For an app that runs on a server and can keep a secret. Apps on phones, TVs "
                    "and computers are public: they prove themselves with PKCE instead."
                }
                button.primary #register-app-button type="submit" { "Register app" }
            }
        }
    }
}

/// `POST /apps/registered`: to the new app's page, or the form again with what is wrong.
pub async fn register(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<RegisterForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st.accounts.register_app(&ctx, form.to_new_app()).await {
        Ok(r) => {
            let id = &r.app.client_id;
            let res = reply::see_other(&format!("/apps/registered/{id}?notice=registered"));
            match &r.secret {
                Some(s) => reply::with_cookie(res, &secret_cookie(&st.http, id, Some(s.expose()))),
                None => res,
            }
        }
        Err(AccountsError::Invalid(i)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let message = input_message(&i);
            apps::render(&st, &ctx, &csrf, status, None, &form, Some(&message)).await
        }
        Err(e) => signed_in_error(&ctx, &csrf, Some(Section::Apps), &e),
    }
}

async fn my_app(st: &AppState, ctx: &AuthContext, client_id: &str) -> Result<App, AccountsError> {
    st.accounts
        .my_apps(ctx)
        .await?
        .into_iter()
        .find(|a| a.client_id == client_id)
        .ok_or(AccountsError::NotFound("app"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppQuery {
    notice: Option<String>,
}

/// `GET /apps/registered/{client_id}`: the app's details, and its secret the first time.
pub async fn show(
    State(st): State<AppState>,
    WebAuth(ctx): WebAuth,
    csrf: CsrfToken,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    Query(q): Query<AppQuery>,
) -> Response {
    let app = match my_app(&st, &ctx, &client_id).await {
        Ok(a) => a,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e),
    };
    let sent = session_cookie_value(&headers, SECRET_COOKIE);
    // Shown only if it is this app's secret.
    let secret = match (&sent, &app.secret_hash) {
        (Some(v), Some(hash)) if SecretToken::from_presented(v).hash().ct_eq(hash) => Some(v),
        _ => None,
    };
    let flash = match q.notice.as_deref() {
        Some("registered") => Flash::notice(format!("“{}” is registered.", app.name)),
        _ => None,
    };
    let body = html! {
        p.crumbs { a href="/apps" { "Apps" } }
        h1 #app-title { (app.name) }
        @if secret.is_some() {
            p #secret-once .flash.error role="alert" {
                strong { "Copy the client secret now." }
                " It is shown only this once and will not be shown again: Clef keeps only a hash of it."
            }
        }
        section.panel {
            dl.facts {
                dt { "Client ID" } dd { code #client-id { (app.client_id) } }
                @if let Some(secret) = secret {
                    dt { "Client secret" } dd { code #client-secret { (secret) } }
                }
                dt { "Type" }
                dd #app-type { @if app.confidential() { "Confidential (has a secret)" } @else { "Public (PKCE)" } }
                dt { "Redirect URIs" }
                dd { @for uri in &app.redirect_uris { div { code { (uri) } } } }
                dt { "Registered" } dd { (when(app.created_at)) }
            }
        }
        @if app.confidential() && secret.is_none() {
            p #secret-gone .hint {
                "The client secret was shown once, when the app was registered, and is not shown "
                "again. If it is lost, delete the app and register it again."
            }
        }
        p { a.button-link href="/apps" { "Back to Apps" } }
    };
    let res = signed_in_page(
        &ctx,
        &csrf,
        Section::Apps,
        StatusCode::OK,
        &app.name,
        flash,
        body,
    );
    match sent {
        Some(_) => reply::with_cookie(res, &secret_cookie(&st.http, &app.client_id, None)),
        None => res,
    }
}

/// `POST /apps/registered/{client_id}/delete`.
pub async fn delete(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<Confirmed>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let app = match my_app(&st, &ctx, &client_id).await {
        Ok(a) => a,
        Err(e) => return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e),
    };
    if !form.yes() {
        return confirm::page(
            &ctx,
            &csrf,
            Question {
                title: format!("Delete {}?", app.name),
                consequence: "Its client ID stops working, and every account's access to it ends \
                    at once: its sign-ins end and the devices authorised through it are signed \
                    out. This cannot be undone."
                    .to_owned(),
                action: format!("/apps/registered/{}/delete", app.client_id),
                yes: "Delete the app".to_owned(),
                cancel: "/apps",
                carry: vec![],
                fields: None,
                before: None,
                section: Section::Apps,
            },
        );
    }
    if let Err(e) = st.accounts.delete_app(&ctx, &app.client_id).await {
        return signed_in_error(&ctx, &csrf, Some(Section::Apps), &e);
    }
    reply::see_other("/apps?notice=app_deleted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_cookie_reaches_only_its_app_page_and_is_cleared_there() {
        let http = |url: &str| HttpConfig {
            public_url: url.into(),
            trusted_proxies: vec![],
        };
        assert_eq!(
            secret_cookie(&http("http://127.0.0.1:4533"), "ab12", Some("s3cret")),
            "clef_new_app_secret=s3cret; Path=/apps/registered/ab12; HttpOnly; SameSite=Strict; Max-Age=300"
        );
        let cleared = secret_cookie(&http("https://music.example.org"), "ab12", None);
        assert!(cleared.starts_with("clef_new_app_secret=; Path=/apps/registered/ab12;"));
        assert!(cleared.ends_with("Max-Age=0; Secure"), "{cleared}");
    }

    #[test]
    fn input_errors_read_as_sentences() {
        let e = |field, message: &str| InputError {
            field,
            message: message.into(),
        };
        assert_eq!(
            input_message(&e("name", "must be 1 to 80 characters")),
            "The app's name must be 1 to 80 characters."
        );
        assert_eq!(
            input_message(&e("redirect_uris", "give 1 to 10 redirect URIs")),
            "Give 1 to 10 redirect URIs, one per line."
        );
        assert_eq!(
            input_message(&e("redirect_uris", "x:y is not an absolute URI")),
            "The redirect URI x:y is not an absolute URI."
        );
    }
}
