//! A server that reflects requests: what the CLI prints holds no secret in
//! any format.

mod common;

use common::{cli, printed};
use host_test::canary::reflected::{SECRET, TOKEN, leaked};

/// The CLI prints what the component gives it: recorded reflections of the
/// canaries, in the encodings the requests carried them, never reach its output.
#[test]
fn the_cli_prints_no_reflected_secret_in_any_format() {
    let form = "grant_type=client_credentials&client_id=client&client_secret=CANARY%7Esecret%2Bvalue%2F7f3a+x&scope=x";
    let token =
        serde_json::json!({"status": 200, "body": format!(r#"{{"access_token":"{TOKEN}"}}"#)});
    let reflections = [
        vec![
            serde_json::json!({"status": 401, "body": serde_json::json!({
            "error": "invalid_client", "error_description": format!("got {form}")}).to_string()}),
        ],
        vec![serde_json::json!({"status": 404, "body": format!("{form} was not found")})],
        vec![
            token.clone(),
            serde_json::json!({"status": 403, "body": serde_json::json!({
            "error": {"code": "Forbidden", "message": format!("Authorization: Bearer {TOKEN}")}}).to_string()}),
        ],
        vec![
            token,
            serde_json::json!({"status": 200, "body": serde_json::json!({
            "value": [{"id": "a", "computerDnsName": format!("Bearer {TOKEN}"), "x": form}]}).to_string()}),
        ],
    ];
    for (i, replay) in reflections.iter().enumerate() {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("reflected-{}-{i}.json", std::process::id()));
        std::fs::write(&path, serde_json::Value::from(replay.clone()).to_string()).unwrap();
        for format in ["table", "json", "ndjson", "ocsf", "ecs"] {
            let out = cli(
                &[
                    "contoso.com",
                    "--format",
                    format,
                    "--replay",
                    path.to_str().unwrap(),
                ],
                &[
                    ("MDE_TENANT_ID", "contoso.onmicrosoft.com"),
                    ("MDE_CLIENT_ID", "client"),
                    ("MDE_CLIENT_SECRET", SECRET),
                ],
            );
            let printed = printed(&out);
            assert!(!leaked(&printed), "{i} {format}: {printed}");
            assert!(
                printed.contains("[redacted]"),
                "{i} {format}: the reflection was read: {printed}"
            );
        }
        std::fs::remove_file(path).unwrap();
    }
}

/// A token endpoint on loopback that reflects the client secret it was sent
/// in the encodings other clients write: Python's `quote` (which leaves `/`
/// and `~` raw), `quote_plus`, JavaScript's `encodeURIComponent`, and every
/// byte as `%XX` in either case of hex. No form reaches stdout or stderr.
#[test]
fn a_secret_reflected_in_any_percent_encoding_is_never_printed() {
    use host_test::fake_server::{Encoding, FakeServer};
    use host_test::replay::{answer, json};
    use mde_connector_host::runtime::{Request, Response, TransportError};
    use mde_connector_host::transport::Transport;
    use std::sync::{Arc, Mutex};

    const SECRET: &str = "client-secret~with+form/chars";
    /// Letters, digits and `raw` as themselves, every other byte as `%XX`
    /// (`lower`: `%xx`); with no `raw`, every byte.
    fn encode(text: &str, raw: Option<&str>, lower: bool) -> String {
        text.bytes()
            .map(|b| match raw {
                Some(raw) if b.is_ascii_alphanumeric() || raw.as_bytes().contains(&b) => {
                    char::from(b).to_string()
                }
                _ if lower => format!("%{b:02x}"),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    fn forms(secret: &str) -> Vec<String> {
        vec![
            encode(secret, Some("_.-~/"), false),     // Python quote
            encode(secret, Some("_.-~"), false),      // quote_plus, Go QueryEscape
            encode(secret, Some("-_.!~*'()"), false), // encodeURIComponent
            encode(secret, Some("_.-~"), true),       // the same, lower-case hex
            encode(secret, None, false),              // every byte, %XX
            encode(secret, None, true),               // every byte, %xx
        ]
    }
    /// The form's `client_secret`, decoded, reflected in every encoding.
    struct Reflecting;
    impl Transport for Reflecting {
        fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
            let form = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default());
            let sent = form
                .split('&')
                .find_map(|pair| pair.strip_prefix("client_secret="))
                .unwrap_or_default();
            let mut secret = Vec::new();
            let mut bytes = sent.bytes();
            while let Some(b) = bytes.next() {
                secret.push(match b {
                    b'+' => b' ',
                    b'%' => {
                        let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                        u8::from_str_radix(&hex, 16).unwrap_or(b'?')
                    }
                    b => b,
                });
            }
            let reflected = forms(&String::from_utf8_lossy(&secret)).join(" ");
            Ok(if request.url.contains("/plain/") {
                answer(404, &[], format!("no tenant for {reflected}"))
            } else {
                json(
                    400,
                    &serde_json::json!({"error": "invalid_client",
                        "error_description": format!("bad secret: {reflected}")})
                    .to_string(),
                )
            })
        }
    }
    let server = FakeServer::start(Arc::new(Mutex::new(Reflecting)), Encoding::Identity).unwrap();
    let origin = server.origin();
    for (tenant, expected) in [
        ("envelope", "error: unauthorized: "),
        ("plain", "error: invalid-response: "),
    ] {
        let out = cli(
            &[
                "contoso.com",
                "--live",
                "--cloud",
                "custom",
                "--allow-loopback-http",
                "--api-base",
                &origin,
                "--login-host",
                &origin,
                "--scope",
                "https://api.example.test/.default",
            ],
            &[
                ("MDE_TENANT_ID", tenant),
                ("MDE_CLIENT_ID", "client"),
                ("MDE_CLIENT_SECRET", SECRET),
            ],
        );
        let printed = printed(&out);
        assert!(printed.contains(expected), "{tenant}: {printed}");
        assert_eq!(
            printed.matches("[redacted]").count(),
            forms(SECRET).len(),
            "{tenant}: each form was read and redacted: {printed}"
        );
        for form in forms(SECRET) {
            assert!(!printed.contains(&form), "{tenant} leaks {form}: {printed}");
        }
        for piece in ["client-secret", "with%2", "form%2", "%63%6"] {
            assert!(
                !printed.contains(piece),
                "{tenant} leaks {piece}: {printed}"
            );
        }
    }
}
