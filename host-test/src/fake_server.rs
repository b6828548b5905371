//! A minimal HTTP/1.1 server on 127.0.0.1 in front of any backend, so the
//! live client can be tested end to end against the fake tenant. One
//! connection at a time, `Connection: close`; for tests, not for production.

use mde_connector_host::runtime::{Body, Method, Request, Response};
use mde_connector_host::transport::Transport;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Most bytes of a request head or body the server reads.
const MAX_REQUEST: usize = 1024 * 1024;

/// How the server encodes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    /// zlib-wrapped deflate, as the live service sends when offered.
    Deflate,
    Gzip,
}

/// Serves until dropped.
pub struct FakeServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start<B: Transport + Send + 'static>(
        backend: Arc<Mutex<B>>,
        encoding: Encoding,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    // A broken client connection affects only itself.
                    let _ = serve(stream, addr, &backend, encoding);
                }
            }
        });
        Ok(FakeServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:port`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve<B: Transport>(
    stream: TcpStream,
    addr: SocketAddr,
    backend: &Mutex<B>,
    encoding: Encoding,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = if parts.next() == Some("POST") {
        Method::Post
    } else {
        Method::Get
    };
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    let mut offered = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            match name.as_str() {
                "content-length" => length = value.parse().unwrap_or(0).min(MAX_REQUEST),
                "accept-encoding" => offered = value.clone(),
                // Transport details, not part of what the component asked for.
                "host" | "user-agent" | "connection" => continue,
                _ => {}
            }
            if name != "content-length" && name != "accept-encoding" {
                headers.push((name, value));
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request = Request {
        method,
        url: format!("http://{addr}{target}"),
        headers,
        body: (method == Method::Post).then_some(body),
    };
    let answer = backend
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(&request)
        .unwrap_or_else(|e| Response {
            status: 502,
            headers: Vec::new(),
            body: Body::Text(format!("{e:?}")),
        });
    write_response(stream, answer, encoding, &offered)
}

fn write_response(
    mut stream: TcpStream,
    answer: Response,
    encoding: Encoding,
    offered: &str,
) -> std::io::Result<()> {
    use flate2::Compression;
    let (name, body) = match encoding {
        Encoding::Deflate if offered.contains("deflate") => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
            e.write_all(answer.body.as_bytes())?;
            (Some("deflate"), e.finish()?)
        }
        Encoding::Gzip if offered.contains("gzip") => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
            e.write_all(answer.body.as_bytes())?;
            (Some("gzip"), e.finish()?)
        }
        _ => (None, answer.body.into_bytes()),
    };
    let mut head = format!("HTTP/1.1 {} Fake\r\n", answer.status);
    for (n, v) in &answer.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(name) = name {
        head.push_str(&format!("Content-Encoding: {name}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}
