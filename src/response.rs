//! Reading the service's answers: machines, tokens, and every kind of error.

mod invalid;
mod object;
mod status;
mod token;

pub use invalid::excerpt;
pub use object::{one_machine, record};
pub use status::{MAX_RETRY_AFTER, retry_after_seconds};
pub use token::{MAX_TOKEN_LEN, access_token};

use crate::error::{Error, InvalidResponse, Service};
use crate::http::Response;
use crate::lenient::{Check, Reading, Seed, compact, strip_position};
use crate::machine::Machine;
use crate::secrets::Secrets;
use invalid::{error_offset, invalid, json_reason};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use status::{error_answer, service_error};
use std::fmt;
use std::marker::PhantomData;

/// The most machines an answer may list: ten times the service's cap, so a
/// larger cap from Microsoft still passes, while an absurd answer is refused
/// before it exhausts the instance's memory.
pub const MAX_MACHINES: usize = 5_000;

/// The largest body the component parses. A full 500-machine answer is
/// about 1 MiB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Machines whose unusable fields get a log record of their own; the rest
/// are counted in one more record.
pub const MAX_FIELD_WARNINGS: usize = 100;

/// The machines of an answer (typed records, or each one's text as sent),
/// and what a host should hear about it.
#[derive(Debug)]
pub struct Machines<M = Machine> {
    pub machines: Vec<M>,
    /// `warn` log records: fields kept as sent, a 404 with an error envelope.
    pub warnings: Vec<Warning>,
}

/// A `warn` log record to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub event: &'static str,
    pub message: String,
}

/// What reading an answer keeps of each machine: its typed record
/// ([`Machine`]) or its JSON text as the service sent it ([`String`]).
pub trait Kept: Sized {
    /// Whether each machine's text is taken from the answer.
    const TEXTS: bool;
    /// The next machine of `value`, if any, as `reading` reads (noting in
    /// `warnings` the fields that could not be used as typed).
    fn next<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        reading: &mut Reading,
        warnings: &mut Vec<Warning>,
    ) -> Result<Option<Self>, A::Error>;
    /// What is kept of `machine`, read whole from `sent` (an answer of one machine).
    fn kept(machine: Machine, sent: &str, secrets: &Secrets) -> Self;
}

impl Kept for Machine {
    const TEXTS: bool = false;
    fn next<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        reading: &mut Reading,
        warnings: &mut Vec<Warning>,
    ) -> Result<Option<Self>, A::Error> {
        let machine = seq.next_element_seed(Seed::<Machine>::new(&mut *reading))?;
        if let Some(machine) = &machine {
            note_unusable(reading, &machine.id, warnings);
        }
        Ok(machine)
    }
    fn kept(machine: Machine, _: &str, _: &Secrets) -> Self {
        machine
    }
}

/// The machine's JSON object as sent: sliced from the answer, compact and
/// scrubbed, never written again from a typed record. Directly, it is only
/// checked as `lookup` would read it (no record is made); a machine that
/// is not as modelled sends the answer to be read again leniently, where
/// each is read as `lookup` reads it, for the same warnings.
impl Kept for String {
    const TEXTS: bool = true;
    fn next<'de, A: SeqAccess<'de>>(
        seq: &mut A,
        reading: &mut Reading,
        warnings: &mut Vec<Warning>,
    ) -> Result<Option<Self>, A::Error> {
        let Some(sent) = seq.next_element::<&RawValue>()? else {
            return Ok(None);
        };
        let sent = sent.get();
        let in_sent = |e: serde_json::Error| de::Error::custom(strip_position(&e.to_string()));
        if reading.is_lenient() {
            let machine = machine_from(sent, reading).map_err(in_sent)?;
            note_unusable(reading, &machine.id, warnings);
        } else {
            let mut parser = serde_json::Deserializer::from_str(sent);
            Check::<Machine>::new(reading)
                .deserialize(&mut parser)
                .and_then(|()| parser.end())
                .map_err(in_sent)?;
        }
        Ok(Some(compact(sent, reading.secrets())))
    }
    fn kept(_: Machine, sent: &str, secrets: &Secrets) -> Self {
        compact(sent, secrets)
    }
}

