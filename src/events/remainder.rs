//! What a schema has no place for, under the service's own names.

use crate::lenient::{Key, Record};
use crate::machine::Machine;
use crate::routes::Query;
use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// The members naming what was queried. A member the service itself sends
/// under one of these names is kept as `<name>_sent`.
const QUERIED: [&str; 6] = [
    "queriedDomain",
    "queriedFile",
    "queriedUser",
    "queriedIp",
    "queriedAt",
    "queriedMachine",
];

/// OCSF's `unmapped`, ECS's `mde`: the domain that was queried, then every
/// member the service sent for the machine that the event does not hold
/// elsewhere, as sent (its spelling, its type), under the service's own
/// names. A modelled member sent as `null` is absent, as in the typed
/// record. Nothing the service sent is left out of an event.
pub struct Remainder<'a> {
    pub query: &'a Query,
    /// The machine's JSON object as the service sent it (a `lookup-texts` text).
    pub sent: &'a str,
    /// The members the event holds elsewhere, whole (bits of [`Machine::bit`]).
    pub mapped: u64,
}

impl Serialize for Remainder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self.query {
            Query::Domain(domain) => map.serialize_entry("queriedDomain", domain)?,
            Query::File(sha1) => map.serialize_entry("queriedFile", sha1)?,
            Query::User(name) => map.serialize_entry("queriedUser", name)?,
            Query::Ip { ip, at } => {
                map.serialize_entry("queriedIp", ip)?;
                map.serialize_entry("queriedAt", at)?;
            }
            Query::Machine(id) => map.serialize_entry("queriedMachine", id)?,
        }
        let mut members = Members {
            map: &mut map,
            mapped: self.mapped,
            failed: None,
        };
        let streamed = serde_json::Deserializer::from_str(self.sent).deserialize_map(&mut members);
        match (members.failed, streamed) {
            (Some(e), _) => return Err(e),
            // The texts were read as machines' objects already.
            (None, Err(e)) => return Err(ser::Error::custom(e)),
            (None, Ok(())) => {}
        }
        map.end()
    }
}

/// Streams the members of a machine's text into the remainder's map.
struct Members<'m, M: SerializeMap> {
    map: &'m mut M,
    mapped: u64,
    failed: Option<M::Error>,
}

impl<'de, M: SerializeMap> Visitor<'de> for &mut Members<'_, M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a machine's object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            let raw: &RawValue = map.next_value()?;
            let modelled = Machine::FIELDS.iter().position(|(n, _)| *n == name);
            if let Some(index) = modelled
                && (self.mapped & (1 << index) != 0 || raw.get() == "null")
            {
                continue;
            }
            let written = if QUERIED.contains(&&*name) {
                // The service's own member of that name keeps its value beside ours.
                self.map.serialize_entry(&format!("{name}_sent"), raw)
            } else {
                self.map.serialize_entry(&*name, raw)
            };
            if let Err(e) = written {
                self.failed = Some(e);
                return Err(de::Error::custom("serialising failed"));
            }
        }
        Ok(())
    }
}

/// Accumulates the members an event maps, whole, as it maps them.
#[derive(Default)]
pub struct Mapped(pub u64);

impl Mapped {
    /// Records that `bit`'s member is in the event when `held` is true.
    pub fn add(&mut self, bit: u64, held: bool) {
        if held {
            self.0 |= bit;
        }
    }

    /// Records that `bit`'s member is in the event when `held` is true, and passes `value` through.
    pub fn when<T>(&mut self, bit: u64, held: bool, value: T) -> T {
        if held {
            self.0 |= bit;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remainder_keeps_each_member_as_the_text_has_it() {
        let query = Query::Domain("contoso.com".into());
        let remainder = Remainder {
            query: &query,
            sent: r#"{"id":"a","onboardingStatus":"onboarded","rbacGroupId":140,"osVersion":null,"queriedDomain":"x","newField":null,"osBuild":2.50}"#,
            mapped: Machine::bit("id") | Machine::bit("osBuild"),
        };
        assert_eq!(
            serde_json::to_string(&remainder).unwrap(),
            concat!(
                r#"{"queriedDomain":"contoso.com","onboardingStatus":"onboarded","rbacGroupId":140,"#,
                r#""queriedDomain_sent":"x","newField":null}"#
            ),
            "mapped members and modelled nulls are left out; the rest is as sent"
        );
    }

    #[test]
    fn each_kind_of_query_has_its_members_and_a_sent_one_is_kept_beside() {
        let ip = Query::Ip {
            ip: "10.1.2.3".into(),
            at: "2024-09-22T08:00:00Z".into(),
        };
        let remainder = Remainder {
            query: &ip,
            sent: r#"{"id":"a","queriedAt":"then","queriedFile":"f"}"#,
            mapped: Machine::bit("id"),
        };
        assert_eq!(
            serde_json::to_string(&remainder).unwrap(),
            r#"{"queriedIp":"10.1.2.3","queriedAt":"2024-09-22T08:00:00Z","queriedAt_sent":"then","queriedFile_sent":"f"}"#
        );
        for (query, member) in [
            (Query::File("f".into()), "queriedFile"),
            (Query::User("u".into()), "queriedUser"),
            (Query::Machine("m".into()), "queriedMachine"),
        ] {
            let remainder = Remainder {
                query: &query,
                sent: r#"{"id":"a"}"#,
                mapped: Machine::bit("id"),
            };
            let written = serde_json::to_string(&remainder).unwrap();
            assert!(
                written.starts_with(&format!(r#"{{"{member}":"#)),
                "{written}"
            );
        }
    }
}
