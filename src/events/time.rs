//! RFC 3339 times: reading the service's, writing the observation time.
//! The component has no clock; every instant comes from the caller or the service.

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01: `(year, month, day)` (`civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time as the service sends
/// it: `2023-03-14T09:21:44.1234567Z` (any number of fractional digits,
/// truncated to the millisecond; `Z` or a `+hh:mm`/`-hh:mm` offset). `None`
/// for anything else, including impossible dates.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let sep = |i: usize, c: u8| b.get(i).is_some_and(|x| x.eq_ignore_ascii_case(&c));
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (h, m) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = i64::from(h * 60 + m);
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = i64::from(hour * 3600 + minute * 60 + second) - offset_minutes * 60;
    Some(days * MS_PER_DAY + seconds * 1000 + millis)
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` for milliseconds since the Unix epoch, or `None`
/// outside the years 0000 to 9999, which RFC 3339 cannot write.
pub fn format_rfc3339_ms(ms: i64) -> Option<String> {
    let (days, in_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let (seconds, millis) = (in_day / 1000, in_day % 1000);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ))
}

/// The observation time (milliseconds since the Unix epoch) as the schemas'
/// signed milliseconds and its RFC 3339 text, or why it cannot be written.
pub(super) fn observed(observed_at: u64) -> Result<(i64, String), String> {
    i64::try_from(observed_at)
        .ok()
        .and_then(|ms| Some((ms, format_rfc3339_ms(ms)?)))
        .ok_or_else(|| {
            format!(
                "observed-at {observed_at} ms since the Unix epoch is after \
                 9999-12-31T23:59:59.999Z, the last time RFC 3339 can write"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip_across_eras_and_leap_days() {
        for (y, m, d, days) in [
            (1970, 1, 1, 0),
            (1969, 12, 31, -1),
            (2000, 2, 29, 11_016),
            (2000, 3, 1, 11_017),
            (1900, 3, 1, -25_508),
            (2026, 11, 28, 20_785),
            (0, 1, 1, -719_528),
            (9999, 12, 31, 2_932_896),
        ] {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
            assert_eq!(civil_from_days(days), (y, m, d), "{days}");
        }
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_the_services_times_to_the_millisecond() {
        // 2023-03-14T09:21:44Z is 1678785704 seconds after the epoch.
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.1234567Z"),
            Some(1_678_785_704_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44Z"),
            Some(1_678_785_704_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.5Z"),
            Some(1_678_785_704_500)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T09:21:44.52z"),
            Some(1_678_785_704_520)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T11:21:44+02:00"),
            Some(1_678_785_704_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2023-03-14T08:51:44-00:30"),
            Some(1_678_785_704_000)
        );
        assert_eq!(parse_rfc3339_ms("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn refuses_what_is_not_an_rfc3339_time() {
        for bad in [
            "",
            "2023-03-14",
            "2023-03-14T09:21:44",
            "2023-03-14 09:21:44Z",
            "2023-3-14T09:21:44Z",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-00-01T00:00:00Z",
            "2023-01-32T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:60:00Z",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00ZZ",
            "2023-01-01T00:00:00+0200",
            "2023-01-01T00:00:00+24:00",
            "+023-01-01T00:00:00Z",
            "2023-01-01T00:00:00.١٢Z",
            "२०२३-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_milliseconds_as_rfc3339_within_four_digit_years() {
        assert_eq!(
            format_rfc3339_ms(1_678_785_704_123).as_deref(),
            Some("2023-03-14T09:21:44.123Z")
        );
        assert_eq!(
            format_rfc3339_ms(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            format_rfc3339_ms(-1).as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
        assert_eq!(
            format_rfc3339_ms(253_402_300_799_999).as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(format_rfc3339_ms(253_402_300_800_000), None);
        assert_eq!(format_rfc3339_ms(i64::MAX), None);
        assert_eq!(format_rfc3339_ms(i64::MIN), None);
        for ms in [0, 1_678_785_704_123, -62_167_219_200_000, 951_782_400_000] {
            let text = format_rfc3339_ms(ms).unwrap();
            assert_eq!(parse_rfc3339_ms(&text), Some(ms), "{text}");
        }
    }

    #[test]
    fn an_observation_time_rfc3339_cannot_write_is_an_error() {
        assert_eq!(
            observed(1_764_000_000_123),
            Ok((1_764_000_000_123, "2025-11-24T16:00:00.123Z".into()))
        );
        assert!(observed(253_402_300_799_999).is_ok());
        for beyond in [253_402_300_800_000, i64::MAX as u64, u64::MAX] {
            let e = observed(beyond).unwrap_err();
            assert!(
                e.contains(&beyond.to_string()) && e.contains("RFC 3339"),
                "{e}"
            );
        }
    }
}
