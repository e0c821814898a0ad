//! The page frame: document head, the skip link, the header with its navigation (folded into a
//! Menu on narrow screens by `/static/menu.js`), notices, and the main content.

use clef_store::User;
use maud::{html, Markup, DOCTYPE};

use crate::assets::{MENU_SCRIPT_URL, PLAYER_SCRIPT_URL, STYLESHEET_URL};

/// Which part of the site a page belongs to, to mark it in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Library,
    Devices,
    Apps,
    Account,
    Security,
    Export,
    Admin,
}

/// What a signed-in page's frame needs: who is signed in and the token for the sign-out form.
#[derive(Debug, Clone, Copy)]
pub struct Chrome<'a> {
    pub user: &'a User,
    pub csrf: &'a str,
    pub section: Option<Section>,
}

/// A one-off message at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flash {
    Notice(String),
    Error(String),
}

impl Flash {
    pub fn notice(s: impl Into<String>) -> Option<Flash> {
        Some(Flash::Notice(s.into()))
    }
    pub fn error(s: impl Into<String>) -> Option<Flash> {
        Some(Flash::Error(s.into()))
    }
}

/// The hidden field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

fn flash(f: Option<&Flash>) -> Markup {
    html! {
        @match f {
            Some(Flash::Notice(m)) => p #notice .flash.notice role="status" { (m) },
            Some(Flash::Error(m)) => p #error .flash.error role="alert" { (m) },
            None => {},
        }
    }
}

/// What a page has besides its frame and content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// The player bar and its script, for this device.
    pub player: Option<PlayerBar<'a>>,
    /// Reload the page after this many seconds (a running scan's progress), without script.
    pub refresh_secs: Option<u32>,
    /// A page script (its URL); with one, `refresh_secs` applies only where script does not run.
    pub script: Option<&'a str>,
}

/// Whether a page's top bar has the navigation, which folds into a menu on narrow screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    Menu,
    None,
}

/// What the player bar needs to know: which device it plays on, so it can tell its own stream
/// slot from the others'.
#[derive(Debug, Clone, Copy)]
pub struct PlayerBar<'a> {
    pub device_id: &'a str,
}

fn document(
    title: &str,
    body_class: &str,
    (header, nav): (Markup, Nav),
    main: Markup,
    extras: &Extras<'_>,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(secs) = extras.refresh_secs {
                    @if extras.script.is_some() {
                        noscript { meta http-equiv="refresh" content=(secs); }
                    } @else {
                        meta http-equiv="refresh" content=(secs);
                    }
                }
                title { (title) " · Clef" }
                link rel="stylesheet" href=(*STYLESHEET_URL);
                link rel="icon" href="data:,";
                @if nav == Nav::Menu {
                    // Not deferred: it marks the document before the first paint, so a phone
                    // never shows the whole navigation and then folds it away.
                    script src=(*MENU_SCRIPT_URL) {}
                }
                @if extras.player.is_some() {
                    script src=(*PLAYER_SCRIPT_URL) defer {}
                }
                @if let Some(src) = extras.script {
                    script src=(src) defer {}
                }
            }
            body class=(body_class) {
                a #skip-link .skip-link href="#main" { "Skip to content" }
                (header)
                main #main tabindex="-1" { (main) }
                @if let Some(p) = &extras.player {
                    (player_bar(p))
                }
            }
        }
    }
}

/// A 24×24 icon drawn in the text colour.
fn icon(path: &str, class: &str) -> Markup {
    html! {
        svg class=(class) viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" {
            path d=(path) fill="currentColor" {}
        }
    }
}

/// A 24×24 line icon drawn in the text colour (the player's shuffle, repeat and volume).
fn line_icon(path: &str, class: &str) -> Markup {
    html! {
        svg class=(class) viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" {
            path d=(path) fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" {}
        }
    }
}

const SHUFFLE_ICON: &str =
    "M3 7h3.5l10 10H21M3 17h3.5l3-3M14 10l2.5-3H21M18 4l3 3-3 3M18 14l3 3-3 3";
const REPEAT_ICON: &str =
    "M4 12V9.5A2.5 2.5 0 0 1 6.5 7H20M17 4l3 3-3 3M20 12v2.5a2.5 2.5 0 0 1-2.5 2.5H4M7 20l-3-3 3-3";
const SPEAKER: &str = "M4 9.5h3.5L12 5.5v13l-4.5-4H4z";