/// A warning for the fields of machine `id` that could not be used, if any.
fn note_unusable(reading: &mut Reading, id: &str, warnings: &mut Vec<Warning>) {
    let unusable = std::mem::take(&mut reading.unusable);
    if !unusable.is_empty() {
        warnings.push(unusable_fields(id, &unusable));
    }
}

/// The answer to `GET /api/domains/{domain}/machines`. `secrets` have been
/// scrubbed from the body already; they are scrubbed from decoded text too.
pub fn machines(response: &Response, secrets: &Secrets) -> Result<Machines, Error> {
    read_answer(response, secrets)
}

/// The same answer with each machine as its JSON object text, as the service
/// sent it (compact and scrubbed), read and checked as [`machines`] reads it:
/// the same errors and warnings.
pub fn texts(response: &Response, secrets: &Secrets) -> Result<Machines<String>, Error> {
    read_answer(response, secrets)
}

/// [`machines`] or [`texts`], as `M` says.
pub fn read_answer<M: Kept>(response: &Response, secrets: &Secrets) -> Result<Machines<M>, Error> {
    match response.status {
        200 => {}
        // Older revisions of the service answered an unknown domain with 404.
        404 => return Ok(not_found(response)),
        _ => return Err(error_answer(Service::Api, response)),
    }
    let text = object::body_text(response)?;
    // Directly when every machine is as modelled (the usual answer, read in
    // one pass); otherwise again, leniently, value by value.
    let mut warnings = Vec::new();
    let found = Reading::directly_then_leniently(secrets, |reading| {
        read_collection(text, reading, &mut warnings)
    });
    match found {
        Ok(Some(machines)) => {
            if warnings.len() > MAX_FIELD_WARNINGS {
                let more = warnings.len() - MAX_FIELD_WARNINGS;
                warnings.truncate(MAX_FIELD_WARNINGS);
                warnings.push(Warning {
                    event: "unusable-field",
                    message: format!(
                        "{more} more machines have fields that could not be used as typed; \
                         kept as sent in unmodelled"
                    ),
                });
            }
            Ok(Machines { machines, warnings })
        }
        Ok(None) => Err(invalid(
            Service::Api,
            response,
            "the collection has no \"value\" array".into(),
        )),
        // Texts are read machine by machine, each from its own text, so the
        // parser's place is in that text: the typed reading says where in the
        // body (and reads the same machines, so it fails too).
        Err(_) if M::TEXTS => Err(machines(response, secrets)
            .err()
            .unwrap_or_else(|| invalid(Service::Api, response, "unreadable texts".into()))),
        Err(e) => Err(Error::InvalidResponse(InvalidResponse {
            service: Service::Api,
            status: response.status,
            reason: json_reason(&response.body, &e),
            excerpt: excerpt(&response.body[error_offset(text, &e)..]),
        })),
    }
}

/// Reads `{"value": [...]}`, as `reading` reads (directly or leniently).
fn read_collection<M: Kept>(
    text: &str,
    reading: &mut Reading,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Vec<M>>, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_str(text);
    let collection = Collection {
        reading,
        warnings,
        kept: PhantomData,
    };
    let found = collection.deserialize(&mut parser)?;
    parser.end()?;
    Ok(found)
}

/// The machines of a collection's text read in one mode alone: directly
/// (`None` when the answer is not as modelled) or leniently. For the tests
/// and the fuzz target that hold the two modes to one result; hosts call
/// [`machines`] or [`texts`].
#[doc(hidden)]
pub fn machines_read_by<M: Kept>(
    text: &str,
    secrets: &Secrets,
    lenient: bool,
) -> Option<Machines<M>> {
    let mut reading = Reading::new(secrets, lenient);
    let mut warnings = Vec::new();
    let machines = read_collection(text, &mut reading, &mut warnings).ok()??;
    Some(Machines { machines, warnings })
}

