//! What a listener keeps, shown in the Library: stars, ratings and plays (from the web page or
//! from a Subsonic app), the album lists they make, and the forms that star and rate an album.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use clef_accounts::AuthContext;
use clef_http::{AppState, ClientIp};
use clef_library::{AlbumView, Catalog, UserData};
use clef_store::ItemKind;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth;
use crate::csrf::{CsrfForm, HasCsrf};
use crate::errors::describe_library;
use crate::format::{count, when};
use crate::layout::csrf_field;
use crate::pages::signed_in_problem;
use crate::reply;

/// The album sorts made from what the user keeps, with their labels.
pub(crate) const PERSONAL_SORTS: &[(&str, &str)] = &[
    ("starred", "Starred"),
    ("most-played", "Most played"),
    ("played", "Recently played"),
    ("rated", "Highest rated"),
];

/// The user's annotations; none when the store cannot be read (the page still shows the music).
pub(crate) async fn kept(st: &AppState, ctx: &AuthContext) -> UserData {
    st.library
        .user_data(&ctx.user.id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read stars and plays");
            UserData::default()
        })
}

/// The albums of a personal sort, in its order; `None` for a sort that is not personal.
pub(crate) fn personal_albums(
    catalog: &Catalog,
    data: &UserData,
    sort: &str,
    genre: Option<&str>,
) -> Option<Vec<AlbumView>> {
    let ids = match sort {
        "starred" => data.starred(ItemKind::Album),
        "most-played" => data.most_played(ItemKind::Album),
        "played" => data.recently_played(ItemKind::Album),
        "rated" => data.highest_rated(ItemKind::Album),
        _ => return None,
    };
    let in_genre =
        |a: &AlbumView| genre.is_none_or(|g| a.genres.iter().any(|x| x.eq_ignore_ascii_case(g)));
    Some(
        ids.iter()
            .filter_map(|id| catalog.album_view(id))
            .filter(|a| in_genre(a))
            .cloned()
            .collect(),
    )
}

/// "★★★★☆" for a rating of 4.
fn stars(rating: i64) -> String {
    let r = usize::try_from(rating.clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(r), "☆".repeat(5 - r))
}

/// The small marks beside an album or a song: starred, rating, plays.
pub(crate) fn badges(data: &UserData, id: &str) -> Markup {
    let starred = data.starred_at(id).is_some();
    let rating = data.rating(id);
    let plays = data.play_count(id);
    html! {
        @if starred || rating > 0 || plays > 0 {
            span.kept {
                @if starred { span.starred title="Starred" { "★" span.sr-only { " Starred" } } }
                @if rating > 0 {
                    " " span.rating title={ "Rated " (rating) " of 5" } {
                        span aria-hidden="true" { (stars(rating)) }
                        span.sr-only { "Rated " (rating) " of 5" }
                    }
                }
                @if plays > 0 { " " span.plays { (count(plays, "play", "plays")) } }
            }
        }
    }
}

/// The album page's panel: star, rate, and when it was last played.
pub(crate) fn album_panel(album_id: &str, data: &UserData, csrf: &str) -> Markup {
    let starred = data.starred_at(album_id).is_some();
    let rating = data.rating(album_id);
    let action = |what: &str| format!("/library/albums/{album_id}/{what}");
    html! {
        div.album-kept #album-kept {
            form.inline method="post" action=(action("star")) {
                (csrf_field(csrf))
                input type="hidden" name="starred" value=(if starred { "0" } else { "1" });
                button #star-album .subtle type="submit" aria-pressed=(starred) {
                    @if starred { "★ Starred" } @else { "☆ Star" }
                }
            }
            form.inline method="post" action=(action("rating")) {
                (csrf_field(csrf))
                label for="album-rating" { "Your rating" }
                " "
                select #album-rating name="rating" data-autosubmit {
                    @for r in 0..=5i64 {
                        option value=(r) selected[r == rating] {
                            @if r == 0 { "Not rated" } @else { (stars(r)) }
                        }
                    }
                }
                " "
                button.nojs-only type="submit" { "Rate" }
            }
            @if let Some(a) = data.get(album_id).filter(|a| a.play_count > 0) {
                p.meta #album-plays {
                    "Played " (count(a.play_count, "time", "times"))
                    @if let Some(t) = a.played_at { ", last on " (when(t)) }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StarForm {
    starred: String,
    csrf: String,
}

impl HasCsrf for StarForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RatingForm {
    rating: String,
    csrf: String,
}

impl HasCsrf for RatingForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /library/albums/{id}/star`.
pub async fn star_album(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<StarForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let starred = form.starred == "1";
    match st
        .library
        .set_starred(&ctx.user.id, &[id.as_str()], starred)
        .await
    {
        Ok(()) => reply::see_other(&format!("/library/albums/{id}")),
        Err(e) => signed_in_problem(&ctx, &csrf, None, &describe_library(&e)),
    }
}

/// `POST /library/albums/{id}/rating`.
pub async fn rate_album(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm { form, csrf }: CsrfForm<RatingForm>,
) -> Response {
    let ctx = match auth::require(&st, &headers, &ip).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Not a number counts as out of range, which the service explains.
    let rating = form.rating.trim().parse().unwrap_or(-1);
    match st.library.set_rating(&ctx.user.id, &id, rating).await {
        Ok(()) => reply::see_other(&format!("/library/albums/{id}")),
        Err(e) => signed_in_problem(&ctx, &csrf, None, &describe_library(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_drawn_as_five_stars() {
        assert_eq!(stars(0), "☆☆☆☆☆");
        assert_eq!(stars(4), "★★★★☆");
        assert_eq!(stars(9), "★★★★★");
    }
}
