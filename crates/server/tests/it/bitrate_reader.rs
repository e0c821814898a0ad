//! A player that reads an audio stream at the track's bit rate, over a plain socket so that each
//! byte it takes is counted when it takes it (an HTTP client library would read ahead).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// What the reader took, and when.
#[derive(Debug)]
pub struct Reading {
    /// (when, bytes) of every read that returned data, the response head excluded.
    pub reads: Vec<(Instant, usize)>,
    /// Whether the stream ended short of its length (cut) rather than complete.
    pub cut: bool,
}

impl Reading {
    pub fn total(&self) -> u64 {
        self.reads.iter().map(|(_, n)| *n as u64).sum()
    }

    /// Bytes taken after `t`.
    pub fn after(&self, t: Instant) -> u64 {
        self.reads
            .iter()
            .filter(|(at, _)| *at > t)
            .map(|(_, n)| *n as u64)
            .sum()
    }
}

/// Sends `GET path` with `token`, checks the status line, then reads `bytes_per_sec` in 20 slices
/// a second until the stream ends (or `give_up` passes). The returned task yields the reading.
pub async fn open(
    addr: SocketAddr,
    token: &str,
    path: &str,
    bytes_per_sec: usize,
    give_up: Duration,
) -> (u64, JoinHandle<Reading>) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    // The head, byte by byte, so that no audio is taken with it.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(conn.read(&mut b).await.unwrap(), 1, "the server answered");
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("a length")
        .trim()
        .parse()
        .unwrap();
    let slice = (bytes_per_sec / 20).max(1);
    let task = tokio::spawn(async move {
        let mut reads = Vec::new();
        let mut buf = vec![0u8; slice];
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let end = Instant::now() + give_up;
        let mut total = 0u64;
        loop {
            tick.tick().await;
            if Instant::now() > end {
                return Reading { reads, cut: false };
            }
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    return Reading {
                        reads,
                        cut: total < length,
                    }
                }
                Ok(n) => {
                    total += n as u64;
                    reads.push((Instant::now(), n));
                    if total >= length {
                        return Reading { reads, cut: false };
                    }
                }
            }
        }
    });
    (length, task)
}
