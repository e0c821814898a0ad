//! The consent page of the authorization server: `GET /oauth/authorize` names the app, who
//! registered it and each scope in plain words, with Approve and Deny; signing in first when
//! needed, then back here. A request whose app or redirect URI is not registered is refused on
//! this page and never redirected.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::oauth::{AuthorizeParams, AuthorizeRequest, Rejection};
use clef_http::{AppState, ClientIp};
use maud::html;
use serde::Deserialize;

use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::errors;
use crate::layout::{self, csrf_field};
use crate::{auth, reply};

/// The authorization request's parameters, as query or form fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

impl Params {
    fn to_request(&self) -> AuthorizeParams {
        AuthorizeParams {
            response_type: self.response_type.clone(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope.clone(),
            state: self.state.clone(),
            code_challenge: self.code_challenge.clone(),
            code_challenge_method: self.code_challenge_method.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Answer {
    #[serde(flatten)]
    params: Params,
    decision: String,
    csrf: String,
}

impl HasCsrf for Answer {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `uri` with `pairs` added to its query.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{query}")
}

/// The answer to the app, at its registered redirect URI (with `iss`, RFC 9207).
fn back_to_app(st: &AppState, uri: &str, state: Option<&str>, pairs: &[(&str, &str)]) -> Response {
    let iss = st.issuer();
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(s) = state {
        all.push(("state", s));
    }
    all.push(("iss", &iss));
    reply::see_other(&with_query(uri, &all))
}

fn refused_here(message: &str) -> Response {
    errors::message_page(
        StatusCode::BAD_REQUEST,
        "This app's request was refused",
        message,
    )
}

async fn check(st: &AppState, p: &Params) -> Result<AuthorizeRequest, Response> {
    match st.accounts.check_authorization(&p.to_request()).await {
        Ok(Ok(req)) => Ok(req),
        Ok(Err(Rejection::Page(message))) => Err(refused_here(&message)),
        Ok(Err(Rejection::Redirect {
            redirect_uri,
            state,
            error,
            description,
        })) => Err(back_to_app(
            st,
            &redirect_uri,
            state.as_deref(),
            &[("error", error), ("error_description", &description)],
        )),
        Err(e) => Err(errors::page(&e, None)),
    }
}

/// `GET /oauth/authorize`.
pub async fn show(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    csrf: CsrfToken,
    Query(p): Query<Params>,
    uri: axum::http::Uri,
) -> Response {
    let req = match check(&st, &p).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    if !auth::has_session_cookie(&st, &headers) {
        let here = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        return reply::see_other(&with_query("/signin", &[("next", here)]));
    }
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let hidden = [
        ("response_type", "code"),
        ("client_id", req.app.client_id.as_str()),
        ("redirect_uri", req.redirect_uri.as_str()),
        ("scope", &req.scopes.to_string()),
        ("state", p.state.as_deref().unwrap_or("")),
        ("code_challenge", req.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let body = html! {
        h1 #consent-title { "Allow " strong { (req.app.name) } " to use your music?" }
        p #consent-who { "Registered by " strong { (req.app.owner_name) } ". You are signed in as " strong { (ctx.user.username) } "." }
        p { "If you allow it, it can:" }
        ul #consent-scopes {
            @for s in req.scopes.iter() {
                li data-scope=(s.as_str()) { (s.describe()) }
            }
        }
        p.hint { "It cannot see your password or manage your devices. You can remove its access at any time on the Apps page." }
        form.stacked method="post" action="/oauth/authorize" {
            (csrf_field(csrf.value()))
            @for (k, v) in &hidden {
                input type="hidden" name=(k) value=(v);
            }
            div.actions {
                button.primary #approve type="submit" name="decision" value="approve" { "Allow" }
                button #deny type="submit" name="decision" value="deny" { "Deny" }
            }
        }
    };
    csrf.attach(reply::html(
        StatusCode::OK,
        layout::bare("Allow an app", None, body),
    ))
}

/// `POST /oauth/authorize`: the person's answer.
pub async fn answer(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, .. }: CsrfForm<Answer>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = match check(&st, &form.params).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let state = req.state.as_deref();
    if form.decision != "approve" {
        return back_to_app(
            &st,
            &req.redirect_uri,
            state,
            &[
                ("error", "access_denied"),
                ("error_description", "the person said no"),
            ],
        );
    }
    match st.accounts.approve_authorization(&ctx, &req).await {
        Ok(code) => back_to_app(&st, &req.redirect_uri, state, &[("code", &code)]),
        Err(e) => errors::page(&e, None),
    }
}
