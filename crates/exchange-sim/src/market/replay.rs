//! Replay of Binance kline CSV files (`--replay DIR`): each `<SYMBOL>.csv` (read with
//! exchange-core's `load_klines`, either of its layouts) drives the asset of that symbol's base.
//!
//! Inside a bar the price follows a fixed path through four points evenly spaced in time:
//! **open → low → high → close** when the bar closed at or above its open, and
//! **open → high → low → close** when it closed below it (the usual "the low came first in an up
//! bar" assumption). Between the points the price moves linearly, so a tick shorter than the bar
//! sees part of that path, and the ticks of one bar aggregate back to exactly its open, high, low
//! and close. Volume is spread evenly over the bar. A hole in the data holds the last close; after
//! the last bar the asset goes on with the synthetic generator from its last close.

use std::path::Path;

use exchange_core::Bar;
use exchange_core::marketdata::{KlineSeries, load_klines};

use super::generator::AssetMove;

/// One asset's replayed bars.
#[derive(Debug, Clone)]
pub struct ReplayTrack {
    bars: Vec<Bar>,
    interval_ms: i64,
}

/// A replay file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The folder could not be listed.
    #[error("cannot read replay folder {path}: {source}")]
    Folder {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file failed to load.
    #[error(transparent)]
    Load(#[from] exchange_core::marketdata::MarketDataError),
    /// A file holds a single bar, so its interval is unknown.
    #[error("replay file {path} needs at least two bars")]
    TooShort {
        /// The file.
        path: String,
    },
}

/// Reads every `<NAME>.csv` in `dir`; returns `(NAME, track)` pairs sorted by name.
///
/// # Errors
/// When the folder cannot be listed, a CSV file fails to load, or holds fewer than two bars.
pub fn load_dir(dir: &Path) -> Result<Vec<(String, ReplayTrack)>, ReplayError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|source| ReplayError::Folder { path: dir.display().to_string(), source })?;
    let mut tracks = Vec::new();
    for entry in entries {
        let path =
            entry.map_err(|source| ReplayError::Folder { path: dir.display().to_string(), source })?.path();
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).filter(|_| is_csv) else { continue };
        let series = load_klines(&path)?;
        tracks.push((name.to_ascii_uppercase(), ReplayTrack::new(series, &path)?));
    }
    tracks.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(tracks)
}

fn to_f64(price: exchange_core::Price) -> f64 {
    f64::try_from(price.get()).unwrap_or(0.0)
}

impl ReplayTrack {
    /// A track over a loaded series.
    ///
    /// # Errors
    /// When the series has fewer than two bars.
    pub fn new(series: KlineSeries, path: &Path) -> Result<Self, ReplayError> {
        if series.bars.len() < 2 || series.interval_ms <= 0 {
            return Err(ReplayError::TooShort { path: path.display().to_string() });
        }
        Ok(Self { bars: series.bars, interval_ms: series.interval_ms })
    }

    /// Open time of the first bar.
    pub fn first_open(&self) -> i64 {
        self.bars.first().map_or(0, |b| b.open_time_ms)
    }

    /// End of the last bar (its open time plus the interval).
    pub fn end(&self) -> i64 {
        self.bars.last().map_or(0, |b| b.open_time_ms + self.interval_ms)
    }

    /// The close of the last bar.
    pub fn last_close(&self) -> f64 {
        self.bars.last().map_or(0.0, |b| to_f64(b.close))
    }

    /// The bar's path points: (time, price) at 0, 1/3, 2/3 of the bar and its end.
    fn points(&self, bar: &Bar) -> [(i64, f64); 4] {
        let (open, high, low, close) =
            (to_f64(bar.open), to_f64(bar.high), to_f64(bar.low), to_f64(bar.close));
        let (second, third) = if close >= open { (low, high) } else { (high, low) };
        let t = bar.open_time_ms;
        let i = self.interval_ms;
        [(t, open), (t + i / 3, second), (t + 2 * i / 3, third), (t + i, close)]
    }

