//! Historical value-at-risk of a portfolio of long positions (DESIGN §11): the loss that the
//! portfolio's P&L over one scenario period exceeds in only `1 - confidence` of the past
//! scenarios, and the search for the largest new position that keeps it under a limit.
//!
//! Method, one definition everywhere (engine, tests, reports):
//! - a scenario is one past period (the main agent uses overlapping 24-bar windows: one day of
//!   hourly bars); asset `i` returned `r[i][s]` (a simple return) over scenario `s`;
//! - the portfolio's P&L in scenario `s` is `sum_i value[i] * r[i][s]`, with `value[i]` the
//!   current market value of asset `i` (quote currency);
//! - a scenario counts only if every asset with a non-zero value has a finite return in it
//!   (`NaN` marks a missing one: an asset not yet listed, or a hole in its data); nothing is
//!   filled in;
//! - with `n` scenarios counted and tail fraction `a = 1 - confidence`, the VaR is the loss of
//!   the `k`-th worst scenario, `k = max(1, ceil(n * a))` (so 5 % of 100 scenarios is the 5th
//!   worst), floored at 0: `VaR = max(0, -pnl_(k))`. `n * a` is rounded down by 1e-9 first, so
//!   that `100 * (1 - 0.95) = 5.000000000000004` still gives the 5th.
//!
//! `f64` throughout: this is statistics on values, never an amount that is booked.

/// The VaR of a portfolio and the number of scenarios behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarEstimate {
    /// The loss at the confidence level, in quote currency (0 or more).
    pub var: f64,
    /// Scenarios that counted.
    pub scenarios: usize,
}

/// The rank (1-based, from the worst) of the scenario whose loss is the VaR among `n`.
pub fn tail_rank(n: usize, confidence: f64) -> usize {
    let tail = (1.0 - confidence).clamp(0.0, 1.0);
    let k = (n as f64 * tail - 1e-9).ceil();
    if k < 1.0 { 1 } else { (k as usize).min(n.max(1)) }
}

/// VaR of P&L scenarios already computed (`pnl` is reordered in place). `None` when empty or
/// when a value is not finite.
pub fn var_of_pnl(pnl: &mut [f64], confidence: f64) -> Option<f64> {
    if pnl.is_empty() || pnl.iter().any(|p| !p.is_finite()) {
        return None;
    }
    let k = tail_rank(pnl.len(), confidence);
    let (_, kth, _) = pnl.select_nth_unstable_by(k - 1, f64::total_cmp);
    Some((-*kth).max(0.0))
}

/// Historical VaR of a portfolio holding `values[i]` of the asset whose scenario returns are
/// `returns[i]` (all of one length). `scratch` holds the P&L of each scenario (reused, so a
/// caller in a loop allocates nothing). `None` when fewer than `min_scenarios` scenarios count
/// (see the module notes), or when the inputs disagree in length.
pub fn portfolio_var(
    values: &[f64],
    returns: &[&[f64]],
    confidence: f64,
    min_scenarios: usize,
    scratch: &mut Vec<f64>,
) -> Option<VarEstimate> {
    if values.len() != returns.len() {
        return None;
    }
    let n = returns.first().map_or(0, |r| r.len());
    if returns.iter().any(|r| r.len() != n) {
        return None;
    }
    scratch.clear();
    'scenario: for s in 0..n {
        let mut pnl = 0.0;
        for (value, series) in values.iter().zip(returns) {
            if *value == 0.0 {
                continue;
            }
            let r = series[s];
            if !r.is_finite() {
                continue 'scenario;
            }
            pnl += value * r;
        }
        scratch.push(pnl);
    }
    if scratch.len() < min_scenarios.max(1) {
        return None;
    }
    let scenarios = scratch.len();
    var_of_pnl(scratch, confidence).map(|var| VarEstimate { var, scenarios })
}

/// Reusable buffers of [`fit_under_var`].
#[derive(Debug, Clone, Default)]
pub struct VarScratch {
    base: Vec<(f64, f64)>,
    pnl: Vec<f64>,
}

