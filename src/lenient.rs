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

use crate::secrets::Secrets;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::any::TypeId;
use std::borrow::Cow;
use std::fmt::{self, Write as _};
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
    /// Absent from the answer (or `null`).
    fn is_absent(&self) -> bool {
        false
    }
}

/// Reads a field by its type's [`Field`] impl.
pub struct Typed;

impl<T: Field> Read<T> for Typed {
    const KIND: Kind = T::KIND;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<T, D::Error> {
        T::read(d, reading)
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

/// A JSON value that is not a list or an object, as the parser gives it.
pub enum Scalar<'de> {
    Null,
    /// A string without escapes, borrowed from the (scrubbed) body.
    Text(&'de str),
    /// A string with escapes, decoded.
    Decoded(String),
    /// An integer in `i64`'s range, written without fraction or exponent.
    Integer(i64),
    Bool(bool),
}

impl<'de> Scalar<'de> {
    #[inline(always)]
    fn of<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    /// A string's contents: borrowed from the body unless it holds escapes,
    /// so that a value kept as a `String` is allocated once and one that is
    /// only looked at (an enumeration, a number in a string) not at all.
    #[inline(always)]
    pub fn text(self, reading: &Reading) -> Option<Cow<'de, str>> {
        match self {
            Scalar::Text(text) => Some(Cow::Borrowed(text)),
            // An escape may spell a secret the body's scrubbing could not see.
            Scalar::Decoded(text) => Some(Cow::Owned(reading.secrets.scrub(text))),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, an integer, a boolean or null")
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
        i64::try_from(v)
            .map(Scalar::Integer)
            .map_err(|_| E::custom("an integer out of range"))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Decoded(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Decoded(v))
    }
}

/// A value its field cannot use: when reading directly, the answer is
/// read again leniently; when reading leniently, the value is kept as sent.
fn unusable<E: de::Error>() -> E {
    E::custom("a value of another type")
}

/// `read` for a type with [`Field::from_scalar`].
pub fn read_scalar<'de, T: Field, D: Deserializer<'de>>(
    d: D,
    reading: &Reading,
) -> Result<T, D::Error> {
    T::from_scalar(Scalar::of(d)?, reading).ok_or_else(unusable)
}

impl Field for String {
    const KIND: Kind = Kind::Text;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        read_scalar(d, reading)
    }
    #[inline(always)]
    fn from_scalar(scalar: Scalar, reading: &Reading) -> Option<Self> {
        scalar.text(reading).map(Cow::into_owned)
    }
}

impl Field for i64 {
    const KIND: Kind = Kind::Integer;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        read_scalar(d, reading)
    }
    fn from_scalar(scalar: Scalar, reading: &Reading) -> Option<Self> {
        match scalar {
            Scalar::Integer(n) => Some(n),
            other => other.text(reading).and_then(|t| t.parse().ok()),
        }
    }
    /// `-0`, which the parser gives as a fraction. JSON's integers are
    /// Rust's: `1.0`, `1e3` and out of range are not.
    fn read_text(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl Field for bool {
    const KIND: Kind = Kind::Boolean;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        read_scalar(d, reading)
    }
    fn from_scalar(scalar: Scalar, reading: &Reading) -> Option<Self> {
        match scalar {
            Scalar::Bool(b) => Some(b),
            // `"true"` and `"false"`, in any case.
            other => other.text(reading).and_then(|t| match () {
                _ if t.eq_ignore_ascii_case("true") => Some(true),
                _ if t.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            }),
        }
    }
}

impl<T: Field> Field for Option<T> {
    const KIND: Kind = T::KIND;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        if matches!(
            T::KIND,
            Kind::Text | Kind::Integer | Kind::Boolean | Kind::Choice(_)
        ) {
            // One look at the value, not `deserialize_option`'s and then T's.
            return match Scalar::of(d)? {
                Scalar::Null => Ok(None),
                scalar => T::from_scalar(scalar, reading)
                    .map(Some)
                    .ok_or_else(unusable),
            };
        }
        struct Maybe<'r, 's, T>(Seed<'r, 's, T>);
        impl<'de, T: Field> Visitor<'de> for Maybe<'_, '_, T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or null")
            }
            fn visit_none<E>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
                self.0.deserialize(d).map(Some)
            }
        }
        d.deserialize_option(Maybe(Seed::new(reading)))
    }
    fn read_text(raw: &str) -> Option<Self> {
        T::read_text(raw).map(Some)
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// `rbacGroupId`: documented as a string, sent as a number; an integer of any
/// size is kept as its text.
pub struct IdText;

impl Read<Option<String>> for IdText {
    const KIND: Kind = Kind::IdText;
    fn read<'de, D: Deserializer<'de>>(
        d: D,
        reading: &mut Reading,
    ) -> Result<Option<String>, D::Error> {
        match Scalar::of(d)? {
            Scalar::Null => Some(None),
            // An integer literal in range is written as its decimal digits.
            Scalar::Integer(n) => Some(Some(n.to_string())),
            other => other.text(reading).map(|t| Some(t.into_owned())),
        }
        .ok_or_else(unusable)
    }
    /// An integer past 64 bits, or `-0`: its digits as sent.
    fn read_text(raw: &str) -> Option<Option<String>> {
        let digits = raw.strip_prefix('-').unwrap_or(raw);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Some(raw.to_owned()))
    }
}

