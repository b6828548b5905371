//! A deliberately bad guest for the host's sandbox tests: `spin.example`
//! never returns, `grow.example` allocates without end, anything else
//! answers no machines.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({ world: "connector", path: "../../../wit" });

struct Misbehaving;
export!(Misbehaving);

impl Guest for Misbehaving {
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
}

impl exports::mde::connector::events::Guest for Misbehaving {
    fn machines_json(_found: LookupResult) -> Vec<String> {
        Vec::new()
    }

    fn ocsf_inventory(_found: LookupResult, _observed_at: u64) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }

    fn ecs_documents(_found: LookupResult, _observed_at: u64) -> Result<Vec<String>, String> {
        Ok(Vec::new())
    }
}
