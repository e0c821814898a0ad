//! What each `/api/v1` route needs from the credential that calls it. Sign-in credentials have
//! full access; an app's token reaches a route only with its scope, and never reaches the
//! account's management (sessions, devices, password, security log, apps, admin).

use axum::http::Method;
use clef_core::Scope;

/// A route's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reachable with this scope.
    Scope(Scope),
    /// Only with a credential of the account's own (a sign-in).
    Account,
}

/// The requirement of `method` on the route template `route` (as axum matched it). A route
/// missing here needs the account: nothing new is open to apps by omission.
pub fn need(method: &Method, route: &str) -> Need {
    use Scope::*;
    let read = matches!(*method, Method::GET | Method::HEAD);
    let scope = match route {
        "/api/v1/me" if read => Profile,
        "/api/v1/artists"
        | "/api/v1/artists/{id}"
        | "/api/v1/albums"
        | "/api/v1/albums/{id}"
        | "/api/v1/albums/{id}/cover"
        | "/api/v1/tracks/{id}"
        | "/api/v1/tracks/{id}/cover"
        | "/api/v1/genres"
        | "/api/v1/search"
            if read =>
        {
            LibraryRead
        }
        "/api/v1/tracks/{id}/stream" | "/api/v1/playback" => Stream,
        "/api/v1/playlists" | "/api/v1/playlists/{id}" | "/api/v1/playlists/{id}/m3u8" if read => {
            PlaylistsRead
        }
        "/api/v1/playlists"
        | "/api/v1/playlists/import"
        | "/api/v1/playlists/{id}"
        | "/api/v1/playlists/{id}/tracks"
        | "/api/v1/playlists/{id}/tracks/remove"
        | "/api/v1/playlists/{id}/tracks/move" => PlaylistsWrite,
        "/api/v1/exports"
        | "/api/v1/exports/{id}"
        | "/api/v1/exports/{id}/events"
        | "/api/v1/exports/{id}/zip" => Export,
        _ => return Need::Account,
    };
    Need::Scope(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_is_never_an_apps() {
        for (m, r) in [
            (Method::GET, "/api/v1/devices"),
            (Method::POST, "/api/v1/devices/sign-out-everywhere"),
            (Method::PUT, "/api/v1/me/password"),
            (Method::GET, "/api/v1/me/apps"),
            (Method::POST, "/api/v1/apps"),
            (Method::GET, "/api/v1/admin/users"),
            (Method::GET, "/api/v1/security-events"),
            (Method::GET, "/api/v1/something-new"),
        ] {
            assert_eq!(need(&m, r), Need::Account, "{m} {r}");
        }
        assert_eq!(
            need(&Method::DELETE, "/api/v1/playlists/{id}"),
            Need::Scope(Scope::PlaylistsWrite)
        );
        assert_eq!(
            need(&Method::GET, "/api/v1/playlists/{id}"),
            Need::Scope(Scope::PlaylistsRead)
        );
    }
}
