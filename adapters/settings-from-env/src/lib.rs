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
//!
//! An empty variable counts as unset. Plain `http://` is allowed only to a
//! loopback host (a test server). The pure part below is tested natively; the
//! exports are in `guest` (wasm32 only).

wit_bindgen::generate!({ world: "settings-from-env", path: "../wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;

use exports::mde::connector::log::Level;
use exports::mde::connector::settings as wit;
use mde_connector::settings::{Auth, ClientCredentials, Cloud, Endpoints, Geo, Settings};

pub const CLOUD: &str = "MDE_CLOUD";
pub const API_BASE: &str = "MDE_API_BASE";
pub const LOGIN_HOST: &str = "MDE_LOGIN_HOST";
pub const SCOPE: &str = "MDE_SCOPE";
pub const TOKEN: &str = "MDE_TOKEN";
pub const TENANT_ID: &str = "MDE_TENANT_ID";
pub const CLIENT_ID: &str = "MDE_CLIENT_ID";
pub const CLIENT_SECRET: &str = "MDE_CLIENT_SECRET";
pub const LOG: &str = "MDE_LOG";

/// What the environment configures.
#[derive(Debug)]
pub struct FromEnv {
    pub settings: Settings,
    /// Records less severe than this are not written.
    pub log_level: Level,
}

/// Reads and checks the settings in `vars` (the environment, in order; a
/// later duplicate wins). The error says which variables are wrong and why,
/// never a secret's value.
pub fn read(vars: &[(String, String)]) -> Result<FromEnv, String> {
    let var = |name: &str| value(vars, name);
    let settings = Settings {
        cloud: cloud(&var)?,
        auth: auth(&var)?,
    };
    // The connector checks these again at each lookup (plain http only to
    // loopback among them); checking them here lets a service report them
    // before it makes one.
    settings.cloud.endpoints()?;
    settings.auth.check()?;
    let log_level = match var(LOG) {
        None | Some("warn") => Level::Warn,
        Some("debug") => Level::Debug,
        Some("info") => Level::Info,
        Some("error") => Level::Error,
        Some(other) => {
            return Err(format!(
                "{LOG} {other:?} is not a level: expected debug, info, warn or error"
            ));
        }
    };
    Ok(FromEnv {
        settings,
        log_level,
    })
}

fn value<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
    vars.iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn cloud<'a>(var: &impl Fn(&str) -> Option<&'a str>) -> Result<Cloud, String> {
    let name = var(CLOUD).unwrap_or("commercial");
    let custom_only = [API_BASE, LOGIN_HOST, SCOPE];
    if name != "custom" {
        let cloud = cloud_named(name).ok_or_else(|| {
            format!(
                "{CLOUD} {name:?} is not a cloud: expected commercial, us, eu, uk, au, swa, ina, gcc, gcc-high, dod or custom"
            )
        })?;
        let given: Vec<&str> = custom_only
            .into_iter()
            .filter(|n| var(n).is_some())
            .collect();
        if !given.is_empty() {
            return Err(format!(
                "{} set, but {API_BASE}, {LOGIN_HOST} and {SCOPE} are for {CLOUD}=custom only ({CLOUD} is {name})",
                given.join(", ")
            ));
        }
        return Ok(cloud);
    }
    let missing: Vec<&str> = custom_only
        .into_iter()
        .filter(|n| var(n).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{CLOUD}=custom needs {API_BASE}, {LOGIN_HOST} and {SCOPE}; missing: {}",
            missing.join(", ")
        ));
    }
    let given = |n: &str| var(n).unwrap_or_default().to_owned();
    Ok(Cloud::Custom(Endpoints {
        api_base: given(API_BASE),
        login_host: given(LOGIN_HOST),
        scope: given(SCOPE),
    }))
}

/// A cloud with a table entry, by the CLI's name for it.
fn cloud_named(name: &str) -> Option<Cloud> {
    Some(match name {
        "commercial" => Cloud::Commercial,
        "us" => Cloud::Geo(Geo::Us),
        "eu" => Cloud::Geo(Geo::Eu),
        "uk" => Cloud::Geo(Geo::Uk),
        "au" => Cloud::Geo(Geo::Au),
        "swa" => Cloud::Geo(Geo::Swa),
        "ina" => Cloud::Geo(Geo::Ina),
        "gcc" => Cloud::Gcc,
        "gcc-high" => Cloud::GccHigh,
        "dod" => Cloud::Dod,
        _ => return None,
    })
}

