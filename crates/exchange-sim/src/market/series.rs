//! Kline history of one symbol: the minute and hour series kept from ticks, the in-progress bar of
//! every interval (for the WebSocket kline streams), and the REST query that aggregates the
//! stored series into any interval.
//!
//! Prices are stored as integer ticks of the symbol and volumes as integer steps, so a month of
//! minute bars for 27 symbols stays small and converting back to decimals is exact. Intervals
//! shorter than an hour are aggregated from the minute series, longer ones from the hour series;
//! each series keeps a bounded history (oldest bars dropped first).

use std::collections::VecDeque;

use crate::time::Interval;

/// One kline, prices in ticks and volume in steps of its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Kline {
    /// Open time, ms.
    pub open_time: i64,
    /// Open, in ticks.
    pub open: i64,
    /// High, in ticks.
    pub high: i64,
    /// Low, in ticks.
    pub low: i64,
    /// Close, in ticks.
    pub close: i64,
    /// Base volume, in steps.
    pub volume: i64,
    /// Quote volume in quote units times 10^4 (display only).
    pub quote_volume_e4: i64,
    /// Number of (synthetic) trades.
    pub trades: u32,
}

impl Kline {
    /// A bar opened at `open_time` by one tick.
    pub fn from_tick(open_time: i64, tick: &Kline) -> Self {
        Self { open_time, ..*tick }
    }

    /// Merges a later tick (or bar) into this bar.
    pub fn merge(&mut self, later: &Kline) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.volume += later.volume;
        self.quote_volume_e4 += later.quote_volume_e4;
        self.trades = self.trades.saturating_add(later.trades);
    }
}

/// The stored history and the live bars of one symbol.
#[derive(Debug, Clone)]
pub struct Series {
    minutes: VecDeque<Kline>,
    hours: VecDeque<Kline>,
    max_minutes: usize,
    max_hours: usize,
    /// The bar of each interval (in [`Interval::ALL`] order) that holds the latest tick.
    live: [Kline; Interval::ALL.len()],
}

/// Which bars a kline query asks for (Binance's `startTime`, `endTime`, `limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineQuery {
    /// Bar interval.
    pub interval: Interval,
    /// First open time wanted (bars opening at or after it).
    pub start: Option<i64>,
    /// Last open time wanted (bars opening at or before it).
    pub end: Option<i64>,
    /// Most bars to return.
    pub limit: usize,
}

impl Series {
    /// An empty series keeping at most `max_minutes` minute bars and `max_hours` hour bars.
    pub fn new(max_minutes: usize, max_hours: usize) -> Self {
        Self {
            minutes: VecDeque::new(),
            hours: VecDeque::new(),
            max_minutes: max_minutes.max(1),
            max_hours: max_hours.max(1),
            live: [Kline::default(); Interval::ALL.len()],
        }
    }

    /// Adds one tick that started at `tick_start` (its `open_time` is ignored).
    pub fn push_tick(&mut self, tick_start: i64, tick: &Kline) {
        push_into(&mut self.minutes, Interval::M1.open_time(tick_start), tick, self.max_minutes);
        push_into(&mut self.hours, Interval::H1.open_time(tick_start), tick, self.max_hours);
        for (live, interval) in self.live.iter_mut().zip(Interval::ALL) {
            let open_time = interval.open_time(tick_start);
            if live.open_time == open_time && live.open != 0 {
                live.merge(tick);
            } else {
                *live = Kline::from_tick(open_time, tick);
            }
        }
    }

    /// Moves the latest price to `price` without a tick (a price shock): the live bars and the
    /// stored bars holding `time` take the new close and widen their range.
    pub fn shock(&mut self, time: i64, price: i64) {
        let shock = Kline { high: price, low: price, close: price, ..Kline::default() };
        let widen = |bar: &mut Kline| {
            bar.high = bar.high.max(price);
            bar.low = bar.low.min(price);
            bar.close = price;
        };
        for (live, interval) in self.live.iter_mut().zip(Interval::ALL) {
            if live.open_time == interval.open_time(time) {
                widen(live);
            } else {
                *live = Kline { open: price, ..Kline::from_tick(interval.open_time(time), &shock) };
            }
        }
        for (series, interval) in [(&mut self.minutes, Interval::M1), (&mut self.hours, Interval::H1)] {
            match series.back_mut() {
                Some(last) if last.open_time == interval.open_time(time) => widen(last),
                _ => series
                    .push_back(Kline { open: price, ..Kline::from_tick(interval.open_time(time), &shock) }),
            }
        }
    }

