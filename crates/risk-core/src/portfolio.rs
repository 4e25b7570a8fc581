//! The correlation cap of DESIGN §11: no new position whose rolling return correlation with any
//! held one exceeds the cap.
//!
//! Correlation here is Pearson's over pairwise-complete observations: two return series of one
//! window (aligned on the same bar times), `NaN` marking a missing return (a hole in either
//! asset's data); only the times where both are finite count. With fewer than `min_pairs` such
//! times, or a constant series, the correlation is unknown, and an unknown correlation refuses
//! the entry (the cap cannot be shown to hold). A correlation equal to the cap is allowed; only
//! one above it refuses.
//!
//! `f64`: statistics, never money.

use serde::Serialize;

/// Pearson correlation of `x` and `y` (one length) over the indices where both are finite;
/// `None` with fewer than `min_pairs` (at least 2) such indices, a length mismatch, or a series
/// that is constant over them.
pub fn pairwise_correlation(x: &[f64], y: &[f64], min_pairs: usize) -> Option<f64> {
    if x.len() != y.len() {
        return None;
    }
    // Two passes (means, then centred sums): exact enough for returns of any scale.
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        if a.is_finite() && b.is_finite() {
            n += 1;
            sx += a;
            sy += b;
        }
    }
    if n < min_pairs.max(2) {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        if a.is_finite() && b.is_finite() {
            let (da, db) = (a - mx, b - my);
            sxx += da * da;
            syy += db * db;
            sxy += da * db;
        }
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// The outcome of the correlation cap for one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CorrelationCheck {
    /// Every held position is at or under the cap (or nothing is held).
    Clear {
        /// The highest correlation with a held position, if any is held.
        max: Option<f64>,
    },
    /// A held position correlates above the cap.
    TooCorrelated {
        /// Index (in the `held` slice) of the first such position.
        with: usize,
        /// Its correlation with the candidate.
        correlation: f64,
    },
    /// The correlation with a held position cannot be computed (too little overlapping data).
    Unknown {
        /// Index (in the `held` slice) of the first such position.
        with: usize,
    },
}

impl CorrelationCheck {
    /// True when the entry may go ahead.
    pub fn is_clear(&self) -> bool {
        matches!(self, Self::Clear { .. })
    }
}

/// Checks the candidate's window of returns against each held position's (same window, same
/// times): refused at the first held position whose correlation is above `cap` or unknown.
pub fn check_correlation_cap(
    candidate: &[f64],
    held: &[&[f64]],
    cap: f64,
    min_pairs: usize,
) -> CorrelationCheck {
    let mut max: Option<f64> = None;
    for (with, returns) in held.iter().enumerate() {
        match pairwise_correlation(candidate, returns, min_pairs) {
            None => return CorrelationCheck::Unknown { with },
            Some(correlation) if correlation > cap => {
                return CorrelationCheck::TooCorrelated { with, correlation };
            }
            Some(correlation) => max = Some(max.map_or(correlation, |m: f64| m.max(correlation))),
        }
    }
    CorrelationCheck::Clear { max }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn hand_computed_correlations() {
        // y = 2x + 1: +1; y = -x: -1.
        let x = [0.01, -0.02, 0.03, 0.00, -0.01];
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        assert!(close(pairwise_correlation(&x, &y, 2), 1.0));
        let z: Vec<f64> = x.iter().map(|v| -v).collect();
        assert!(close(pairwise_correlation(&x, &z, 2), -1.0));
        // x = 1, 2, 3; y = 1, 3, 2: means 2, 2; sxy = (-1)(-1) + 0 + (1)(0) = 1; sxx = syy = 2 -> 0.5.
        assert!(close(pairwise_correlation(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0], 2), 0.5));
        // A missing value drops the pair: (1, 1), (3, 2) remain -> +1. With min_pairs 3: unknown.
        let y = [1.0, f64::NAN, 2.0];
        assert!(close(pairwise_correlation(&[1.0, 2.0, 3.0], &y, 2), 1.0));
        assert_eq!(pairwise_correlation(&[1.0, 2.0, 3.0], &y, 3), None);
        assert_eq!(pairwise_correlation(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 2), None, "constant");
        assert_eq!(pairwise_correlation(&[1.0], &[1.0, 2.0], 1), None, "lengths");
    }

    #[test]
    fn cap_is_inclusive_and_first_breach_wins() {
        let a = [1.0, 2.0, 3.0];
        let half = [1.0, 3.0, 2.0]; // correlation 0.5 with a
        let same = [2.0, 4.0, 6.0]; // 1.0
        let flat = [1.0, 1.0, 1.0];
        assert_eq!(check_correlation_cap(&a, &[], 0.8, 2), CorrelationCheck::Clear { max: None });
        let check = check_correlation_cap(&a, &[&half], 0.5, 2);
        assert!(check.is_clear(), "equal to the cap is allowed: {check:?}");
        let check = check_correlation_cap(&a, &[&half, &same], 0.8, 2);
        assert!(
            matches!(check, CorrelationCheck::TooCorrelated { with: 1, correlation } if correlation > 0.99)
        );
        assert_eq!(check_correlation_cap(&a, &[&flat, &same], 0.8, 2), CorrelationCheck::Unknown { with: 0 });
        let check = check_correlation_cap(&a, &[&half], 0.49, 2);
        assert!(!check.is_clear());
    }
}
