//! The live transport and proxies: loopback destinations are reached
//! directly, never through a proxy; plain http goes nowhere but straight to
//! loopback; every other destination goes through the proxy; a proxy
//! setting that cannot be used is an error, not a direct connection.

mod common;

use common::*;
use host_test::fake_server::{Encoding, FakeServer};
use host_test::raw::RecordingProxy;
use mde_connector_host::live::{LiveOptions, LiveTransport, ProxySetting};
use mde_connector_host::runtime::{Method, Request, TransportError};
use mde_connector_host::transport::{FnTransport, Transport};
use std::sync::{Arc, Mutex};

fn through(proxy: &RecordingProxy) -> LiveTransport {
    LiveTransport::new(&LiveOptions {
        proxy: ProxySetting::Url(proxy.url()),
        ..LiveOptions::default()
    })
    .unwrap()
}

fn post(url: String, body: &str) -> Request {
    Request {
        method: Method::Post,
        url,
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(body.as_bytes().to_vec()),
    }
}

#[test]
fn loopback_is_reached_directly_even_with_a_proxy_set() {
    let proxy = RecordingProxy::start().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let server = FakeServer::start(
        Arc::new(Mutex::new(FnTransport(move |r: &Request| {
            log.lock().unwrap().push(r.body.clone().unwrap_or_default());
            Ok(json(200, "{}"))
        }))),
        Encoding::Identity,
    )
    .unwrap();
    let mut live = through(&proxy);
    let body = "client_secret=CANARY-SECRET-7f3a";
    for origin in [
        server.origin(),
        server.origin().replace("127.0.0.1", "localhost"),
    ] {
        let answer = live.send(&post(format!("{origin}/t/oauth2/v2.0/token"), body));
        assert_eq!(answer.unwrap().status, 200, "{origin}");
    }
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(proxy.connections(), 0);
    assert!(!proxy.seen().contains("CANARY"));
}

#[test]
fn plain_http_elsewhere_is_refused_before_any_connection() {
    let proxy = RecordingProxy::start().unwrap();
    let mut live = through(&proxy);
    for url in [
        "http://api.example.test/t/oauth2/v2.0/token",
        "http://192.0.2.1:8080/t/oauth2/v2.0/token",
    ] {
        let refused = live.send(&post(url.into(), "client_secret=CANARY-SECRET-7f3a"));
        let Err(TransportError::Refused(why)) = refused else {
            panic!("{url}: expected a refusal, got {refused:?}")
        };
        assert!(
            why.starts_with("plain http goes only straight to a loopback address"),
            "{why}"
        );
    }
    assert_eq!(proxy.connections(), 0);
}

#[test]
fn https_elsewhere_goes_through_the_proxy() {
    let proxy = RecordingProxy::start().unwrap();
    let mut live = through(&proxy);
    // The stand-in proxy accepts the tunnel, then drops the TLS handshake.
    let failed = live.send(&post(
        "https://api.example.test/t/oauth2/v2.0/token".into(),
        "client_secret=CANARY-SECRET-7f3a",
    ));
    assert!(failed.is_err(), "{failed:?}");
    let seen = proxy.seen();
    assert!(
        seen.starts_with("CONNECT api.example.test:443 HTTP/1.1\r\n"),
        "{seen}"
    );
    // What went through the tunnel was TLS, not the request in clear.
    assert!(!seen.contains("CANARY"), "{seen}");
}

#[test]
fn a_proxy_setting_that_cannot_be_used_is_an_error() {
    for (url, expected) in [
        (
            "http://[bad",
            "the proxy setting is not a proxy URL (http://host:port or https://host:port)",
        ),
        (
            "http://user:pa55word@[bad",
            "the proxy setting is not a proxy URL (http://host:port or https://host:port)",
        ),
        (
            "socks5://127.0.0.1:1080",
            "the proxy setting names a Socks5 proxy; only http:// and https:// (CONNECT) proxies are supported",
        ),
        (
            "ftp://127.0.0.1:21",
            "the proxy setting is not a proxy URL (http://host:port or https://host:port)",
        ),
    ] {
        let made = LiveTransport::new(&LiveOptions {
            proxy: ProxySetting::Url(url.into()),
            ..LiveOptions::default()
        });
        assert_eq!(made.err().as_deref(), Some(expected), "{url}");
    }
}
