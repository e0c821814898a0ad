//! Static assets compiled into the binary: the stylesheet, the top bar's menu script, the
//! player's script and the export page's script.
//!
//! Pages link them with a `?v=` of a hash of their content, so a browser never runs an old script
//! against a new page after an upgrade, while the files themselves may be cached.

use std::sync::LazyLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/app.css";

/// Where the player's script is served.
pub const PLAYER_SCRIPT_PATH: &str = "/static/player.js";

const STYLESHEET: &str = include_str!("../static/app.css");

const PLAYER_SCRIPT: &str = include_str!("../static/player.js");

/// Where the top bar's menu script is served.
pub const MENU_SCRIPT_PATH: &str = "/static/menu.js";

const MENU_SCRIPT: &str = include_str!("../static/menu.js");

/// Where the export page's script is served.
pub const EXPORT_SCRIPT_PATH: &str = "/static/export.js";

const EXPORT_SCRIPT: &str = include_str!("../static/export.js");

/// Where the passkeys script is served (the Account, sign-in and two-step code pages).
pub const PASSKEYS_SCRIPT_PATH: &str = "/static/passkeys.js";

const PASSKEYS_SCRIPT: &str = include_str!("../static/passkeys.js");

/// 64-bit FNV-1a: enough to tell versions of a file apart.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The stylesheet's URL as pages link it.
pub static STYLESHEET_URL: LazyLock<String> =
    LazyLock::new(|| format!("{STYLESHEET_PATH}?v={:016x}", fnv1a(STYLESHEET)));

/// The player script's URL as pages link it.
pub static PLAYER_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("{PLAYER_SCRIPT_PATH}?v={:016x}", fnv1a(PLAYER_SCRIPT)));

/// The menu script's URL as pages link it.
pub static MENU_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("{MENU_SCRIPT_PATH}?v={:016x}", fnv1a(MENU_SCRIPT)));

/// The export page script's URL as pages link it.
pub static EXPORT_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("{EXPORT_SCRIPT_PATH}?v={:016x}", fnv1a(EXPORT_SCRIPT)));

/// The passkeys script's URL as pages link it.
pub static PASSKEYS_SCRIPT_URL: LazyLock<String> =
    LazyLock::new(|| format!("{PASSKEYS_SCRIPT_PATH}?v={:016x}", fnv1a(PASSKEYS_SCRIPT)));

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

pub async fn player_script() -> impl IntoResponse {
    script(PLAYER_SCRIPT)
}

pub async fn menu_script() -> impl IntoResponse {
    script(MENU_SCRIPT)
}

pub async fn export_script() -> impl IntoResponse {
    script(EXPORT_SCRIPT)
}

pub async fn passkeys_script() -> impl IntoResponse {
    script(PASSKEYS_SCRIPT)
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_change_with_content() {
        assert_ne!(fnv1a("a"), fnv1a("b"));
        assert!(STYLESHEET_URL.starts_with("/static/app.css?v="));
        assert!(PLAYER_SCRIPT_URL.starts_with("/static/player.js?v="));
        assert!(EXPORT_SCRIPT_URL.starts_with("/static/export.js?v="));
        assert!(MENU_SCRIPT_URL.starts_with("/static/menu.js?v="));
        assert!(PASSKEYS_SCRIPT_URL.starts_with("/static/passkeys.js?v="));
    }
}
