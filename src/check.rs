//! `check`: obtain a token with the current settings and say what it
//! permits, from its claims read without trusting them. The token itself
//! never leaves.

use crate::claims::{self, Claims};
use crate::connector::{Connector, Exchange, Host};
use crate::error::{Error, InvalidResponse, Service};
use crate::permissions::Lookup;
use crate::secrets::Secrets;
use crate::settings::{Auth, Settings};

/// What `check` found: where the settings lead, and the token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenReport {
    pub api_base: String,
    /// The identity platform, when the component obtained the token.
    pub login_host: Option<String>,
    pub claims: Claims,
    /// The cloud `aud` names, when it is another than the settings' own.
    pub audience_cloud: Option<String>,
    /// Every lookup, in [`Lookup::ALL`]'s order, and whether the roles permit it.
    pub lookups: Vec<(Lookup, bool)>,
}

impl TokenReport {
    /// The report on `claims` of a token for `settings`.
    pub fn of(
        settings: &Settings,
        claims: Claims,
        login_host: Option<String>,
    ) -> Result<Self, Error> {
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        let own = claims::audience_cloud(&endpoints.scope);
        let audience_cloud = claims
            .audience
            .as_deref()
            .and_then(claims::audience_cloud)
            .filter(|cloud| Some(*cloud) != own)
            .map(str::to_owned);
        let lookups = Lookup::ALL
            .iter()
            .map(|l| (*l, l.permitted_by(&claims.roles)))
            .collect();
        Ok(TokenReport {
            api_base: endpoints.api_base,
            login_host,
            claims,
            audience_cloud,
            lookups,
        })
    }

    /// Whether `lookup` is permitted.
    pub fn permits(&self, lookup: Lookup) -> bool {
        self.lookups.iter().any(|(l, ok)| *l == lookup && *ok)
    }
}

