//! The real network: HTTPS through ureq and rustls.

use crate::bindings::{Request, Response, TransportError};
use crate::gateway::Origin;
use crate::transport::Transport;
use std::io::Read;
use std::time::Duration;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// How the live transport connects.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub connect_timeout: Duration,
    /// For the whole exchange, body included (the gateway may cut it to
    /// what is left of a lookup's time).
    pub overall_timeout: Duration,
    /// Most bytes of a body, after decompression.
    pub max_body: u64,
    /// The proxy for destinations other than loopback.
    pub proxy: ProxySetting,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            connect_timeout: Duration::from_secs(10),
            overall_timeout: Duration::from_secs(60),
            max_body: crate::gateway::MAX_BODY,
            proxy: ProxySetting::FromEnvironment,
        }
    }
}

/// Where requests to hosts other than loopback go. Loopback destinations
/// never go through a proxy, whatever the setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    /// The first of `ALL_PROXY`, `HTTPS_PROXY` and `HTTP_PROXY` (either
    /// case) that is set, with the exceptions in `NO_PROXY`; direct when
    /// none is set.
    FromEnvironment,
    /// Always direct.
    Direct,
    /// This proxy (`http://` or `https://`, tunnelling with `CONNECT`).
    Url(String),
}

/// The variables [`ProxySetting::FromEnvironment`] reads, in order (ureq's).
pub const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

impl ProxySetting {
    /// The proxy, or `None` for direct connections. A setting that is not
    /// a usable proxy URL is an error, never a reason to connect directly.
    fn resolve(&self) -> Result<Option<ureq::Proxy>, String> {
        match self {
            ProxySetting::Direct => Ok(None),
            ProxySetting::Url(url) => checked_proxy("the proxy setting", url).map(Some),
            ProxySetting::FromEnvironment => {
                for name in PROXY_VARIABLES {
                    if let Ok(value) = std::env::var(name)
                        && !value.is_empty()
                    {
                        checked_proxy(name, &value)?;
                    }
                }
                // Every variable set is usable, so ureq takes the first of
                // them, with NO_PROXY.
                Ok(ureq::Proxy::try_from_env())
            }
        }
    }
}

/// `url` as a proxy ureq can use. The message names `source` but never
/// repeats the URL: it may hold a password.
fn checked_proxy(source: &str, url: &str) -> Result<ureq::Proxy, String> {
    let proxy = ureq::Proxy::new(url).map_err(|_| {
        format!("{source} is not a proxy URL (http://host:port or https://host:port)")
    })?;
    match proxy.protocol() {
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https => Ok(proxy),
        other => Err(format!(
            "{source} names a {other:?} proxy; only http:// and https:// (CONNECT) proxies are supported"
        )),
    }
}

/// Resolves names as usual but keeps only loopback addresses: a name the
/// policy took for loopback (`localhost`) can never lead the socket elsewhere.
#[derive(Debug, Default)]
struct LoopbackOnly(DefaultResolver);

impl Resolver for LoopbackOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut kept = self.empty();
        for addr in self.0.resolve(uri, config, timeout)?.iter() {
            if addr.ip().is_loopback() {
                kept.push(*addr);
            }
        }
        if kept.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(kept)
    }
}

/// Sends requests for real. Certificates are always verified (webpki roots);
/// redirects are not followed, so an answer can never lead the host past its
/// allow-list. Loopback destinations are reached directly, never through a
/// proxy, and only at loopback addresses; plain `http://` goes nowhere else.
/// Every other destination is reached over HTTPS, through the proxy if one
/// is set.
pub struct LiveTransport {
    /// Loopback destinations: no proxy, loopback addresses only.
    loopback: ureq::Agent,
    /// Everything else: HTTPS only, through the proxy if any.
    remote: ureq::Agent,
    overall_timeout: Duration,
    max_body: u64,
}

impl LiveTransport {
    /// Fails when the proxy setting is not usable.
    pub fn new(options: &LiveOptions) -> Result<Self, String> {
        let proxy = options.proxy.resolve()?;
        let config = || {
            ureq::Agent::config_builder()
                .timeout_connect(Some(options.connect_timeout))
                .timeout_global(Some(options.overall_timeout))
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("mde-connector-host/", env!("CARGO_PKG_VERSION")))
        };
        let loopback = ureq::Agent::with_parts(
            config().proxy(None).build(),
            DefaultConnector::default(),
            LoopbackOnly::default(),
        );
        let remote = config().proxy(proxy).https_only(true).build().new_agent();
        Ok(LiveTransport {
            loopback,
            remote,
            overall_timeout: options.overall_timeout,
            max_body: options.max_body,
        })
    }

    /// The agent for `request`'s destination, or why none may take it.
    fn agent_for(&self, request: &Request) -> Result<&ureq::Agent, TransportError> {
        let origin = Origin::parse(&request.url).map_err(TransportError::Refused)?;
        if origin.is_loopback() {
            Ok(&self.loopback)
        } else if origin.scheme == "https" {
            Ok(&self.remote)
        } else {
            Err(TransportError::Refused(format!(
                "plain http goes only straight to a loopback address, not to {} nor through a proxy",
                origin.host
            )))
        }
    }
}

impl Transport for LiveTransport {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        self.send_within(request, self.overall_timeout)
    }

    fn send_within(
        &mut self,
        request: &Request,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        let agent = self.agent_for(request)?;
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
        let http_request = agent
            .configure_request(http_request)
            .timeout_global(Some(limit.min(self.overall_timeout)))
            .build();
        let mut answer = agent.run(http_request).map_err(transport_error)?;

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
            body: body.into(),
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
        .map_err(read_error)?;
    if body.len() as u64 > cap {
        return Err(TransportError::TooLarge(cap));
    }
    Ok(body)
}

/// A failure while reading a body: ureq's own timeout comes wrapped.
fn read_error(e: std::io::Error) -> TransportError {
    let ureq_timeout = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)));
    if ureq_timeout || e.kind() == std::io::ErrorKind::TimedOut {
        return TransportError::Timeout;
    }
    TransportError::Connection(format!("reading the answer: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::time::Duration as UreqDuration;

    fn resolve(url: &str) -> Result<Vec<std::net::SocketAddr>, ureq::Error> {
        let timeout = NextTimeout {
            after: UreqDuration::NotHappening,
            reason: ureq::Timeout::Global,
            ..NextTimeout::default()
        };
        LoopbackOnly::default()
            .resolve(&url.parse().unwrap(), &Default::default(), timeout)
            .map(|addrs| addrs.iter().copied().collect())
    }

    #[test]
    fn the_direct_agent_reaches_loopback_addresses_only() {
        assert_eq!(
            resolve("http://127.0.0.1:8080/").unwrap(),
            ["127.0.0.1:8080".parse().unwrap()]
        );
        assert!(
            resolve("http://localhost:8080/")
                .unwrap()
                .iter()
                .all(|a| a.ip().is_loopback())
        );
        // An address elsewhere (no lookup needed: it is one) is not reached.
        assert!(matches!(
            resolve("http://192.0.2.1:8080/"),
            Err(ureq::Error::HostNotFound)
        ));
    }
}
