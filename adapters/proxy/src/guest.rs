//! The export itself: one incoming request, one [`crate::handle`]. wasm32 only.

use crate::exports::wasi::http::incoming_handler::Guest;
use crate::wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use crate::wasi::io::streams::{OutputStream, StreamError};
use crate::{Reply, handle};
use mde_router::Composed;

struct Component;
crate::export!(Component with_types_in crate);

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = method_name(&request.method());
        let path_with_query = request.path_with_query().unwrap_or_else(|| "/".into());
        respond(response_out, handle(&method, &path_with_query, &Composed));
    }
}

fn method_name(method: &Method) -> String {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
    .to_owned()
}

/// Writes `reply`. Once the head is set the platform owns the exchange: a
/// failed body write can only end it early, which the platform reports.
fn respond(response_out: ResponseOutparam, reply: Reply) {
    let entries: Vec<(String, Vec<u8>)> = reply
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let headers = match Fields::from_list(&entries) {
        Ok(headers) => headers,
        // Only if a value could not be a header: answer without a body.
        Err(_) => Fields::new(),
    };
    let response = OutgoingResponse::new(headers);
    // The statuses `handle` gives are all valid.
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(response_out, Ok(response));
    if let Ok(stream) = body.write()
        && write_all(&stream, &reply.body).is_err()
    {
        return;
    }
    let _ = OutgoingBody::finish(body, None);
}

/// As much at a time as the platform takes, then one flush.
/// (`blocking-write-and-flush` takes 4096 bytes a call: a 500-machine answer,
/// a megabyte, took 65 ms under wasmtime serve that way against 29 ms so.)
fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let permitted = match stream.check_write()? {
            0 => {
                stream.subscribe().block();
                continue;
            }
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let (now, later) = bytes.split_at(permitted.min(bytes.len()));
        stream.write(now)?;
        bytes = later;
    }
    stream.blocking_flush()
}
