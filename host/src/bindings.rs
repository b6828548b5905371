//! The WIT's bindings for the host (`bindgen!`) and the small helpers on
//! their types. A leaf: every other module of the host uses these types, and
//! this one uses none of them.

wasmtime::component::bindgen!({
    world: "connector",
    path: "../wit",
    additional_derives: [PartialEq, Eq],
});

pub use mde::connector::http::{Body, Method, Request, Response, TransportError};
pub use mde::connector::log::Level;
pub use mde::connector::types::{IpAddress, Machine, VmMetadata};

impl Body {
    /// The body's bytes, however the transport gave them.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Bytes(bytes) => bytes,
            Body::Text(text) => text.as_bytes(),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Bytes(bytes) => bytes,
            Body::Text(text) => text.into_bytes(),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::Bytes(bytes)
    }
}

impl Method {
    /// The method as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// The first header called `name`, compared without case.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Request {
    /// The first header called `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

impl Response {
    /// The first header called `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

// The core's settings as the WIT's (the component converts back).
mde_connector::settings_to_wit!(mde::connector::settings);

impl From<Level> for mde_connector::connector::Level {
    fn from(level: Level) -> Self {
        use mde_connector::connector::Level as Core;
        match level {
            Level::Debug => Core::Debug,
            Level::Info => Core::Info,
            Level::Warn => Core::Warn,
            Level::Error => Core::Error,
        }
    }
}
