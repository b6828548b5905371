//! Where the component's HTTP requests go.

use crate::runtime::{Request, Response, TransportError};
use anyhow::{Context, Result, bail};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Performs (or imitates) one HTTP exchange.
pub trait HttpBackend {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError>;
}

/// Recorded answers, given out in order whatever is asked.
pub struct Replay {
    answers: VecDeque<Response>,
    served: usize,
}

impl Replay {
    pub fn new(answers: impl IntoIterator<Item = Response>) -> Self {
        Replay {
            answers: answers.into_iter().collect(),
            served: 0,
        }
    }

    /// A JSON array of `{"status": 200, "headers": {"name": "value"}, "body": "..."}`.
    pub fn from_json(text: &str) -> Result<Self> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Answer {
            status: u16,
            #[serde(default)]
            headers: std::collections::BTreeMap<String, String>,
            #[serde(default)]
            body: String,
        }
        let answers: Vec<Answer> =
            serde_json::from_str(text).context("a replay file is a JSON array of answers")?;
        if let Some(bad) = answers.iter().find(|a| !(100..=599).contains(&a.status)) {
            bail!("replay answer has status {}, outside 100-599", bad.status);
        }
        Ok(Self::new(answers.into_iter().map(|a| Response {
            status: a.status,
            headers: a.headers.into_iter().collect(),
            body: a.body.into_bytes(),
        })))
    }
}

impl HttpBackend for Replay {
    fn send(&mut self, _request: &Request) -> Result<Response, TransportError> {
        self.served += 1;
        self.answers.pop_front().ok_or_else(|| {
            TransportError::Other(format!(
                "the replay has no answer for request {}",
                self.served
            ))
        })
    }
}

/// A closure as a backend, for tests that answer according to the request.
pub struct FnBackend<F>(pub F);

impl<F> HttpBackend for FnBackend<F>
where
    F: FnMut(&Request) -> Result<Response, TransportError>,
{
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        (self.0)(request)
    }
}

/// A backend shared with the test or server that also inspects it.
impl<B: HttpBackend> HttpBackend for Arc<Mutex<B>> {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        // A poisoned lock means another thread panicked mid-request: keep serving.
        let mut backend = self.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        backend.send(request)
    }
}
