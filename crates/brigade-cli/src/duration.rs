//! Durations as people type and read them: `5s`, `55s`, `1m30s`, `250ms`,
//! `2h`; printed back as `h:mm:ss`.

use std::time::Duration;

/// Parses `5s`, `1m30s`, `250ms`, `2h`, `1.5s`; a bare number is seconds.
/// Parses `5s`, `1m30s`, `250ms`, `2h`, `1.5s`; a bare number is seconds.
/// Units come largest first, each at most once (`1h1h` and `30s1m` are
/// refused as likely typos), and a total past `Duration::MAX` is an error.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("invalid duration `{text}`: expected a positive amount like 5s, 1m30s, 250ms or 2h")
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('-') || text.starts_with('+') {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    // Units in the order they must come; each part must use a later one.
    const UNITS: [(&str, f64); 5] = [
        ("h", 3600.0),
        ("m", 60.0),
        ("min", 60.0),
        ("s", 1.0),
        ("ms", 0.001),
    ];
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let amount: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let at = UNITS[next_unit..]
            .iter()
            .position(|(name, _)| *name == unit)
            .map(|i| i + next_unit)
            .ok_or_else(|| {
                if UNITS.iter().any(|(name, _)| *name == unit) {
                    format!(
                        "invalid duration `{text}`: units go largest first, each once (like 1h30m)"
                    )
                } else {
                    bad()
                }
            })?;
        // `m` and `min` are one unit: neither may follow the other.
        next_unit = if UNITS[at].0 == "m" { at + 2 } else { at + 1 };
        rest = &rest[unit_len..];
        let part = Duration::try_from_secs_f64(amount * UNITS[at].1).map_err(|_| bad())?;
        total = total.checked_add(part).ok_or_else(bad)?;
    }
    Ok(total)
}

/// `h:mm:ss`, with milliseconds when there are any.
pub fn format_hms(d: Duration) -> String {
    let secs = d.as_secs();
    let millis = d.subsec_millis();
    let base = format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if millis == 0 {
        base
    } else {
        format!("{base}.{millis:03}")
    }
}

/// A short human form of a real (wall-clock) duration: `3.2ms`, `1.50s`.
pub fn format_wall(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{:.1}ms", secs * 1000.0)
    } else {
        format!("{secs:.2}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("55"), Ok(Duration::from_secs(55)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn rejects_negative_empty_and_unknown_units() {
        for bad in [
            "-5s",
            "",
            "5x",
            "s",
            "five",
            "5s-",
            "1e400",
            "+5s",
            "99999999999999999999h",
            "18446744073709551615s18446744073709551615ms",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("invalid duration"), "{bad}: {error}");
        }
    }

    #[test]
    fn refuses_repeated_and_out_of_order_units() {
        for bad in ["1h1h", "30s1m", "1m1min", "5ms5s", "1min1m"] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("largest first"), "{bad}: {error}");
        }
        assert_eq!(parse("1h2m3s4ms"), Ok(Duration::from_millis(3_723_004)));
        assert_eq!(parse("2min30s"), Ok(Duration::from_secs(150)));
    }

    #[test]
    fn formats_as_hours_minutes_seconds() {
        assert_eq!(format_hms(Duration::from_secs(12 * 3600)), "12:00:00");
        assert_eq!(format_hms(Duration::from_secs(3655)), "1:00:55");
        assert_eq!(format_hms(Duration::from_millis(61_500)), "0:01:01.500");
    }
}
