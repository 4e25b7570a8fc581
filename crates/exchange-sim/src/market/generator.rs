//! The seeded synthetic price generator: one step per market tick moves every asset.
//!
//! Model, per tick of length `dt` (in years for the volatility, in days for the drift):
//! - a market **regime** (range, trend up, trend down, high volatility) switches as a Markov chain
//!   with mean durations of 36 h, 24 h, 18 h and 8 h; it scales volatility and jump intensity, adds a
//!   drift in trends and mean reversion (towards a one-day moving anchor) in ranges;
//! - **correlated returns**: a common factor plus idiosyncratic noise,
//!   `r_i = drift + sigma_i * (rho_i * f + sqrt(1 - rho_i^2) * e_i) + jumps`;
//! - **volatility clustering**: the factor and each asset carry a GARCH(1,1)-like variance multiplier
//!   `h' = (1 - p) + a * z^2 * h + (p - a) * h` (mean 1, half-life 12 h), fed by its own shock `z`,
//!   and raised by half after a jump;
//! - **jumps**: common (0.5 a day, 3 % sd) and idiosyncratic (0.5 a day, 1 % sd), three times as often
//!   in the high-volatility regime;
//! - the tick's **high and low** come from the exact distribution of a Brownian bridge's maximum and
//!   minimum between the open and the close, so stops can trigger inside a tick.
//!
//! Every tick draws the same number of random numbers whatever happens, so the same seed and the
//! same number of ticks always give the same prices, however the ticks were batched. Floats are fine
//! here: this is a statistical model; prices leave it rounded to each symbol's tick.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::AssetSpec;
use crate::time::{DAY_MS, HOUR_MS};

const YEAR_MS: f64 = 365.0 * DAY_MS as f64;
const GARCH_HALF_LIFE_MS: f64 = 12.0 * HOUR_MS as f64;
const GARCH_ALPHA: f64 = 0.02;
const TREND_PER_DAY: f64 = 0.025;
const RANGE_REVERSION_PER_HOUR: f64 = 1.0 / 8.0;
const ANCHOR_HALF_LIFE_MS: f64 = DAY_MS as f64;
const COMMON_JUMPS_PER_DAY: f64 = 0.5;
const COMMON_JUMP_SD: f64 = 0.03;
const IDIO_JUMPS_PER_DAY: f64 = 0.5;
const IDIO_JUMP_SD: f64 = 0.01;
const BASIS_MEAN: f64 = 0.0002;
const BASIS_SD: f64 = 0.0006;
const BASIS_HALF_LIFE_MS: f64 = 4.0 * HOUR_MS as f64;

/// The market-wide state that scales every asset's moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Regime {
    /// Sideways: lower volatility, mean reversion.
    Range,
    /// Drifting up.
    TrendUp,
    /// Drifting down.
    TrendDown,
    /// Volatility doubled, jumps three times as frequent.
    HighVol,
}

impl Regime {
    const ALL: [Regime; 4] = [Self::Range, Self::TrendUp, Self::TrendDown, Self::HighVol];

    fn mean_duration_hours(self) -> f64 {
        match self {
            Self::Range => 36.0,
            Self::TrendUp => 24.0,
            Self::TrendDown => 18.0,
            Self::HighVol => 8.0,
        }
    }

    fn vol_mult(self) -> f64 {
        match self {
            Self::Range => 0.8,
            Self::TrendUp => 1.0,
            Self::TrendDown => 1.1,
            Self::HighVol => 2.0,
        }
    }

    fn drift_per_day(self) -> f64 {
        match self {
            Self::TrendUp => TREND_PER_DAY,
            Self::TrendDown => -TREND_PER_DAY,
            Self::Range | Self::HighVol => 0.0,
        }
    }

    fn jump_mult(self) -> f64 {
        if self == Self::HighVol { 3.0 } else { 1.0 }
    }
}

/// One asset's move over one tick, as absolute prices (USDT).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AssetMove {
    /// Price at the start of the tick.
    pub open: f64,
    /// Highest price inside the tick.
    pub high: f64,
    /// Lowest price inside the tick.
    pub low: f64,
    /// Price at the end of the tick.
    pub close: f64,
    /// Traded volume in base units.
    pub volume: f64,
    /// Futures basis at the end of the tick: last price = index * (1 + basis).
    pub basis: f64,
}

#[derive(Debug, Clone)]
struct AssetState {
    /// Log of the price relative to `base_price`.
    log_price: f64,
    anchor: f64,
    var: f64,
    basis: f64,
    base_price: f64,
    spec: AssetSpec,
}

