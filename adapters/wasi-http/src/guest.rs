//! The export itself: one `send` as a `wasi:http` exchange. wasm32 only.

use crate::exports::mde::connector::http::{
    Body, Guest, Method, Request, Response, TransportError,
};
use crate::wasi;
use crate::{CappedBody, MAX_BODY, Url, split_url, transport_error};
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse,
    Method as WasiMethod, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

struct Adapter;
crate::export!(Adapter with_types_in crate);

/// The most bytes asked of the platform in one read or write.
const CHUNK: u64 = 64 * 1024;

impl Guest for Adapter {
    fn send(request: Request) -> Result<Response, TransportError> {
        let url = split_url(&request.url).map_err(TransportError::Other)?;
        let outgoing = outgoing_request(&request, &url)?;
        let body = outgoing
            .body()
            .map_err(|()| other("the request body was already taken"))?;
        // Handle first, then write: a platform may stream the body while it
        // connects, and may not buffer a whole body before `handle`.
        let pending = wasi::http::outgoing_handler::handle(outgoing, options())
            .map_err(|code| transport_error(&code))?;
        let written = write_and_finish(body, request.body.as_deref());
        // A platform that refuses a request may do so before reading its body:
        // its reason, when it gives one, says more than the failed write.
        let response = match (written, wait(&pending)) {
            (_, Ok(Err(code))) => return Err(transport_error(&code)),
            (Err(e), _) => return Err(e),
            (Ok(()), Ok(Ok(response))) => response,
            (Ok(()), Err(())) => return Err(other("the response was already taken")),
        };
        let status = response.status();
        let headers: Vec<(String, String)> = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let capped = CappedBody::new(&headers, MAX_BODY)?;
        let body = response
            .consume()
            .map_err(|()| other("the response body was already taken"))?;
        let bytes = read_body(&body, capped)?;
        // Trailers are not used; dropping the future lets the platform free them.
        drop(IncomingBody::finish(body));
        Ok(Response {
            status,
            headers,
            body: Body::Bytes(bytes),
        })
    }
}

fn outgoing_request(request: &Request, url: &Url<'_>) -> Result<OutgoingRequest, TransportError> {
    let mut entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
        .collect();
    if let Some(body) = &request.body {
        // Without it the platform sends the body chunked, which not every
        // server (or proxy in front of one) takes for a token request.
        entries.push(("content-length".into(), body.len().to_string().into_bytes()));
    }
    let headers =
        Fields::from_list(&entries).map_err(|e| other(&format!("header refused: {e:?}")))?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method {
        Method::Get => WasiMethod::Get,
        Method::Post => WasiMethod::Post,
    };
    let scheme = if url.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_method(&method)
        .map_err(|()| other("method refused"))?;
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| other("scheme refused"))?;
    outgoing
        .set_authority(Some(url.authority))
        .map_err(|()| other(&format!("authority refused: {}", url.authority)))?;
    outgoing
        .set_path_with_query(Some(url.path_with_query))
        .map_err(|()| other(&format!("path refused: {}", url.path_with_query)))?;
    Ok(outgoing)
}

/// Writes the request body, if any, and ends it. On failure the body is
/// dropped unfinished, which tells the platform the request is incomplete.
fn write_and_finish(body: OutgoingBody, bytes: Option<&[u8]>) -> Result<(), TransportError> {
    if let Some(bytes) = bytes {
        let stream = body
            .write()
            .map_err(|()| other("the request body stream was already taken"))?;
        // `blocking-write-and-flush` takes at most 4096 bytes at a time.
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| stream_error(e, "writing the request body"))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(|code| transport_error(&code))
}

/// Blocks until the platform has the response or has given up.
fn wait(pending: &FutureIncomingResponse) -> Result<Result<IncomingResponse, ErrorCode>, ()> {
    loop {
        match pending.get() {
            Some(outcome) => return outcome,
            None => pending.subscribe().block(),
        }
    }
}

/// The body, a chunk at a time, until it ends or passes the cap: what is
/// left unread is dropped with the stream, which ends the exchange.
fn read_body(body: &IncomingBody, mut capped: CappedBody) -> Result<Vec<u8>, TransportError> {
    let stream = body
        .stream()
        .map_err(|()| other("the response body stream was already taken"))?;
    loop {
        match stream.blocking_read(CHUNK) {
            Ok(chunk) => capped.push(&chunk)?,
            Err(StreamError::Closed) => return Ok(capped.into_bytes()),
            Err(e) => return Err(stream_error(e, "reading the response body")),
        }
    }
}

/// `MDE_TIMEOUT` as the request's connect, first-byte and between-bytes
/// timeouts (without them `wasmtime serve` waits up to 600 s on a silent
/// upstream). A bad value is `settings-from-env`'s to report, before any
/// request: here it means the default. A timeout the platform does not
/// support is left to the platform.
#[cfg(feature = "from-environment")]
fn options() -> Option<RequestOptions> {
    use std::sync::OnceLock;
    // The environment is fixed for the instance's life (wasi:cli says so).
    static SECONDS: OnceLock<u64> = OnceLock::new();
    let seconds = *SECONDS.get_or_init(|| {
        let vars = wasi::cli::environment::get_environment();
        let value = vars
            .iter()
            .rev()
            .find(|(name, _)| name == crate::timeout::TIMEOUT)
            .map(|(_, value)| value.as_str());
        crate::timeout::timeout_seconds(value).unwrap_or(crate::timeout::DEFAULT_TIMEOUT_SECONDS)
    });
    let nanoseconds = seconds.saturating_mul(1_000_000_000);
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(nanoseconds));
    let _ = options.set_first_byte_timeout(Some(nanoseconds));
    let _ = options.set_between_bytes_timeout(Some(nanoseconds));
    Some(options)
}

/// The platform's own timeouts.
#[cfg(not(feature = "from-environment"))]
fn options() -> Option<RequestOptions> {
    None
}

fn stream_error(error: StreamError, doing: &str) -> TransportError {
    match error {
        StreamError::Closed => TransportError::Connection(format!("{doing}: stream closed")),
        StreamError::LastOperationFailed(e) => match wasi::http::types::http_error_code(&e) {
            Some(code) => transport_error(&code),
            None => TransportError::Connection(format!("{doing}: {}", e.to_debug_string())),
        },
    }
}

fn other(what: &str) -> TransportError {
    TransportError::Other(what.to_owned())
}
