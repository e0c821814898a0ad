//! The one mapping from the services' errors to Subsonic error codes. Server faults are logged
//! here and told without detail.

use clef_accounts::AccountsError;
use clef_http::play::PlayError;
use clef_library::{Catalog, LibraryError};
use clef_store::Slot;

use crate::error::SubsonicError;

fn err(code: u32, message: impl Into<String>) -> SubsonicError {
    SubsonicError {
        code,
        message: message.into(),
        help_url: None,
    }
}

fn server_fault(e: &dyn std::fmt::Display) -> SubsonicError {
    tracing::error!(error = %e, "Subsonic request failed");
    err(0, "The server could not do this; try again later.")
}

/// An accounts error, other than a refused login (see `auth::refused`).
pub(crate) fn from_accounts(e: AccountsError) -> SubsonicError {
    match e {
        AccountsError::InsufficientScope(_) | AccountsError::AccountOnly | AccountsError::Forbidden => {
            err(50, "User is not authorized for the given operation: Subsonic apps cannot manage the account; use Clef's web page.")
        }
        AccountsError::NotFound(what) => err(70, format!("The requested data was not found: {what}.")),
        AccountsError::Invalid(input) => err(0, input.to_string()),
        AccountsError::PlaybackStopped { .. } => {
            err(0, "Playback on this device was taken over by another device.")
        }
        AccountsError::StreamLimitReached { limit, .. } => {
            err(0, format!("This account already plays on {limit} devices, its limit."))
        }
        other => server_fault(&other),
    }
}

/// A library error.
pub(crate) fn from_library(e: LibraryError) -> SubsonicError {
    match e {
        LibraryError::NotFound(what) => {
            err(70, format!("The requested data was not found: {what}."))
        }
        LibraryError::Invalid(input) => err(0, input.to_string()),
        other => server_fault(&other),
    }
}

/// Who plays what, for the stream limit's message: "Kitchen speaker (“Song” by Artist)".
fn playing(catalog: &Catalog, streams: &[Slot]) -> String {
    streams
        .iter()
        .map(|s| match catalog.track(&s.track_id) {
            Some(t) => {
                let by: Vec<&str> = t.artists.iter().map(|a| a.name.as_str()).collect();
                format!("{} (“{}” by {})", s.device_name, t.title, by.join(", "))
            }
            None => s.device_name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a track could not be played.
pub(crate) fn from_play(e: PlayError, catalog: &Catalog) -> SubsonicError {
    match e {
        PlayError::FileMissing => err(70, "The requested data was not found: the song's file."),
        PlayError::BadRequest(m) => err(0, m),
        PlayError::TooManyTranscodes(_) => err(
            0,
            "Too many converted streams at once; try again shortly, or play the original (format=raw).",
        ),
        PlayError::CannotTranscode(reason) => err(
            0,
            format!("This file cannot be converted for streaming ({reason}); play the original (format=raw)."),
        ),
        PlayError::Accounts(AccountsError::StreamLimitReached { limit, streams }) => {
            let devices = if limit == 1 { "device" } else { "devices" };
            err(
                0,
                format!(
                    "This account already plays on {limit} {devices}, its limit: {}. Stop playback on one of them to play here.",
                    playing(catalog, &streams)
                ),
            )
        }
        PlayError::Accounts(e) => from_accounts(e),
        PlayError::Io(e) => server_fault(&e),
    }
}
