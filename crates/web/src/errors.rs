//! Every accounts error turned into a page status and a message for people, in one place.

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use clef_accounts::AccountsError;
use clef_core::InputError;
use clef_export::ExportError;
use clef_http::signed_out_message;
use clef_library::LibraryError;
use maud::html;

use crate::format::count;
use crate::layout::{self, Chrome, Flash};
use crate::reply;

/// What a page says about a failed action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait before trying again, sent as `Retry-After`.
    pub retry_after: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Problem {
        Problem {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds `Retry-After` when the problem is a wait.
    pub fn decorate(&self, mut res: Response) -> Response {
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(RETRY_AFTER, v);
            }
        }
        res
    }
}

/// The page status and message for each error. The match has no catch-all arm: a new error does
/// not compile until it has been given both. Server faults are logged here and shown without
/// detail.
pub fn describe(e: &AccountsError) -> Problem {
    match e {
        AccountsError::InvalidCredentials => {
            Problem::new(StatusCode::UNAUTHORIZED, "Wrong user name or password.")
        }
        // Subsonic logins only; a page never meets them.
        AccountsError::InvalidApiKey | AccountsError::SaltReused => {
            Problem::new(StatusCode::UNAUTHORIZED, "That sign-in is not valid.")
        }
        AccountsError::Throttled { retry_after_secs } => Problem {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: match retry_after_secs {
                1 => "Too many attempts. Try again in 1 second.".to_owned(),
                n => format!("Too many attempts. Try again in {n} seconds."),
            },
            retry_after: Some(*retry_after_secs),
        },
        AccountsError::DeviceLimitReached { limit, .. } => Problem::new(
            StatusCode::CONFLICT,
            format!(
                "This account is signed in on {}, its limit. Sign one out to continue.",
                count(*limit, "device", "devices")
            ),
        ),
        AccountsError::AccountDisabled => Problem::new(
            StatusCode::FORBIDDEN,
            "This account is disabled. Ask an administrator to enable it.",
        ),
        AccountsError::Unauthenticated => Problem::new(StatusCode::UNAUTHORIZED, "Sign in first."),
        AccountsError::SignedOut { reason, .. } => {
            Problem::new(StatusCode::UNAUTHORIZED, signed_out_message(*reason))
        }
        AccountsError::StreamLimitReached { limit, .. } => Problem::new(
            StatusCode::CONFLICT,
            format!(
                "This account already plays on {}, its limit.",
                count(*limit, "device", "devices")
            ),
        ),
        AccountsError::PlaybackStopped { by_device, .. } => Problem::new(
            StatusCode::CONFLICT,
            match by_device {
                Some(name) => format!("Playback moved to {name}."),
                None => "Playback was stopped from another device.".to_owned(),
            },
        ),
        AccountsError::WrongCurrentPassword => Problem::new(
            StatusCode::FORBIDDEN,
            "The current password is wrong. Nothing was changed.",
        ),
        AccountsError::Forbidden => Problem::new(
            StatusCode::FORBIDDEN,
            "Only administrators can open this page.",
        ),
        AccountsError::InsufficientScope(scope) => Problem::new(
            StatusCode::FORBIDDEN,
            format!("This app was not given the right to: {}.", scope.describe()),
        ),
        AccountsError::OAuth(e) => Problem::new(StatusCode::BAD_REQUEST, e.to_string()),
        AccountsError::AccountOnly => Problem::new(
            StatusCode::FORBIDDEN,
            "An app cannot manage the account. Sign in as its owner.",
        ),
        AccountsError::NotFound(what) => {
            Problem::new(StatusCode::NOT_FOUND, format!("No such {what}."))
        }
        AccountsError::Conflict("email") => Problem::new(
            StatusCode::CONFLICT,
            "Another account already uses that e-mail address.",
        ),
        AccountsError::Conflict("passkey") => Problem::new(
            StatusCode::CONFLICT,
            "That passkey is already added to an account.",
        ),
        AccountsError::Conflict("two_step") => {
            Problem::new(StatusCode::CONFLICT, "Two-step sign-in is already on.")
        }
        AccountsError::Conflict(what) => Problem::new(
            StatusCode::CONFLICT,
            format!("That {what} is already taken."),
        ),
        AccountsError::Invalid(input) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, input_message(input))
        }
        // The sign-in page answers it with the code page (`signin_code.rs`); elsewhere it says
        // what is missing.
        AccountsError::SecondFactorRequired { .. } => Problem::new(
            StatusCode::UNAUTHORIZED,
            "Enter the code from your authenticator app (or a recovery code).",
        ),
        AccountsError::InvalidCode => Problem::new(
            StatusCode::UNAUTHORIZED,
            "That code is not right, or was already used.",
        ),
        AccountsError::ChallengeInvalid => Problem::new(
            StatusCode::UNAUTHORIZED,
            "This sign-in expired; please sign in again.",
        ),
        AccountsError::PasskeyRefused => Problem::new(
            StatusCode::UNAUTHORIZED,
            "That passkey was not accepted. Try again, or sign in with your password.",
        ),
        AccountsError::PasskeysUnavailable => Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "Passkeys need this server to be reached by a name such as music.example.org \
             (its public_url), not by an IP address.",
        ),
        AccountsError::LinkInvalid => Problem::new(
            StatusCode::GONE,
            "This link has expired, was already used, or a newer one was sent.",
        ),
        AccountsError::NoEmailAddress => Problem::new(
            StatusCode::CONFLICT,
            "This account has no e-mail address, so no link can be sent.",
        ),
        AccountsError::SetupUnavailable => Problem::new(
            StatusCode::FORBIDDEN,
            "This setup link is invalid or was already used.",
        ),
        AccountsError::LastAdmin => Problem::new(
            StatusCode::CONFLICT,
            "This is the last enabled admin. Make another user an admin first.",
        ),
        AccountsError::PasswordChangeRequired => {
            Problem::new(StatusCode::FORBIDDEN, "Choose a new password first.")
        }
        AccountsError::Store(inner) => internal(&inner.to_string()),
        AccountsError::Internal(inner) => internal(inner),
    }
}

