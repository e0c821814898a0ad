//! The Subsonic/OpenSubsonic API front-end (`/rest`): answers in XML or JSON from one model,
//! request parameters, the protocol's error codes, and the methods that read the catalog.

pub mod browse;
pub mod error;
pub mod ids;
pub mod params;
pub mod response;

#[cfg(test)]
mod fixture;
#[cfg(any(test, feature = "test-support"))]
pub mod wire;

mod account;
mod auth;
mod listening;
mod lyrics;
mod media;
mod playlists;
mod refusal;
mod routes;

pub use routes::router;
