//! Who a `/rest` request is. Subsonic clients sign in with an app password (`u` and `p`, plain or
//! `enc:` hex, or `u`, `t` and `s` with `t = md5(password + s)`) or an OpenSubsonic API key
//! (`apiKey`, alone). The account password is never accepted here: it is not stored in any form
//! that could check `t`, and `p` is compared with app passwords only.

use clef_accounts::subsonic::SubsonicLogin;
use clef_accounts::{AccountsError, SignOutReason};

use crate::error::SubsonicError;
use crate::params::Params;

fn err(code: u32, message: &str) -> SubsonicError {
    SubsonicError {
        code,
        message: message.to_owned(),
        help_url: None,
    }
}

/// What to tell a client whose user name and password did not match: how to get the right one.
pub(crate) const USE_AN_APP_PASSWORD: &str = "Wrong username or password. Subsonic apps sign in to Clef with an app password, never the account password: create one for this device on the Devices page.";

/// The login a request carries; errors 10, 42 and 43 for missing, unsupported or mixed ones.
pub(crate) fn login(p: &Params) -> Result<SubsonicLogin, SubsonicError> {
    let (u, pw, t, s, key) = (
        p.get("u"),
        p.get("p"),
        p.get("t"),
        p.get("s"),
        p.get("apiKey"),
    );
    if let Some(key) = key {
        if u.is_some() || pw.is_some() || t.is_some() || s.is_some() {
            return Err(err(
                43,
                "Multiple conflicting authentication mechanisms provided: apiKey goes alone, without u, p, t or s.",
            ));
        }
        return Ok(SubsonicLogin::ApiKey(key.to_owned()));
    }
    let Some(username) = u else {
        return Err(err(10, "Required parameter is missing: u (or apiKey)."));
    };
    let username = username.to_owned();
    match (pw, t, s) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(err(
            43,
            "Multiple conflicting authentication mechanisms provided: send p, or t and s, not both.",
        )),
        (Some(pw), None, None) => Ok(SubsonicLogin::Password {
            username,
            password: decode_enc(pw)?,
        }),
        (None, Some(token), Some(salt)) => Ok(SubsonicLogin::Token {
            username,
            token: token.to_owned(),
            salt: salt.to_owned(),
        }),
        (None, Some(_), None) => Err(err(10, "Required parameter is missing: s.")),
        (None, None, Some(_)) => Err(err(10, "Required parameter is missing: t.")),
        (None, None, None) => Err(err(
            10,
            "Required parameter is missing: p, or t and s, or apiKey.",
        )),
    }
}

/// `enc:` followed by the password's UTF-8 bytes in hex, or the password itself.
fn decode_enc(p: &str) -> Result<String, SubsonicError> {
    let Some(hex_text) = p.strip_prefix("enc:") else {
        return Ok(p.to_owned());
    };
    hex::decode(hex_text)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| err(40, "The password after enc: is not hexadecimal UTF-8."))
}

/// What a token login's salt may be used again for: the same stream, cover or download (a player
/// asking for another range of the same URL). Every other request is its own.
pub(crate) fn target(method: &str, p: &Params) -> Option<String> {
    matches!(method, "stream" | "download" | "getCoverArt")
        .then(|| format!("{method} {}", p.get("id").unwrap_or("")))
}

/// The Subsonic error for a refused login.
pub(crate) fn refused(e: AccountsError, login: &SubsonicLogin) -> SubsonicError {
    let api_key = matches!(login, SubsonicLogin::ApiKey(_));
    match e {
        AccountsError::InvalidApiKey => err(44, "Invalid API key."),
        AccountsError::InvalidCredentials | AccountsError::Unauthenticated if api_key => {
            err(44, "Invalid API key.")
        }
        AccountsError::InvalidCredentials | AccountsError::Unauthenticated => {
            err(40, USE_AN_APP_PASSWORD)
        }
        AccountsError::SaltReused => err(
            40,
            "This token and salt were already used: send a new random salt with every request.",
        ),
        AccountsError::Throttled { retry_after_secs } => err(
            40,
            &format!("Too many failed sign-ins. Try again in {retry_after_secs} seconds."),
        ),
        AccountsError::SignedOut { reason, by_device } => {
            let why = signed_out(reason, by_device.as_deref());
            err(if api_key { 44 } else { 40 }, &why)
        }
        AccountsError::AccountDisabled => err(40, "This account is disabled."),
        other => crate::refusal::from_accounts(other),
    }
}

/// Why this device no longer has access, for its app to show.
fn signed_out(reason: SignOutReason, by: Option<&str>) -> String {
    let text = clef_http::signed_out_message_by(reason, by);
    format!("{text} Create a new app password on the Devices page to sign this app in again.")
}
