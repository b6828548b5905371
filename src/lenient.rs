//! Reading the service's JSON leniently and writing it back: each member is
//! typed where its type can be used, and otherwise kept, compact but byte
//! for byte, with the members the record does not model (`unmodelled`). One
//! bad value costs that value's typed field, never the machine or the answer.
//!
//! An answer is read in one of two modes, by the same readers. Directly,
//! values are read straight from the parser, in one pass, and anything that
//! is not as modelled fails the reading. Leniently, each modelled member is
//! first taken as the text the service sent, then read from that text; a
//! value that cannot be used is kept as sent and named. Answers are read
//! directly first: the usual answer is, and one that is not is read again,
//! leniently ([`Reading::directly_then_leniently`]).

mod fields;
mod record;
mod sent;

pub use fields::{IdText, Scalar, read_scalar};
pub use record::{Key, Record, check_record, index_of, read_record};
pub use sent::{compact, serialize_record};

use crate::secrets::Secrets;
use record::MemberOrder;
use serde::de::{self, DeserializeSeed, Deserializer};
use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;

/// The most entries one list (`ipAddresses`, `machineTags`) holds as typed
/// entries; a longer list is kept as sent. Machines have a few addresses
/// and tags; a list of thousands is an attack on the instance's memory.
pub const MAX_LIST_ENTRIES: usize = 1_000;

/// The most typed list entries one answer holds in all. With at most 5,000
/// machines and a 16 MiB body, this keeps what a lookup decodes (and the
/// events made from it) well inside the default 64 MiB memory limit.
pub const MAX_ANSWER_LIST_ENTRIES: usize = 50_000;

/// The shape of a field, for tools and tests that generate machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A 64-bit integer; a numeric string is accepted.
    Integer,
    /// A boolean; `"true"` and `"false"` are accepted, in any case.
    Boolean,
    /// A string, or an integer taken as its text (`rbacGroupId`).
    IdText,
    /// An open enumeration: these values, compared without case, or any other string.
    Choice(&'static [&'static str]),
    /// A list of entries of one kind.
    List { of: &'static Kind },
    /// An object with these members.
    Record {
        fields: &'static [(&'static str, Kind)],
    },
}

/// What reading one answer has used and found.
pub struct Reading<'s> {
    secrets: &'s Secrets,
    /// Read leniently (otherwise directly): see the module's documentation.
    lenient: bool,
    list_entries_left: usize,
    /// The order members came in, per record type.
    orders: Vec<(TypeId, MemberOrder)>,
    /// The member being read, when reading leniently: `ipAddresses[2].macAddress`.
    path: String,
    /// Members whose value could not be used as typed, by path.
    pub unusable: Vec<String>,
}

impl<'s> Reading<'s> {
    /// A reading, direct unless `lenient`.
    pub fn new(secrets: &'s Secrets, lenient: bool) -> Self {
        Reading {
            secrets,
            lenient,
            list_entries_left: MAX_ANSWER_LIST_ENTRIES,
            orders: Vec::new(),
            path: String::new(),
            unusable: Vec::new(),
        }
    }

    /// `read` directly, and when that fails, again leniently: how every
    /// answer (and every text handed back) is read, so that the usual one
    /// takes one pass.
    pub fn directly_then_leniently<T, E>(
        secrets: &'s Secrets,
        mut read: impl FnMut(&mut Reading<'s>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut reading = Reading::new(secrets, false);
        read(&mut reading).or_else(|_| {
            reading.restart_leniently();
            read(&mut reading)
        })
    }

    /// Whether values are read leniently (see the module's documentation).
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// The secrets scrubbed from what is read.
    pub fn secrets(&self) -> &'s Secrets {
        self.secrets
    }

    /// Forgets what a direct reading of the answer used, to read it again leniently.
    fn restart_leniently(&mut self) {
        self.lenient = true;
        self.list_entries_left = MAX_ANSWER_LIST_ENTRIES;
        self.path.clear();
        self.unusable.clear();
    }

    /// Where the member order of `R` is kept, for [`Reading::order`].
    fn order_slot<R: Record>(&mut self) -> usize {
        let id = TypeId::of::<R>();
        match self.orders.iter().position(|(of, _)| *of == id) {
            Some(at) => at,
            None => {
                self.orders.push((id, MemberOrder::default()));
                self.orders.len() - 1
            }
        }
    }

    fn order(&mut self, slot: usize) -> &mut MemberOrder {
        &mut self.orders[slot].1
    }