/// The synthetic market: call [`Generator::step`] once per tick.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: ChaCha8Rng,
    tick_ms: i64,
    vol_scale: f64,
    regime: Regime,
    factor_var: f64,
    assets: Vec<AssetState>,
}

/// A standard normal draw (Box-Muller; always two uniforms).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A uniform draw in (0, 1].
fn open_unit(rng: &mut ChaCha8Rng) -> f64 {
    1.0 - rng.random::<f64>()
}

fn garch(var: f64, shock_sq: f64, persistence: f64) -> f64 {
    let next = (1.0 - persistence) + GARCH_ALPHA * shock_sq * var + (persistence - GARCH_ALPHA) * var;
    next.clamp(0.25, 9.0)
}

impl Generator {
    /// A generator for `assets`, seeded with `seed`, stepping `tick_ms` of market time per tick,
    /// with all volatilities multiplied by `vol_scale`.
    pub fn new(assets: &[AssetSpec], seed: u64, tick_ms: i64, vol_scale: f64) -> Self {
        let assets = assets
            .iter()
            .map(|spec| AssetState {
                log_price: 0.0,
                anchor: 0.0,
                var: 1.0,
                basis: BASIS_MEAN,
                base_price: spec.start_price,
                spec: spec.clone(),
            })
            .collect();
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            tick_ms: tick_ms.max(1),
            vol_scale,
            regime: Regime::Range,
            factor_var: 1.0,
            assets,
        }
    }

    /// The current regime.
    pub fn regime(&self) -> Regime {
        self.regime
    }

    /// The current price of asset `index` (0 when there is no such asset).
    pub fn price(&self, index: usize) -> f64 {
        self.assets.get(index).map_or(0.0, |a| a.base_price * a.log_price.exp())
    }

    /// Rescales asset `index` so that its current price is `price`, keeping its dynamics.
    pub fn set_price(&mut self, index: usize, price: f64) {
        if let Some(asset) = self.assets.get_mut(index)
            && price.is_finite()
            && price > 0.0
        {
            asset.base_price = price / asset.log_price.exp();
        }
    }

    /// Moves asset `index` by `fraction` at once (-0.1 = a 10 % drop), for price shocks.
    pub fn shock(&mut self, index: usize, fraction: f64) {
        if let Some(asset) = self.assets.get_mut(index)
            && fraction > -1.0
        {
            asset.log_price += (1.0 + fraction).ln();
        }
    }

    /// Advances one tick and writes every asset's move into `out` (resized to the asset count).
    pub fn step(&mut self, out: &mut Vec<AssetMove>) {
        let dt_ms = self.tick_ms as f64;
        let dt_years = dt_ms / YEAR_MS;
        let dt_days = dt_ms / DAY_MS as f64;
        let rng = &mut self.rng;

        let switch = rng.random::<f64>();
        let pick = rng.random::<f64>();
        let switch_prob = dt_ms / (HOUR_MS as f64 * self.regime.mean_duration_hours());
        if switch < switch_prob {
            let others: Vec<Regime> = Regime::ALL.into_iter().filter(|r| *r != self.regime).collect();
            let index = ((pick * others.len() as f64) as usize).min(others.len() - 1);
            self.regime = others[index];
        }
        let regime = self.regime;
        let persistence = 0.5_f64.powf(dt_ms / GARCH_HALF_LIFE_MS);

        let z_factor = normal(rng);
        let factor = z_factor * self.factor_var.sqrt();
        let common_jump_draw = rng.random::<f64>();
        let common_jump_size = normal(rng) * COMMON_JUMP_SD;
        let common_jump = if common_jump_draw < COMMON_JUMPS_PER_DAY * regime.jump_mult() * dt_days {
            common_jump_size
        } else {
            0.0
        };
        self.factor_var = garch(self.factor_var, z_factor * z_factor, persistence);
        if common_jump != 0.0 {
            // A market-wide jump leaves the market nervous for a while.
            self.factor_var = (self.factor_var * 1.5).min(9.0);
        }

        let anchor_keep = 0.5_f64.powf(dt_ms / ANCHOR_HALF_LIFE_MS);
        let basis_keep = 0.5_f64.powf(dt_ms / BASIS_HALF_LIFE_MS);
        out.resize(self.assets.len(), AssetMove::default());
        for (asset, slot) in self.assets.iter_mut().zip(out.iter_mut()) {
            let z_idio = normal(rng);
            let jump_draw = rng.random::<f64>();
            let jump_size = normal(rng) * IDIO_JUMP_SD;
            let (u_high, u_low) = (open_unit(rng), open_unit(rng));
            let z_volume = normal(rng);
            let z_basis = normal(rng);

            let spec = &asset.spec;
            let sigma = spec.vol * self.vol_scale * regime.vol_mult() * dt_years.sqrt();
            let idio = (1.0 - spec.rho * spec.rho).max(0.0).sqrt() * asset.var.sqrt() * z_idio;
            let diffusion = sigma * (spec.rho * factor + idio);
            let mut drift = regime.drift_per_day() * dt_days * (0.5 + spec.rho);
            if regime == Regime::Range {
                drift -=
                    RANGE_REVERSION_PER_HOUR * (dt_ms / HOUR_MS as f64) * (asset.log_price - asset.anchor);
            }
            let idio_jump =
                if jump_draw < IDIO_JUMPS_PER_DAY * regime.jump_mult() * dt_days { jump_size } else { 0.0 };
            let jumps = spec.rho * common_jump + idio_jump;
            let ret = drift + diffusion + jumps;

            // Brownian bridge from 0 to `ret` with variance `s2`: max and min by inversion.
            let s2 = sigma
                * sigma
                * (spec.rho * spec.rho * self.factor_var + (1.0 - spec.rho * spec.rho) * asset.var);
            let up = (ret + (ret * ret - 2.0 * s2 * u_high.ln()).sqrt()) / 2.0;
            let down = (ret - (ret * ret - 2.0 * s2 * u_low.ln()).sqrt()) / 2.0;

            let open = asset.base_price * asset.log_price.exp();
            asset.log_price += ret;
            let close = asset.base_price * asset.log_price.exp();
            let base_log = asset.log_price - ret;
            slot.open = open;
            slot.close = close;
            slot.high = (asset.base_price * (base_log + up).exp()).max(open.max(close));
            slot.low = (asset.base_price * (base_log + down).exp()).min(open.min(close));
            asset.var = garch(asset.var, z_idio * z_idio, persistence);
            if idio_jump != 0.0 {
                asset.var = (asset.var * 1.5).min(9.0);
            }
            asset.anchor = anchor_keep * asset.anchor + (1.0 - anchor_keep) * asset.log_price;
            let activity = (self.factor_var * asset.var).sqrt() * regime.vol_mult();
            slot.volume = spec.minute_volume * (dt_ms / 60_000.0) * activity * (0.5 * z_volume - 0.125).exp();
            asset.basis = BASIS_MEAN
                + basis_keep * (asset.basis - BASIS_MEAN)
                + BASIS_SD * (1.0 - basis_keep * basis_keep).sqrt() * z_basis;
            slot.basis = asset.basis;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn generator(seed: u64) -> Generator {
        Generator::new(&Catalog::builtin().unwrap().assets, seed, 60_000, 1.0)
    }

    #[test]
    fn same_seed_same_path_different_seed_different_path() {
        let (mut a, mut b, mut c) = (generator(7), generator(7), generator(8));
        let (mut out_a, mut out_b, mut out_c) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..500 {
            a.step(&mut out_a);
            b.step(&mut out_b);
            c.step(&mut out_c);
        }
        assert_eq!(out_a, out_b);
        assert_ne!(out_a, out_c);
    }

    #[test]
    fn ticks_are_consistent_and_assets_correlated() {
        let mut g = generator(1);
        let mut out = Vec::new();
        let (mut btc, mut eth) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            g.step(&mut out);
            for m in &out {
                assert!(m.low <= m.open.min(m.close) && m.high >= m.open.max(m.close), "{m:?}");
                assert!(m.low > 0.0 && m.volume >= 0.0);
            }
            btc.push((out[0].close / out[0].open).ln());
            eth.push((out[1].close / out[1].open).ln());
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mb, me) = (mean(&btc), mean(&eth));
        let cov: f64 = btc.iter().zip(&eth).map(|(x, y)| (x - mb) * (y - me)).sum();
        let var_b: f64 = btc.iter().map(|x| (x - mb).powi(2)).sum();
        let var_e: f64 = eth.iter().map(|y| (y - me).powi(2)).sum();
        let corr = cov / (var_b * var_e).sqrt();
        assert!(corr > 0.5, "BTC/ETH correlation {corr}");
    }

    #[test]
    fn shock_and_set_price_move_the_price() {
        let mut g = generator(3);
        g.set_price(0, 50_000.0);
        assert!((g.price(0) - 50_000.0).abs() < 1e-6);
        g.shock(0, -0.10);
        assert!((g.price(0) - 45_000.0).abs() < 1e-6);
    }
}
