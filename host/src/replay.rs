//! Recorded answers, for `--replay` and the tests.

use crate::bindings::{Body, Request, Response, TransportError};
use crate::transport::Transport;
use anyhow::{Context, Result, bail};
use std::collections::VecDeque;

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
            // Recorded bodies are text: handed on as text, as a Python host does.
            body: Body::Text(a.body),
        })))
    }
}

impl Transport for Replay {
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

/// An answer to script: `status`, `headers` and `body`.
pub fn answer(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Response {
    Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Body::Bytes(body.into()),
    }
}

/// A JSON answer.
pub fn json(status: u16, body: &str) -> Response {
    answer(status, &[("content-type", "application/json")], body)
}
