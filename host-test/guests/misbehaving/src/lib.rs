//! A deliberately bad guest for the host's tests: `spin.example` never
//! returns, `grow.example` allocates without end; and, as a careless
//! component that scrubs nothing, `tell.example` puts the secret it holds in
//! its log and its error, `echo.example` posts it as a form and passes on
//! what comes back, lower-cased (as a mapping might), in its log and its
//! error; `lookup-texts` of `tell.example` puts it in a machine's text, and
//! the events return it as an event or an error, and `check` puts it in its
//! error; `audience.example` asks for an assertion for another audience.
//! Anything else answers no machines.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ world: "connector", path: "../../../wit" });

use mde::connector::http::{Body, Method, Request};
use mde::connector::log::Level;
use mde::connector::settings::Auth;
use mde::connector::types::{InvalidResponse, IpAt, Service};

struct Misbehaving;
export!(Misbehaving);

/// The client secret or token of the settings, as given.
fn held_secret() -> String {
    match mde::connector::settings::get().auth {
        Auth::ClientCredentials(c) => c.client_secret,
        Auth::BearerToken(token) => token,
        Auth::HostManaged => String::new(),
        // The assertion the host makes for it: a secret it then holds.
        Auth::ClientAssertion(c) => mde::connector::settings::client_assertion(&format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            c.tenant_id
        ))
        .unwrap_or_default(),
    }
}

impl Guest for Misbehaving {
    /// A careless `check`: the secret it holds, in its error.
    fn check() -> Result<TokenReport, Error> {
        Err(Error::InvalidSettings(format!("holding {}", held_secret())))
    }

    fn domain_machines(domain: String) -> Result<Vec<MachineRecord>, Error> {
        match domain.as_str() {
            "spin.example" => loop {
                std::hint::black_box(&domain);
            },
            "grow.example" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![1; 1 << 20]));
                }
            }
            "tell.example" => {
                let secret = held_secret();
                mde::connector::log::emit(Level::Info, "careless", &format!("holding {secret}"));
                Err(Error::InvalidSettings(format!("holding {secret}")))
            }
            "echo.example" => {
                let request = Request {
                    method: Method::Post,
                    url: "https://api.security.microsoft.com/echo".into(),
                    headers: Vec::new(),
                    body: Some(format!("client_secret={}", held_secret()).into_bytes()),
                };
                match mde::connector::http::send(&request) {
                    Ok(answer) => {
                        let echoed = match answer.body {
                            Body::Bytes(bytes) => String::from_utf8_lossy(&bytes).to_lowercase(),
                            Body::Text(text) => text.to_lowercase(),
                        };
                        mde::connector::log::emit(Level::Info, "careless", &echoed);
                        Err(Error::InvalidResponse(InvalidResponse {
                            service: Service::Api,
                            status: answer.status,
                            reason: echoed.clone(),
                            excerpt: echoed,
                        }))
                    }
                    Err(e) => Err(Error::Transport(e)),
                }
            }
            // An assertion for another audience than the settings' token endpoint.
            "audience.example" => {
                match mde::connector::settings::client_assertion("https://evil.example/token") {
                    Ok(assertion) => Err(Error::InvalidSettings(format!("got {assertion}"))),
                    Err(why) => Err(Error::InvalidSettings(why)),
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    fn lookup(domain: String) -> Result<LookupResult, Error> {
        Ok(LookupResult {
            machines: Self::domain_machines(domain.clone())?,
            domain,
            cap_reached: false,
        })
    }

    /// Also `tell.example` with its secret in a machine's text.
    fn lookup_texts(domain: String) -> Result<LookupTextsResult, Error> {
        let machines = match domain.as_str() {
            "tell.example" => vec![format!(r#"{{"id": "{}"}}"#, held_secret())],
            _ => Self::domain_machines(domain.clone())?
                .iter()
                .map(|m| format!(r#"{{"id": "{}"}}"#, m.id))
                .collect(),
        };
        Ok(LookupTextsResult {
            domain,
            machines,
            cap_reached: false,
        })
    }

    // The other lookups misbehave as the domain lookup does for their input.
    fn file_machines(sha1: String) -> Result<Vec<MachineRecord>, Error> {
        Self::domain_machines(sha1)
    }

    fn user_machines(name: String) -> Result<Vec<MachineRecord>, Error> {
        Self::domain_machines(name)
    }

    fn ip_machines(ip: String, _at: String) -> Result<Vec<MachineRecord>, Error> {
        Self::domain_machines(ip)
    }

    fn machine(id: String) -> Result<Option<MachineRecord>, Error> {
        Ok(Self::domain_machines(id)?.into_iter().next())
    }

    fn lookup_query(query: Query) -> Result<QueryResult, Error> {
        Ok(QueryResult {
            machines: Self::domain_machines(input_of(&query))?,
            query,
            cap_reached: false,
        })
    }

    fn lookup_query_texts(query: Query) -> Result<QueryTextsResult, Error> {
        let found = Self::lookup_texts(input_of(&query))?;
        Ok(QueryTextsResult {
            query,
            machines: found.machines,
            cap_reached: false,
        })
    }

    fn domain_stats(domain: String, hours: Option<u32>) -> Result<DomainPrevalence, Error> {
        Self::domain_machines(domain.clone())?;
        Ok(DomainPrevalence {
            domain,
            look_back_hours: hours,
            host: None,
            organization_prevalence: Some(0),
            org_first_seen: None,
            org_last_seen: None,
            unmodelled: None,
        })
    }

    fn ip_stats(ip: String, hours: Option<u32>) -> Result<IpPrevalence, Error> {
        Self::domain_machines(ip.clone())?;
        Ok(IpPrevalence {
            ip,
            look_back_hours: hours,
            ip_address: None,
            organization_prevalence: Some(0),
            org_first_seen: None,
            org_last_seen: None,
            unmodelled: None,
        })
    }
}

/// The text a query carries (an `ip`'s address).
fn input_of(query: &Query) -> String {
    match query {
        Query::Domain(s) | Query::File(s) | Query::User(s) | Query::Machine(s) => s.clone(),
        Query::Ip(IpAt { ip, .. }) => ip.clone(),
    }
}

impl exports::mde::connector::events::Guest for Misbehaving {
    /// The secret it holds, as an event.
    fn ocsf_inventory(_found: LookupTextsResult, _observed_at: u64) -> Result<Vec<String>, String> {
        Ok(vec![held_secret()])
    }

    /// The secret it holds, in the error.
    fn ecs_documents(_found: LookupTextsResult, _observed_at: u64) -> Result<Vec<String>, String> {
        Err(held_secret())
    }

    fn query_ocsf_inventory(
        _found: QueryTextsResult,
        _observed_at: u64,
    ) -> Result<Vec<String>, String> {
        Ok(vec![held_secret()])
    }

    fn query_ecs_documents(
        _found: QueryTextsResult,
        _observed_at: u64,
    ) -> Result<Vec<String>, String> {
        Err(held_secret())
    }
}