/// The page status and message for a library error, like `describe` for accounts errors.
pub fn describe_library(e: &LibraryError) -> Problem {
    match e {
        LibraryError::NotFound(what) => {
            Problem::new(StatusCode::NOT_FOUND, format!("No such {what}."))
        }
        LibraryError::Invalid(input) => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, input_message(input))
        }
        LibraryError::ScanRunning => {
            Problem::new(StatusCode::CONFLICT, "A scan is already running.")
        }
        LibraryError::Io(inner) => internal(inner),
        LibraryError::Store(inner) => internal(&inner.to_string()),
    }
}

/// The page status and message for an export error, like `describe` for accounts errors.
pub fn describe_export(e: &ExportError) -> Problem {
    let invalid = |m: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    match e {
        ExportError::BadPattern(why) => {
            invalid(format!("The file-name pattern does not work: {why}."))
        }
        ExportError::NoExportRoot => Problem::new(
            StatusCode::FORBIDDEN,
            "No export folder is set, so exports are switched off.",
        ),
        ExportError::OutsideRoots(folder) => invalid(format!(
            "The folder “{folder}” is not inside your export folder. \
             Give a folder name inside it, such as “Car”."
        )),
        ExportError::RootUnusable { .. } => {
            Problem::new(StatusCode::CONFLICT, sentence(&e.to_string()))
        }
        ExportError::BadSettings(why) => invalid(sentence(why)),
        ExportError::EmptySelection => {
            invalid("Nothing to export: tick at least one song.".to_owned())
        }
        ExportError::TooMany(n) => invalid(format!("Too many songs for one export: at most {n}.")),
        ExportError::UnknownTrack(_) => invalid(
            "A ticked song is no longer in the library. Reload the page and try again.".to_owned(),
        ),
        ExportError::NotFound => Problem::new(StatusCode::NOT_FOUND, "No such export."),
        ExportError::StillRunning => Problem::new(
            StatusCode::CONFLICT,
            "The export is still running: cancel it first.",
        ),
        e @ ExportError::TooManyRunning(_) => {
            Problem::new(StatusCode::TOO_MANY_REQUESTS, sentence(&e.to_string()))
        }
        e @ (ExportError::NoRoom { .. } | ExportError::OverQuota { .. }) => {
            Problem::new(StatusCode::CONFLICT, sentence(&e.to_string()))
        }
        ExportError::Store(inner) => internal(&inner.to_string()),
        ExportError::Io(inner) => internal(&inner.to_string()),
    }
}

