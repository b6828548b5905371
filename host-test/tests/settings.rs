//! Settings the component refuses before it sends anything, and the ones it
//! normalises: through the built component. A cloud the host cannot build
//! its allow-list for is refused by the host first, with the same core
//! check's reason; `wasi_http.rs` shows the component refuses it on a host
//! with no such check.

mod common;

use common::*;
use mde_connector_host::gateway::PolicyOptions;
use mde_connector_host::runtime::mde::connector::types::Error;
use mde_connector_host::{Auth, ClientCredentials, Cloud, Endpoints, Settings};

fn custom(api_base: &str, login_host: &str) -> Cloud {
    Cloud::Custom(Endpoints {
        api_base: api_base.into(),
        login_host: login_host.into(),
        scope: "https://api.example.test/.default".into(),
    })
}

/// Why `settings` are refused: by the host when it makes the instance, or
/// by the component, which then sends nothing.
fn refused(settings: Settings) -> String {
    let made = runtime().instantiate(settings.clone(), Replay::new([]));
    let mut instance = match made {
        Ok(instance) => instance,
        Err(e) => {
            let e = e.to_string();
            return e
                .strip_prefix("invalid-settings: ")
                .unwrap_or_else(|| panic!("{settings:?}: {e}"))
                .to_owned();
        }
    };
    let e = instance
        .domain_machines("contoso.com")
        .unwrap()
        .unwrap_err();
    assert!(
        instance.state().requests.is_empty(),
        "{settings:?}: nothing is sent"
    );
    match e {
        Error::InvalidSettings(why) => why,
        other => panic!("{settings:?}: expected invalid-settings, got {other:?}"),
    }
}

fn with_tenant(tenant: &str) -> Settings {
    settings(Auth::ClientCredentials(ClientCredentials {
        tenant_id: tenant.into(),
        client_id: "client".into(),
        client_secret: "a-client-secret-value".into(),
    }))
}

#[test]
fn a_tenant_id_of_dots_is_refused() {
    for tenant in [".", "..", "../x", "contoso..com", ".contoso.com"] {
        let why = refused(with_tenant(tenant));
        assert!(why.contains("tenant id"), "{tenant}: {why}");
    }
}

#[test]
fn an_invalid_port_is_refused() {
    for base in [
        "http://127.0.0.1:99999",
        "http://127.0.0.1:0",
        "https://api.example.test:https",
        "https://api.example.test:",
        "https://api.example.test:-443",
    ] {
        let why = refused(Settings {
            cloud: custom(base, "https://login.example.test"),
            auth: Auth::HostManaged,
        });
        assert!(
            why.contains("port") || why.contains("junk"),
            "{base}: {why}"
        );
        let why = refused(Settings {
            cloud: custom("https://api.example.test", base),
            auth: Auth::HostManaged,
        });
        assert!(why.starts_with("login host"), "{base}: {why}");
    }
}

#[test]
fn plain_http_is_refused_unless_it_stays_on_this_machine() {
    for remote in [
        "http://api.example.test",
        "http://192.168.1.10:8080",
        "HTTP://API.EXAMPLE.TEST",
        "http://[2001:db8::1]",
        "http://localhost.example.test",
    ] {
        let why = refused(Settings {
            cloud: custom(remote, "https://login.example.test"),
            auth: demo_credentials(),
        });
        assert!(
            why.contains("plain http is only for a loopback"),
            "{remote}: {why}"
        );
    }
    for loopback in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://[::1]:8080",
        "http://LOCALHOST:9",
    ] {
        let loopback_allowed = PolicyOptions {
            allow_loopback_http: true,
            ..passthrough_policy()
        };
        let settings = Settings {
            cloud: custom(loopback, "https://login.example.test"),
            auth: Auth::HostManaged,
        };
        let mut instance = runtime()
            .with_policy(loopback_allowed)
            .instantiate(settings, Replay::new([json(200, r#"{"value":[]}"#)]))
            .unwrap();
        instance.domain_machines("contoso.com").unwrap().unwrap();
        let url = &instance.state().requests[0].url;
        assert_eq!(
            url,
            &format!(
                "{}/api/domains/contoso.com/machines",
                loopback.to_ascii_lowercase()
            )
        );
    }
}

#[test]
fn schemes_and_hosts_are_compared_without_case() {
    let tenant = Tenant::new();
    let mut instance = tenant.instance(Settings {
        cloud: custom("HTTPS://API.EXAMPLE.TEST", "Https://Login.Example.Test/"),
        auth: demo_credentials(),
    });
    instance.domain_machines("contoso.com").unwrap().unwrap();
    let urls: Vec<&str> = instance
        .state()
        .requests
        .iter()
        .map(|r| r.url.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "https://login.example.test/8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b/oauth2/v2.0/token",
            "https://api.example.test/api/domains/contoso.com/machines",
        ]
    );
}

#[test]
fn a_bearer_token_pasted_with_its_prefix_is_refused_and_says_so() {
    for pasted in [
        "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi",
        "bearer eyJ0eXAi",
        "BEARER\teyJ0eXAi",
    ] {
        let why = refused(settings(Auth::BearerToken(pasted.into())));
        assert!(why.contains("starts with \"Bearer \""), "{pasted}: {why}");
        assert!(!why.contains("eyJ0"), "the token is not echoed: {why}");
    }
}

/// `https://user:password@host` as a custom cloud's origin: refused by the
/// host and by the component (the core's check, which `/healthz` reports),
/// and the password is never repeated.
#[test]
fn user_info_in_a_custom_origin_is_refused_and_never_repeated() {
    for (api, login) in [
        (
            "https://user:hunter2-pw@api.example.test",
            "https://login.example.test",
        ),
        (
            "https://api.example.test",
            "http://admin:hunter2-pw@127.0.0.1:8080",
        ),
    ] {
        let why = refused(Settings {
            cloud: custom(api, login),
            auth: Auth::HostManaged,
        });
        assert!(why.contains("holds user info"), "{api} {login}: {why}");
        assert!(!why.contains("hunter2"), "{api} {login}: {why}");
    }
}
