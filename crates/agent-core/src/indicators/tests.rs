//! Indicator unit tests: small hand-checked series, and the O(1) forms against naive
//! recomputations over the whole window on a long pseudo-random series.

use super::*;

/// A deterministic wandering price series with highs and lows around it.
fn series(n: usize) -> Vec<(f64, f64, f64)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut price = 20_000.0;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            price *= 1.0 + 0.02 * u;
            let spread = price * 0.004 * (u.abs() + 0.1);
            (price + spread, price - spread, price)
        })
        .collect()
}

fn close_enough(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn sma_and_ema_by_hand() {
    let mut sma = Sma::new(3);
    let got: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0].into_iter().map(|x| sma.update(x)).collect();
    assert_eq!(got, [None, None, Some(2.0), Some(3.0)]);
    // EMA(3): alpha 0.5, seeded with mean(1, 2, 3) = 2; then 2 + 0.5 * (6 - 2) = 4.
    let mut ema = Ema::new(3);
    let got: Vec<Option<f64>> = [1.0, 2.0, 3.0, 6.0].into_iter().map(|x| ema.update(x)).collect();
    assert_eq!(got, [None, None, Some(2.0), Some(4.0)]);
}

#[test]
fn rsi_and_roc_by_hand() {
    // RSI(2): changes +1, -1 -> avg gain 0.5, avg loss 0.5 -> 50; then +2: gain (0.5 + 2) / 2 =
    // 1.25, loss 0.25 -> 100 * 1.25 / 1.5.
    let mut rsi = Rsi::new(2);
    let got: Vec<Option<f64>> = [10.0, 11.0, 10.0, 12.0].into_iter().map(|x| rsi.update(x)).collect();
    assert_eq!(got[..2], [None, None]);
    assert_eq!(got[2], Some(50.0));
    assert!(close_enough(got[3].unwrap(), 100.0 * 1.25 / 1.5, 1e-15));
    let mut roc = Roc::new(2);
    let got: Vec<Option<f64>> = [100.0, 50.0, 110.0].into_iter().map(|x| roc.update(x)).collect();
    assert_eq!(got[..2], [None, None]);
    assert!(close_enough(got[2].unwrap(), 0.10, 1e-12));
}

#[test]
fn bollinger_and_realized_vol_match_naive_recomputation() {
    let data = series(3000);
    let mut bb = Bollinger::new(20, 2.0);
    let mut vol = RealizedVol::new(24);
    for (i, (_, _, c)) in data.iter().enumerate() {
        let got = bb.update(*c);
        let v = vol.update(*c);
        if i >= 19 {
            let w: Vec<f64> = data[i - 19..=i].iter().map(|b| b.2).collect();
            let mean = w.iter().sum::<f64>() / 20.0;
            let sd = (w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 20.0).sqrt();
            let got = got.unwrap();
            assert!(close_enough(got.upper, mean + 2.0 * sd, 1e-12), "bar {i}");
            assert!(close_enough(got.lower, mean - 2.0 * sd, 1e-12), "bar {i}");
        }
        if i >= 24 {
            let r: Vec<f64> = (i - 23..=i).map(|j| (data[j].2 / data[j - 1].2).ln()).collect();
            let mean = r.iter().sum::<f64>() / 24.0;
            let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 23.0).sqrt();
            assert!(close_enough(v.unwrap(), sd, 1e-9), "bar {i}: {v:?} vs {sd}");
        } else {
            assert_eq!(v, None);
        }
    }
}

#[test]
fn rolling_correlation_matches_naive_recomputation() {
    let a = series(2000);
    let b = series(2100);
    let mut corr = RollingCorrelation::new(50);
    for i in 0..2000 {
        let got = corr.update(a[i].2, b[i + 100].2);
        if i >= 49 {
            let xs: Vec<f64> = a[i - 49..=i].iter().map(|p| p.2).collect();
            let ys: Vec<f64> = b[i + 51..=i + 100].iter().map(|p| p.2).collect();
            let (mx, my) = (xs.iter().sum::<f64>() / 50.0, ys.iter().sum::<f64>() / 50.0);
            let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
            let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
            assert!(close_enough(got.unwrap(), cov / (vx * vy).sqrt(), 1e-6), "pair {i}");
        }
    }
    let mut flat = RollingCorrelation::new(3);
    for _ in 0..5 {
        assert_eq!(flat.update(1.0, 2.0), None, "constant series has no correlation");
    }
}

/// ADX written the long way round from Wilder's definitions, bar by bar over the whole history.
fn naive_adx(data: &[(f64, f64, f64)], n: usize) -> Vec<Option<f64>> {
    let nf = n as f64;
    let (mut pdm, mut mdm, mut tr) = (0.0, 0.0, 0.0);
    let mut dxs = Vec::new();
    let mut adx: Option<f64> = None;
    let mut out = vec![None];
    for i in 1..data.len() {
        let (h, l, _) = data[i];
        let (ph, pl, pc) = data[i - 1];
        let (up, down) = (h - ph, pl - l);
        let p = if up > down && up > 0.0 { up } else { 0.0 };
        let m = if down > up && down > 0.0 { down } else { 0.0 };
        let t = (h - l).max((h - pc).abs()).max((l - pc).abs());
        if i < n {
            pdm += p;
            mdm += m;
            tr += t;
            out.push(None);
            continue;
        }
        pdm = pdm - pdm / nf + p;
        mdm = mdm - mdm / nf + m;
        tr = tr - tr / nf + t;
        let (pdi, mdi) = (100.0 * pdm / tr, 100.0 * mdm / tr);
        let dx = 100.0 * (pdi - mdi).abs() / (pdi + mdi);
        dxs.push(dx);
        adx = match adx {
            Some(a) => Some((a * (nf - 1.0) + dx) / nf),
            None if dxs.len() == n => Some(dxs.iter().sum::<f64>() / nf),
            None => None,
        };
        out.push(adx);
    }
    out
}

#[test]
fn adx_matches_the_long_way_and_starts_at_bar_2n_minus_1() {
    let data = series(1500);
    let want = naive_adx(&data, 14);
    let mut adx = Adx::new(14);
    for (i, (h, l, c)) in data.iter().enumerate() {
        let got = adx.update(*h, *l, *c).map(|v| v.adx);
        assert_eq!(got.is_some(), i >= 27, "bar {i}");
        if let (Some(g), Some(w)) = (got, want[i]) {
            assert!(close_enough(g, w, 1e-12), "bar {i}: {g} vs {w}");
            assert!((0.0..=100.0).contains(&g));
        }
    }
}