/// The machines of `lookup-texts` texts, read as an answer's machines are:
/// directly, or all again leniently when a value is not as modelled, with
/// one budget of list entries for all. So the events of a `lookup-texts`
/// answer are those of the same `lookup`. The error names the first text
/// that is not a machine's JSON object.
pub fn machines_from_texts(texts: &[String]) -> Result<Vec<Machine>, String> {
    // The texts are the component's own output, scrubbed already.
    let secrets = Secrets::default();
    let read_all = |reading: &mut Reading| -> Result<Vec<Machine>, (usize, serde_json::Error)> {
        let mut machines = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let machine = machine_from(text, reading).map_err(|e| (index, e))?;
            machines.push(machine);
        }
        Ok(machines)
    };
    Reading::directly_then_leniently(&secrets, read_all)
        .map_err(|(index, e)| format!("machine text {index}: {}", strip_position(&e.to_string())))
}

/// A machine from a text that holds it alone.
fn machine_from(text: &str, reading: &mut Reading) -> Result<Machine, serde_json::Error> {
    let mut parser = serde_json::Deserializer::from_str(text);
    let machine = Seed::<Machine>::new(reading).deserialize(&mut parser)?;
    parser.end()?;
    Ok(machine)
}

/// A 404: no machines. With the service's error envelope it may also mean a
/// misrouted request (a custom cloud's wrong host): say what the service said.
fn not_found<M>(response: &Response) -> Machines<M> {
    let details = service_error(Service::Api, response);
    let warnings = details
        .code
        .is_some()
        .then(|| Warning {
            event: "not-found",
            message: format!("{details}; taken as no machines for this query"),
        })
        .into_iter()
        .collect();
    Machines {
        machines: Vec::new(),
        warnings,
    }
}

/// `{"value": [...], ...}`: the machines, or `None` when `value` is absent or null.
struct Collection<'r, 's, M> {
    reading: &'r mut Reading<'s>,
    warnings: &'r mut Vec<Warning>,
    kept: PhantomData<M>,
}

impl<'de, M: Kept> DeserializeSeed<'de> for Collection<'_, '_, M> {
    type Value = Option<Vec<M>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, M: Kept> Visitor<'de> for Collection<'_, '_, M> {
    type Value = Option<Vec<M>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a collection of machines")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut value = None;
        while let Some(key) = map.next_key::<crate::lenient::Key>()? {
            if key.0 != "value" {
                map.next_value::<IgnoredAny>()?;
            } else if value.is_some() {
                return Err(de::Error::custom("duplicate field `value`"));
            } else {
                value = Some(map.next_value_seed(Value(&mut self))?);
            }
        }
        Ok(value.flatten())
    }
}

/// `value`: null, or an array of at most [`MAX_MACHINES`] machines.
struct Value<'c, 'r, 's, M>(&'c mut Collection<'r, 's, M>);

impl<'de, M: Kept> DeserializeSeed<'de> for Value<'_, '_, '_, M> {
    type Value = Option<Vec<M>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, M: Kept> Visitor<'de> for Value<'_, '_, '_, M> {
    type Value = Option<Vec<M>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of machines")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let c = self.0;
        let mut machines: Vec<M> = Vec::new();
        loop {
            let index = machines.len();
            let machine = M::next(&mut seq, c.reading, c.warnings).map_err(|e| {
                de::Error::custom(format_args!(
                    "machine {index}: {}",
                    strip_position(&e.to_string())
                ))
            })?;
            let Some(machine) = machine else {
                return Ok(Some(machines));
            };
            if index == MAX_MACHINES {
                return Err(de::Error::custom(format_args!(
                    "more than {MAX_MACHINES} machines in one answer"
                )));
            }
            machines.push(machine);
        }
    }
}

