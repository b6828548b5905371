//! How each type of field is read: strings, numbers, booleans, open
//! enumerations (through [`Field::from_scalar`]), `rbacGroupId`, lists.

use super::{Check, Field, Kind, Read, Reading, Seed, unusable};
use super::{MAX_ANSWER_LIST_ENTRIES, MAX_LIST_ENTRIES};
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::marker::PhantomData;

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

/// `read` for a type with [`Field::from_scalar`].
pub fn read_scalar<'de, T: Field, D: Deserializer<'de>>(
    d: D,
    reading: &Reading,
) -> Result<T, D::Error> {
    T::from_scalar(Scalar::of(d)?, reading).ok_or_else(unusable)
}

/// `Ok` when `T::from_scalar` gives a value for `scalar`. Any string is text
/// and an open enumeration's value, scrubbed or not: not copied to find out.
#[inline(always)]
fn usable<T: Field, E: de::Error>(scalar: Scalar, reading: &Reading) -> Result<(), E> {
    match (T::KIND, &scalar) {
        (Kind::Text | Kind::Choice(_), Scalar::Text(_) | Scalar::Decoded(_)) => Ok(()),
        _ => T::from_scalar(scalar, reading)
            .map(drop)
            .ok_or_else(unusable),
    }
}

impl Field for String {
    const KIND: Kind = Kind::Text;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        read_scalar(d, reading)
    }
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        usable::<Self, D::Error>(Scalar::of(d)?, reading)
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

/// Whether an `Option<T>` is read with one look at the value, not
/// `deserialize_option`'s and then `T`'s: `T` is read from a scalar.
const fn one_look<T: Field>() -> bool {
    matches!(
        T::KIND,
        Kind::Text | Kind::Integer | Kind::Boolean | Kind::Choice(_)
    )
}

/// `null`, or what `seed` reads from the value.
struct Maybe<S>(S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Maybe<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value or null")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

impl<T: Field> Field for Option<T> {
    const KIND: Kind = T::KIND;
    fn read<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<Self, D::Error> {
        if one_look::<T>() {
            return match Scalar::of(d)? {
                Scalar::Null => Ok(None),
                scalar => T::from_scalar(scalar, reading)
                    .map(Some)
                    .ok_or_else(unusable),
            };
        }
        d.deserialize_option(Maybe(Seed::<T>::new(reading)))
    }
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        if one_look::<T>() {
            return match Scalar::of(d)? {
                Scalar::Null => Ok(()),
                scalar => usable::<T, D::Error>(scalar, reading),
            };
        }
        d.deserialize_option(Maybe(Check::<T>::new(reading)))
            .map(drop)
    }
    fn read_text(raw: &str) -> Option<Self> {
        T::read_text(raw).map(Some)
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
    fn check<'de, D: Deserializer<'de>>(d: D, _: &mut Reading) -> Result<(), D::Error> {
        match Scalar::of(d)? {
            Scalar::Bool(_) => Err(unusable()),
            _ => Ok(()),
        }
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
    fn check<'de, D: Deserializer<'de>>(d: D, reading: &mut Reading) -> Result<(), D::Error> {
        d.deserialize_seq(CheckedEntries::<T>(reading, PhantomData))
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
            let Err(limit) = take_entry(reading, entries.len()) else {
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

/// One more typed entry for a list holding `taken` already, from the
/// answer's budget; or the limit it would break.
fn take_entry(reading: &mut Reading, taken: usize) -> Result<(), String> {
    if taken == MAX_LIST_ENTRIES {
        Err(format!("more than {MAX_LIST_ENTRIES} entries"))
    } else if reading.list_entries_left == 0 {
        Err(format!(
            "more than {MAX_ANSWER_LIST_ENTRIES} list entries in the answer"
        ))
    } else {
        reading.list_entries_left -= 1;
        Ok(())
    }
}

/// [`Entries`], checked: each entry usable, within the same limits.
struct CheckedEntries<'r, 's, T>(&'r mut Reading<'s>, PhantomData<T>);

impl<'de, T: Field> Visitor<'de> for CheckedEntries<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reading = self.0;
        let mut entries = 0;
        while seq.next_element_seed(Check::<T>::new(reading))?.is_some() {
            take_entry(reading, entries).map_err(|_| unusable())?;
            entries += 1;
        }
        Ok(())
    }
}
