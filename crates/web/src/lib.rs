//! Server-rendered web pages.

use axum::Router;
use clef_api::AppState;

/// The web pages' routes.
pub fn router(state: AppState) -> Router {
    Router::new().with_state(state)
}
