//! The connector's `settings` and `log`, exported on top of
//! `wasi:cli/environment` and `wasi:cli/stderr`, so that stock runtimes
//! (`wasmtime serve -S cli --env ...`, `wasmtime run --env ...`, Spin's
//! `environment`) configure the connector with the CLI's variables:
//!
//! | variable | meaning |
//! |---|---|
//! | `MDE_CLOUD` | `commercial` (default), `us`, `eu`, `uk`, `au`, `swa`, `ina`, `gcc`, `gcc-high`, `dod` or `custom` |
//! | `MDE_API_BASE`, `MDE_LOGIN_HOST`, `MDE_SCOPE` | a custom cloud's hosts and scope (custom only) |
//! | `MDE_TOKEN` | a bearer token, or: |
//! | `MDE_TENANT_ID`, `MDE_CLIENT_ID`, `MDE_CLIENT_SECRET` | client credentials |
//! | `MDE_LOG` | the least severe log record written to stderr: `debug`, `info`, `warn` (default), `error` |
//! | `MDE_TIMEOUT` | seconds the wasi:http adapter lets each request wait to connect, for its first byte and between bytes (default 30) |
//! | `MDE_CACHE_TTL` | seconds the proxy serves an answer again (default 900; `0` turns its cache off) |
//! | `MDE_CACHE_ENTRIES` | answers the proxy keeps at most (default 10,000), the least recently used out |
//!
//! An empty variable counts as unset. Plain `http://` is allowed only to a
//! loopback host (a test server). The pure part below is tested natively; the
//! exports are in `guest` (wasm32 only).

wit_bindgen::generate!({ world: "settings-from-env", path: "../wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;
/// `MDE_TIMEOUT`, as the wasi:http adapter reads it: one definition.
#[path = "../../wasi-http/src/timeout.rs"]
pub mod timeout;

use exports::mde::connector::settings as wit;
use mde_connector::connector::Level;
use mde_connector::environment::{self, CLIENT_SECRET, TENANT_ID, TOKEN};
use mde_connector::secrets::Secrets;
use mde_connector::settings::Settings;

pub const LOG: &str = "MDE_LOG";
pub const CACHE_TTL: &str = "MDE_CACHE_TTL";
pub const CACHE_ENTRIES: &str = "MDE_CACHE_ENTRIES";
/// The most answers `MDE_CACHE_ENTRIES` may ask to keep.
pub const MAX_CACHE_ENTRIES: u32 = 1_000_000;

/// What the environment configures.
#[derive(Debug)]
pub struct FromEnv {
    pub settings: Settings,
    /// Records less severe than this are not written.
    pub log_level: Level,
    /// `MDE_TIMEOUT`, checked here so that it is reported before a lookup.
    pub timeout_seconds: u64,
    pub cache: Cache,
}

/// The proxy's cache as the environment sizes it; `None` where unset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cache {
    pub ttl_seconds: Option<u64>,
    pub entries: Option<u32>,
}

/// Reads and checks the settings in `vars` (the environment, in order; a
/// later duplicate wins). The error says which variables are wrong and why,
/// never a secret's value.
pub fn read(vars: &[(String, String)]) -> Result<FromEnv, String> {
    let var = |name: &str| value(vars, name).map(str::to_owned);
    let auth = environment::auth(var)?.ok_or_else(|| {
        format!("no credentials: set {TOKEN}, or {TENANT_ID}, MDE_CLIENT_ID and {CLIENT_SECRET}")
    })?;
    let settings = Settings {
        cloud: environment::cloud(var)?,
        auth,
    };
    // The connector checks these again at each lookup (plain http only to
    // loopback among them); checking them here lets a service report them
    // before it makes one.
    settings.cloud.endpoints()?;
    settings.auth.check()?;
    let log_level = match value(vars, LOG) {
        None => Level::Warn,
        Some(name) => Level::named(name).ok_or_else(|| {
            format!("{LOG} {name:?} is not a level: expected debug, info, warn or error")
        })?,
    };
    Ok(FromEnv {
        settings,
        log_level,
        timeout_seconds: timeout::timeout_seconds(value(vars, timeout::TIMEOUT))?,
        cache: cache(vars)?,
    })
}

/// `MDE_CACHE_TTL` and `MDE_CACHE_ENTRIES`, each a whole number.
pub fn cache(vars: &[(String, String)]) -> Result<Cache, String> {
    let whole = |name: &str, expected: &str| -> Result<Option<u64>, String> {
        let Some(text) = value(vars, name) else {
            return Ok(None);
        };
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<u64>().ok())
            .flatten()
            .map(Some)
            .ok_or_else(|| format!("{name} {text:?} is not {expected}"))
    };
    let ttl_seconds = whole(
        CACHE_TTL,
        "a time to live: expected whole seconds (0 turns the cache off)",
    )?;
    let expected =
        format!("a number of answers: expected a whole number from 0 to {MAX_CACHE_ENTRIES}");
    let entries = whole(CACHE_ENTRIES, &expected)?
        .map(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_CACHE_ENTRIES)
                .ok_or_else(|| format!("{CACHE_ENTRIES} \"{n}\" is not {expected}"))
        })
        .transpose()?;
    Ok(Cache {
        ttl_seconds,
        entries,
    })
}

