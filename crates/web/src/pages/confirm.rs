//! The confirmation step of destructive actions (sign a device out, sign out everywhere, disable
//! or delete a user, reset a password, remove admin rights). Without script: the action's form
//! posts as before, and a post that does not carry `confirm=yes` changes nothing and answers this
//! page, which says what will happen and posts the same form again with `confirm=yes`.

use axum::http::StatusCode;
use axum::response::Response;
use clef_accounts::AuthContext;
use maud::{html, Markup};
use serde::Deserialize;

use crate::csrf::{CsrfToken, HasCsrf};
use crate::layout::{csrf_field, Section};
use crate::pages::signed_in_page;

/// A form with no fields of its own but the confirmation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Confirmed {
    pub confirm: String,
    pub csrf: String,
}

impl HasCsrf for Confirmed {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

impl Confirmed {
    pub fn yes(&self) -> bool {
        is_yes(&self.confirm)
    }
}

/// Whether a posted `confirm` field confirms.
pub fn is_yes(confirm: &str) -> bool {
    confirm == "yes"
}

/// What the confirmation page asks.
#[derive(Debug)]
pub(crate) struct Question<'a> {
    /// The page's heading: "Sign out Kitchen laptop?".
    pub title: String,
    /// What will happen, in a sentence or two.
    pub consequence: String,
    /// Where the confirmed form posts.
    pub action: String,
    /// The confirming button: "Sign it out".
    pub yes: String,
    /// Where Cancel goes.
    pub cancel: &'a str,
    /// Fields the first post carried, posted again.
    pub carry: Vec<(&'static str, String)>,
    /// Something to offer before the confirmed form (another way to do it).
    pub before: Option<Markup>,
    /// Fields to fill in on this page (a temporary password).
    pub fields: Option<Markup>,
    pub section: Section,
}

/// The confirmation page (200: nothing happened yet).
pub(crate) fn page(ctx: &AuthContext, csrf: &CsrfToken, q: Question<'_>) -> Response {
    let body = html! {
        h1 #confirm-title { (q.title) }
        p #confirm-consequence { (q.consequence) }
        @if let Some(b) = &q.before { (b) }
        form.stacked.confirm method="post" action=(q.action) {
            (csrf_field(csrf.value()))
            input type="hidden" name="confirm" value="yes";
            @for (name, value) in &q.carry {
                input type="hidden" name=(name) value=(value);
            }
            @if let Some(f) = &q.fields { (f) }
            div.actions {
                button.danger #confirm-yes type="submit" { (q.yes) }
                a.button-link #confirm-cancel href=(q.cancel) { "Cancel" }
            }
        }
    };
    signed_in_page(ctx, csrf, q.section, StatusCode::OK, &q.title, None, body)
}
