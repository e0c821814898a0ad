//! With `public_url` set, a request naming another host (a rebound name) is refused, while the
//! configured name, IP addresses and `localhost` are answered.

use clef_testkit::{Options, TestServer};
use reqwest::StatusCode;

async fn status_for(s: &TestServer, host: &str, path: &str) -> (StatusCode, String) {
    let r = s
        .client()
        .get(s.url(path))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn requests_for_another_host_are_refused() {
    let s = TestServer::start_with(Options {
        public_url: Some("https://music.example.org".into()),
        ..Options::default()
    })
    .await;
    let port = s.addr.port();
    for path in ["/signin", "/api/v1/me", "/healthz"] {
        let (st, body) = status_for(&s, &format!("rebound.example:{port}"), path).await;
        assert_eq!(st, StatusCode::MISDIRECTED_REQUEST, "{path}");
        assert_eq!(body, "This server answers as music.example.org only.\n");
    }
    for host in [
        "music.example.org".to_owned(),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        let (st, _) = status_for(&s, &host, "/signin").await;
        assert_eq!(st, StatusCode::OK, "{host}");
    }
}
