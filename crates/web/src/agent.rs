//! A browser's description of itself, from its User-Agent: "Chrome on Linux", "Firefox 133".

use axum::http::header::USER_AGENT;
use axum::http::HeaderMap;
use clef_accounts::{AccountsError, DeviceInfo};
use clef_core::{DeviceName, DeviceType};

/// Browser tokens, most specific first: Edge and Opera also say "Chrome", Chrome also "Safari".
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
];

/// Systems, most specific first: Android also says "Linux", iOS also "Mac OS X".
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// The browser's name and major version.
fn browser(ua: &str) -> Option<(&'static str, Option<&str>)> {
    let found = BROWSERS
        .iter()
        .find_map(|(token, name)| ua.find(token).map(|at| (*name, &ua[at + token.len()..])));
    let (name, rest) = match found {
        Some(f) => f,
        // Safari names its version in "Version/18.1 ... Safari/605".
        None if ua.contains("Safari/") => (
            "Safari",
            ua.find("Version/")
                .map(|at| &ua[at + "Version/".len()..])
                .unwrap_or(""),
        ),
        None => return None,
    };
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let major = &rest[..end];
    Some((name, (!major.is_empty()).then_some(major)))
}

fn system(ua: &str) -> Option<&'static str> {
    SYSTEMS
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name)
}

/// The default device name: "Chrome on Linux".
pub fn device_name(ua: &str) -> String {
    match (browser(ua), system(ua)) {
        (Some((b, _)), Some(os)) => format!("{b} on {os}"),
        (Some((b, _)), None) => b.to_owned(),
        (None, Some(os)) => format!("Browser on {os}"),
        (None, None) => "Web browser".to_owned(),
    }
}

/// The client: "Chrome 131".
pub fn client(ua: &str) -> String {
    match browser(ua) {
        Some((b, Some(v))) => format!("{b} {v}"),
        Some((b, None)) => b.to_owned(),
        None => "Web browser".to_owned(),
    }
}

/// The device a sign-in from this browser creates; `name` as typed, or derived when blank.
pub fn device_info(name: &str, headers: &HeaderMap) -> Result<DeviceInfo, AccountsError> {
    let ua = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = if name.trim().is_empty() {
        device_name(ua)
    } else {
        name.to_owned()
    };
    Ok(DeviceInfo {
        name: DeviceName::parse(&name)?,
        device_type: DeviceType::Web,
        client: client(ua),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
    const FIREFOX_WIN: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
    const EDGE_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
    const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

    #[test]
    fn names_common_browsers() {
        assert_eq!(device_name(CHROME_LINUX), "Chrome on Linux");
        assert_eq!(client(CHROME_LINUX), "Chrome 131");
        assert_eq!(device_name(HEADLESS), "Headless Chrome on Linux");
        assert_eq!(device_name(FIREFOX_WIN), "Firefox on Windows");
        assert_eq!(client(FIREFOX_WIN), "Firefox 133");
        assert_eq!(device_name(SAFARI_IPHONE), "Safari on iOS");
        assert_eq!(client(SAFARI_IPHONE), "Safari 18");
        assert_eq!(device_name(EDGE_MAC), "Edge on macOS");
        assert_eq!(device_name(CHROME_ANDROID), "Chrome on Android");
    }

    #[test]
    fn unknown_agents_still_get_a_name() {
        assert_eq!(device_name(""), "Web browser");
        assert_eq!(client("curl/8.0"), "Web browser");
        assert_eq!(device_name("Something (Linux)"), "Browser on Linux");
    }

    #[test]
    fn typed_names_win_and_are_validated() {
        let mut h = HeaderMap::new();
        h.insert(USER_AGENT, CHROME_LINUX.parse().expect("a valid header"));
        assert_eq!(
            device_info("  ", &h).expect("derived").name.as_str(),
            "Chrome on Linux"
        );
        assert_eq!(
            device_info("Kitchen laptop", &h)
                .expect("typed")
                .name
                .as_str(),
            "Kitchen laptop"
        );
        assert_eq!(
            device_info("Kitchen laptop", &h)
                .expect("typed")
                .device_type,
            DeviceType::Web
        );
        assert!(device_info(&"x".repeat(65), &h).is_err());
    }
}