impl<T: Field> Field for Vec<T> {
    const KIND: Kind = Kind::List { of: &T::KIND };
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        d.deserialize_seq(Entries(reading, PhantomData))
    }
}

/// A list's entries, each typed, within the list's and the answer's limits.
struct Entries<'r, 's, T>(&'r mut Reading<'s>, PhantomData<T>);

impl<'de, T: Field> Visitor<'de> for Entries<'_, '_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let reading = self.0;
        let mut entries = Vec::new();
        loop {
            let at = reading.path.len();
            if reading.lenient {
                // Written in place: no string of its own for each entry.
                let _ = write!(reading.path, "[{}]", entries.len());
            }
            let entry = seq.next_element_seed(Seed::<T>::new(reading));
            reading.path.truncate(at);
            let Some(entry) = entry? else {
                return Ok(entries);
            };
            let limit = if entries.len() == MAX_LIST_ENTRIES {
                format!("more than {MAX_LIST_ENTRIES} entries")
            } else if reading.list_entries_left == 0 {
                format!("more than {MAX_ANSWER_LIST_ENTRIES} list entries in the answer")
            } else {
                reading.list_entries_left -= 1;
                entries.push(entry);
                continue;
            };
            // The list is kept as sent: say why, after its name.
            if reading.lenient {
                let _ = write!(reading.path, " ({limit})");
            }
            return Err(unusable());
        }
    }
}