fn sentence(s: &str) -> String {
    let text = capitalised(s);
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

fn internal(cause: &str) -> Problem {
    tracing::error!(cause, "page request failed");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server. Try again later.",
    )
}

/// "Password must be at least 8 characters." from `password: must be at least 8 characters`.
fn input_message(i: &InputError) -> String {
    let label = match i.field {
        "username" => Some("User name"),
        "password" => Some("Password"),
        "new_password" => Some("The new password"),
        "current_password" => Some("The current password"),
        "email" => Some("The e-mail address"),
        "device.name" => Some("Device name"),
        "device.type" => Some("Device type"),
        "max_devices" => Some("Max devices"),
        "max_streams" => Some("Max streams"),
        _ => None,
    };
    let text = match label {
        Some(l) => format!("{l} {}", i.message),
        None => capitalised(&i.message),
    };
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A page holding just a heading and a message, for someone not (or no longer) signed in.
pub fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let body = html! {
        h1 { (heading) }
        p #message { (message) }
        p { a href="/" { "Go to Clef" } }
    };
    reply::html(status, layout::bare(heading, None, body))
}

/// The error page for a failed action.
pub fn page(e: &AccountsError, chrome: Option<&Chrome<'_>>) -> Response {
    problem_page(&describe(e), chrome)
}

/// The error page for a problem, keeping the navigation when someone is signed in.
pub fn problem_page(p: &Problem, chrome: Option<&Chrome<'_>>) -> Response {
    let heading = if p.status.is_server_error() {
        "Something went wrong"
    } else {
        "That did not work"
    };
    let res = match chrome {
        Some(c) => reply::html(
            p.status,
            layout::signed_in(
                c,
                heading,
                Flash::error(p.message.clone()).as_ref(),
                html! { h1 { (heading) } },
            ),
        ),
        None => message_page(p.status, heading, &p.message),
    };
    p.decorate(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        assert_eq!(
            describe(&AccountsError::InvalidCredentials).status,
            StatusCode::UNAUTHORIZED
        );
        let t = describe(&AccountsError::Throttled {
            retry_after_secs: 7,
        });
        assert_eq!(
            (t.status, t.message.as_str(), t.retry_after),
            (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Try again in 7 seconds.",
                Some(7)
            )
        );
        let l = describe(&AccountsError::DeviceLimitReached {
            limit: 2,
            devices: vec![],
            continue_token: None,
        });
        assert_eq!(
            l.message,
            "This account is signed in on 2 devices, its limit. Sign one out to continue."
        );
        assert_eq!(
            describe(&AccountsError::Internal("db on fire".into())).message,
            "Something went wrong on the server. Try again later."
        );
    }

    #[test]
    fn export_errors_say_what_to_change() {
        let p = describe_export(&ExportError::OutsideRoots("../x".into()));
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.message.starts_with("The folder “../x” is not inside"));
        let p = describe_export(&ExportError::BadSettings(
            "MP3 vbr 7: choose 0 (best) to 4".into(),
        ));
        assert_eq!(p.message, "MP3 vbr 7: choose 0 (best) to 4.");
        assert_eq!(
            describe_export(&ExportError::NotFound).status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn input_errors_read_as_sentences() {
        let e = InputError {
            field: "password",
            message: "must be at least 8 characters".into(),
        };
        assert_eq!(input_message(&e), "Password must be at least 8 characters.");
        let e = InputError {
            field: "disabled",
            message: "you cannot disable your own account".into(),
        };
        assert_eq!(input_message(&e), "You cannot disable your own account.");
    }
}
