//! The identity platform's token answer.

use super::status::error_answer;
use crate::error::{Error, InvalidResponse, Service};
use crate::http::Response;
use serde::Deserialize;

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
