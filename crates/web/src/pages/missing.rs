//! "Not found" pages: an unknown address, and an album, artist, playlist or export that is not
//! (or no longer) there. Each says what is missing and links back to where one can find it;
//! signed-in people keep the navigation. Unknown `/api/…` addresses stay JSON.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_core::SecretToken;
use clef_http::{AppState, ClientIp};
use maud::{html, Markup};

use crate::csrf::CsrfToken;
use crate::layout::{self, Chrome, Section};
use crate::reply;

/// What a page looked for and did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    Album,
    Artist,
    Playlist,
    Track,
    Export,
    Page,
}

impl Missing {
    /// The thing named by a service's "not found" error.
    pub(crate) fn from_name(what: &str) -> Missing {
        match what {
            "album" => Missing::Album,
            "artist" => Missing::Artist,
            "playlist" => Missing::Playlist,
            "track" => Missing::Track,
            "export" => Missing::Export,
            _ => Missing::Page,
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Missing::Album => "Album not found",
            Missing::Artist => "Artist not found",
            Missing::Playlist => "Playlist not found",
            Missing::Track => "Song not found",
            Missing::Export => "Export not found",
            Missing::Page => "Page not found",
        }
    }

    fn explanation(self) -> &'static str {
        match self {
            Missing::Album => "There is no album at this address. It may have left the library when its files were moved or removed.",
            Missing::Artist => "There is no artist at this address. Their songs may have left the library when the files were moved or removed.",
            Missing::Playlist => "There is no playlist of yours at this address. It may have been deleted.",
            Missing::Track => "There is no song at this address. It may have left the library when its file was moved or removed.",
            Missing::Export => "There is no export of yours at this address. It may have been removed from the Converted list.",
            Missing::Page => "There is no page at this address. Check the address, or go back to where you were.",
        }
    }

    /// Where to look instead: (address, link text).
    fn back(self) -> (&'static str, &'static str) {
        match self {
            Missing::Album | Missing::Track => ("/library", "Back to albums"),
            Missing::Artist => ("/library/artists", "Back to artists"),
            Missing::Playlist => ("/library/playlists", "Back to playlists"),
            Missing::Export => ("/export/history", "Back to Converted"),
            Missing::Page => ("/library", "Go to the library"),
        }
    }

    fn section(self) -> Option<Section> {
        match self {
            Missing::Album | Missing::Artist | Missing::Playlist | Missing::Track => {
                Some(Section::Library)
            }
            Missing::Export => Some(Section::Export),
            Missing::Page => None,
        }
    }

    fn content(self, signed_in: bool) -> Markup {
        let (href, label) = if signed_in {
            self.back()
        } else {
            ("/signin", "Sign in")
        };
        html! {
            h1 { (self.heading()) }
            p #missing { (self.explanation()) }
            p { a #missing-back href=(href) { (label) } }
        }
    }
}

/// The 404 page for a signed-in person, with the navigation.
pub(crate) fn signed_in(ctx: &AuthContext, csrf: &CsrfToken, what: Missing) -> Response {
    let chrome = Chrome {
        user: &ctx.user,
        csrf: csrf.value(),
        section: what.section(),
    };
    csrf.attach(reply::html(
        StatusCode::NOT_FOUND,
        layout::signed_in(&chrome, what.heading(), None, what.content(true)),
    ))
}

/// The fallback for every address no route knows: JSON under `/api/`, a page elsewhere.
pub async fn fallback(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    csrf: CsrfToken,
    uri: Uri,
) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return clef_http::json_error(StatusCode::NOT_FOUND, "not_found", "no such resource");
    }
    // The page only reads who is signed in; it never redirects or clears a cookie.
    let who = match clef_http::session_cookie_value(&headers, st.http.session_cookie_name()) {
        Some(v) => st
            .accounts
            .authenticate(&SecretToken::from_presented(&v), &ip)
            .await
            .ok(),
        None => None,
    };
    match who {
        Some(ctx) => signed_in(&ctx, &csrf, Missing::Page),
        None => reply::html(
            StatusCode::NOT_FOUND,
            layout::bare(Missing::Page.heading(), None, Missing::Page.content(false)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_thing_links_somewhere_else() {
        for m in [
            Missing::Album,
            Missing::Artist,
            Missing::Playlist,
            Missing::Track,
            Missing::Export,
            Missing::Page,
        ] {
            let (href, label) = m.back();
            assert!(href.starts_with('/') && !label.is_empty());
            assert!(m.explanation().ends_with('.'));
        }
        assert_eq!(Missing::from_name("playlist"), Missing::Playlist);
        assert_eq!(Missing::from_name("something else"), Missing::Page);
    }
}
