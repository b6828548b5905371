//! Building the requests the component asks its host to send.

use crate::http::{Method, Request};
use crate::settings::Endpoints;

/// `GET {api}/api/domains/{domain}/machines`. `domain` must come from
/// [`crate::domain::normalize`], which guarantees it is a single path segment.
pub fn machines(endpoints: &Endpoints, domain: &str, bearer: Option<&str>) -> Request {
    get(
        endpoints,
        &format!("/api/domains/{domain}/machines"),
        bearer,
    )
}

/// `GET {api}{path}`: `path` (with its query) from [`crate::routes`], which
/// percent-encodes every value in it.
pub fn get(endpoints: &Endpoints, path: &str, bearer: Option<&str>) -> Request {
    let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
    if let Some(token) = bearer {
        headers.push(("authorization".to_owned(), format!("Bearer {token}")));
    }
    Request {
        method: Method::Get,
        url: format!("{}{path}", endpoints.api_base),
        headers,
        body: None,
    }
}

/// How an application proves itself in a token request.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    /// `client_secret`.
    Secret(&'a str),
    /// `client_assertion` (a signed JWT or a federated token) of type jwt-bearer.
    Assertion(&'a str),
}

/// `client_assertion_type` for a JWT assertion (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The token endpoint: also the audience a client assertion is made for.
pub fn token_url(endpoints: &Endpoints, tenant_id: &str) -> String {
    format!("{}/{tenant_id}/oauth2/v2.0/token", endpoints.login_host)
}

/// The OAuth 2.0 client-credentials grant at the cloud's login host.
pub fn token(endpoints: &Endpoints, tenant_id: &str, client_id: &str, proof: Proof) -> Request {
    let mut fields = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
    ];
    match proof {
        Proof::Secret(secret) => fields.push(("client_secret", secret)),
        Proof::Assertion(assertion) => {
            fields.push(("client_assertion_type", JWT_BEARER));
            fields.push(("client_assertion", assertion));
        }
    }
    fields.push(("scope", endpoints.scope.as_str()));
    let mut body = String::new();
    for (i, (name, value)) in fields.into_iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        body.push_str(name);
        body.push('=');
        form_encode(value, &mut body);
    }
    Request {
        method: Method::Post,
        url: token_url(endpoints, tenant_id),
        headers: vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ],
        body: Some(body.into_bytes()),
    }
}

/// `application/x-www-form-urlencoded`, as the URL Standard defines it.
pub fn form_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_everything_but_the_safe_set() {
        let mut out = String::new();
        form_encode("a b&c=d+é/.~*_-", &mut out);
        assert_eq!(out, "a+b%26c%3Dd%2B%C3%A9%2F.%7E*_-");
    }
}
