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
use mde::connector::types::{InvalidResponse, Service};

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

    fn domain_machines(domain: String) -> Result<Vec<Machine>, Error> {
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
}
