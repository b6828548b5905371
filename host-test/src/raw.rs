//! Servers on 127.0.0.1 that work below HTTP's level, for what the fake
//! server cannot do: a proxy that records every byte it is sent, and a
//! server that answers one byte at a time. Each serves until dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Accepts connections on 127.0.0.1 and hands each to `serve` on a thread
/// of its own, until dropped.
struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    fn start(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let serve = Arc::new(serve);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    let serve = serve.clone();
                    std::thread::spawn(move || serve(stream));
                }
            }
        });
        Ok(Listener {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads what `stream` sends until it stops for `quiet` or closes, into `seen`.
fn record(stream: &mut TcpStream, seen: &Mutex<Vec<u8>>, quiet: Duration) {
    let _ = stream.set_read_timeout(Some(quiet));
    let mut buffer = [0; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buffer) {
        seen.lock().unwrap().extend_from_slice(&buffer[..n]);
    }
}

/// A forward proxy that accepts every `CONNECT`, answers `200`, and then
/// records what the client sends through the tunnel (a TLS handshake, or a
/// request in clear text) without forwarding it anywhere.
pub struct RecordingProxy {
    listener: Listener,
    seen: Arc<Mutex<Vec<u8>>>,
    connections: Arc<AtomicUsize>,
}

impl RecordingProxy {
    pub fn start() -> std::io::Result<Self> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (log, count) = (seen.clone(), connections.clone());
        let listener = Listener::start(move |mut stream| {
            count.fetch_add(1, Ordering::SeqCst);
            let quiet = Duration::from_millis(500);
            let _ = stream.set_read_timeout(Some(quiet));
            // The request head, byte by byte, so nothing after it is consumed.
            let mut head = Vec::new();
            let mut byte = [0];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            log.lock().unwrap().extend_from_slice(&head);
            if head.starts_with(b"CONNECT ") {
                let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                record(&mut stream, &log, quiet);
            } else {
                let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            }
        })?;
        Ok(RecordingProxy {
            listener,
            seen,
            connections,
        })
    }

    /// `http://127.0.0.1:port`
    pub fn url(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// Every byte clients sent, connections one after the other.
    pub fn seen(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// How many connections were made to the proxy.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A server that answers every request `200` with a long body, sent one
/// byte every `interval`: a connection that never stalls long enough for a
/// read timeout, and never ends.
pub struct DribblingServer {
    listener: Listener,
    requests: Arc<AtomicUsize>,
}

impl DribblingServer {
    pub fn start(interval: Duration) -> std::io::Result<Self> {
        let requests = Arc::new(AtomicUsize::new(0));
        let count = requests.clone();
        let listener = Listener::start(move |mut stream| {
            let mut head = Vec::new();
            let mut byte = [0];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            count.fetch_add(1, Ordering::SeqCst);
            let mut answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{".to_vec();
            // Until the client goes away (or an hour, should it never).
            for _ in 0..(3600 * 1000 / interval.as_millis().max(1)) {
                if stream.write_all(&answer).is_err() {
                    return;
                }
                answer = b" ".to_vec();
                std::thread::sleep(interval);
            }
        })?;
        Ok(DribblingServer { listener, requests })
    }

    /// `http://127.0.0.1:port`
    pub fn origin(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// How many requests reached the server.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}
