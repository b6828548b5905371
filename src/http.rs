//! The HTTP exchange as the core sees it: plain data, no I/O.

/// The methods the connector uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request for the host to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// What the host got back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why the host could not deliver a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Refused(String),
    Timeout,
    Connection(String),
    TooLarge(u64),
    Other(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Refused(why) => write!(f, "refused by host policy: {why}"),
            TransportError::Timeout => f.write_str("timed out"),
            TransportError::Connection(why) => write!(f, "connection failed: {why}"),
            TransportError::TooLarge(limit) => write!(f, "answer larger than {limit} bytes"),
            TransportError::Other(why) => f.write_str(why),
        }
    }
}
