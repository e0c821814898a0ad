//! The page frame: document head, header with navigation, notices, and the main content.

use clef_store::User;
use maud::{html, Markup, DOCTYPE};

use crate::assets::STYLESHEET_PATH;

/// Which part of the site a page belongs to, to mark it in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Devices,
    Account,
    Security,
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

fn document(title: &str, body_class: &str, header: Markup, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Clef" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" href="data:,";
            }
            body class=(body_class) {
                (header)
                main { (main) }
            }
        }
    }
}

/// A page for a signed-in person: navigation, a sign-out button, notices, content.
pub fn signed_in(chrome: &Chrome<'_>, title: &str, f: Option<&Flash>, content: Markup) -> Markup {
    let link = |href: &str, label: &str, section: Section| {
        let current = chrome.section == Some(section);
        html! {
            a href=(href) class=[current.then_some("current")] aria-current=[current.then_some("page")] { (label) }
        }
    };
    let header = html! {
        header.site {
            div.bar {
                a.brand href="/devices" { "Clef" }
                nav aria-label="Main" {
                    (link("/devices", "Devices", Section::Devices))
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
    };
    document(title, "app", header, html! { (flash(f)) (content) })
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
        header,
        html! { div.card { (flash(f)) (content) } },
    )
}
