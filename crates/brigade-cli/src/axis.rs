//! A time axis with round ticks: the step is the first "nice" duration
//! (1, 2 or 5 of a unit, and the clock's own 15 and 30 minutes, 3, 6 and
//! 12 hours) that needs at most ten ticks, as in Heckbert's "Nice Numbers
//! for Graph Labels" (Graphics Gems, 1990) adapted to the clock's units.

/// Tick steps in seconds, smallest first.
const STEPS: &[f64] = &[
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, // below a second
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, // seconds
    60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, // minutes
    3600.0, 7200.0, 10800.0, 21600.0, 43200.0, // hours
];
const DAY: f64 = 86_400.0;
/// The most ticks an axis gets.
const MAX_TICKS: f64 = 10.0;

/// The step for an axis spanning `span` seconds: one of [`STEPS`], or a
/// whole number of days (1, 2 or 5 times a power of ten).
pub fn step(span: f64) -> f64 {
    if let Some(step) = STEPS.iter().copied().find(|s| span / s <= MAX_TICKS) {
        return step;
    }
    let mut decade = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            let step = m * decade * DAY;
            if span / step <= MAX_TICKS {
                return step;
            }
        }
        decade *= 10.0;
    }
}

/// The ticks of an axis spanning `span` seconds: `0, step, 2 step, …` up
/// to `span`.
pub fn ticks(span: f64) -> (f64, Vec<f64>) {
    let step = step(span);
    let count = (span / step + 1e-9).floor() as u64;
    (step, (0..=count).map(|i| i as f64 * step).collect())
}

/// A tick's label, in the unit of the step: `3 d`, `6 h`, `1:30` (hours
/// and minutes), `45 s`, `200 ms`.
pub fn label(t: f64, step: f64) -> String {
    if t == 0.0 {
        return "0".to_string();
    }
    if step >= DAY {
        format!("{} d", (t / DAY).round())
    } else if step >= 3600.0 {
        format!("{} h", (t / 3600.0).round())
    } else if step >= 60.0 {
        let minutes = (t / 60.0).round() as u64;
        format!("{}:{:02}", minutes / 60, minutes % 60)
    } else if step >= 1.0 {
        format!("{} s", t.round())
    } else {
        format!("{} ms", (t * 1000.0).round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round_and_give_at_most_ten_ticks() {
        for span in [
            0.003,
            0.7,
            9.0,
            61.0,
            3655.0,
            43_200.0,
            180_000.0,
            15_000_055.0,
            1.8e8,
            3e10,
        ] {
            let (step, ticks) = ticks(span);
            assert!(ticks.len() <= 11, "{span}: {ticks:?}");
            assert!(ticks.len() >= 2, "{span}: {ticks:?}");
            assert!(*ticks.last().unwrap() <= span * (1.0 + 1e-9));
            let round = STEPS.contains(&step) || {
                let days = step / DAY;
                let decade = 10f64.powf(days.log10().floor());
                [1.0, 2.0, 5.0].contains(&(days / decade).round())
            };
            assert!(round, "{span}: {step}");
        }
    }

    #[test]
    fn labels_read_in_the_step_unit() {
        assert_eq!(label(0.0, 7200.0), "0");
        assert_eq!(label(7200.0 * 3.0, 7200.0), "6 h");
        assert_eq!(label(5400.0, 900.0), "1:30");
        assert_eq!(label(45.0, 15.0), "45 s");
        assert_eq!(label(0.2, 0.1), "200 ms");
        assert_eq!(label(20.0 * DAY, 5.0 * DAY), "20 d");
        assert_eq!(step(43_200.0), 7200.0);
        assert_eq!(step(3655.0), 600.0);
    }
}
