//! Durations as people type and read them: `5s`, `55s`, `1m30s`, `250ms`,
//! `2h`; printed back as `h:mm:ss`.

use std::time::Duration;

/// Parses `5s`, `1m30s`, `250ms`, `2h`, `1.5s`; a bare number is seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("invalid duration `{text}`: expected a positive amount like 5s, 1m30s, 250ms or 2h")
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('-') {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
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
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(amount * scale).map_err(|_| bad())?;
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
        for bad in ["-5s", "", "5x", "s", "five", "5s-", "1e400"] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains("invalid duration"), "{bad}: {error}");
        }
    }

    #[test]
    fn formats_as_hours_minutes_seconds() {
        assert_eq!(format_hms(Duration::from_secs(12 * 3600)), "12:00:00");
        assert_eq!(format_hms(Duration::from_secs(3655)), "1:00:55");
        assert_eq!(format_hms(Duration::from_millis(61_500)), "0:01:01.500");
    }
}
