//! Turning what a caller typed into the domain the service is asked about.
//!
//! The result goes into a URL path unescaped, so everything that could change
//! the path, query or fragment is refused here, with a reason a person can act on.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// Longest domain name in DNS (without the root dot).
const MAX_NAME: usize = 253;
/// Longest label in DNS.
const MAX_LABEL: usize = 63;
/// Inputs longer than this are refused before any Unicode processing.
const MAX_INPUT_BYTES: usize = 1024;

/// ASCII that may not survive IDNA mapping: everything but letters, digits,
/// `-`, `.` and `_` (underscores occur in real host names). Also denies
/// control characters and space.
const DENY: AsciiDenyList = AsciiDenyList::new(true, "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~");

/// Characters that would change the meaning of the request URL.
const URL_SYNTAX: &[char] = &['/', '?', '#', '%', '\\', '@', ':'];

/// Normalise a domain: trim, drop one trailing dot, lower-case, IDNA to
/// punycode, check lengths. Returns the reason when the input is refused.
pub fn normalize(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("the domain is empty".into());
    }
    if trimmed.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "the domain is {} bytes long; a domain name has at most {MAX_NAME} characters",
            trimmed.len()
        ));
    }
    if crate::text::contains(trimmed, "://") {
        return Err(format!(
            "{trimmed:?} looks like a URL; pass only the domain name, such as contoso.com"
        ));
    }
    for (position, c) in trimmed.chars().enumerate() {
        let position = position + 1;
        if URL_SYNTAX.contains(&c) {
            return Err(format!(
                "character {position} is {c:?}, which is not allowed in a domain name"
            ));
        }
        if c.is_whitespace() {
            return Err(format!("character {position} is whitespace ({c:?})"));
        }
        if c.is_control() {
            return Err(format!(
                "character {position} is a control character (U+{:04X})",
                c as u32
            ));
        }
    }
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if name.split('.').any(str::is_empty) {
        return Err(format!(
            "{trimmed:?} has an empty label (a leading dot, two dots in a row, or two trailing dots)"
        ));
    }
    let ascii = Uts46::new()
        .to_ascii(
            name.as_bytes(),
            DENY,
            Hyphens::CheckFirstLast,
            DnsLength::Ignore,
        )
        .map_err(|_| {
            format!(
                "{name:?} is not a valid domain name: a label starts or ends with '-', or it has a character IDNA does not allow"
            )
        })?;
    check_lengths(&ascii)?;
    // Defence in depth: whatever IDNA mapped, only these may reach the URL path.
    if let Some(c) = ascii
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!("{name:?} maps to a name containing {c:?}"));
    }
    Ok(ascii.into_owned())
}

fn check_lengths(ascii: &str) -> Result<(), String> {
    if ascii.len() > MAX_NAME {
        return Err(format!(
            "the domain is {} characters long in punycode; at most {MAX_NAME} are allowed",
            ascii.len()
        ));
    }
    if let Some(label) = ascii.split('.').find(|l| l.len() > MAX_LABEL) {
        return Err(format!(
            "the label {label:?} is {} characters long; at most {MAX_LABEL} are allowed",
            label.len()
        ));
    }
    // IDNA can map a character to a dot (U+3002) or to nothing (soft hyphen).
    if ascii.split('.').any(str::is_empty) {
        return Err("the domain has an empty label after IDNA mapping".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn trims_lowercases_and_drops_one_trailing_dot() {
        assert_eq!(normalize("  Contoso.COM.\n").unwrap(), "contoso.com");
    }

    #[test]
    fn converts_unicode_to_punycode() {
        assert_eq!(
            normalize("Bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(normalize("例え.テスト").unwrap(), "xn--r8jz45g.xn--zckzah");
    }

    #[test]
    fn keeps_underscores_and_inner_hyphens() {
        assert_eq!(
            normalize("_dmarc.ab--cd.example").unwrap(),
            "_dmarc.ab--cd.example"
        );
    }

    fn refused(input: &str) -> String {
        normalize(input).expect_err(input)
    }

    #[test]
    fn refuses_url_syntax_and_names_the_character() {
        assert!(refused("contoso.com/x").contains("character 12 is '/'"));
        assert!(refused("contoso.com?a=1").contains("'?'"));
        assert!(refused("contoso.com#x").contains("'#'"));
        assert!(refused("contoso%2ecom").contains("'%'"));
        assert!(refused("contoso\\com").contains("'\\\\'"));
        assert!(refused("user@contoso.com").contains("'@'"));
        assert!(refused("contoso.com:443").contains("':'"));
    }

    #[test]
    fn refuses_a_pasted_url() {
        assert!(refused("https://contoso.com/").contains("looks like a URL"));
    }

    #[test]
    fn refuses_whitespace_and_control_characters() {
        assert!(refused("contoso .com").contains("whitespace"));
        assert!(refused("contoso\u{7}.com").contains("U+0007"));
        assert!(refused("contoso\u{0}.com").contains("U+0000"));
    }

    #[test]
    fn refuses_empty_names_and_labels() {
        assert!(refused("   ").contains("empty"));
        assert!(refused(".contoso.com").contains("empty label"));
        assert!(refused("contoso..com").contains("empty label"));
        assert!(refused("contoso.com..").contains("empty label"));
        assert!(refused(".").contains("empty label"));
    }

    #[test]
    fn refuses_characters_idna_maps_to_url_syntax() {
        // U+FF0F FULLWIDTH SOLIDUS maps to '/' under UTS 46.
        assert!(refused("contoso\u{ff0f}.com").contains("not a valid domain name"));
        assert!(refused("contoso\u{ff03}.com").contains("not a valid domain name"));
    }

    #[test]
    fn refuses_hyphens_at_label_edges() {
        assert!(refused("-contoso.com").contains("'-'"));
        assert!(refused("contoso-.com").contains("'-'"));
    }

    #[test]
    fn checks_label_and_total_lengths() {
        let label63 = "a".repeat(63);
        assert!(normalize(&format!("{label63}.com")).is_ok());
        assert!(refused(&format!("{}.com", "a".repeat(64))).contains("64 characters"));
        let long = vec!["abcdefghi"; 26].join("."); // 259 characters
        assert!(refused(&long).contains("at most 253"));
        assert!(refused(&"a".repeat(5000)).contains("5000 bytes"));
    }
}
