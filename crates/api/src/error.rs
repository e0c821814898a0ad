//! Every error a request can end in, turned into an HTTP response in exactly one place. The match
//! on `AccountsError` has no catch-all arm: a new error does not compile until it has a status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clef_accounts::AccountsError;
use clef_export::ExportError;
use clef_http::signed_out_message_by;
use clef_library::LibraryError;
use serde_json::{json, Value};

use crate::dto::DeviceDto;

#[derive(Debug)]
pub enum ApiError {
    Accounts(AccountsError),
    /// The body was not valid JSON of the expected shape.
    BadRequest {
        code: &'static str,
        message: String,
    },
    PayloadTooLarge,
    /// A cross-site request carried the session cookie.
    CrossSite,
    NotFound,
    Library(LibraryError),
    Export(ExportError),
    /// Every stream slot is taken; who is playing what.
    StreamLimit {
        limit: i64,
        streams: Vec<crate::stream::PlayingDto>,
    },
    /// No place for another transcoded stream, on this device or on the server.
    TooManyTranscodes(clef_http::limits::Full),
    /// The user has this many export progress connections open already.
    TooManyProgress(usize),
    /// The file cannot be transcoded, and why (no server path in it).
    CannotTranscode(String),
}

impl From<LibraryError> for ApiError {
    fn from(e: LibraryError) -> Self {
        ApiError::Library(e)
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        ApiError::Export(e)
    }
}

impl From<AccountsError> for ApiError {
    fn from(e: AccountsError) -> Self {
        ApiError::Accounts(e)
    }
}

fn body(status: StatusCode, code: &str, message: &str, extra: Value) -> Response {
    let mut v = json!({ "error": code, "message": message });
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    (status, Json(v)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let none = Value::Null;
        match self {
            ApiError::BadRequest { code, message } => {
                body(StatusCode::BAD_REQUEST, code, &message, none)
            }
            ApiError::PayloadTooLarge => body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
                none,
            ),
            ApiError::CrossSite => body(
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "cross-site requests are not allowed",
                none,
            ),
            ApiError::NotFound => {
                body(StatusCode::NOT_FOUND, "not_found", "no such resource", none)
            }
            ApiError::Accounts(e) => accounts_error(e),
            ApiError::Library(e) => library_error(e),
            ApiError::Export(e) => export_error(e),
            ApiError::TooManyTranscodes(full) => {
                let (message, extra) = match full {
                    clef_http::limits::Full::Key(n) => (
                        format!("This device already receives {n} converted streams (one playing, one ahead). Close one to start another, or play the original file."),
                        json!({ "limit": n, "scope": "device" }),
                    ),
                    clef_http::limits::Full::Server(n) => (
                        format!("The server is converting {n} streams, all it takes at once. Try again shortly, or play the original file."),
                        json!({ "limit": n, "scope": "server" }),
                    ),
                };
                let mut r = body(StatusCode::TOO_MANY_REQUESTS, "too_many_transcodes", &message, extra);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                r
            }
            ApiError::CannotTranscode(reason) => body(
                StatusCode::UNPROCESSABLE_ENTITY,
                "cannot_transcode",
                &format!("This file cannot be converted for streaming ({reason}). Play the original file instead."),
                json!({ "reason": reason }),
            ),
            ApiError::TooManyProgress(n) => body(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_progress_connections",
                &format!("You are following exports in {n} places already. Close one of those pages to follow from here."),
                json!({ "limit": n }),
            ),
            ApiError::StreamLimit { limit, streams } => {
                let message = if limit == 1 {
                    "This account already plays on 1 device, its limit. Stop playback there to play here.".to_owned()
                } else {
                    format!("This account already plays on {limit} devices, its limit. Stop playback on one of them to play here.")
                };
                body(
                    StatusCode::CONFLICT,
                    "stream_limit_reached",
                    &message,
                    json!({ "limit": limit, "streams": streams }),
                )
            }
        }
    }
}

