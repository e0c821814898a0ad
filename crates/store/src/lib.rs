//! Persistence for Clef: repository traits (what the services need) and one SQL implementation that
//! runs on SQLite (embedded, the default) and PostgreSQL (scale-out), chosen by the URL's scheme.

#[macro_use]
mod credential_model;
mod email_model;
mod export_model;
mod library_model;
mod migrations;
mod model;
mod oauth_model;
mod passkey_model;
mod repo;
mod sql;
mod user_data_model;

pub use credential_model::*;
pub use email_model::*;
pub use export_model::*;
pub use library_model::*;
pub use model::*;
pub use oauth_model::*;
pub use passkey_model::*;
pub use repo::{
    AccountStore, CredentialStore, EmailStore, ExportStore, LibraryStore, OAuthStore, PasskeyStore,
    PlaylistStore, Store, StreamStore, SubsonicStore, TwoStepStore, UserDataStore,
};
pub use sql::{Backend, SqlStore};
pub use user_data_model::*;

/// Everything that can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken; the name says which (for example `username`).
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    /// Its message includes the driver's, so the driver's error is not also its `source`
    /// (a chain printed in full would repeat it).
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A stored code this build does not know (written by a newer release); what it names is
    /// refused rather than guessed at.
    #[error("unknown {what} in the database: {value:?}")]
    UnknownValue { what: &'static str, value: String },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