/// A record of the service's: its members by their JSON names, the ones it
/// does not model kept in `unmodelled`. Implemented by `machine::record!`.
pub trait Record: Default + 'static {
    /// The modelled members, in order.
    const FIELDS: &'static [(&'static str, Kind)];
    /// Members that must be present and usable (a bit per index of `FIELDS`).
    const REQUIRED: u64 = 0;
    /// Reads the member at `index` of [`Record::FIELDS`] (see [`Read::read`]).
    fn read_member<'de, D: Deserializer<'de>>(
        &mut self,
        index: usize,
        d: D,
        reading: &mut Reading,
    ) -> Result<(), D::Error>;
    /// Reads the member at `index` from its text (see [`Read::read_text`]);
    /// `false` when that cannot be used either.
    fn read_member_text(&mut self, index: usize, raw: &str) -> bool;
    /// Writes each modelled member not in `skip` (a bit per index), absent
    /// ones as `null` when `nulls`.
    fn write_members<M: SerializeMap>(
        &self,
        map: &mut M,
        nulls: bool,
        skip: u64,
    ) -> Result<(), M::Error>;
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
struct MemberOrder {
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

/// Appends `"name":value` to a JSON object text being built, the value
/// compacted (whitespace outside strings removed) but otherwise as sent. A
/// string with escapes is decoded and checked for secrets the body's
/// scrubbing could not see; one that holds any is written scrubbed.
fn push_member(object: &mut String, name: &str, raw: &str, secrets: &Secrets) {
    // A large value is reserved for exactly, with room for what usually
    // follows: doubling a string of several MiB could exhaust the instance.
    let needed = name.len() + raw.len() + 8;
    if needed > 64 * 1024 {
        object.reserve_exact(needed + 64 * 1024);
    } else {
        object.reserve(needed);
    }
    object.push(if object.is_empty() { '{' } else { ',' });
    push_json_string(object, &secrets.scrub(name.to_owned()));
    object.push(':');
    let bytes = raw.as_bytes();
    // `raw` is JSON the parser checked: strings end, escapes are complete.
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let open = i;
                let mut escapes = false;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'"' => break,
                        b'\\' => {
                            escapes = true;
                            i += 2;
                        }
                        _ => i += 1,
                    }
                }
                let close = i.min(raw.len() - 1);
                if escapes {
                    let literal = &raw[open..=close];
                    // The parser lets a lone surrogate (`\ud800`) through
                    // members it skips; no JSON reader after it would.
                    let lone = serde_json::from_str::<String>(literal).is_err();
                    let fixed;
                    let literal = if lone {
                        fixed = without_lone_surrogates(literal);
                        &fixed
                    } else {
                        literal
                    };
                    if lone || !secrets.is_empty() {
                        let decoded: String = serde_json::from_str(literal).unwrap_or_default();
                        let scrubbed = secrets.scrub(decoded.clone());
                        if lone || scrubbed != decoded {
                            object.push_str(&raw[start..open]);
                            push_json_string(object, &scrubbed);
                            start = close + 1;
                        }
                    }
                }
                i = close + 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => {
                object.push_str(&raw[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    object.push_str(&raw[start..]);
}

/// A JSON string literal with each unpaired surrogate escape replaced by
/// `\ufffd`, as a lossy decoder would.
fn without_lone_surrogates(literal: &str) -> String {
    let unit = |at: usize| -> Option<u32> {
        let escape = literal.get(at..at + 6)?.strip_prefix("\\u")?;
        u32::from_str_radix(escape, 16).ok()
    };
    let mut out = String::with_capacity(literal.len());
    let mut i = 0;
    while let Some(c) = literal[i..].chars().next() {
        let paired = |high: u32| {
            (0xD800..=0xDBFF).contains(&high)
                && unit(i + 6).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low))
        };
        let (take, replace) = match (c, unit(i)) {
            ('\\', Some(high)) if paired(high) => (12, false),
            ('\\', Some(0xD800..=0xDFFF)) => (6, true),
            // Any other escape: the backslash and the character after it.
            ('\\', _) => (
                1 + literal[i + 1..].chars().next().map_or(0, char::len_utf8),
                false,
            ),
            (c, _) => (c.len_utf8(), false),
        };
        out.push_str(if replace {
            "\\ufffd"
        } else {
            &literal[i..i + take]
        });
        i += take;
    }
    out
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
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

/// Writes a record's members: the modelled ones, except those the service's
/// own members (in `unmodelled`) replace, then those members as sent.
/// `skip`: modelled members to leave out (a bit per index of `FIELDS`).
/// `reserved`: a name the caller writes itself; a sent member of that name
/// is written as `{name}_sent`.
pub fn write_record<R: Record, M: SerializeMap>(
    record: &R,
    map: &mut M,
    nulls: bool,
    skip: u64,
    reserved: &str,
) -> Result<(), M::Error> {
    let sent = record.unmodelled();
    let replaced = match sent.map(modelled_names_in::<R>) {
        Some(Some(replaced)) => replaced,
        // Not a JSON object text: kept as a string. The readers never make
        // one; a caller of the core may set anything.
        Some(None) => {
            record.write_members(map, nulls, skip)?;
            return map.serialize_entry("unmodelled", &sent);
        }
        None => 0,
    };
    record.write_members(map, nulls, skip | replaced)?;
    if let Some(sent) = sent {
        let mut members = SentMembers {
            map,
            reserved,
            failed: None,
        };
        let streamed = serde_json::Deserializer::from_str(sent).deserialize_map(&mut members);
        if let Some(e) = members.failed {
            return Err(e);
        }
        // Checked by `modelled_names_in` already.
        debug_assert!(streamed.is_ok());
    }
    Ok(())
}

/// Which modelled members a JSON object text names (a bit per index), or
/// `None` when the text is not a JSON object.
fn modelled_names_in<R: Record>(text: &str) -> Option<u64> {
    struct Names<R>(std::marker::PhantomData<R>);
    impl<'de, R: Record> Visitor<'de> for Names<R> {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
            let mut names = 0;
            while let Some(Key(name)) = map.next_key()? {
                map.next_value::<IgnoredAny>()?;
                if let Some(i) = R::FIELDS.iter().position(|(n, _)| *n == name) {
                    names |= 1 << i;
                }
            }
            Ok(names)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let names = de
        .deserialize_map(Names::<R>(std::marker::PhantomData))
        .ok()?;
    de.end().ok().map(|()| names)
}

/// Streams the members of a JSON object text into a map being serialised.
struct SentMembers<'m, 'r, M: SerializeMap> {
    map: &'m mut M,
    reserved: &'r str,
    failed: Option<M::Error>,
}

impl<'de, M: SerializeMap> Visitor<'de> for &mut SentMembers<'_, '_, M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            let raw: &RawValue = map.next_value()?;
            let written = if !self.reserved.is_empty() && name == self.reserved {
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

/// A record as a JSON object: for `Serialize` impls.
pub fn serialize_record<R: Record, S: serde::Serializer>(
    record: &R,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    write_record(record, &mut map, true, 0, "")?;
    map.end()
}

/// Writes one member unless it is absent and absent members are left out.
pub fn write_member<M: SerializeMap, T: Field + Serialize>(
    map: &mut M,
    name: &'static str,
    value: &T,
    nulls: bool,
) -> Result<(), M::Error> {
    if nulls || !value.is_absent() {
        map.serialize_entry(name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_compacted_but_otherwise_kept_as_sent() {
        let none = Secrets::default();
        let mut object = String::new();
        push_member(&mut object, "a\"b", "[ 1 ,\n 2.50, \"x  y\\\" \" ]", &none);
        push_member(&mut object, "n", "123456789012345678901234567890", &none);
        object.push('}');
        assert_eq!(
            object,
            r#"{"a\"b":[1,2.50,"x  y\" "],"n":123456789012345678901234567890}"#
        );
    }

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

    #[test]
    fn positions_are_stripped_only_when_they_are_positions() {
        assert_eq!(
            strip_position("EOF while parsing at line 1 column 9"),
            "EOF while parsing"
        );
        assert_eq!(strip_position("seen at line one"), "seen at line one");
    }

    #[test]
    fn an_escaped_secret_in_a_member_kept_as_sent_is_scrubbed() {
        let mut secrets = Secrets::default();
        secrets.add("token-A-123456");
        let mut object = String::new();
        push_member(
            &mut object,
            "x",
            r#"{"a": "token\u002DA-123456 and more", "b": "kept\n as sent", "c": "token-A-123456"}"#,
            &secrets,
        );
        assert_eq!(
            object, r#"{"x":{"a":"[redacted] and more","b":"kept\n as sent","c":"token-A-123456"}"#,
            "the raw form is scrubbed with the body, before reading"
        );
    }

    #[test]
    fn a_lone_surrogate_in_a_member_kept_as_sent_becomes_a_replacement_character() {
        let mut object = String::new();
        push_member(
            &mut object,
            "x",
            r#"["\ud800 a", "\udc00", "\ud83d\ude00 \u00e9 \\ud800", "\ud800\ud800"]"#,
            &Secrets::default(),
        );
        object.push('}');
        let parsed: serde_json::Value = serde_json::from_str(&object).unwrap();
        assert_eq!(
            parsed["x"],
            serde_json::json!(["\u{fffd} a", "\u{fffd}", "😀 é \\ud800", "\u{fffd}\u{fffd}"])
        );
        // Strings that decode are kept as sent, escapes and all.
        assert!(
            object.contains(r#""\ud83d\ude00 \u00e9 \\ud800""#),
            "{object}"
        );
    }
}