fn auth<'a>(var: &impl Fn(&str) -> Option<&'a str>) -> Result<Auth, String> {
    let credentials = [TENANT_ID, CLIENT_ID, CLIENT_SECRET];
    let given: Vec<&str> = credentials
        .into_iter()
        .filter(|n| var(n).is_some())
        .collect();
    let either = format!("{TOKEN}, or {TENANT_ID}, {CLIENT_ID} and {CLIENT_SECRET}");
    match (var(TOKEN), given.len()) {
        (Some(token), 0) => Ok(Auth::BearerToken(token.to_owned())),
        (Some(_), _) => Err(format!(
            "both {TOKEN} and {} are set: set {either}, not both",
            given.join(", ")
        )),
        (None, 0) => Err(format!("no credentials: set {either}")),
        (None, 3) => Ok(Auth::ClientCredentials(ClientCredentials {
            tenant_id: var(TENANT_ID).unwrap_or_default().to_owned(),
            client_id: var(CLIENT_ID).unwrap_or_default().to_owned(),
            client_secret: var(CLIENT_SECRET).unwrap_or_default().to_owned(),
        })),
        (None, _) => {
            let missing: Vec<&str> = credentials
                .into_iter()
                .filter(|n| !given.contains(n))
                .collect();
            Err(format!(
                "client credentials need {TENANT_ID}, {CLIENT_ID} and {CLIENT_SECRET}; missing: {}",
                missing.join(", ")
            ))
        }
    }
}

/// The secrets in `vars`, as given and as the token request form-encodes them.
pub fn secrets(vars: &[(String, String)]) -> Vec<String> {
    let mut secrets = Vec::new();
    for name in [TOKEN, CLIENT_SECRET] {
        if let Some(secret) = value(vars, name) {
            let mut encoded = String::new();
            mde_connector::request::form_encode(secret, &mut encoded);
            secrets.push(secret.to_owned());
            if encoded != secret {
                secrets.push(encoded);
            }
        }
    }
    // Longest first, so that a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// `text` with every one of `secrets` replaced by `[redacted]`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret, "[redacted]")
    })
}

/// The WIT record the connector reads.
pub fn config(settings: &Settings) -> wit::Config {
    wit::Config {
        cloud: match &settings.cloud {
            Cloud::Commercial => wit::Cloud::Commercial,
            Cloud::Geo(geo) => wit::Cloud::Geo(match geo {
                Geo::Us => wit::Geo::Us,
                Geo::Eu => wit::Geo::Eu,
                Geo::Uk => wit::Geo::Uk,
                Geo::Au => wit::Geo::Au,
                Geo::Swa => wit::Geo::Swa,
                Geo::Ina => wit::Geo::Ina,
            }),
            Cloud::Gcc => wit::Cloud::Gcc,
            Cloud::GccHigh => wit::Cloud::GccHigh,
            Cloud::Dod => wit::Cloud::Dod,
            Cloud::Custom(e) => wit::Cloud::Custom(wit::CustomCloud {
                api_base: e.api_base.clone(),
                login_host: e.login_host.clone(),
                scope: e.scope.clone(),
            }),
        },
        auth: match &settings.auth {
            Auth::HostManaged => wit::Auth::HostManaged,
            Auth::BearerToken(token) => wit::Auth::BearerToken(token.clone()),
            Auth::ClientCredentials(c) => wit::Auth::ClientCredentials(wit::ClientCredentials {
                tenant_id: c.tenant_id.clone(),
                client_id: c.client_id.clone(),
                client_secret: c.client_secret.clone(),
            }),
        },
    }
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

/// Whether a record at `level` is written when the threshold is `least`.
pub fn written(level: Level, least: Level) -> bool {
    let rank = |level: Level| match level {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
    };
    rank(level) >= rank(least)
}

/// One log record as a line of stderr, control characters escaped.
pub fn log_line(level: Level, event: &str, message: &str) -> String {
    let level = match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    };
    let printable = mde_connector::output::printable;
    format!(
        "mde-connector {level} {}: {}\n",
        printable(event),
        printable(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(written(Level::Error, Level::Warn));
        assert!(written(Level::Warn, Level::Warn));
        assert!(!written(Level::Info, Level::Warn));
        assert!(written(Level::Debug, Level::Debug));
        assert_eq!(
            log_line(Level::Warn, "result-cap-reached", "a\u{1b}[2Jb"),
            "mde-connector warn result-cap-reached: a\\u{1b}[2Jb\n"
        );
    }

    #[test]
    fn secrets_are_redacted_as_given_and_form_encoded() {
        let vars = env(&[(TOKEN, "tok"), (CLIENT_SECRET, "a+b/c~d")]);
        let secrets = secrets(&vars);
        assert_eq!(secrets, ["a%2Bb%2Fc%7Ed", "a+b/c~d", "tok"]);
        assert_eq!(
            redact("x a+b/c~d y client_secret=a%2Bb%2Fc%7Ed&z tok", &secrets),
            "x [redacted] y client_secret=[redacted]&z [redacted]"
        );
        assert_eq!(redact("nothing here", &secrets), "nothing here");
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
