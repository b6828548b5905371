//! The real network: HTTPS through ureq and rustls.

use crate::runtime::{Request, Response, TransportError};
use crate::transport::Transport;
use std::io::Read;
use std::time::Duration;

/// How the live transport connects.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub connect_timeout: Duration,
    /// For the whole exchange, body included.
    pub overall_timeout: Duration,
    /// Most bytes of a body, after decompression.
    pub max_body: u64,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            connect_timeout: Duration::from_secs(10),
            overall_timeout: Duration::from_secs(60),
            max_body: 32 * 1024 * 1024,
        }
    }
}

/// Sends requests for real. Certificates are always verified (webpki roots);
/// `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured; redirects are not
/// followed, so an answer can never lead the host past its allow-list.
pub struct LiveTransport {
    agent: ureq::Agent,
    max_body: u64,
}

impl LiveTransport {
    pub fn new(options: &LiveOptions) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.overall_timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(ureq::Proxy::try_from_env())
            .user_agent(concat!("mde-connector-host/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        LiveTransport {
            agent,
            max_body: options.max_body,
        }
    }
}

impl Transport for LiveTransport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url)
            // ureq decodes neither: both are read below, under the size cap.
            .header("accept-encoding", "gzip, deflate");
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let body = request.body.clone().unwrap_or_default();
        let http_request = builder
            .body(body)
            .map_err(|e| TransportError::Other(format!("cannot build the request: {e}")))?;
        let mut answer = self.agent.run(http_request).map_err(transport_error)?;

        let status = answer.status().as_u16();
        let mut headers = Vec::new();
        let mut encoding = None;
        for (name, value) in answer.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == "content-encoding" {
                encoding = Some(value.trim().to_ascii_lowercase());
                continue; // the body below is decoded
            }
            if name == "content-length" {
                continue; // of the encoded body
            }
            headers.push((name.as_str().to_owned(), value));
        }
        let raw = answer.body_mut().as_reader();
        let body = match encoding.as_deref() {
            None | Some("identity") => read_capped(raw, self.max_body)?,
            Some("gzip") | Some("x-gzip") => {
                read_capped(flate2::read::GzDecoder::new(raw), self.max_body)?
            }
            Some("deflate") => {
                // HTTP's "deflate" is zlib-wrapped; some servers send it raw.
                let compressed = read_capped(raw, self.max_body)?;
                match read_capped(
                    flate2::read::ZlibDecoder::new(&compressed[..]),
                    self.max_body,
                ) {
                    Err(TransportError::Connection(_)) => read_capped(
                        flate2::read::DeflateDecoder::new(&compressed[..]),
                        self.max_body,
                    )?,
                    other => other?,
                }
            }
            Some(other) => {
                return Err(TransportError::Other(format!(
                    "the answer uses content encoding {other:?}, which was not offered"
                )));
            }
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Reads at most `cap` bytes; one more is an error, so memory stays bounded
/// whatever the server (or a decompression bomb) sends.
fn read_capped(reader: impl Read, cap: u64) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| TransportError::Connection(format!("reading the answer: {e}")))?;
    if body.len() as u64 > cap {
        return Err(TransportError::TooLarge(cap));
    }
    Ok(body)
}

fn transport_error(e: ureq::Error) -> TransportError {
    match e {
        ureq::Error::Timeout(_) => TransportError::Timeout,
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => TransportError::Timeout,
        ureq::Error::Io(e) => TransportError::Connection(e.to_string()),
        ureq::Error::HostNotFound => TransportError::Connection("host not found".into()),
        ureq::Error::ConnectionFailed => TransportError::Connection("connection failed".into()),
        ureq::Error::Tls(e) => TransportError::Connection(format!("TLS: {e}")),
        ureq::Error::Rustls(e) => TransportError::Connection(format!("TLS: {e}")),
        other => TransportError::Other(other.to_string()),
    }
}
