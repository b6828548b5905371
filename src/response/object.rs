//! Answers that hold one object of the service's rather than a collection:
//! one machine (`GET /api/machines/{id}`) and the prevalence answers.

use super::invalid::{error_offset, excerpt, invalid, json_reason};
use super::status::{error_answer, service_error};
use super::{Kept, MAX_BODY_BYTES, Machines, Warning, machine_from, unusable_fields};
use crate::error::{Error, InvalidResponse, Service};
use crate::http::Response;
use crate::lenient::{Field, Reading, Seed};
use crate::secrets::Secrets;
use serde::de::DeserializeSeed;

/// A `200` answer's body as text, or why it cannot be read.
pub(super) fn body_text(response: &Response) -> Result<&str, Error> {
    if response.body.len() > MAX_BODY_BYTES {
        let reason = format!(
            "the body is {} bytes; no answer of the service is larger than {MAX_BODY_BYTES}",
            response.body.len()
        );
        return Err(invalid(Service::Api, response, reason));
    }
    // A clearer reason than the parser's for a body that is not text at all.
    std::str::from_utf8(&response.body).map_err(|e| {
        let reason = format!("the body is not UTF-8 (at byte {})", e.valid_up_to());
        invalid(Service::Api, response, reason)
    })
}

/// One object read directly, then leniently: the value and the members
/// that could not be used as typed.
fn read_object<T>(
    response: &Response,
    secrets: &Secrets,
    read: impl Fn(&str, &mut Reading) -> Result<T, serde_json::Error>,
) -> Result<(T, Vec<String>), Error> {
    let text = body_text(response)?;
    let found = Reading::directly_then_leniently(secrets, |reading| {
        let value = read(text, reading)?;
        Ok::<_, serde_json::Error>((value, std::mem::take(&mut reading.unusable)))
    });
    found.map_err(|e| {
        Error::InvalidResponse(InvalidResponse {
            service: Service::Api,
            status: response.status,
            reason: json_reason(&response.body, &e),
            excerpt: excerpt(&response.body[error_offset(text, &e)..]),
        })
    })
}

/// The answer to `GET /api/machines/{id}`: one machine, or none for a `404`
/// (`ResourceNotFound`: no such machine). A `404` with another code (a
/// misrouted request) is none too, with a `not-found` warning.
pub fn one_machine<M: Kept>(response: &Response, secrets: &Secrets) -> Result<Machines<M>, Error> {
    match response.status {
        200 => {}
        404 => {
            let details = service_error(Service::Api, response);
            let warnings = details
                .code
                .as_deref()
                .is_some_and(|code| code != "ResourceNotFound")
                .then(|| Warning {
                    event: "not-found",
                    message: format!("{details}; taken as no such machine"),
                })
                .into_iter()
                .collect();
            return Ok(Machines {
                machines: Vec::new(),
                warnings,
            });
        }
        _ => return Err(error_answer(Service::Api, response)),
    }
    let (machine, unusable) = read_object(response, secrets, |text, reading| {
        machine_from(text, reading)
    })?;
    let warnings = if unusable.is_empty() {
        Vec::new()
    } else {
        vec![unusable_fields(&machine.id, &unusable)]
    };
    // The same text `read_object` read.
    let text = body_text(response)?;
    let kept = M::kept(machine, text, secrets);
    Ok(Machines {
        machines: vec![kept],
        warnings,
    })
}

/// A `200` answer holding one record `R` (a prevalence answer), with a
/// warning naming the members that could not be used as typed.
pub fn record<R: Field>(
    response: &Response,
    secrets: &Secrets,
) -> Result<(R, Vec<Warning>), Error> {
    if response.status != 200 {
        return Err(error_answer(Service::Api, response));
    }
    let (record, unusable) = read_object(response, secrets, |text, reading| {
        let mut parser = serde_json::Deserializer::from_str(text);
        let record = Seed::<R>::new(reading).deserialize(&mut parser)?;
        parser.end()?;
        Ok(record)
    })?;
    let warnings = if unusable.is_empty() {
        Vec::new()
    } else {
        vec![Warning {
            event: "unusable-field",
            message: format!(
                "{}: could not be used as typed; kept as sent in unmodelled",
                unusable.join(", ")
            ),
        }]
    };
    Ok((record, warnings))
}