    /// The live bar of `interval`: the one holding the latest tick.
    pub fn live(&self, interval: Interval) -> Kline {
        let index = Interval::ALL.iter().position(|i| *i == interval).unwrap_or(0);
        self.live.get(index).copied().unwrap_or_default()
    }

    /// The live bars of every interval, in [`Interval::ALL`] order.
    pub fn live_all(&self) -> [Kline; Interval::ALL.len()] {
        self.live
    }

    /// The latest close in ticks (0 before the first tick).
    pub fn last_close(&self) -> i64 {
        self.minutes.back().map_or(0, |k| k.close)
    }

    /// Bars for a REST kline query, oldest first, the in-progress bar included.
    pub fn query(&self, query: &KlineQuery) -> Vec<Kline> {
        let interval = query.interval;
        let source = if interval.is_intraday_minutes() { &self.minutes } else { &self.hours };
        let limit = query.limit.max(1);
        let first = query.start.map(|s| interval.open_time(s.saturating_add(interval.ms() - 1)));
        let lo = first.map_or(0, |f| source.partition_point(|k| k.open_time < f));
        let hi = query.end.map_or(source.len(), |e| source.partition_point(|k| k.open_time <= e));
        if lo >= hi {
            return Vec::new();
        }
        let per_bar = usize::try_from(interval.ms() / base_ms(interval)).unwrap_or(1).max(1);
        let (lo, hi) = if query.start.is_none() {
            // Most recent bars: enough source bars for `limit` output bars, plus one partial.
            (hi.saturating_sub((limit + 1) * per_bar).max(lo), hi)
        } else {
            (lo, hi.min(lo.saturating_add((limit + 1) * per_bar)))
        };
        let mut out: Vec<Kline> = Vec::new();
        for bar in source.range(lo..hi) {
            let open_time = interval.open_time(bar.open_time);
            match out.last_mut() {
                Some(last) if last.open_time == open_time => last.merge(bar),
                _ => out.push(Kline::from_tick(open_time, bar)),
            }
        }
        if let Some(f) = first {
            out.retain(|k| k.open_time >= f);
        }
        if query.start.is_some() {
            out.truncate(limit);
        } else if out.len() > limit {
            out.drain(..out.len() - limit);
        }
        out
    }
}

impl Series {
    /// [`Series::query`] at market time `now`: once `now` has reached a bar's open time that bar
    /// exists, as on Binance, even before its first tick (at the exact close of the previous
    /// one, where a stepped clock stops): it is included, flat at the last close with no volume.
    pub fn query_at(&self, query: &KlineQuery, now: i64) -> Vec<Kline> {
        let mut out = self.query(query);
        let open_time = query.interval.open_time(now);
        let Some(last) = out.last().copied() else { return out };
        let wanted = query.end.is_none_or(|e| open_time <= e);
        if last.open_time >= open_time || !wanted {
            return out;
        }
        let close = self.last_close();
        out.push(Kline { open_time, open: close, high: close, low: close, close, ..Kline::default() });
        if query.start.is_some() {
            out.truncate(query.limit.max(1));
        } else if out.len() > query.limit.max(1) {
            out.remove(0);
        }
        out
    }
}

fn base_ms(interval: Interval) -> i64 {
    if interval.is_intraday_minutes() { Interval::M1.ms() } else { Interval::H1.ms() }
}