fn value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The secrets in `vars`, for the core's scrubber (which finds them raw, in
/// any percent-encoding or JSON-escaped): `scrub` takes them out of a text.
pub fn secrets(vars: &[(String, String)]) -> Secrets {
    let mut secrets = Secrets::default();
    for name in [TOKEN, CLIENT_SECRET] {
        if let Some(secret) = value(vars, name) {
            secrets.add(secret);
        }
    }
    secrets
}

// The WIT record the connector reads, by the core's one conversion.
mde_connector::settings_to_wit!(exports::mde::connector::settings);

/// The WIT record the connector reads.
pub fn config(settings: &Settings) -> wit::Config {
    settings.into()
}

/// `settings.client-assertion`: never one here. A certificate's private key
/// never enters a component, and this adapter reads no files; the error
/// names what this runtime supports instead.
pub fn client_assertion(_audience: &str) -> Result<String, String> {
    Err(format!(
        "the stock-runtime settings (settings-from-env) make no client assertions: \
         a private key never enters a component. Here, set {TOKEN}, or {TENANT_ID}, \
         MDE_CLIENT_ID and {CLIENT_SECRET}; for a certificate, a federated token or a \
         managed identity, run `mde-connector serve`"
    ))
}

/// What `settings.get` returns when the environment is unusable: a custom
/// cloud with no hosts, which the connector refuses as invalid settings
/// before sending anything. (The reason goes to stderr, and a router asks
/// `environment-settings.problem` first.)
pub fn unusable() -> wit::Config {
    wit::Config {
        cloud: wit::Cloud::Custom(wit::CustomCloud {
            api_base: String::new(),
            login_host: String::new(),
            scope: String::new(),
        }),
        auth: wit::Auth::HostManaged,
    }
}

