//! Events within the instance's memory. The events of an answer at the
//! stated limits can outgrow the memory a host gives the component (5,000
//! machines with 3,300-character names make 53 MB of OCSF beside the 17 MB
//! of machines they come from), and an allocation that fails aborts the
//! instance. So each event's text is allocated fallibly, and room for making
//! the next one is checked before it is made: when memory runs short, the
//! mapping ends in an error that says what to do instead of a trap.

use super::event_size;
use crate::machine::Machine;
use serde::Serialize;

/// Room for making an event besides its text and half its size again (its
/// own parts, a text that outgrows its estimate, the `wit-bindgen` return).
const HEADROOM: usize = 64 * 1024;

/// The JSON text of the event of each machine and the text it was sent as
/// (`write` writes it to the buffer it is given, with [`write_json`]), or
/// why memory cannot hold them.
pub(super) fn map_within_memory(
    machines: &[(Machine, &str)],
    mut write: impl FnMut(&Machine, &str, &mut Vec<u8>),
) -> Result<Vec<String>, String> {
    let refused = |texts: Vec<String>, done| {
        drop(texts);
        Err(refusal(done, machines.len()))
    };
    let mut texts: Vec<String> = Vec::new();
    if texts.try_reserve_exact(machines.len()).is_err() {
        return refused(texts, 0);
    }
    let mut last = 0;
    for (done, (machine, sent)) in machines.iter().enumerate() {
        // About as long as the last one, or as what this machine carries.
        let size = event_size(sent).max(last);
        let mut text = Vec::new();
        if text.try_reserve_exact(size).is_err() || !can_allocate(HEADROOM + size / 2) {
            return refused(texts, done);
        }
        write(machine, sent, &mut text);
        text.shrink_to_fit();
        last = text.len();
        // serde_json writes UTF-8.
        texts.push(String::from_utf8(text).unwrap_or_default());
    }
    Ok(texts)
}

/// `value` as JSON, appended to `out`.
pub(super) fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    // Serialising structs, strings and checked raw JSON into memory cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// Whether `bytes` can be allocated now (and freed at once).
fn can_allocate(bytes: usize) -> bool {
    let mut probe = Vec::<u8>::new();
    let fits = probe.try_reserve_exact(bytes).is_ok();
    // Kept observable, or the optimiser may assume the allocation succeeds.
    std::hint::black_box(&mut probe);
    fits
}

fn refusal(done: usize, of: usize) -> String {
    format!(
        "the events of these {of} machines need more memory than the component has \
         ({done} made): ask for the machines as JSON (--format json), or raise the memory \
         limit (--memory-limit)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_texts_are_the_events_as_json() {
        let machines: Vec<(Machine, &str)> = ["a", "b"]
            .iter()
            .map(|id| {
                let machine = Machine {
                    id: (*id).into(),
                    ..Machine::default()
                };
                (machine, "{}")
            })
            .collect();
        let texts = map_within_memory(&machines, |m, sent, out| {
            write_json(out, &serde_json::json!({"uid": m.id, "sent": sent}))
        })
        .unwrap();
        assert_eq!(
            texts,
            [r#"{"sent":"{}","uid":"a"}"#, r#"{"sent":"{}","uid":"b"}"#]
        );
    }

    #[test]
    fn memory_that_cannot_be_had_is_refused_with_what_to_do() {
        assert!(!can_allocate(usize::MAX / 2));
        assert!(can_allocate(1024));
        let why = refusal(4_100, 5_000);
        assert!(
            why.contains("5000 machines") && why.contains("(4100 made)"),
            "{why}"
        );
        assert!(why.contains("--format json") && why.contains("--memory-limit"));
    }
}