    /// Undoes what a member's reading recorded, when its value as a whole
    /// could not be used (it is then kept as sent, whole).
    fn rewind(&mut self, mark: (usize, usize)) {
        let (unusable, list_entries_left) = mark;
        self.unusable.truncate(unusable);
        self.list_entries_left = list_entries_left;
    }

    fn mark(&self) -> (usize, usize) {
        (self.unusable.len(), self.list_entries_left)
    }
}

/// How a field reads the JSON the service sent for it.
pub trait Read<T> {
    const KIND: Kind;
    /// The typed value; an error for a value whose type cannot be used.
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<T, D::Error>;
    /// `Ok` exactly when `read` would give a value (reading directly),
    /// without making it: see [`Field::check`].
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        Self::read(d, reading).map(drop)
    }
    /// When reading leniently, a value `read` refused but whose text is
    /// usable (`-0`, an integer past 64 bits); `None` for most types.
    fn read_text(_raw: &str) -> Option<T> {
        None
    }
}

/// A type with one way of being read from JSON.
pub trait Field: Sized {
    const KIND: Kind;
    /// See [`Read::read`].
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error>;
    /// `Ok` exactly when `read` would give a value (reading directly),
    /// without keeping it: how `lookup-texts` checks a machine it hands on
    /// as sent. Reading and dropping is always right; types that can tell
    /// without allocating (strings, lists, records) say so more cheaply.
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        Self::read(d, reading).map(drop)
    }
    /// For a type of a scalar [`Kind`] (read from a string, a number or a
    /// boolean): the value from what the parser gave, or `None` when it
    /// cannot be used. `Option` of such a type looks at the value once, then
    /// calls this; lists and records are read by `read` alone.
    fn from_scalar(_scalar: Scalar, _reading: &Reading) -> Option<Self> {
        None
    }
    /// See [`Read::read_text`].
    fn read_text(_raw: &str) -> Option<Self> {
        None
    }
}

/// Reads a field by its type's [`Field`] impl.
pub struct Typed;

impl<T: Field> Read<T> for Typed {
    const KIND: Kind = T::KIND;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<T, D::Error> {
        T::read(d, reading)
    }
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        T::check(d, reading)
    }
    fn read_text(raw: &str) -> Option<T> {
        T::read_text(raw)
    }
}

/// Reads a `T` with `F`, as a [`DeserializeSeed`].
pub struct Seed<'r, 's, T, F = Typed> {
    reading: &'r mut Reading<'s>,
    read: PhantomData<(T, F)>,
}

impl<'r, 's, T, F> Seed<'r, 's, T, F> {
    pub fn new(reading: &'r mut Reading<'s>) -> Self {
        Seed {
            reading,
            read: PhantomData,
        }
    }
}

impl<'de, T, F: Read<T>> DeserializeSeed<'de> for Seed<'_, '_, T, F> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        F::read(d, self.reading)
    }
}

/// Checks a `T` with `F` ([`Read::check`]), as a [`DeserializeSeed`].
pub struct Check<'r, 's, T, F = Typed>(Seed<'r, 's, T, F>);

impl<'r, 's, T, F> Check<'r, 's, T, F> {
    pub fn new(reading: &'r mut Reading<'s>) -> Self {
        Check(Seed::new(reading))
    }
}

impl<'de, T, F: Read<T>> DeserializeSeed<'de> for Check<'_, '_, T, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        F::check(d, self.0.reading)
    }
}

/// A value its field cannot use: when reading directly, the answer is
/// read again leniently; when reading leniently, the value is kept as sent.
fn unusable<E: de::Error>() -> E {
    E::custom("a value of another type")
}
/// A parser's message without serde_json's ` at line L column C`: the
/// outermost error says where.
pub fn strip_position(message: &str) -> &str {
    let digits = |c: char| c.is_ascii_digit();
    let without = |text: &str| -> Option<usize> {
        let column = text.trim_end_matches(digits);
        let before_column = column.strip_suffix(" column ")?;
        let line = before_column.trim_end_matches(digits);
        let head = line.strip_suffix(" at line ")?;
        (column.len() < text.len() && line.len() < before_column.len()).then_some(head.len())
    };
    match without(message) {
        Some(len) => &message[..len],
        None => message,
    }
}

/// A value quoted in a message: short, whatever its size.
struct Excerpt<'a>(&'a str);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut chars = self.0.chars();
        let head: String = chars.by_ref().take(40).collect();
        let more = if chars.next().is_some() { "..." } else { "" };
        write!(f, "{head:?}{more}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_stripped_only_when_they_are_positions() {
        assert_eq!(
            strip_position("EOF while parsing at line 1 column 9"),
            "EOF while parsing"
        );
        assert_eq!(strip_position("seen at line one"), "seen at line one");
    }
}