impl Connector {
    /// A fresh token for `settings` (a given bearer token as it is), and
    /// what it permits. Sends no API request.
    pub fn check(
        &mut self,
        settings: &Settings,
        host: &mut impl Host,
    ) -> Result<TokenReport, Error> {
        let endpoints = settings.cloud.endpoints().map_err(Error::InvalidSettings)?;
        settings.auth.check().map_err(Error::InvalidSettings)?;
        let (token, login_host) = match &settings.auth {
            Auth::HostManaged => {
                return Err(Error::InvalidSettings(
                    "auth is host-managed: the host holds the token, so the host checks it \
                     (the Rust host decodes it with mde_connector::claims)"
                        .into(),
                ));
            }
            Auth::BearerToken(token) => {
                let claims = claims::decode(token)
                    .map_err(|why| Error::InvalidSettings(format!("bearer token: {why}")))?;
                return TokenReport::of(settings, claims, None);
            }
            Auth::ClientCredentials(_) | Auth::ClientAssertion(_) => {
                let mut exchange = Exchange::new(host, Secrets::of(&settings.auth));
                // A fresh token: `check` is how an operator tests a sign-in.
                self.forget_token();
                let token = self
                    .fetch_token(&endpoints, &settings.auth, &mut exchange)
                    .map_err(|e| exchange.finish_error(e, Lookup::DomainMachines, settings))?;
                (token, endpoints.login_host.clone())
            }
        };
        let claims = claims::decode(&token).map_err(|why| {
            Error::InvalidResponse(InvalidResponse {
                service: Service::IdentityPlatform,
                status: 200,
                reason: why,
                // A token answer is never quoted.
                excerpt: String::new(),
            })
        })?;
        TokenReport::of(settings, claims, Some(login_host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::tests::jwt;
    use crate::connector::Level;
    use crate::http::{Request, Response, TransportError};
    use crate::settings::{AssertionCredentials, ClientCredentials, Cloud};
    use std::collections::VecDeque;

    const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.assertion-payload.signature-bytes";

    /// Answers from a queue, makes assertions, records everything.
    #[derive(Default)]
    struct FakeHost {
        answers: VecDeque<Response>,
        requests: Vec<Request>,
        logs: Vec<String>,
        audiences: Vec<String>,
        refuse_assertion: bool,
    }

    impl Host for FakeHost {
        fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
            self.requests.push(request.clone());
            self.answers
                .pop_front()
                .ok_or_else(|| TransportError::Other("no answer left".into()))
        }
        fn log(&mut self, _: Level, event: &str, message: &str) {
            self.logs.push(format!("{event}: {message}"));
        }
        fn client_assertion(&mut self, audience: &str) -> Result<String, String> {
            self.audiences.push(audience.into());
            if self.refuse_assertion {
                return Err("no certificate configured".into());
            }
            Ok(ASSERTION.into())
        }
    }

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn token_answer(payload: &str) -> Response {
        answer(200, &format!(r#"{{"access_token":"{}"}}"#, jwt(payload)))
    }

    fn assertion_settings() -> Settings {
        Settings {
            cloud: Cloud::Commercial,
            auth: Auth::ClientAssertion(AssertionCredentials {
                tenant_id: "contoso.onmicrosoft.com".into(),
                client_id: "app".into(),
            }),
        }
    }

    fn body(request: &Request) -> String {
        String::from_utf8(request.body.clone().unwrap_or_default()).unwrap()
    }

    #[test]
    fn an_assertion_grant_carries_the_hosts_assertion_for_the_token_url() {
        let mut host = FakeHost::default();
        host.answers.push_back(token_answer(r#"{"roles":[]}"#));
        host.answers.push_back(answer(200, r#"{"value":[]}"#));
        Connector::default()
            .lookup(&assertion_settings(), "contoso.com", &mut host)
            .unwrap();
        let url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
        assert_eq!(host.audiences, [url]);
        assert_eq!(host.requests[0].url, url);
        let form = body(&host.requests[0]);
        assert_eq!(
            form,
            format!(
                "grant_type=client_credentials&client_id=app&client_assertion_type=\
                 urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&\
                 client_assertion={}&scope=https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default",
                ASSERTION
            )
        );
        assert!(!form.contains("client_secret"));
    }

    #[test]
    fn a_host_without_an_assertion_is_invalid_settings_and_nothing_is_sent() {
        let mut host = FakeHost {
            refuse_assertion: true,
            ..FakeHost::default()
        };
        let e = Connector::default()
            .lookup(&assertion_settings(), "contoso.com", &mut host)
            .unwrap_err();
        assert_eq!(
            e,
            Error::InvalidSettings("no client assertion: no certificate configured".into())
        );
        assert!(host.requests.is_empty());
    }

    #[test]
    fn an_assertion_a_server_reflects_is_scrubbed_and_the_refusal_hinted() {
        let mut host = FakeHost::default();
        host.answers.push_back(answer(
            401,
            &format!(
                r#"{{"error":"invalid_client","error_description":"AADSTS700027: bad assertion {ASSERTION}","correlation_id":"c1"}}"#
            ),
        ));
        let e = Connector::default()
            .lookup(&assertion_settings(), "contoso.com", &mut host)
            .unwrap_err();
        let shown = format!("{e} {e:?} {:?}", host.logs);
        assert!(!shown.contains("assertion-payload"), "{shown}");
        let Error::Unauthorized(details) = e else {
            panic!("{e:?}")
        };
        assert_eq!(details.correlation_id.as_deref(), Some("c1"));
        assert!(
            details.hint.unwrap().contains("upload the certificate"),
            "the 700027 hint"
        );
    }

    #[test]
    fn check_reports_what_each_role_set_permits_and_never_the_token() {
        for (roles, domain_ok, permitted) in [
            (r#"["Machine.Read.All"]"#, true, 5),
            (r#"["Machine.ReadWrite.All"]"#, true, 5),
            ("[]", false, 0),
        ] {
            let mut host = FakeHost::default();
            host.answers.push_back(token_answer(&format!(
                r#"{{"tid":"t-1","appid":"app","aud":"https://api.securitycenter.microsoft.com","roles":{roles},"exp":1767225600}}"#
            )));
            let report = Connector::default()
                .check(&assertion_settings(), &mut host)
                .unwrap();
            assert_eq!(report.permits(Lookup::DomainMachines), domain_ok, "{roles}");
            assert_eq!(
                report.lookups.iter().filter(|(_, ok)| *ok).count(),
                permitted,
                "{roles}"
            );
            assert_eq!(report.lookups.len(), Lookup::ALL.len());
            assert!(!report.permits(Lookup::DomainStats));
            assert_eq!(report.claims.tenant_id.as_deref(), Some("t-1"));
            assert_eq!(report.api_base, "https://api.security.microsoft.com");
            assert_eq!(report.audience_cloud, None);
            assert_eq!(host.requests.len(), 1, "the token request only");
            assert!(
                !format!("{report:?}").contains("eyJ"),
                "no token in the report"
            );
        }
    }

    #[test]
    fn check_of_a_given_token_sends_nothing_and_names_another_clouds_audience() {
        let token = jwt(
            r#"{"aud":"https://api-gov.securitycenter.microsoft.us","roles":["Machine.Read.All"]}"#,
        );
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::BearerToken(token),
        };
        let mut host = FakeHost::default();
        let report = Connector::default().check(&settings, &mut host).unwrap();
        assert!(host.requests.is_empty());
        assert_eq!(report.audience_cloud.as_deref(), Some("gcc-high"));
        assert_eq!(report.login_host, None);
    }

    #[test]
    fn check_with_host_managed_auth_says_the_host_holds_the_token() {
        let e = Connector::default()
            .check(&Settings::default(), &mut FakeHost::default())
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidSettings(why) if why.contains("the host holds the token")),
            "{e:?}"
        );
        // Client credentials check as the assertion does.
        let mut host = FakeHost::default();
        host.answers
            .push_back(token_answer(r#"{"roles":["Machine.Read.All"]}"#));
        let settings = Settings {
            cloud: Cloud::Commercial,
            auth: Auth::ClientCredentials(ClientCredentials {
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: "a-long-client-secret".into(),
            }),
        };
        let report = Connector::default().check(&settings, &mut host).unwrap();
        assert!(report.permits(Lookup::DomainMachines));
    }
}