/// One log record as a line of stderr: the core's
/// [`mde_connector::log_line::log_line`], as every
/// host prints the component's records.
pub fn log_line(level: Level, event: &str, message: &str) -> String {
    let mut line = mde_connector::log_line::log_line(level, event, message);
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use mde_connector::environment::{API_BASE, CLIENT_ID, CLOUD, LOGIN_HOST, SCOPE};
    use mde_connector::settings::{Auth, ClientCredentials, Cloud, Endpoints, Geo};

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn problem(pairs: &[(&str, &str)]) -> String {
        read(&env(pairs)).unwrap_err()
    }

    const TOKEN_ONLY: (&str, &str) = (TOKEN, "t0ken");

    #[test]
    fn every_cloud_by_its_cli_name() {
        let clouds = [
            ("commercial", Cloud::Commercial),
            ("us", Cloud::Geo(Geo::Us)),
            ("eu", Cloud::Geo(Geo::Eu)),
            ("uk", Cloud::Geo(Geo::Uk)),
            ("au", Cloud::Geo(Geo::Au)),
            ("swa", Cloud::Geo(Geo::Swa)),
            ("ina", Cloud::Geo(Geo::Ina)),
            ("gcc", Cloud::Gcc),
            ("gcc-high", Cloud::GccHigh),
            ("dod", Cloud::Dod),
        ];
        for (name, cloud) in clouds {
            let read = read(&env(&[(CLOUD, name), TOKEN_ONLY])).unwrap();
            assert_eq!(read.settings.cloud, cloud, "{name}");
        }
        // Unset and empty mean commercial.
        for vars in [env(&[TOKEN_ONLY]), env(&[(CLOUD, ""), TOKEN_ONLY])] {
            assert_eq!(read(&vars).unwrap().settings.cloud, Cloud::Commercial);
        }
        for vars in [
            &[(CLOUD, "azure"), TOKEN_ONLY][..],
            &[(CLOUD, "azure"), (API_BASE, "https://a"), TOKEN_ONLY],
        ] {
            assert!(
                problem(vars)
                    .starts_with(r#"MDE_CLOUD "azure" is not a cloud: expected commercial, us,"#)
            );
        }
    }

    #[test]
    fn a_custom_cloud_needs_all_three_and_only_it_takes_them() {
        let custom = |api: &str| {
            env(&[
                (CLOUD, "custom"),
                (API_BASE, api),
                (LOGIN_HOST, "https://login.example.test/"),
                (SCOPE, "https://api.example.test/.default"),
                TOKEN_ONLY,
            ])
        };
        let read_ = read(&custom("https://API.example.test")).unwrap();
        assert_eq!(
            read_.settings.cloud,
            Cloud::Custom(Endpoints {
                api_base: "https://API.example.test".into(),
                login_host: "https://login.example.test/".into(),
                scope: "https://api.example.test/.default".into(),
            })
        );
        assert_eq!(
            problem(&[(CLOUD, "custom"), (API_BASE, "https://a"), TOKEN_ONLY]),
            "MDE_CLOUD=custom needs MDE_API_BASE, MDE_LOGIN_HOST and MDE_SCOPE; missing: MDE_LOGIN_HOST, MDE_SCOPE"
        );
        assert_eq!(
            problem(&[
                (CLOUD, "eu"),
                (SCOPE, "s"),
                (API_BASE, "https://a"),
                TOKEN_ONLY
            ]),
            "MDE_API_BASE, MDE_SCOPE set, but MDE_API_BASE, MDE_LOGIN_HOST and MDE_SCOPE are for MDE_CLOUD=custom only (MDE_CLOUD is eu)"
        );
        // The core's own checks of a custom cloud apply.
        assert!(read(&custom("https://a/path")).unwrap_err().contains("'/'"));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let with = |api: &str, login: &str| {
            read(&env(&[
                (CLOUD, "custom"),
                (API_BASE, api),
                (LOGIN_HOST, login),
                (SCOPE, "s/.default"),
                TOKEN_ONLY,
            ]))
        };
        for origin in [
            "http://127.0.0.1:8080",
            "http://127.8.9.10",
            "http://localhost:1",
            "http://LOCALHOST",
            "http://[::1]:9000",
        ] {
            assert!(with(origin, origin).is_ok(), "{origin}");
        }
        for origin in [
            "http://10.0.0.1:8080",
            "http://api.example.test",
            "http://localhost.example.test",
            "http://[::2]",
            "http://127.0.0.1.nip.io",
        ] {
            // The core's rule, with its words.
            let e = with(origin, "https://login.example.test").unwrap_err();
            assert!(e.starts_with("api base"), "{origin}: {e}");
            assert!(e.contains("plain http is only for a loopback"), "{e}");
            let e = with("https://api.example.test", origin).unwrap_err();
            assert!(e.starts_with("login host"), "{origin}: {e}");
        }
    }

    #[test]
    fn no_client_assertion_and_the_error_names_what_this_runtime_supports() {
        let e =
            client_assertion("https://login.microsoftonline.com/t/oauth2/v2.0/token").unwrap_err();
        for named in [
            "MDE_TOKEN",
            "MDE_CLIENT_SECRET",
            "private key never enters",
            "mde-connector serve",
        ] {
            assert!(e.contains(named), "{named}: {e}");
        }
    }

    #[test]
    fn a_token_or_all_three_credentials_never_both() {
        let creds = [
            (TENANT_ID, "contoso.onmicrosoft.com"),
            (CLIENT_ID, "client"),
            (CLIENT_SECRET, "S3CRET"),
        ];
        assert_eq!(
            read(&env(&creds)).unwrap().settings.auth,
            Auth::ClientCredentials(ClientCredentials {
                tenant_id: "contoso.onmicrosoft.com".into(),
                client_id: "client".into(),
                client_secret: "S3CRET".into(),
            })
        );
        assert_eq!(
            read(&env(&[TOKEN_ONLY])).unwrap().settings.auth,
            Auth::BearerToken("t0ken".into())
        );
        let both = problem(&[TOKEN_ONLY, creds[0]]);
        assert_eq!(
            both,
            "both MDE_TOKEN and MDE_TENANT_ID are set: set MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET, not both"
        );
        assert_eq!(
            problem(&[]),
            "no credentials: set MDE_TOKEN, or MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET"
        );
        assert_eq!(
            problem(&[creds[2], (TENANT_ID, "")]),
            "client credentials need MDE_TENANT_ID, MDE_CLIENT_ID and MDE_CLIENT_SECRET; missing: MDE_TENANT_ID, MDE_CLIENT_ID"
        );
        // The core's checks of credentials apply, without echoing a secret.
        let bad_token = problem(&[(TOKEN, "S3CRET\r\nX-Evil: 1")]);
        assert!(bad_token.contains("byte 7"), "{bad_token}");
        assert!(!bad_token.contains("S3CRET"));
        assert!(problem(&[(TENANT_ID, "a/b"), creds[1], creds[2]]).contains("tenant id"));
        for e in [both, problem(&[creds[2]])] {
            assert!(!e.contains("S3CRET") && !e.contains("t0ken"), "{e}");
        }
    }

    #[test]
    fn the_last_duplicate_wins() {
        let vars = env(&[(CLOUD, "eu"), TOKEN_ONLY, (CLOUD, "gcc")]);
        assert_eq!(read(&vars).unwrap().settings.cloud, Cloud::Gcc);
    }

    #[test]
    fn log_level() {
        assert_eq!(read(&env(&[TOKEN_ONLY])).unwrap().log_level, Level::Warn);
        assert_eq!(
            read(&env(&[TOKEN_ONLY, (LOG, "debug")])).unwrap().log_level,
            Level::Debug
        );
        assert!(problem(&[TOKEN_ONLY, (LOG, "loud")]).contains("MDE_LOG \"loud\" is not a level"));
        assert_eq!(
            log_line(Level::Warn, "result-cap-reached", "a\u{1b}[2Jb"),
            "mde-connector warn result-cap-reached: a\\u{1b}[2Jb\n"
        );
    }

    #[test]
    fn timeout_and_cache_by_their_variables_and_a_bad_value_named() {
        let read_ = read(&env(&[TOKEN_ONLY])).unwrap();
        assert_eq!(read_.timeout_seconds, timeout::DEFAULT_TIMEOUT_SECONDS);
        assert_eq!(read_.cache, Cache::default());
        let read_ = read(&env(&[
            TOKEN_ONLY,
            (timeout::TIMEOUT, "5"),
            (CACHE_TTL, "0"),
            (CACHE_ENTRIES, "1000000"),
        ]))
        .unwrap();
        assert_eq!(read_.timeout_seconds, 5);
        assert_eq!(
            read_.cache,
            Cache {
                ttl_seconds: Some(0),
                entries: Some(1_000_000)
            }
        );
        assert_eq!(
            problem(&[TOKEN_ONLY, (timeout::TIMEOUT, "0")]),
            "MDE_TIMEOUT \"0\" is not a timeout: expected whole seconds from 1 to 3600 (default 30)"
        );
        for ttl in ["-1", "+5", "1.5", "15m", "18446744073709551616"] {
            assert_eq!(
                problem(&[TOKEN_ONLY, (CACHE_TTL, ttl)]),
                format!(
                    "MDE_CACHE_TTL {ttl:?} is not a time to live: expected whole seconds (0 turns the cache off)"
                )
            );
        }
        for entries in ["1000001", "-1", "x", "99999999999999999999"] {
            assert_eq!(
                problem(&[TOKEN_ONLY, (CACHE_ENTRIES, entries)]),
                format!(
                    "MDE_CACHE_ENTRIES {entries:?} is not a number of answers: expected a whole number from 0 to 1000000"
                )
            );
        }
        // Empty counts as unset, as for every variable.
        assert_eq!(
            cache(&env(&[(CACHE_TTL, ""), (CACHE_ENTRIES, "")])),
            Ok(Cache::default())
        );
    }

    #[test]
    fn secrets_are_redacted_as_given_and_form_encoded() {
        let vars = env(&[
            (TOKEN, "token-0123456789"),
            (CLIENT_SECRET, "secret+a/b~c d"),
        ]);
        let secrets = secrets(&vars);
        assert_eq!(
            secrets.scrub(
                "x secret+a/b~c d y client_secret=secret%2Ba%2Fb%7Ec+d&z token-0123456789".into()
            ),
            "x [redacted] y client_secret=[redacted]&z [redacted]"
        );
        assert_eq!(secrets.scrub("nothing here".into()), "nothing here");
        assert!(super::secrets(&env(&[(TOKEN, "")])).is_empty());
    }

    #[test]
    fn unusable_settings_are_refused_by_the_core() {
        let wit::Cloud::Custom(custom) = unusable().cloud else {
            panic!("a custom cloud");
        };
        let cloud = Cloud::Custom(Endpoints {
            api_base: custom.api_base,
            login_host: custom.login_host,
            scope: custom.scope,
        });
        assert_eq!(cloud.endpoints().unwrap_err(), "api base is empty");
    }
}
