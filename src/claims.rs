//! A token's claims, read without trusting them: the payload of a JWT, for
//! `check` and for the hints of a `401`. The signature is not verified (the
//! API does that); nothing here decides anything on a claim's word alone.
//! The Rust host decodes a managed-identity token with the same code.

use serde::Deserialize;
use serde_json::value::RawValue;

/// What `check` reports of a token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// `tid`: the tenant.
    pub tenant_id: Option<String>,
    /// `appid` (v1 tokens) or `azp` (v2).
    pub app_id: Option<String>,
    /// `aud`: the API the token is for.
    pub audience: Option<String>,
    /// `roles`: the application roles granted.
    pub roles: Vec<String>,
    /// `exp`: seconds since the Unix epoch.
    pub expires_at: Option<i64>,
}

/// The most of a token read: Entra ID's are a few KB.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The claims of `token`, a JWT (`header.payload.signature`). The error
/// says what is wrong with its shape and never quotes the token.
pub fn decode(token: &str) -> Result<Claims, String> {
    // Raw values read one by one: a claim of an unexpected type is left
    // out rather than failing the rest (and `serde_json::Value` would add
    // tens of KB to the component).
    #[derive(Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        tid: Option<&'a RawValue>,
        #[serde(borrow)]
        appid: Option<&'a RawValue>,
        #[serde(borrow)]
        azp: Option<&'a RawValue>,
        #[serde(borrow)]
        aud: Option<&'a RawValue>,
        #[serde(borrow)]
        roles: Option<&'a RawValue>,
        #[serde(borrow)]
        exp: Option<&'a RawValue>,
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(format!("the token is longer than {MAX_TOKEN_BYTES} bytes"));
    }
    let mut parts = token.trim().split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT (three dot-separated parts)".into());
    };
    let bytes = base64url(payload).ok_or("the token's payload is not base64url")?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "the token's payload is not UTF-8")?;
    let payload: Payload = serde_json::from_str(text)
        .map_err(|_| "the token's payload is not a JSON object".to_owned())?;
    let one = |v: Option<&RawValue>| -> Option<String> {
        let raw = v?.get();
        serde_json::from_str::<String>(raw).ok().or_else(|| {
            // `aud` may be a list; the first is the one that matters here.
            serde_json::from_str::<Vec<String>>(raw)
                .ok()
                .and_then(|list| list.into_iter().next())
        })
    };
    let roles = payload.roles.map_or_else(Vec::new, |raw| {
        serde_json::from_str::<Vec<String>>(raw.get())
            .ok()
            .or_else(|| {
                serde_json::from_str::<String>(raw.get())
                    .ok()
                    .map(|r| vec![r])
            })
            .unwrap_or_default()
    });
    Ok(Claims {
        tenant_id: one(payload.tid),
        app_id: one(payload.appid).or_else(|| one(payload.azp)),
        audience: one(payload.aud),
        roles,
        expires_at: payload
            .exp
            .and_then(|raw| serde_json::from_str::<i64>(raw.get()).ok()),
    })
}

/// Base64url, with or without padding; `None` for any other character.
pub fn base64url(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Base64url without padding, as JWTs write their parts.
pub fn base64url_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The cloud whose API a token's `aud` names, by the `--cloud` name
/// (`commercial`, `gcc`, `gcc-high`); `None` for an audience that is no
/// Defender for Endpoint API's. GCC High and DoD share one audience:
/// `gcc-high` stands for both.
pub fn audience_cloud(audience: &str) -> Option<&'static str> {
    let aud = audience.trim_end_matches('/').to_ascii_lowercase();
    let host = aud
        .strip_prefix("https://")
        .unwrap_or(&aud)
        .split('/')
        .next()
        .unwrap_or_default();
    match host {
        // WindowsDefenderATP's application id is its audience in v1 tokens.
        "fc780465-2017-40d4-a0c5-307022471b92"
        | "api.securitycenter.microsoft.com"
        | "api.security.microsoft.com"
        | "securitycenter.onmicrosoft.com" => Some("commercial"),
        h if h.ends_with(".api.security.microsoft.com") => Some("commercial"),
        "api-gcc.securitycenter.microsoft.us" | "api-gcc.security.microsoft.us" => Some("gcc"),
        "api-gov.securitycenter.microsoft.us" | "api-gov.security.microsoft.us" => Some("gcc-high"),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unsigned JWT carrying `payload` (test tokens need no signature:
    /// nothing here verifies one).
    pub(crate) fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            base64url_encode(br#"{"alg":"none","typ":"JWT"}"#),
            base64url_encode(payload.as_bytes())
        )
    }

    #[test]
    fn reads_the_claims_of_a_v1_and_a_v2_token() {
        let v1 = jwt(
            r#"{"aud":"https://api.securitycenter.microsoft.com","tid":"t-1","appid":"app-1","roles":["Machine.Read.All","Ip.Read.All"],"exp":1767225600}"#,
        );
        let claims = decode(&v1).unwrap();
        assert_eq!(claims.tenant_id.as_deref(), Some("t-1"));
        assert_eq!(claims.app_id.as_deref(), Some("app-1"));
        assert_eq!(claims.roles, ["Machine.Read.All", "Ip.Read.All"]);
        assert_eq!(claims.expires_at, Some(1_767_225_600));
        let v2 = jwt(r#"{"aud":["x"],"azp":"app-2"}"#);
        let claims = decode(&v2).unwrap();
        assert_eq!(claims.app_id.as_deref(), Some("app-2"));
        assert_eq!(claims.audience.as_deref(), Some("x"));
        assert!(claims.roles.is_empty());
    }

    #[test]
    fn base64url_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"\xff\xfe\xfd\x00"] {
            assert_eq!(base64url(&base64url_encode(bytes)).unwrap(), bytes);
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn a_token_that_is_not_a_jwt_is_refused_without_being_quoted() {
        for bad in ["opaque-token-value", "a.b", "a.!!!.c", "a.b.c.d"] {
            let e = decode(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
        assert!(decode(&jwt("[1]")).is_err());
    }

    #[test]
    fn audiences_name_their_cloud() {
        assert_eq!(
            audience_cloud("https://api-gov.securitycenter.microsoft.us"),
            Some("gcc-high")
        );
        assert_eq!(
            audience_cloud("https://api-gcc.securitycenter.microsoft.us/"),
            Some("gcc")
        );
        assert_eq!(
            audience_cloud("https://api.securitycenter.microsoft.com"),
            Some("commercial")
        );
        assert_eq!(audience_cloud("https://graph.microsoft.com"), None);
    }
}
