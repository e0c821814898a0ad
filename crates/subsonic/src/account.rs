//! What a Subsonic client may know about its own account: `getUser` (itself only), `tokenInfo`,
//! the scan status, and `startScan` (admins).

use clef_accounts::AuthContext;
use clef_http::AppState;

use crate::error::SubsonicError;
use crate::ids::MUSIC_FOLDER_ID;
use crate::params::Params;
use crate::response::Element;

pub(crate) fn get_user(ctx: &AuthContext, p: &Params) -> Result<Element, SubsonicError> {
    let me = ctx.user.username.as_str();
    let asked = p.require("username")?;
    if asked != me {
        return Err(SubsonicError::not_authorized(&format!(
            "the account of {asked}"
        )));
    }
    let user = Element::new("user")
        .attr("username", me)
        .attr("scrobblingEnabled", true)
        .attr("adminRole", ctx.user.is_admin)
        .attr("settingsRole", false)
        .attr("downloadRole", true)
        .attr("uploadRole", false)
        .attr("playlistRole", true)
        .attr("coverArtRole", false)
        .attr("commentRole", false)
        .attr("podcastRole", false)
        .attr("streamRole", true)
        .attr("jukeboxRole", false)
        .attr("shareRole", false)
        .attr("videoConversionRole", false)
        .values("folder", [MUSIC_FOLDER_ID]);
    Ok(Element::response().child(user))
}

/// OpenSubsonic `tokenInfo`: whose key this is.
pub(crate) fn token_info(ctx: &AuthContext) -> Element {
    Element::response()
        .child(Element::new("tokenInfo").attr("username", ctx.user.username.as_str()))
}

pub(crate) fn scan_status(st: &AppState) -> Element {
    let p = st.library.progress();
    let count = st.library.catalog().track_count();
    Element::response().child(
        Element::new("scanStatus")
            .attr("scanning", p.running)
            .attr("count", if p.running { p.read } else { count }),
    )
}

pub(crate) fn start_scan(st: &AppState, ctx: &AuthContext) -> Result<Element, SubsonicError> {
    if !ctx.user.is_admin {
        return Err(SubsonicError::not_authorized(
            "scanning the library (admins only)",
        ));
    }
    match st.library.start_scan() {
        Ok(()) | Err(clef_library::LibraryError::ScanRunning) => Ok(scan_status(st)),
        Err(e) => Err(crate::refusal::from_library(e)),
    }
}
