//! Adding songs to a playlist from an album, a search or a song row. When the playlist already
//! holds some of them (the same album added twice), the person is asked first: add them again,
//! add only the new ones, or cancel.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_http::{AppState, ClientIp};
use clef_library::PlaylistEdit;
use maud::html;
use serde::Deserialize;

use crate::auth;
use crate::csrf::{CsrfForm, CsrfToken, HasCsrf};
use crate::format::{count, query_value};
use crate::layout::csrf_field;
use crate::pages::library::library_problem;
use crate::pages::library_page;
use crate::pages::playlists::{safe_back, split_ids};
use crate::reply;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AddForm {
    playlist: String,
    track_ids: String,
    /// The page to return to, one of ours under `/library`.
    back: String,
    /// What to do with songs the playlist holds already: "" (ask), "again" or "skip".
    duplicates: String,
    csrf: String,
}

impl HasCsrf for AddForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /library/playlists/add`.
pub async fn add(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm { form, csrf }: CsrfForm<AddForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut ids = split_ids(&form.track_ids);
    if form.duplicates != "again" {
        let held = match st
            .library
            .already_in_playlist(&ctx.user.id, &form.playlist, &ids)
            .await
        {
            Ok(h) => h,
            Err(e) => return library_problem(&ctx, &csrf, &e),
        };
        if !held.is_empty() {
            if form.duplicates != "skip" {
                return ask(&st, &ctx, &csrf, &form, held.len(), ids.len()).await;
            }
            ids.retain(|id| !held.contains(id));
        }
    }
    let n = ids.len();
    let edit = PlaylistEdit::Add {
        track_ids: ids,
        position: None,
    };
    match st
        .library
        .edit_playlist(&ctx.user.id, &form.playlist, edit)
        .await
    {
        Ok(p) => {
            let notice = format!("notice=added&n={n}&playlist={}", query_value(&p.id));
            match safe_back(&form.back) {
                Some(back) if back.contains('?') => reply::see_other(&format!("{back}&{notice}")),
                Some(back) => reply::see_other(&format!("{back}?{notice}")),
                None => reply::see_other(&format!("/library/playlists/{}?{notice}", p.id)),
            }
        }
        Err(e) => library_problem(&ctx, &csrf, &e),
    }
}

fn again_label(asked: usize) -> String {
    match asked {
        1 => "Add it again".to_owned(),
        n => format!("Add all {n} songs again"),
    }
}

/// The question: the playlist holds `held` of the `asked` songs already.
async fn ask(
    st: &AppState,
    ctx: &AuthContext,
    csrf: &CsrfToken,
    form: &AddForm,
    held: usize,
    asked: usize,
) -> Response {
    let name = match st.library.playlist(&ctx.user.id, &form.playlist).await {
        Ok(p) => p.name,
        Err(e) => return library_problem(ctx, csrf, &e),
    };
    let fresh = asked - held;
    let back = safe_back(&form.back)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/library/playlists/{}", form.playlist));
    let choice = |value: &str, label: String, primary: bool| {
        html! {
            form.inline method="post" action="/library/playlists/add" {
                (csrf_field(csrf.value()))
                input type="hidden" name="playlist" value=(form.playlist);
                input type="hidden" name="track_ids" value=(form.track_ids);
                input type="hidden" name="back" value=(form.back);
                input type="hidden" name="duplicates" value=(value);
                button type="submit" class=[primary.then_some("primary")] #{ "add-" (value) } { (label) }
            }
        }
    };
    let already = if held == asked {
        format!(
            "“{name}” already holds {}.",
            if asked == 1 {
                "this song".to_owned()
            } else {
                format!("all {asked} of these songs")
            }
        )
    } else {
        format!("“{name}” already holds {} of these {asked} songs.", held)
    };
    let body = html! {
        h1 #duplicates-question { "Add again?" }
        p { (already) " Add them a second time, or leave the playlist as it is?" }
        div.actions {
            @if fresh > 0 {
                (choice("skip", format!("Add only the {}", count(fresh, "new song", "new songs")), true))
            }
            (choice("again", again_label(asked), fresh == 0))
            a.button-link #add-cancel href=(back) { "Cancel" }
        }
    };
    library_page(ctx, csrf, StatusCode::OK, "Add again?", None, body)
}
