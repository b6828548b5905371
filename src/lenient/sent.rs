//! Writing what the service sent back: a value compact and scrubbed but
//! otherwise as sent, and a record's members (typed, then as sent).

use super::{Key, Record};
use crate::secrets::Secrets;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::value::RawValue;
use std::fmt;

/// Appends `"name":value` to a JSON object text being built, the value as
/// [`push_compact`] writes it.
pub(super) fn push_member(object: &mut String, name: &str, raw: &str, secrets: &Secrets) {
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
    push_compact(object, raw, secrets);
}

/// A JSON value the parser checked, as [`push_compact`] writes it, in a
/// string of its own size: thousands of these may be held at once.
pub fn compact(raw: &str, secrets: &Secrets) -> String {
    let mut text = String::with_capacity(raw.len());
    push_compact(&mut text, raw, secrets);
    text.shrink_to_fit();
    text
}

/// Appends a JSON value the parser checked, compacted (whitespace outside
/// strings removed) but otherwise as sent: member order, numbers and
/// escapes. A string with escapes is decoded and checked for secrets the
/// body's scrubbing could not see; one that holds any is written scrubbed,
/// and so is one with a lone surrogate (`\ud800`), which no JSON reader
/// after the parser would accept.
fn push_compact(object: &mut String, raw: &str, secrets: &Secrets) {
    // What the service usually sends: copied whole, without looking at each string.
    if is_compact_without_escapes(raw.as_bytes()) {
        object.push_str(raw);
        return;
    }
    let bytes = raw.as_bytes();
    // `raw` is JSON the parser checked: strings end, escapes are complete.
    let (mut start, mut i) = (0, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let open = i;
                let mut escapes = false;
                i += 1;
                loop {
                    i = quote_or_backslash(bytes, i);
                    if bytes.get(i) != Some(&b'\\') {
                        break;
                    }
                    escapes = true;
                    i += 2;
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

/// Whether JSON the parser checked has no escape and no whitespace outside
/// strings, eight bytes at a time. Without a backslash every quote opens or
/// closes a string, so whether a space is inside one is the parity of the
/// quotes before it; a tab, CR or LF is never inside one (JSON escapes them).
fn is_compact_without_escapes(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const LOWS: u64 = ONES * 0x7f;
    // The high bit of each byte of `word` that equals `byte`, exactly.
    let equal = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        !(((x & LOWS) + LOWS) | x) & !LOWS
    };
    let mut inside = 0u64; // all ones while the bytes so far end inside a string
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let quotes = equal(word, b'"') >> 7;
        // A byte below `!` (a space, a control character) or a backslash:
        // rare, so looked at closely only when there is one.
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let rare =
            (word.wrapping_sub(ONES * 0x21) & !word) | (backslash.wrapping_sub(ONES) & !backslash);
        if rare & !LOWS != 0 {
            if equal(word, b'\\') | equal(word, b'\t') | equal(word, b'\n') | equal(word, b'\r')
                != 0
            {
                return false;
            }
            // Bit 0 of each byte: the parity of the quotes up to it, this word's.
            let mut parity = quotes;
            parity ^= parity << 8;
            parity ^= parity << 16;
            parity ^= parity << 32;
            let outside = !(parity ^ inside) & ONES;
            if (equal(word, b' ') >> 7) & outside != 0 {
                return false;
            }
        }
        if quotes.count_ones() % 2 == 1 {
            inside = !inside;
        }
    }
    let mut inside = inside != 0;
    for &b in words.remainder() {
        match b {
            b'"' => inside = !inside,
            b'\\' | b'\t' | b'\n' | b'\r' => return false,
            b' ' if !inside => return false,
            _ => {}
        }
    }
    true
}

/// The index of the first `"` or `\\` in `bytes` from `at` (`bytes.len()`
/// when there is none), eight bytes at a time: most of an answer's bytes are
/// inside strings, and this is the one scan each takes in copying a text.
fn quote_or_backslash(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    // A byte of `word` that is zero shows as its high bit; the lowest one
    // found is the first such byte (bits above it may be false).
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let found = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return at + found.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    at + bytes[at.min(bytes.len())..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\')
        .unwrap_or(bytes.len().saturating_sub(at))
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

/// Writes a record's members: the modelled ones (absent ones as `null`),
/// except those the service's own members (in `unmodelled`) replace, then
/// those members as sent.
fn write_record<R: Record, M: SerializeMap>(record: &R, map: &mut M) -> Result<(), M::Error> {
    let sent = record.unmodelled();
    let replaced = match sent.map(modelled_names_in::<R>) {
        Some(Some(replaced)) => replaced,
        // Not a JSON object text: kept as a string. The readers never make
        // one; a caller of the core may set anything.
        Some(None) => {
            record.write_members(map, 0)?;
            return map.serialize_entry("unmodelled", &sent);
        }
        None => 0,
    };
    record.write_members(map, replaced)?;
    if let Some(sent) = sent {
        let mut members = SentMembers { map, failed: None };
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
struct SentMembers<'m, M: SerializeMap> {
    map: &'m mut M,
    failed: Option<M::Error>,
}

impl<'de, M: SerializeMap> Visitor<'de> for &mut SentMembers<'_, M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            let raw: &RawValue = map.next_value()?;
            if let Err(e) = self.map.serialize_entry(&*name, raw) {
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
    write_record(record, &mut map)?;
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_text_without_escapes_or_whitespace_between_tokens_is_copied_whole() {
        for (text, whole) in [
            (r#"{"a":"b c","d":[1,2.50]}"#, true),
            (r#"{"name":"Device group 0","x":" ","y":"  a  "}"#, true),
            (r#"{"a": "b"}"#, false),
            (r#"{"a":"b" }"#, false),
            (
                r#"{"a":"b","c":"long enough to cross words", "d":1}"#,
                false,
            ),
            (r#"{"a":"b\"c"}"#, false),
            ("{\"a\":\n1}", false),
            ("{\"a\":1}\t", false),
            (r#""#, true),
            (r#"[ ]"#, false),
        ] {
            assert_eq!(is_compact_without_escapes(text.as_bytes()), whole, "{text}");
        }
    }

    #[test]
    fn the_first_quote_or_backslash_is_found_wherever_it_is() {
        for len in 0..20 {
            for at in 0..=len {
                for mark in [b'"', b'\\'] {
                    // Bytes one bit away from a mark (`#`, `]`), which must not match.
                    let mut bytes: Vec<u8> = (0..len).map(|i| b"#]"[i % 2]).collect();
                    if at < len {
                        bytes[at] = mark;
                        bytes.push(b'"');
                    }
                    bytes.insert(0, b'#');
                    assert_eq!(quote_or_backslash(&bytes, 1), at + 1, "{len} {at}");
                }
            }
        }
        assert_eq!(quote_or_backslash(b"abc", 3), 3);
        assert_eq!(quote_or_backslash("\u{e9}\u{1f600}\"x".as_bytes(), 0), 6);
    }

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