/// One record for a machine's unusable fields, with at most ten named.
fn unusable_fields(id: &str, fields: &[String]) -> Warning {
    const NAMED: usize = 10;
    let id: String = id.chars().take(64).collect();
    let mut named = String::new();
    for field in fields.iter().take(NAMED) {
        if !named.is_empty() {
            named.push_str(", ");
        }
        named.push_str(field);
    }
    if fields.len() > NAMED {
        named.push_str(&format!(" and {} more", fields.len() - NAMED));
    }
    Warning {
        event: "unusable-field",
        message: format!(
            "machine {id:?}: {named}: could not be used as typed; kept as sent in unmodelled"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::invalid::{EXCERPT_CHARS, REASON_CHARS};
    use super::*;

    pub(super) fn answer(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Retry-After".into(), "9".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn machines_of(body: &str) -> Result<Machines, Error> {
        machines(&answer(200, body), &Secrets::default())
    }

    #[test]
    fn a_long_parser_message_is_cut() {
        // serde quotes a whole string where a value was expected.
        let body = format!(
            r#"{{"value":[{{"id":"a","osBuild":"1"}}], "x": {}}}"#,
            "y".repeat(5000)
        );
        let Err(Error::InvalidResponse(invalid)) = machines_of(&body) else {
            panic!("a body that is not JSON")
        };
        assert!(
            invalid.reason.len() < REASON_CHARS + 100,
            "{}",
            invalid.reason
        );
        assert!(
            invalid.reason.contains("(line 1, column"),
            "{}",
            invalid.reason
        );
    }

    #[test]
    fn a_broken_machine_is_named_and_the_excerpt_is_taken_there() {
        let good = r#"{"id":"a","computerDnsName":"x"}"#;
        let body = format!(
            r#"{{"value":[{}, {{"id":"b","osBuild":nope}}]}}"#,
            vec![good; 300].join(",")
        );
        let Err(Error::InvalidResponse(invalid)) = machines_of(&body) else {
            panic!("a body that is not JSON")
        };
        assert!(
            invalid.reason.contains("machine 300: osBuild: "),
            "{}",
            invalid.reason
        );
        assert!(
            invalid.excerpt.contains(r#""osBuild":nope"#),
            "{}",
            invalid.excerpt
        );
        assert!(invalid.excerpt.chars().count() <= EXCERPT_CHARS);
        // Not an object, no id, a duplicate: the place is named too.
        for (body, says) in [
            (
                r#"{"value":[{"id":"a"},7]}"#,
                "machine 1: invalid type: integer `7`",
            ),
            (
                r#"{"value":[{"id":"a","osBuild":1 2}]}"#,
                "machine 0: after osBuild: expected",
            ),
            (r#"{"value":[{"osBuild":1}]}"#, "machine 0: no id"),
            (r#"{"value":[{"id":5}]}"#, "machine 0: id: cannot use \"5\""),
            (
                r#"{"value":[{"id":"a","id":"b"}]}"#,
                "machine 0: duplicate field `id`",
            ),
        ] {
            let Err(Error::InvalidResponse(invalid)) = machines_of(body) else {
                panic!("{body}")
            };
            assert!(invalid.reason.contains(says), "{body}: {}", invalid.reason);
        }
    }

    #[test]
    fn texts_keep_the_machine_limit_and_its_error() {
        let one = r#"{"id":"9a7d3c15e02b4f6e8d1c0b2a3f4e5d6c7b8a9f01"}"#;
        let body = |n: usize| format!(r#"{{"value":[{}]}}"#, vec![one; n].join(","));
        let at_limit = texts(&answer(200, &body(MAX_MACHINES)), &Secrets::default()).unwrap();
        assert_eq!(at_limit.machines.len(), MAX_MACHINES);
        assert!(at_limit.machines.iter().all(|text| text == one));
        let over = answer(200, &body(MAX_MACHINES + 1));
        let e = texts(&over, &Secrets::default()).unwrap_err();
        assert!(format!("{e}").contains("more than 5000 machines"), "{e}");
        assert_eq!(Err(e), machines(&over, &Secrets::default()).map(|_| ()));
    }

    #[test]
    fn a_404_with_the_services_envelope_is_no_machines_and_a_warning() {
        let found = machines(
            &answer(
                404,
                r#"{"error":{"code":"ResourceNotFound","message":"No route","target":"c-1"}}"#,
            ),
            &Secrets::default(),
        )
        .unwrap();
        assert!(found.machines.is_empty());
        assert_eq!(found.warnings.len(), 1);
        assert_eq!(found.warnings[0].event, "not-found");
        let message = &found.warnings[0].message;
        assert!(message.contains("ResourceNotFound: No route"), "{message}");
        let bare = machines(&answer(404, ""), &Secrets::default()).unwrap();
        assert!(bare.machines.is_empty() && bare.warnings.is_empty());
    }
}
