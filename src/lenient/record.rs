//! Reading a record of the service's (a machine, `vmMetadata`, an entry of
//! `ipAddresses`) member by member, in either mode.

use super::sent::push_member;
use super::{Excerpt, Kind, Reading, strip_position};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A record of the service's: its members by their JSON names, the ones it
/// does not model kept in `unmodelled`. Implemented by `machine::record!`.
pub trait Record: Default + 'static {
    /// The modelled members, in order.
    const FIELDS: &'static [(&'static str, Kind)];
    /// Members that must be present and usable (a bit per index of `FIELDS`).
    const REQUIRED: u64 = 0;
    /// Reads the member at `index` of [`Record::FIELDS`] (see [`super::Read::read`]).
    fn read_member<'de, D: Deserializer<'de>>(
        &mut self,
        index: usize,
        d: D,
        reading: &mut Reading,
    ) -> Result<(), D::Error>;
    /// Checks the member at `index` of [`Record::FIELDS`] (see [`super::Read::check`]).
    fn check_member<'de, D: Deserializer<'de>>(
        index: usize,
        d: D,
        reading: &mut Reading,
    ) -> Result<(), D::Error>;
    /// Reads the member at `index` from its text (see [`super::Read::read_text`]);
    /// `false` when that cannot be used either.
    fn read_member_text(&mut self, index: usize, raw: &str) -> bool;
    /// Writes each modelled member not in `skip` (a bit per index), absent
    /// ones as `null`.
    fn write_members<M: SerializeMap>(&self, map: &mut M, skip: u64) -> Result<(), M::Error>;
    fn unmodelled(&self) -> Option<&str>;
    fn set_unmodelled(&mut self, members: String);
}

/// A record read as a field: a nested record (`vmMetadata`, an entry of
/// `ipAddresses`) or a machine.
pub fn read_record<'de, R: Record, D: Deserializer<'de>>(
    d: D,
    reading: &mut Reading,
) -> Result<R, D::Error> {
    d.deserialize_map(RecordVisitor::<R>(reading, PhantomData))
}

/// `Ok` exactly when [`read_record`] would read the record directly, without
/// making it: a map whose modelled members each check, none twice, none
/// required missing. The rest is skipped, as the direct reading keeps it as sent.
pub fn check_record<'de, R: Record, D: Deserializer<'de>>(
    d: D,
    reading: &mut Reading,
) -> Result<(), D::Error> {
    d.deserialize_map(CheckedRecord::<R>(reading, PhantomData))
}

/// The index of `name` in `fields`, at compile time.
pub const fn index_of(fields: &[(&str, Kind)], name: &str) -> usize {
    let mut i = 0;
    while i < fields.len() {
        let (a, b) = (fields[i].0.as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("no such field")
}

/// Where each member of a record type was followed by another last time
/// (an index of `FIELDS`; `u8::MAX` before it is seen): the service sends every machine's
/// members in one order, so the name expected next is compared first and
/// is usually the one, without comparing it with every modelled name.
#[derive(Clone, Copy)]
pub(super) struct MemberOrder {
    /// By index of `FIELDS`; the last slot is for the first member.
    next: [u8; 65],
}

impl Default for MemberOrder {
    fn default() -> Self {
        MemberOrder {
            next: [u8::MAX; 65],
        }
    }
}

impl MemberOrder {
    /// Where `last` starts: before the first member.
    const START: u8 = 64;

    /// The index of modelled member `name` of `R` (read after the one at
    /// `last`, which becomes it), or `None`.
    #[inline(always)]
    fn index<R: Record>(&mut self, last: &mut u8, name: &str) -> Option<usize> {
        let expected = usize::from(self.next[usize::from(*last)]);
        let index = match R::FIELDS.get(expected) {
            Some((n, _)) if same_name(n, name) => expected,
            _ => R::FIELDS.iter().position(|(n, _)| same_name(n, name))?,
        };
        // FIELDS has at most 64 members (checked by `record!`).
        self.next[usize::from(*last)] = index as u8;
        *last = index as u8;
        Some(index)
    }
}

/// `a == b`, a word at a time: in wasm `==` on strings calls a `memcmp`
/// that compares byte by byte, and a name is compared for every member of
/// every machine.
#[inline(always)]
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Unaligned loads; the last word may overlap the one before it.
    let u64_at = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().unwrap());
    let u32_at = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().unwrap());
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        _ => {
            let mut at = 0;
            while at + 8 < n {
                if u64_at(a, at) != u64_at(b, at) {
                    return false;
                }
                at += 8;
            }
            u64_at(a, n - 8) == u64_at(b, n - 8)
        }
    }
}

/// Fills a record from a JSON object, member by member.
struct RecordVisitor<'r, 's, R>(&'r mut Reading<'s>, PhantomData<R>);

/// Reads one modelled member of a record, as a [`DeserializeSeed`].
struct Member<'a, 'r, 's, R> {
    record: &'a mut R,
    index: usize,
    reading: &'r mut Reading<'s>,
}

