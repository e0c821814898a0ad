//! `/rest/{method}`: every method, with or without `.view`, by GET or form POST. A thin handler:
//! read the parameters, check the login, check what the credential may do, call one service, and
//! answer in the format asked for.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use clef_accounts::AuthContext;
use clef_core::{OsRandom, Scope};
use clef_http::{AppState, ClientIp, ConnectionAbort};
use clef_library::UserData;

use crate::auth;
use crate::browse;
use crate::error::SubsonicError;
use crate::listening;
use crate::params::{method_name, Params};
use crate::response::{render, Element, Format};

/// Methods that manage the account or other users: never reachable with an app password or key.
const ACCOUNT_METHODS: &[&str] = &[
    "createUser",
    "updateUser",
    "deleteUser",
    "changePassword",
    "getUsers",
    "createShare",
    "updateShare",
    "deleteShare",
];

/// Methods answered without a login (OpenSubsonic: a client asks before it signs in).
const PUBLIC_METHODS: &[&str] = &["getOpenSubsonicExtensions"];

/// The `/rest` routes, with form bodies up to the server's limit.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/rest/{method}", get(handle).post(handle))
        .layer(axum::extract::DefaultBodyLimit::max(
            clef_http::MAX_BODY_BYTES,
        ))
        .with_state(state)
}

/// What one request asks for, read from its path, query and form.
pub(crate) struct Request {
    pub method: String,
    pub params: Params,
}

fn form_body<'a>(headers: &HeaderMap, body: &'a Bytes) -> Option<&'a [u8]> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    (is_form && !body.is_empty()).then_some(body.as_ref())
}

/// Writes an answer in `format`.
pub(crate) fn answer(format: Format, result: Result<Element, SubsonicError>) -> Response {
    let (content_type, body) = render(format, result);
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn handle(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    connection: Option<Extension<ConnectionAbort>>,
    body: Bytes,
) -> Response {
    let params = match Params::from_request(query.as_deref(), form_body(&headers, &body)) {
        Ok(p) => p,
        Err(e) => return answer(Format::Xml, Err(e)),
    };
    let format = match Format::from_params(&params) {
        Ok(f) => f,
        Err(e) => return answer(Format::Xml, Err(e)),
    };
    let req = Request {
        method: method_name(&segment).to_owned(),
        params,
    };
    if PUBLIC_METHODS.contains(&req.method.as_str()) {
        return answer(format, browse::get_open_subsonic_extensions());
    }
    let ctx = match sign_in(&st, &req, &ip).await {
        Ok(c) => c,
        Err(e) => return answer(format, Err(e)),
    };
    match req.method.as_str() {
        "stream" | "download" | "getCoverArt" => {
            match crate::media::serve(&st, &ctx, &req, &headers, connection).await {
                Ok(r) => r,
                Err(e) => answer(format, Err(e)),
            }
        }
        _ => answer(format, call(&st, &ctx, &req).await),
    }
}

async fn sign_in(st: &AppState, req: &Request, ip: &str) -> Result<AuthContext, SubsonicError> {
    let login = auth::login(&req.params)?;
    let target = auth::target(&req.method, &req.params);
    let client = req.params.get("c").unwrap_or("");
    st.accounts
        .subsonic_authenticate(&login, target.as_deref(), client, ip)
        .await
        .map_err(|e| auth::refused(e, &login))
}

fn require(ctx: &AuthContext, scope: Scope) -> Result<(), SubsonicError> {
    ctx.require(scope).map_err(crate::refusal::from_accounts)
}

/// Every method but the media ones.
async fn call(st: &AppState, ctx: &AuthContext, req: &Request) -> Result<Element, SubsonicError> {
    let method = req.method.as_str();
    let p = &req.params;
    if ACCOUNT_METHODS.contains(&method) {
        return Err(crate::refusal::from_accounts(
            clef_accounts::AccountsError::AccountOnly,
        ));
    }
    match method {
        "getUser" => return crate::account::get_user(ctx, p),
        "tokenInfo" => return Ok(crate::account::token_info(ctx)),
        "getScanStatus" => {
            require(ctx, Scope::LibraryRead)?;
            return Ok(crate::account::scan_status(st));
        }
        "startScan" => return crate::account::start_scan(st, ctx),
        "getLyricsBySongId" => {
            require(ctx, Scope::LibraryRead)?;
            return crate::lyrics::get(st, p).await;
        }
        "getPlaylists" | "getPlaylist" => {
            require(ctx, Scope::PlaylistsRead)?;
            let mut answer = crate::playlists::read(st, ctx, method, p).await?;
            listening::annotate(&mut answer, &user_data(st, ctx).await?);
            return Ok(answer);
        }
        "createPlaylist" | "updatePlaylist" | "deletePlaylist" => {
            require(ctx, Scope::PlaylistsWrite)?;
            return crate::playlists::write(st, ctx, method, p).await;
        }
        _ => {}
    }
    if let Some(answer) = listening(st, ctx, method, p).await {
        return answer;
    }
    require(ctx, Scope::LibraryRead)?;
    let catalog = st.library.catalog();
    let data = user_data(st, ctx).await?;
    let lists = listening::user_lists(&data);
    match browse::dispatch(method, &catalog, p, &OsRandom, &lists) {
        Some(answer) => answer.map(|mut e| {
            listening::annotate(&mut e, &data);
            e
        }),
        None => Err(SubsonicError::not_found("method", method)),
    }
}

async fn user_data(st: &AppState, ctx: &AuthContext) -> Result<UserData, SubsonicError> {
    st.library
        .user_data(&ctx.user.id)
        .await
        .map_err(crate::refusal::from_library)
}

/// The methods about what the user keeps (stars, ratings, plays, the queue); `None` for others.
/// Reading needs `library:read`; changing needs `stream`, as a player has.
async fn listening(
    st: &AppState,
    ctx: &AuthContext,
    method: &str,
    p: &Params,
) -> Option<Result<Element, SubsonicError>> {
    let scope = match method {
        "getStarred" | "getStarred2" | "getNowPlaying" | "getPlayQueue" => Scope::LibraryRead,
        "star" | "unstar" | "setRating" | "scrobble" | "savePlayQueue" => Scope::Stream,
        _ => return None,
    };
    if let Err(e) = require(ctx, scope) {
        return Some(Err(e));
    }
    Some(match method {
        "getStarred" | "getStarred2" => match user_data(st, ctx).await {
            Ok(data) => {
                let mut e =
                    listening::get_starred(&st.library.catalog(), &data, method == "getStarred2");
                listening::annotate(&mut e, &data);
                Ok(e)
            }
            Err(e) => Err(e),
        },
        "getNowPlaying" | "getPlayQueue" => {
            let answer = if method == "getNowPlaying" {
                listening::get_now_playing(st, ctx).await
            } else {
                listening::get_play_queue(st, ctx).await
            };
            match (answer, user_data(st, ctx).await) {
                (Ok(mut e), Ok(data)) => {
                    listening::annotate(&mut e, &data);
                    Ok(e)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        "star" => listening::star(st, ctx, p, true).await,
        "unstar" => listening::star(st, ctx, p, false).await,
        "setRating" => listening::set_rating(st, ctx, p).await,
        "scrobble" => listening::scrobble(st, ctx, p).await,
        _ => listening::save_play_queue(st, ctx, p).await,
    })
}
