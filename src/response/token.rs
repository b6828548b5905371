//! The identity platform's token answer.

use super::status::error_answer;
use crate::error::{Error, InvalidResponse, Service};
use crate::http::Response;
use serde::Deserialize;

/// The longest access token taken from the identity platform. Entra's
/// tokens are a few KB (a user token's groups claim stops at 200 groups,
/// about 10 KB; this grant's app tokens are 1 to 2 KB), and servers commonly
/// refuse request headers over 8 to 16 KB. A longer one is refused, never
/// kept, scrubbed for or sent: scrubbing for it would cost each answer a pass
/// of its length, and no service would take it.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A token from the identity platform, or why there is none.
pub fn access_token(response: &Response) -> Result<String, Error> {
    if response.status != 200 {
        return Err(error_answer(Service::IdentityPlatform, response));
    }
    #[derive(Deserialize)]
    struct Token {
        access_token: String,
    }
    // A token answer is never quoted: whatever it holds may be a credential.
    let withheld = |reason: String| {
        Error::InvalidResponse(InvalidResponse {
            service: Service::IdentityPlatform,
            status: response.status,
            reason,
            excerpt: "[token answer withheld]".into(),
        })
    };
    let text = std::str::from_utf8(&response.body)
        .map_err(|_| withheld("not a token answer (not UTF-8)".into()))?;
    let token = serde_json::from_str::<Token>(text)
        .map_err(|e| withheld(format!("not a token answer ({})", json_category(&e))))?;
    if token.access_token.is_empty()
        || !token
            .access_token
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(withheld("access_token is not a header-safe token".into()));
    }
    if token.access_token.len() > MAX_TOKEN_LEN {
        return Err(withheld(format!(
            "access_token is {} bytes long; the most taken is {MAX_TOKEN_LEN}",
            token.access_token.len()
        )));
    }
    Ok(token.access_token)
}
/// serde's message may quote the offending value: for a token answer, that
/// value could be a credential, so only the class of the fault is reported.
fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "wrong shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::tests::answer;

    #[test]
    fn a_token_over_16_kib_is_refused() {
        let body = |len| format!(r#"{{"access_token":"{}"}}"#, "t".repeat(len));
        assert_eq!(
            access_token(&answer(200, &body(MAX_TOKEN_LEN)))
                .unwrap()
                .len(),
            MAX_TOKEN_LEN
        );
        let e = access_token(&answer(200, &body(MAX_TOKEN_LEN + 1))).unwrap_err();
        let Error::InvalidResponse(e) = e else {
            panic!("{e:?}")
        };
        assert_eq!(e.service, Service::IdentityPlatform);
        assert_eq!(
            e.reason,
            "access_token is 16385 bytes long; the most taken is 16384"
        );
        assert_eq!(e.excerpt, "[token answer withheld]");
    }

    #[test]
    fn a_token_answer_is_never_quoted() {
        let e =
            access_token(&answer(200, r#"{"access_token": 42, "secret": "CANARY"}"#)).unwrap_err();
        assert!(!format!("{e:?}").contains("CANARY"));
        let e = access_token(&answer(200, r#"{"access_token": "CANARY token"}"#)).unwrap_err();
        assert!(!format!("{e:?}").contains("CANARY"));
        assert_eq!(
            access_token(&answer(
                200,
                r#"{"token_type":"Bearer","access_token":"abc"}"#
            ))
            .unwrap(),
            "abc"
        );
    }
}