fn push_into(series: &mut VecDeque<Kline>, open_time: i64, tick: &Kline, max: usize) {
    match series.back_mut() {
        Some(last) if last.open_time == open_time => last.merge(tick),
        _ => series.push_back(Kline::from_tick(open_time, tick)),
    }
    while series.len() > max {
        series.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{HOUR_MS, MINUTE_MS};

    fn tick(price: i64) -> Kline {
        Kline {
            open: price,
            high: price + 2,
            low: price - 1,
            close: price + 1,
            volume: 10,
            ..Kline::default()
        }
    }

    fn filled(minutes: i64) -> Series {
        let mut series = Series::new(10_000, 10_000);
        for m in 0..minutes {
            series.push_tick(m * MINUTE_MS, &tick(100 + m));
        }
        series
    }

    #[test]
    fn hours_aggregate_minutes() {
        let series = filled(150);
        let q = KlineQuery { interval: Interval::H1, start: None, end: None, limit: 500 };
        let bars = series.query(&q);
        assert_eq!(bars.len(), 3, "two closed hours and the live one");
        assert_eq!(
            bars[0],
            Kline {
                open_time: 0,
                open: 100,
                high: 161,
                low: 99,
                close: 160,
                volume: 600,
                ..Kline::default()
            }
        );
        assert_eq!(bars[2].open_time, 2 * HOUR_MS);
        assert_eq!(series.live(Interval::H1), bars[2]);
        let fifteen = series.query(&KlineQuery { interval: Interval::M15, ..q });
        assert_eq!(fifteen.len(), 10);
        assert_eq!(fifteen[1].open, 115);
    }

    #[test]
    fn limit_start_and_end() {
        let series = filled(100);
        let q = KlineQuery { interval: Interval::M1, start: None, end: None, limit: 5 };
        let last5: Vec<i64> = series.query(&q).iter().map(|k| k.open_time / MINUTE_MS).collect();
        assert_eq!(last5, vec![95, 96, 97, 98, 99]);
        let from = series.query(&KlineQuery { start: Some(10 * MINUTE_MS + 1), ..q });
        assert_eq!(
            from.first().map(|k| k.open_time / MINUTE_MS),
            Some(11),
            "first bar opening at or after start"
        );
        assert_eq!(from.len(), 5);
        let to = series.query(&KlineQuery { end: Some(20 * MINUTE_MS), ..q });
        assert_eq!(to.last().map(|k| k.open_time / MINUTE_MS), Some(20));
        let none = series.query(&KlineQuery { start: Some(1_000 * MINUTE_MS), ..q });
        assert!(none.is_empty());
    }

    /// Regression: a stepped clock stops at the exact close of an hour; the klines then ended
    /// with the bar just closed, and a client dropping the last (in-progress) row lost it.
    #[test]
    fn the_bar_holding_now_exists_before_its_first_tick() {
        let series = filled(60);
        let q = KlineQuery { interval: Interval::H1, start: None, end: None, limit: 2 };
        let bars = series.query_at(&q, HOUR_MS);
        let opens: Vec<i64> = bars.iter().map(|k| k.open_time).collect();
        assert_eq!(opens, [0, HOUR_MS], "the closed hour, then the one that just began");
        assert_eq!((bars[1].open, bars[1].close, bars[1].volume), (160, 160, 0));
        assert_eq!(series.query_at(&KlineQuery { limit: 1, ..q }, HOUR_MS)[0].open_time, HOUR_MS);
        assert_eq!(series.query_at(&q, HOUR_MS - 1), series.query(&q), "inside the hour: as stored");
        assert_eq!(series.query_at(&KlineQuery { end: Some(0), ..q }, HOUR_MS).len(), 1, "end respected");
    }

    #[test]
    fn history_is_bounded() {
        let mut series = Series::new(30, 2);
        for m in 0..200 {
            series.push_tick(m * MINUTE_MS, &tick(100));
        }
        let q = KlineQuery { interval: Interval::M1, start: None, end: None, limit: 1000 };
        assert_eq!(series.query(&q).len(), 30);
        assert_eq!(series.query(&KlineQuery { interval: Interval::H1, ..q }).len(), 2);
    }

    #[test]
    fn shock_widens_the_live_bar() {
        let mut series = filled(3);
        series.shock(3 * MINUTE_MS - 1, 50);
        let live = series.live(Interval::H1);
        assert_eq!((live.low, live.close), (50, 50));
        assert_eq!(series.last_close(), 50);
    }
}
