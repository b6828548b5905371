//! Settings from `MDE_*` variables: one reading for every host that takes
//! them (the CLI, where flags stand in for the cloud's variables; the
//! `settings-from-env` component of the stock-runtime artifacts).
//!
//! | variable | meaning |
//! |---|---|
//! | `MDE_CLOUD` | `commercial` (default), `us`, `eu`, `uk`, `au`, `swa`, `ina`, `gcc`, `gcc-high`, `dod` or `custom` |
//! | `MDE_API_BASE`, `MDE_LOGIN_HOST`, `MDE_SCOPE` | a custom cloud's hosts and scope (custom only) |
//! | `MDE_TOKEN` | a bearer token, or: |
//! | `MDE_TENANT_ID`, `MDE_CLIENT_ID`, `MDE_CLIENT_SECRET` | client credentials |
//!
//! An empty variable counts as unset. Errors name the variables, never a
//! secret's value.

use crate::settings::{Auth, ClientCredentials, Cloud, Endpoints, Geo};

pub const CLOUD: &str = "MDE_CLOUD";
pub const API_BASE: &str = "MDE_API_BASE";
pub const LOGIN_HOST: &str = "MDE_LOGIN_HOST";
pub const SCOPE: &str = "MDE_SCOPE";
pub const TOKEN: &str = "MDE_TOKEN";
pub const TENANT_ID: &str = "MDE_TENANT_ID";
pub const CLIENT_ID: &str = "MDE_CLIENT_ID";
pub const CLIENT_SECRET: &str = "MDE_CLIENT_SECRET";

/// The clouds by name, as `MDE_CLOUD` and `--cloud` spell them; `custom`
/// takes its hosts from the custom-cloud variables.
pub const CLOUD_NAMES: [&str; 11] = [
    "commercial",
    "us",
    "eu",
    "uk",
    "au",
    "swa",
    "ina",
    "gcc",
    "gcc-high",
    "dod",
    "custom",
];

/// A cloud with a table entry, by its name in [`CLOUD_NAMES`].
pub fn cloud_named(name: &str) -> Option<Cloud> {
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

/// The cloud `var` names (`MDE_CLOUD`, and a custom cloud's three
/// variables, which no other cloud takes). Its hosts are checked when used
/// ([`Cloud::endpoints`]).
pub fn cloud(var: impl Fn(&str) -> Option<String>) -> Result<Cloud, String> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let name = var(CLOUD).unwrap_or_else(|| "commercial".to_owned());
    let custom_only = [API_BASE, LOGIN_HOST, SCOPE];
    if name != "custom" {
        let cloud = cloud_named(&name).ok_or_else(|| {
            format!(
                "{CLOUD} {name:?} is not a cloud: expected {}",
                CLOUD_NAMES.join(", ")
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
    let given = |n: &str| var(n).unwrap_or_default();
    Ok(Cloud::Custom(Endpoints {
        api_base: given(API_BASE),
        login_host: given(LOGIN_HOST),
        scope: given(SCOPE),
    }))
}

/// The credentials `var` names: `MDE_TOKEN`, or all three client-credential
/// variables, never both; `None` when none is set.
pub fn auth(var: impl Fn(&str) -> Option<String>) -> Result<Option<Auth>, String> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let credentials = [TENANT_ID, CLIENT_ID, CLIENT_SECRET];
    let given: Vec<&str> = credentials
        .into_iter()
        .filter(|n| var(n).is_some())
        .collect();
    let either = format!("{TOKEN}, or {TENANT_ID}, {CLIENT_ID} and {CLIENT_SECRET}");
    match (var(TOKEN), given.len()) {
        (Some(token), 0) => Ok(Some(Auth::BearerToken(token))),
        (Some(_), _) => Err(format!(
            "both {TOKEN} and {} are set: set {either}, not both",
            given.join(", ")
        )),
        (None, 0) => Ok(None),
        (None, 3) => Ok(Some(Auth::ClientCredentials(ClientCredentials {
            tenant_id: var(TENANT_ID).unwrap_or_default(),
            client_id: var(CLIENT_ID).unwrap_or_default(),
            client_secret: var(CLIENT_SECRET).unwrap_or_default(),
        }))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn every_named_cloud_is_read_and_custom_needs_its_three_parts() {
        assert_eq!(cloud(vars(&[])), Ok(Cloud::Commercial));
        for name in CLOUD_NAMES.iter().filter(|n| **n != "custom") {
            assert_eq!(
                cloud(vars(&[(CLOUD, name)])),
                Ok(cloud_named(name).unwrap())
            );
        }
        assert_eq!(cloud(vars(&[(CLOUD, "eu")])), Ok(Cloud::Geo(Geo::Eu)));
        let e = cloud(vars(&[(CLOUD, "mars")])).unwrap_err();
        assert!(e.contains("\"mars\" is not a cloud"), "{e}");
        let e = cloud(vars(&[(CLOUD, "custom"), (API_BASE, "https://a")])).unwrap_err();
        assert!(e.ends_with("missing: MDE_LOGIN_HOST, MDE_SCOPE"), "{e}");
        let e = cloud(vars(&[(CLOUD, "eu"), (SCOPE, "s")])).unwrap_err();
        assert!(e.starts_with("MDE_SCOPE set, but"), "{e}");
        let custom = cloud(vars(&[
            (CLOUD, "custom"),
            (API_BASE, "https://a"),
            (LOGIN_HOST, "https://l"),
            (SCOPE, "s"),
        ]));
        assert_eq!(
            custom,
            Ok(Cloud::Custom(Endpoints {
                api_base: "https://a".into(),
                login_host: "https://l".into(),
                scope: "s".into(),
            }))
        );
    }

    #[test]
    fn a_token_or_all_three_credentials_never_both_and_no_secret_in_errors() {
        assert_eq!(auth(vars(&[])), Ok(None));
        assert_eq!(auth(vars(&[(TOKEN, "")])), Ok(None));
        assert_eq!(
            auth(vars(&[(TOKEN, "t0ken-value")])),
            Ok(Some(Auth::BearerToken("t0ken-value".into())))
        );
        let three = [
            (TENANT_ID, "contoso.onmicrosoft.com"),
            (CLIENT_ID, "client"),
            (CLIENT_SECRET, "SECRET-VALUE"),
        ];
        assert!(matches!(
            auth(vars(&three)),
            Ok(Some(Auth::ClientCredentials(_)))
        ));
        let e = auth(vars(&[three[0], three[2]])).unwrap_err();
        assert!(e.ends_with("missing: MDE_CLIENT_ID"), "{e}");
        let mut both = three.to_vec();
        both.push((TOKEN, "TOKEN-VALUE"));
        let e = auth(vars(&both)).unwrap_err();
        assert!(e.starts_with("both MDE_TOKEN and MDE_TENANT_ID"), "{e}");
        assert!(!e.contains("SECRET-VALUE") && !e.contains("TOKEN-VALUE"));
    }
}
