//! The one integration-test binary: each module starts real servers on port 0 and drives them
//! over HTTP (and, in `browser`, through headless Chromium).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin_pages;
mod admin_users;
mod api_bad_input;
mod apps_page;
mod bitrate_reader;
mod browser;
mod chromium;
mod cli;
mod cli_messages;
mod consent_pages;
mod cover_work;
mod device_grant;
mod dns_rebinding;
mod export_folders;
mod export_limits;
mod export_nodes;
mod export_page;
mod export_resume;
mod exports;
mod first_run;
mod library_api;
mod limits;
mod listening_pages;
mod media_headers;
mod not_found;
mod oauth;
mod player;
mod player_controls;
mod responsive;
mod revocation;
mod revocation_matrix;
mod security;
mod slow_clients;
mod streams;
mod subsonic;
mod subsonic_formats;
mod third_party_wavs;
mod throttle;
mod transcode;
mod viewport;
mod web_security;
mod work_limits;