impl<'de, R: Record> DeserializeSeed<'de> for Member<'_, '_, '_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.record.read_member(self.index, d, self.reading)
    }
}

impl<'de, R: Record> Visitor<'de> for RecordVisitor<'_, '_, R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<R, A::Error> {
        let reading = self.0;
        let mut record = R::default();
        let mut seen = 0u64;
        let mut order = MemberOrder::START;
        let slot = reading.order_slot::<R>();
        let mut unmodelled = String::new();
        let mut last: Option<Cow<str>> = None;
        loop {
            let key = map.next_key().map_err(|e| match &last {
                Some(last) => de::Error::custom(format_args!(
                    "after {last}: {}",
                    strip_position(&e.to_string())
                )),
                None => e,
            })?;
            let Some(Key(name)) = key else { break };
            // Matched rather than dereferenced: `Deref` is a call in wasm at "s".
            let name_str = match &name {
                Cow::Borrowed(name) => name,
                Cow::Owned(name) => name.as_str(),
            };
            let index = reading.order(slot).index::<R>(&mut order, name_str);
            let bit = index.map_or(0, |i| 1 << i);
            if seen & bit != 0 {
                return Err(de::Error::custom(format_args!("duplicate field `{name}`")));
            }
            seen |= bit;
            if let (Some(index), false) = (index, reading.lenient) {
                map.next_value_seed(Member {
                    record: &mut record,
                    index,
                    reading: &mut *reading,
                })?;
                continue;
            }
            let raw: &RawValue = map.next_value().map_err(|e| {
                de::Error::custom(format_args!("{name}: {}", strip_position(&e.to_string())))
            })?;
            if let Some(index) = index {
                let at = reading.path.len();
                if at > 0 {
                    reading.path.push('.');
                }
                reading.path.push_str(&name);
                let mark = reading.mark();
                let mut parser = serde_json::Deserializer::from_str(raw.get());
                let read = record.read_member(index, &mut parser, reading).is_ok()
                    || record.read_member_text(index, raw.get());
                if !read {
                    reading.rewind(mark);
                    if R::REQUIRED & bit != 0 {
                        return Err(de::Error::custom(format_args!(
                            "{name}: cannot use {}",
                            Excerpt(raw.get())
                        )));
                    }
                    reading.unusable.push(reading.path.clone());
                    push_member(&mut unmodelled, &name, raw.get(), reading.secrets);
                }
                reading.path.truncate(at);
            } else {
                push_member(&mut unmodelled, &name, raw.get(), reading.secrets);
            }
            last = Some(name);
        }
        if let Some(missing) = (0..R::FIELDS.len()).find(|i| R::REQUIRED & !seen & (1 << i) != 0) {
            return Err(de::Error::custom(format_args!(
                "no {}",
                R::FIELDS[missing].0
            )));
        }
        if !unmodelled.is_empty() {
            unmodelled.push('}');
            // Thousands of these may be held at once: no spare capacity.
            unmodelled.shrink_to_fit();
            record.set_unmodelled(unmodelled);
        }
        Ok(record)
    }
}

/// [`RecordVisitor`] reading directly, checked ([`check_record`]).
struct CheckedRecord<'r, 's, R>(&'r mut Reading<'s>, PhantomData<R>);

/// Checks one modelled member of a record, as a [`DeserializeSeed`].
struct CheckedMember<'r, 's, R> {
    index: usize,
    reading: &'r mut Reading<'s>,
    record: PhantomData<R>,
}

impl<'de, R: Record> DeserializeSeed<'de> for CheckedMember<'_, '_, R> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        R::check_member(self.index, d, self.reading)
    }
}

impl<'de, R: Record> Visitor<'de> for CheckedRecord<'_, '_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let reading = self.0;
        let mut seen = 0u64;
        let mut order = MemberOrder::START;
        let slot = reading.order_slot::<R>();
        while let Some(Key(name)) = map.next_key()? {
            let Some(index) = reading.order(slot).index::<R>(&mut order, &name) else {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            };
            if seen & (1 << index) != 0 {
                return Err(de::Error::custom("duplicate field"));
            }
            seen |= 1 << index;
            map.next_value_seed(CheckedMember::<R> {
                index,
                reading: &mut *reading,
                record: PhantomData,
            })?;
        }
        match R::REQUIRED & !seen {
            0 => Ok(()),
            _ => Err(de::Error::custom("a required member is missing")),
        }
    }
}

/// A member name, borrowed from the body unless it holds escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_as_strings_do() {
        let names = [
            "",
            "a",
            "id",
            "ab",
            "type",
            "typo",
            "vmId",
            "osBuild",
            "osBuilt",
            "version",
            "osVersion",
            "osVersiom",
            "lastExternalIpAddress",
        ];
        for a in names {
            let more = [
                "lastExternalIpAddresS",
                "lastExternalIpAddres",
                "LastExternalIpAddress",
            ];
            for b in names.iter().chain(&more) {
                assert_eq!(same_name(a, b), a == *b, "{a} {b}");
            }
        }
    }
}