    /// The index of the last bar opening at or before `time` (None before the first bar).
    fn bar_at(&self, time: i64) -> Option<usize> {
        self.bars.partition_point(|b| b.open_time_ms <= time).checked_sub(1)
    }

    /// The price at `time` approached from the left (a bar's end gives its close).
    fn price_at(&self, time: i64) -> Option<f64> {
        let index = self.bar_at(time - 1)?;
        let bar = self.bars.get(index)?;
        let points = self.points(bar);
        if time >= points[3].0 {
            return Some(points[3].1);
        }
        let window = points.windows(2).find(|w| time <= w[1].0)?;
        let ((t0, p0), (t1, p1)) = (window[0], window[1]);
        let frac = if t1 > t0 { (time - t0) as f64 / (t1 - t0) as f64 } else { 1.0 };
        Some(p0 + (p1 - p0) * frac)
    }

    /// The move over the tick `[start, end)`, or `None` when the tick is not inside the data.
    pub fn tick(&self, start: i64, end: i64) -> Option<AssetMove> {
        if start < self.first_open() || end > self.end() {
            return None;
        }
        let open = self.bar_at(start).and_then(|i| self.bars.get(i)).filter(|b| b.open_time_ms == start);
        let open = match open {
            Some(bar) => to_f64(bar.open),
            None => self.price_at(start)?,
        };
        let close = self.price_at(end)?;
        let (mut high, mut low) = (open.max(close), open.min(close));
        let mut volume = 0.0;
        let first = self.bar_at(start).unwrap_or(0);
        for bar in self.bars.iter().skip(first).take_while(|b| b.open_time_ms < end) {
            for (time, price) in self.points(bar) {
                if time > start && time < end {
                    high = high.max(price);
                    low = low.min(price);
                }
            }
            let bar_end = bar.open_time_ms + self.interval_ms;
            let overlap = (bar_end.min(end) - bar.open_time_ms.max(start)).max(0) as f64;
            volume += f64::try_from(bar.volume).unwrap_or(0.0) * overlap / self.interval_ms as f64;
            if bar.open_time_ms >= start && bar.open_time_ms < end {
                high = high.max(to_f64(bar.open));
                low = low.min(to_f64(bar.open));
            }
        }
        Some(AssetMove { open, high, low, close, volume, basis: 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::marketdata::parse_klines;

    const CSV: &str = "open_time,open,high,low,close,volume\n\
        0,100,110,90,105,60\n\
        3600000,105,106,95,96,60\n\
        7200000,96,97,94,95,60\n";

    fn track() -> ReplayTrack {
        ReplayTrack::new(parse_klines(CSV, Path::new("BTCUSDT.csv")).unwrap(), Path::new("x")).unwrap()
    }

    #[test]
    fn minute_ticks_rebuild_the_bar() {
        let t = track();
        let mut ticks = Vec::new();
        for m in 0..60 {
            ticks.push(t.tick(m * 60_000, (m + 1) * 60_000).unwrap());
        }
        let high = ticks.iter().map(|m| m.high).fold(f64::MIN, f64::max);
        let low = ticks.iter().map(|m| m.low).fold(f64::MAX, f64::min);
        assert_eq!((ticks[0].open, high, low, ticks[59].close), (100.0, 110.0, 90.0, 105.0));
        // Up bar: the low (minute 20) comes before the high (minute 40).
        let low_minute = ticks.iter().position(|m| m.low == 90.0).unwrap();
        let high_minute = ticks.iter().position(|m| m.high == 110.0).unwrap();
        assert!(low_minute < high_minute);
        let volume: f64 = ticks.iter().map(|m| m.volume).sum();
        assert!((volume - 60.0).abs() < 1e-9);
    }

    #[test]
    fn down_bar_goes_high_first_and_whole_bar_tick() {
        let t = track();
        let whole = t.tick(3_600_000, 7_200_000).unwrap();
        assert_eq!((whole.open, whole.high, whole.low, whole.close), (105.0, 106.0, 95.0, 96.0));
        assert!(t.tick(3 * 3_600_000, 3 * 3_600_000 + 60_000).is_none(), "past the data");
        assert_eq!(t.end(), 3 * 3_600_000);
    }
}