fn accounts_error(e: AccountsError) -> Response {
    let msg = e.to_string();
    let none = Value::Null;
    match e {
        AccountsError::InvalidCredentials => {
            body(StatusCode::UNAUTHORIZED, "invalid_credentials", &msg, none)
        }
        // Subsonic logins only; the API never meets them.
        AccountsError::InvalidApiKey | AccountsError::SaltReused => {
            body(StatusCode::UNAUTHORIZED, "invalid_credentials", &msg, none)
        }
        AccountsError::Throttled { retry_after_secs } => {
            let mut r = body(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                &msg,
                json!({ "retry_after": retry_after_secs }),
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        AccountsError::DeviceLimitReached {
            limit,
            devices,
            continue_token,
        } => {
            let devices: Vec<DeviceDto> = devices
                .iter()
                .map(|d| DeviceDto::from_device(d, false, false))
                .collect();
            let message = if limit == 1 {
                "This account is signed in on 1 device, its limit. Sign it out to continue: repeat the request with replace_device_id.".to_owned()
            } else {
                format!("This account is signed in on {limit} devices, its limit. Sign one of them out to continue: repeat the request with replace_device_id.")
            };
            let mut extra = json!({ "limit": limit, "devices": devices });
            if let (Some(obj), Some(ticket)) = (extra.as_object_mut(), continue_token) {
                // Only the web flow gets a ticket; API clients repeat with replace_device_id.
                obj.insert("continue_token".into(), Value::String(ticket));
            }
            body(
                StatusCode::CONFLICT,
                "device_limit_reached",
                &message,
                extra,
            )
        }
        AccountsError::AccountDisabled => {
            body(StatusCode::FORBIDDEN, "account_disabled", &msg, none)
        }
        AccountsError::Unauthenticated => {
            let mut r = body(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "sign in first",
                none,
            );
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        }
        AccountsError::SignedOut { reason, by_device } => {
            let message = signed_out_message_by(reason, by_device.as_deref());
            let mut extra = json!({ "reason": reason.as_str() });
            if let (Some(obj), Some(name)) = (extra.as_object_mut(), by_device) {
                obj.insert("by_device".into(), Value::String(name));
            }
            let mut r = body(StatusCode::UNAUTHORIZED, "signed_out", &message, extra);
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
        AccountsError::StreamLimitReached { limit, streams } => {
            let streams: Vec<Value> = streams
                .iter()
                .map(|s| json!({ "device_id": s.device_id.as_str(), "name": s.device_name, "track_id": s.track_id }))
                .collect();
            body(
                StatusCode::CONFLICT,
                "stream_limit_reached",
                &msg,
                json!({ "limit": limit, "streams": streams }),
            )
        }
        AccountsError::PlaybackStopped { reason, by_device } => {
            let message = match &by_device {
                Some(name) => format!("Playback moved to {name}."),
                None => "Playback was stopped from another device.".to_owned(),
            };
            let mut extra = json!({ "reason": reason.as_str() });
            if let (Some(obj), Some(name)) = (extra.as_object_mut(), by_device) {
                obj.insert("by_device".into(), Value::String(name));
            }
            body(StatusCode::CONFLICT, "playback_stopped", &message, extra)
        }
        AccountsError::WrongCurrentPassword => {
            body(StatusCode::FORBIDDEN, "wrong_current_password", &msg, none)
        }
        AccountsError::OAuth(e) => {
            let status = match e {
                clef_accounts::oauth::OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut r = (
                status,
                Json(json!({ "error": e.code(), "error_description": e.to_string() })),
            )
                .into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"clef\""),
                );
            }
            r
        }
        AccountsError::Forbidden => body(StatusCode::FORBIDDEN, "forbidden", &msg, none),
        AccountsError::InsufficientScope(scope) => {
            let mut r = body(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &msg,
                json!({ "scope": scope.as_str() }),
            );
            let challenge = format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                scope.as_str()
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
        AccountsError::AccountOnly => body(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "an app's token cannot manage the account; sign in as its owner",
            none,
        ),
        AccountsError::NotFound(what) => body(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no such {what}"),
            none,
        ),
        AccountsError::Conflict(what) => body(
            StatusCode::CONFLICT,
            "conflict",
            &format!("that {what} is taken"),
            none,
        ),
        AccountsError::Invalid(i) => body(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            &i.to_string(),
            json!({ "field": i.field }),
        ),
        AccountsError::SetupUnavailable => {
            body(StatusCode::FORBIDDEN, "setup_unavailable", &msg, none)
        }
        AccountsError::SecondFactorRequired {
            challenge,
            expires_in,
        } => body(
            StatusCode::UNAUTHORIZED,
            "second_factor_required",
            "enter the code from your authenticator app (or a recovery code)",
            json!({ "challenge": challenge, "expires_in": expires_in, "methods": ["totp", "recovery_code"] }),
        ),
        AccountsError::InvalidCode => body(StatusCode::UNAUTHORIZED, "invalid_code", &msg, none),
        AccountsError::ChallengeInvalid => {
            body(StatusCode::UNAUTHORIZED, "challenge_invalid", &msg, none)
        }
        AccountsError::PasskeyRefused => {
            body(StatusCode::UNAUTHORIZED, "passkey_refused", &msg, none)
        }
        AccountsError::PasskeysUnavailable => {
            body(StatusCode::NOT_IMPLEMENTED, "passkeys_unavailable", &msg, none)
        }
        AccountsError::LinkInvalid => body(StatusCode::GONE, "link_invalid", &msg, none),
        AccountsError::NoEmailAddress => {
            body(StatusCode::CONFLICT, "no_email_address", &msg, none)
        }
        AccountsError::LastAdmin => body(
            StatusCode::CONFLICT,
            "last_admin",
            "this is the last enabled admin: make another user an admin first",
            none,
        ),
        AccountsError::PasswordChangeRequired => body(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "an admin set a temporary password: choose a new one with PUT /api/v1/me/password first",
            none,
        ),
        AccountsError::Store(inner) => internal(&inner.to_string()),
        AccountsError::Internal(inner) => internal(&inner),
    }
}

fn library_error(e: LibraryError) -> Response {
    let msg = e.to_string();
    match e {
        LibraryError::NotFound(what) => body(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no such {what}"),
            Value::Null,
        ),
        LibraryError::Invalid(i) => body(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            &i.to_string(),
            json!({ "field": i.field }),
        ),
        LibraryError::ScanRunning => body(StatusCode::CONFLICT, "scan_running", &msg, Value::Null),
        LibraryError::Io(inner) => internal(&inner),
        LibraryError::Store(inner) => internal(&inner.to_string()),
    }
}

fn export_error(e: ExportError) -> Response {
    let msg = e.to_string();
    let none = Value::Null;
    match e {
        ExportError::BadPattern(_)
        | ExportError::BadSettings(_)
        | ExportError::EmptySelection
        | ExportError::TooMany(_)
        | ExportError::UnknownTrack(_) => body(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_export",
            &msg,
            none,
        ),
        ExportError::NoExportRoot => body(StatusCode::FORBIDDEN, "exports_disabled", &msg, none),
        ExportError::OutsideRoots(_) => {
            body(StatusCode::BAD_REQUEST, "outside_export_roots", &msg, none)
        }
        ExportError::RootUnusable { .. } => {
            body(StatusCode::CONFLICT, "export_folder_unusable", &msg, none)
        }
        ExportError::NotFound => body(StatusCode::NOT_FOUND, "not_found", "no such export", none),
        ExportError::StillRunning => body(StatusCode::CONFLICT, "export_running", &msg, none),
        ExportError::TooManyRunning(n) => body(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_running_exports",
            &msg,
            json!({ "limit": n }),
        ),
        ExportError::NoRoom { need, free } => body(
            StatusCode::CONFLICT,
            "export_too_large",
            &msg,
            json!({ "need_bytes": need, "free_bytes": free }),
        ),
        ExportError::OverQuota { need, used, quota } => body(
            StatusCode::CONFLICT,
            "export_quota_exceeded",
            &msg,
            json!({ "need_bytes": need, "used_bytes": used, "quota_bytes": quota }),
        ),
        ExportError::Store(inner) => internal(&inner.to_string()),
        ExportError::Io(inner) => internal(&inner.to_string()),
    }
}

fn internal(cause: &str) -> Response {
    tracing::error!(cause, "request failed");
    body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on the server",
        Value::Null,
    )
}
