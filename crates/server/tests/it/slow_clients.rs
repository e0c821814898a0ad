//! Slow and idle clients cannot hold the server: half-sent requests time out, idle keep-alive
//! connections close, one address cannot take every connection, and normal requests are served
//! while a thousand half-open connections are held.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use clef_testkit::{Options, TestServer};
use futures::future::join_all;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

fn loopback(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, i))
}

/// Opens a connection from `from` and sends the first half of a request's headers.
async fn half_open(server: SocketAddr, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    let mut s = socket.connect(server).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    s
}

/// Reads until the server closes the connection (end of stream or reset); `None` if it is still
/// open after `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_requests_are_served_while_a_thousand_half_open_connections_are_held() {
    let s = TestServer::start_with(Options {
        listen: Some(|l| l.header_timeout = Duration::from_secs(3)),
        ..Options::default()
    })
    .await;
    // 1,000 half-sent requests from ten addresses (each under the per-address cap).
    let opened = Instant::now();
    let mut held = Vec::new();
    for chunk in 0..10u8 {
        let from = loopback(10 + chunk);
        held.extend(join_all((0..100).map(|_| half_open(s.addr, from))).await);
    }
    assert_eq!(held.len(), 1000);
    // A normal request from elsewhere is answered while they are all held.
    let t = Instant::now();
    let r = s
        .client_from(loopback(2))
        .get(s.url("/healthz"))
        .send()
        .await;
    let answered_in = t.elapsed();
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        opened.elapsed() < Duration::from_secs(3),
        "the half-open connections were still within their header time"
    );
    println!("a normal request with 1,000 half-open connections held: answered in {answered_in:?}");
    // The server closes every one of them once the header time is up, and gives them nothing.
    let closes = join_all(
        held.iter_mut()
            .map(|c| closed_within(c, Duration::from_secs(20))),
    )
    .await;
    let closed = closes.iter().filter(|c| c.is_some()).count();
    println!(
        "closed by the server within the bound: {closed} of 1000, after {:?}",
        opened.elapsed()
    );
    assert_eq!(closed, 1000);
    assert!(
        closes
            .iter()
            .flatten()
            .all(|got| !got.starts_with(b"HTTP/1.1 200")),
        "a half-sent request is never answered as if complete"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let s = TestServer::start_with(Options {
        listen: Some(|l| l.header_timeout = Duration::from_secs(1)),
        ..Options::default()
    })
    .await;
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "the whole answer came: {answer}");
    // Nothing more is sent; the server closes the connection after its idle time.
    let rest = closed_within(&mut c, Duration::from_secs(15)).await;
    assert_eq!(rest, Some(Vec::new()), "closed, with nothing more sent");
}

#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let s = TestServer::start_with(Options {
        listen: Some(|l| l.max_per_address = 20),
        ..Options::default()
    })
    .await;
    let from = loopback(9);
    let mut conns = Vec::new();
    for _ in 0..30 {
        conns.push(half_open(s.addr, from).await);
    }
    // The ten beyond the cap are closed at once, unanswered.
    let mut refused = 0;
    for c in conns.iter_mut().skip(20) {
        assert_eq!(
            closed_within(c, Duration::from_secs(5)).await,
            Some(Vec::new())
        );
        refused += 1;
    }
    assert_eq!(refused, 10);
    // The twenty within it are served once their requests are complete.
    for c in conns.iter_mut().take(20) {
        c.write_all(b"Connection: close\r\n\r\n").await.unwrap();
        let got = closed_within(c, Duration::from_secs(5)).await.unwrap();
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&got)
        );
    }
    // Another address was never held back.
    let r = s
        .client_from(loopback(3))
        .get(s.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
