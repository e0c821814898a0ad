//! The errors a Subsonic client is told, by their protocol code. Every failure on `/rest` ends as
//! one of these, answered with HTTP 200 and `status="failed"`, as the protocol wants.

/// A Subsonic error: its code and a message meant for the person using the client. Messages name
/// what was wrong (a parameter, an id) and never carry a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Subsonic error {code}: {message}")]
pub struct SubsonicError {
    pub code: u32,
    pub message: String,
    /// Where the person can read how to fix it (OpenSubsonic `helpUrl`), e.g. how to get an API
    /// key when a login mechanism is refused.
    pub help_url: Option<String>,
}

impl SubsonicError {
    fn new(code: u32, message: impl Into<String>) -> SubsonicError {
        SubsonicError {
            code,
            message: message.into(),
            help_url: None,
        }
    }

    /// Adds the OpenSubsonic `helpUrl`.
    pub fn with_help_url(mut self, url: impl Into<String>) -> SubsonicError {
        self.help_url = Some(url.into());
        self
    }

    /// 0: anything without a code of its own, such as a malformed parameter.
    pub fn generic(message: impl Into<String>) -> SubsonicError {
        SubsonicError::new(0, message)
    }

    /// 10: a required parameter is missing; the message names it.
    pub fn missing_parameter(name: &str) -> SubsonicError {
        SubsonicError::new(10, format!("Required parameter is missing: {name}"))
    }

    /// 20: the client speaks an older protocol than the server can answer.
    pub fn client_too_old(client: &str, server: &str) -> SubsonicError {
        SubsonicError::new(
            20,
            format!(
                "Incompatible Subsonic REST protocol version {client}: client must upgrade \
                 (server speaks {server})"
            ),
        )
    }

    /// 30: the client speaks a newer protocol than the server knows.
    pub fn server_too_old(client: &str, server: &str) -> SubsonicError {
        SubsonicError::new(
            30,
            format!(
                "Incompatible Subsonic REST protocol version {client}: server must upgrade \
                 (server speaks {server})"
            ),
        )
    }

    /// 40: the login was refused.
    pub fn wrong_credentials() -> SubsonicError {
        SubsonicError::new(40, "Wrong username or password")
    }

    /// 41: salted-token logins (`t` and `s`) are not accepted.
    pub fn token_auth_not_supported() -> SubsonicError {
        SubsonicError::new(41, "Token authentication not supported")
    }

    /// 42: this way of logging in is not accepted (`what` says which).
    pub fn auth_mechanism_not_supported(what: &str) -> SubsonicError {
        SubsonicError::new(
            42,
            format!("Provided authentication mechanism not supported: {what}"),
        )
    }

    /// 43: more than one way of logging in was given (an API key with `u`, say).
    pub fn conflicting_auth() -> SubsonicError {
        SubsonicError::new(
            43,
            "Multiple conflicting authentication mechanisms provided",
        )
    }

    /// 44: the API key is unknown or revoked.
    pub fn invalid_api_key() -> SubsonicError {
        SubsonicError::new(44, "Invalid API key")
    }

    /// 50: the user may not do this.
    pub fn not_authorized(what: &str) -> SubsonicError {
        SubsonicError::new(
            50,
            format!("User is not authorized for the given operation: {what}"),
        )
    }

    /// 70: nothing has this id; `what` says what was looked for ("album", "song").
    pub fn not_found(what: &str, id: &str) -> SubsonicError {
        SubsonicError::new(
            70,
            format!("The requested data was not found: {what} {id:?}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages_say_what_went_wrong() {
        let e = SubsonicError::missing_parameter("id");
        assert_eq!(e.code, 10);
        assert!(e.message.contains("id"));
        let e = SubsonicError::not_found("album", "abc");
        assert_eq!(e.code, 70);
        assert!(e.message.contains("album") && e.message.contains("abc"));
        let codes: Vec<u32> = [
            SubsonicError::generic("x"),
            SubsonicError::client_too_old("1.0.0", "1.16.1"),
            SubsonicError::server_too_old("9.0.0", "1.16.1"),
            SubsonicError::wrong_credentials(),
            SubsonicError::token_auth_not_supported(),
            SubsonicError::auth_mechanism_not_supported("p"),
            SubsonicError::conflicting_auth(),
            SubsonicError::invalid_api_key(),
            SubsonicError::not_authorized("x"),
        ]
        .iter()
        .map(|e| e.code)
        .collect();
        assert_eq!(codes, [0, 20, 30, 40, 41, 42, 43, 44, 50]);
        let e = SubsonicError::auth_mechanism_not_supported("t").with_help_url("https://x/");
        assert_eq!(e.help_url.as_deref(), Some("https://x/"));
    }
}
