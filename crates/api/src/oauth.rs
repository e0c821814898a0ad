//! The authorization server's HTTP endpoints: metadata (RFC 8414), token (RFC 6749 §3.2),
//! revocation (RFC 7009) and introspection (RFC 7662). The consent page is the web crate's.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clef_accounts::oauth::{ClientAuth, OAuthError, TokenGrant};
use clef_accounts::AccountsError;
use clef_core::Scope;
use serde_json::json;

use crate::ApiError;
use clef_http::{AppState, ClientIp};

/// The device grant's type (RFC 8628 §3.4).
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Where this server's OAuth endpoints are, as its metadata and redirects name it.
pub fn issuer(state: &AppState) -> String {
    state.http.public_url.trim_end_matches('/').to_owned()
}

/// `GET /.well-known/oauth-authorization-server`.
pub async fn metadata(State(st): State<AppState>) -> Response {
    let base = issuer(&st);
    let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "device_authorization_endpoint": format!("{base}/oauth/device_authorization"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

/// A form body's fields; a field sent twice is refused (RFC 6749 §3.1, §3.2).
struct FormFields(Vec<(String, String)>);

impl FormFields {
    fn parse(body: &[u8]) -> Result<FormFields, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            oauth_err(OAuthError::InvalidRequest(format!(
                "the body is not a form: {e}"
            )))
        })?;
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(oauth_err(OAuthError::InvalidRequest(format!(
                    "{k} is sent twice"
                ))));
            }
        }
        Ok(FormFields(pairs))
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn require(&self, name: &str) -> Result<String, ApiError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| oauth_err(OAuthError::InvalidRequest(format!("{name} is missing"))))
    }
}

fn oauth_err(e: OAuthError) -> ApiError {
    ApiError::Accounts(AccountsError::OAuth(e))
}

/// The app's credentials: HTTP Basic (each part form-encoded, RFC 6749 §2.3.1) or the body's
/// `client_id` and `client_secret`; never both.
fn client_auth(headers: &HeaderMap, form: &FormFields, ip: String) -> Result<ClientAuth, ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if let Some(b) = basic {
        if form.get("client_secret").is_some() {
            return Err(oauth_err(OAuthError::InvalidRequest(
                "use one way to authenticate the app".into(),
            )));
        }
        let decoded = STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| oauth_err(OAuthError::InvalidClient))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| oauth_err(OAuthError::InvalidClient))?;
        let decode = |s: &str| -> Result<String, ApiError> {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}"))
                .map_err(|_| oauth_err(OAuthError::InvalidClient))?;
            Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
        };
        let client_id = decode(id)?;
        if form.get("client_id").is_some_and(|c| c != client_id) {
            return Err(oauth_err(OAuthError::InvalidClient));
        }
        return Ok(ClientAuth {
            client_id,
            secret: Some(decode(secret)?),
            ip,
        });
    }
    Ok(ClientAuth {
        client_id: form
            .get("client_id")
            .ok_or_else(|| oauth_err(OAuthError::InvalidClient))?,
        secret: form.get("client_secret"),
        ip,
    })
}

/// Token responses are never cached (RFC 6749 §5.1).
fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// `POST /oauth/token`.
pub async fn token(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body)?;
    let client = client_auth(&headers, &form, ip)?;
    let grant = match form.require("grant_type")?.as_str() {
        "authorization_code" => TokenGrant::AuthorizationCode {
            code: form.require("code")?,
            redirect_uri: form.get("redirect_uri"),
            verifier: form.get("code_verifier"),
        },
        "refresh_token" => TokenGrant::RefreshToken {
            token: form.require("refresh_token")?,
        },
        DEVICE_GRANT => TokenGrant::DeviceCode {
            device_code: form.require("device_code")?,
        },
        other => {
            return Err(oauth_err(OAuthError::UnsupportedGrantType(
                other.to_owned(),
            )))
        }
    };
    let tokens = st.accounts.token(&client, grant).await?;
    Ok(no_store(
        Json(json!({
            "access_token": tokens.access.expose(),
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh.expose(),
            "scope": tokens.scopes.to_string(),
        }))
        .into_response(),
    ))
}

/// `POST /oauth/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body)?;
    let client = client_auth(&headers, &form, ip)?;
    let token = form.require("token")?;
    st.accounts.revoke_app_token(&client, &token).await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /oauth/introspect` (RFC 7662), for confidential apps.
pub async fn introspect(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body)?;
    let client = client_auth(&headers, &form, ip)?;
    let token = form.require("token")?;
    let i = st.accounts.introspect(&client, &token).await?;
    let body = if i.active {
        json!({
            "active": true,
            "scope": i.scope,
            "client_id": i.client_id,
            "username": i.username,
            "sub": i.sub,
            "token_type": i.token_type,
            "exp": i.exp,
            "iat": i.iat,
        })
    } else {
        json!({ "active": false })
    };
    Ok(no_store(Json(body).into_response()))
}

/// `POST /oauth/device_authorization` (RFC 8628 §3.1). Besides `scope`, Clef reads the optional
/// `device_name` and `device_type` a device may send, to list it by.
pub async fn device_authorization(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body)?;
    let client = client_auth(&headers, &form, ip)?;
    let started = st
        .accounts
        .start_device_authorization(
            &client,
            form.get("scope").as_deref(),
            form.get("device_name").as_deref(),
            form.get("device_type").as_deref(),
        )
        .await?;
    let page = format!("{}/device", issuer(&st));
    Ok(no_store(
        Json(json!({
            "device_code": started.device_code.expose(),
            "user_code": started.user_code,
            "verification_uri": page,
            "verification_uri_complete": format!("{page}?code={}", started.user_code),
            "expires_in": started.expires_in,
            "interval": started.interval,
        }))
        .into_response(),
    ))
}