/// The player bar: driven by `/static/player.js`, which fills it in; without script it stays
/// hidden (the CSS shows it only once the script has marked the document).
fn player_bar(p: &PlayerBar<'_>) -> Markup {
    html! {
        section #player .player aria-label="Player" data-device-id=(p.device_id) {
            audio #player-audio preload="none" {}
            div.player-main {
                div.player-now {
                    img #player-cover .player-cover alt="" width="48" height="48" hidden;
                    div.player-meta {
                        div #player-title .player-title { "Nothing playing" }
                        div #player-artist .player-artist {}
                    }
                }
                div.player-controls {
                    button #player-shuffle .icon.mode type="button" aria-pressed="false" aria-label="Shuffle" title="Shuffle: off" {
                        (line_icon(SHUFFLE_ICON, "icon-shuffle"))
                    }
                    button #player-prev .icon type="button" aria-label="Previous track" title="Previous (Shift+←)" {
                        (icon("M6 6h2v12H6zM9.5 12l8.5 6V6z", "icon-prev"))
                    }
                    button #player-toggle .icon.primary type="button" aria-label="Play" title="Play (Space)" {
                        (icon("M8 5v14l11-7z", "icon-play"))
                        (icon("M6 5h4v14H6zM14 5h4v14h-4z", "icon-pause"))
                    }
                    button #player-next .icon type="button" aria-label="Next track" title="Next (Shift+→)" {
                        (icon("M16 6h2v12h-2zM6 18l8.5-6L6 6z", "icon-next"))
                    }
                    button #player-repeat .icon.mode type="button" data-repeat="off" aria-pressed="false" aria-label="Repeat: off" title="Repeat: off" {
                        (line_icon(REPEAT_ICON, "icon-repeat"))
                    }
                }
                div.player-seek {
                    span #player-elapsed .time { "0:00" }
                    input #player-seek type="range" min="0" max="0" step="0.1" value="0" aria-label="Position";
                    span #player-duration .time { "0:00" }
                }
                div.player-volume {
                    button #player-mute .icon type="button" aria-pressed="false" aria-label="Mute" title="Mute" {
                        (line_icon(&format!("{SPEAKER}M15.5 9a4 4 0 0 1 0 6M18 6.5a7.5 7.5 0 0 1 0 11"), "icon-volume"))
                        (line_icon(&format!("{SPEAKER}M15.5 9.5l5 5M20.5 9.5l-5 5"), "icon-muted"))
                    }
                    input #player-volume type="range" min="0" max="1" step="0.01" value="1" aria-label="Volume";
                }
                button #player-queue-toggle .subtle type="button" aria-expanded="false" aria-controls="player-queue-panel" { "Queue" }
            }
            div #player-status .player-status role="status" aria-live="polite" hidden {}
            div #player-choices .player-choices hidden {}
            div #player-queue-panel .player-queue-panel role="region" aria-label="Queue" hidden {
                div.player-queue-head {
                    h2 #player-queue-heading { "Queue" }
                    button #player-queue-close .subtle type="button" { "Close" }
                }
                ol #player-queue .player-queue aria-labelledby="player-queue-heading" {}
            }
        }
    }
}

/// A page for a signed-in person: navigation, a sign-out button, notices, content.
pub fn signed_in(chrome: &Chrome<'_>, title: &str, f: Option<&Flash>, content: Markup) -> Markup {
    signed_in_with(chrome, title, f, content, &Extras::default())
}

/// A signed-in page with extras: the player bar, an automatic refresh.
pub fn signed_in_with(
    chrome: &Chrome<'_>,
    title: &str,
    f: Option<&Flash>,
    content: Markup,
    extras: &Extras<'_>,
) -> Markup {
    let link = |href: &str, label: &str, section: Section| {
        let current = chrome.section == Some(section);
        html! {
            a href=(href) class=[current.then_some("current")] aria-current=[current.then_some("page")] { (label) }
        }
    };
    // On narrow screens `/static/menu.js` folds the navigation and the sign-out button behind
    // the Menu button; without script they stay in view, wrapped.
    let header = html! {
        header.site {
            div.bar {
                a.brand href="/library" { "Clef" }
                button #menu-toggle .menu-toggle type="button" aria-expanded="false" aria-controls="site-menu" {
                    (icon("M3 6h18v2H3zM3 11h18v2H3zM3 16h18v2H3z", "icon-menu"))
                    span { "Menu" }
                }
                div #site-menu .site-menu {
                    nav aria-label="Main" {
                        (link("/library", "Library", Section::Library))
                        (link("/export", "Export", Section::Export))
                        (link("/devices", "Devices", Section::Devices))
                        (link("/apps", "Apps", Section::Apps))
                        (link("/account", "Account", Section::Account))
                        (link("/security", "Security", Section::Security))
                        @if chrome.user.is_admin {
                            (link("/admin/users", "Admin", Section::Admin))
                        }
                    }
                    div.who {
                        span.username { (chrome.user.username) }
                        form.inline method="post" action="/signout" {
                            (csrf_field(chrome.csrf))
                            button.subtle #sign-out type="submit" { "Sign out" }
                        }
                    }
                }
            }
        }
    };
    let body_class = if extras.player.is_some() {
        "app with-player"
    } else {
        "app"
    };
    document(
        title,
        body_class,
        (header, Nav::Menu),
        html! { (flash(f)) (content) },
        extras,
    )
}

/// A page for someone not signed in (sign-in, setup, errors): no navigation.
pub fn bare(title: &str, f: Option<&Flash>, content: Markup) -> Markup {
    let header = html! {
        header.site {
            div.bar { a.brand href="/" { "Clef" } }
        }
    };
    document(
        title,
        "bare",
        (header, Nav::None),
        html! { div.card { (flash(f)) (content) } },
        &Extras::default(),
    )
}
