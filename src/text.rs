//! Substring search for the short needles the core looks for (`://`,
//! `server`, ...). `str::contains` with a string pattern brings core's
//! Two-Way searcher into the component, 3 KB of it; a window compare does
//! for needles of a few bytes.

/// The byte offset of the first `needle` in `haystack`.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window == needle.as_bytes())
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &str, needle: &str) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_str_find_finds() {
        for haystack in ["", "a", "https://x", "x://", "::/", "ab://cd://", "é://é"] {
            for needle in ["", "://", "a", "é", "cd:", "xx"] {
                assert_eq!(
                    find(haystack, needle),
                    haystack.find(needle),
                    "{haystack} {needle}"
                );
            }
        }
    }
}