/// How a candidate position fits under the VaR limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VarFit {
    /// The whole wanted value fits; the VaR with it.
    Full {
        /// Portfolio VaR with the candidate at its wanted value.
        var: f64,
    },
    /// Only a smaller value fits: the largest found (within `1e-6` of the wanted value).
    Shrunk {
        /// The value that fits.
        value: f64,
        /// Portfolio VaR with the candidate at that value.
        var: f64,
    },
    /// Nothing fits: the portfolio without the candidate is already over the limit.
    OverLimit {
        /// Portfolio VaR without the candidate.
        var: f64,
    },
    /// Too few scenarios to estimate the VaR with the candidate.
    InsufficientHistory {
        /// Scenarios that counted.
        scenarios: usize,
    },
}

/// The largest value in `[0, wanted]` of a candidate asset (scenario returns `candidate`) that
/// keeps the VaR of the portfolio `held_values` / `held_returns` plus the candidate at or under
/// `limit`: the wanted value when it fits, else a bisection (40 halvings) on the candidate's
/// value, which assumes the VaR grows with it (true unless the candidate hedges the rest).
///
/// Scenarios are counted with the candidate included, so its missing data removes scenarios for
/// the check at every size. `scratch` is reused between calls, so a caller in a loop allocates
/// nothing once it has grown.
#[allow(clippy::too_many_arguments)]
pub fn fit_under_var(
    held_values: &[f64],
    held_returns: &[&[f64]],
    candidate: &[f64],
    wanted: f64,
    limit: f64,
    confidence: f64,
    min_scenarios: usize,
    scratch: &mut VarScratch,
) -> VarFit {
    // P&L of the held portfolio per scenario, and the candidate's return, side by side.
    let VarScratch { base, pnl: scratch } = scratch;
    base.clear();
    'scenario: for (s, &rc) in candidate.iter().enumerate() {
        if !rc.is_finite() {
            continue;
        }
        let mut pnl = 0.0;
        for (value, series) in held_values.iter().zip(held_returns) {
            if *value == 0.0 {
                continue;
            }
            match series.get(s) {
                Some(r) if r.is_finite() => pnl += value * r,
                _ => continue 'scenario,
            }
        }
        base.push((pnl, rc));
    }
    if base.len() < min_scenarios.max(1) {
        return VarFit::InsufficientHistory { scenarios: base.len() };
    }
    let mut var_at = |w: f64| -> f64 {
        scratch.clear();
        scratch.extend(base.iter().map(|(pnl, rc)| pnl + w * rc));
        var_of_pnl(scratch, confidence).unwrap_or(f64::INFINITY)
    };
    let without = var_at(0.0);
    if without > limit {
        return VarFit::OverLimit { var: without };
    }
    let full = var_at(wanted);
    if full <= limit {
        return VarFit::Full { var: full };
    }
    let (mut lo, mut hi) = (0.0, wanted);
    let mut lo_var = without;
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        let v = var_at(mid);
        if v <= limit {
            lo = mid;
            lo_var = v;
        } else {
            hi = mid;
        }
    }
    VarFit::Shrunk { value: lo, var: lo_var }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_rank_table() {
        // (n, confidence, k)
        let cases =
            [(100, 0.95, 5), (20, 0.95, 1), (21, 0.95, 2), (1, 0.95, 1), (720, 0.95, 36), (10, 0.5, 5)];
        for (n, c, k) in cases {
            assert_eq!(tail_rank(n, c), k, "n {n} confidence {c}");
        }
    }

    #[test]
    fn hand_computed_single_asset() {
        // 20 scenarios, returns -0.10, -0.09, ..., +0.09; 95 %: k = ceil(20 * 0.05) = 1, the worst.
        let r: Vec<f64> = (0..20).map(|i| (i as f64 - 10.0) / 100.0).collect();
        let mut scratch = Vec::new();
        let est = portfolio_var(&[1000.0], &[&r], 0.95, 1, &mut scratch).unwrap();
        assert!((est.var - 100.0).abs() < 1e-9, "{est:?}");
        assert_eq!(est.scenarios, 20);
        // 90 %: k = 2, the second worst, -0.09 * 1000.
        let est = portfolio_var(&[1000.0], &[&r], 0.90, 1, &mut scratch).unwrap();
        assert!((est.var - 90.0).abs() < 1e-9, "{est:?}");
    }

    #[test]
    fn hand_computed_two_assets_with_a_missing_scenario() {
        // Values 100 and 200. Scenario P&L: s0 = 100*-0.05 + 200*0.01 = -3; s1 = 100*0.02 +
        // 200*-0.03 = -4; s2 missing for b (skipped); s3 = 100*-0.01 + 200*-0.01 = -3;
        // s4 = 100*0.05 + 200*0.02 = 9. n = 4, 50 %: k = 2 -> the second worst, -3 -> VaR 3.
        let a = [-0.05, 0.02, -0.5, -0.01, 0.05];
        let b = [0.01, -0.03, f64::NAN, -0.01, 0.02];
        let mut scratch = Vec::new();
        let est = portfolio_var(&[100.0, 200.0], &[&a, &b], 0.5, 1, &mut scratch).unwrap();
        assert_eq!(est.scenarios, 4);
        assert!((est.var - 3.0).abs() < 1e-12, "{est:?}");
        // 95 %: k = 1, the worst, -4.
        let est = portfolio_var(&[100.0, 200.0], &[&a, &b], 0.95, 1, &mut scratch).unwrap();
        assert!((est.var - 4.0).abs() < 1e-12, "{est:?}");
        // A zero value ignores that asset's gaps: scenario s2 counts, -0.5 * 100 = -50.
        let est = portfolio_var(&[100.0, 0.0], &[&a, &b], 0.95, 1, &mut scratch).unwrap();
        assert_eq!(est.scenarios, 5);
        assert!((est.var - 50.0).abs() < 1e-12);
        // Too few scenarios.
        assert_eq!(portfolio_var(&[100.0, 200.0], &[&a, &b], 0.95, 5, &mut scratch), None);
    }

    #[test]
    fn gains_only_is_zero_var() {
        let r = [0.01, 0.02, 0.03];
        assert_eq!(portfolio_var(&[10.0], &[&r], 0.95, 1, &mut Vec::new()).map(|e| e.var), Some(0.0));
    }

    #[test]
    fn fit_shrinks_to_the_limit() {
        // Held: nothing. Candidate returns: worst -0.10 among 20 -> VaR = 0.10 * w.
        let r: Vec<f64> = (0..20).map(|i| (i as f64 - 10.0) / 100.0).collect();
        let mut scratch = VarScratch::default();
        let fit = fit_under_var(&[], &[], &r, 1000.0, 50.0, 0.95, 10, &mut scratch);
        match fit {
            VarFit::Shrunk { value, var } => {
                assert!((value - 500.0).abs() < 1e-6, "{value}");
                assert!(var <= 50.0);
            }
            other => panic!("{other:?}"),
        }
        let fit = fit_under_var(&[], &[], &r, 400.0, 50.0, 0.95, 10, &mut scratch);
        assert!(matches!(fit, VarFit::Full { var } if (var - 40.0).abs() < 1e-9), "{fit:?}");
        // Held already over the limit.
        let fit = fit_under_var(&[1000.0], &[&r], &r, 10.0, 50.0, 0.95, 10, &mut scratch);
        assert!(matches!(fit, VarFit::OverLimit { var } if (var - 100.0).abs() < 1e-9), "{fit:?}");
        let fit = fit_under_var(&[], &[], &r[..5], 10.0, 50.0, 0.95, 10, &mut scratch);
        assert_eq!(fit, VarFit::InsufficientHistory { scenarios: 5 });
    }
}
