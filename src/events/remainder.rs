//! What a schema has no place for, under the service's own names.

use crate::lenient::write_record;
use crate::machine::Machine;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The member naming the queried domain.
const QUERIED_DOMAIN: &str = "queriedDomain";

/// OCSF's `unmapped`, ECS's `mde`: the domain that was queried, then every
/// member of the machine the event does not hold elsewhere, under the
/// service's own names, and the members the service sent that the machine
/// does not model. Nothing the service sent is left out of an event.
pub struct Remainder<'a> {
    pub domain: &'a str,
    pub machine: &'a Machine,
    /// The members the event holds elsewhere, whole (bits of [`Machine::bit`]).
    pub mapped: u64,
}

impl Serialize for Remainder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(QUERIED_DOMAIN, self.domain)?;
        // A member the service itself called `queriedDomain` becomes `queriedDomain_sent`.
        write_record(self.machine, &mut map, false, self.mapped, QUERIED_DOMAIN)?;
        map.end()
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
