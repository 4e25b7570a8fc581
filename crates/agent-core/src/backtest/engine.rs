//! The backtest engine: DESIGN §10 step by step over many symbols sharing one wallet.
//!
//! Bars with the same open time are processed together: for each symbol in config order,
//! (a) funding, (b) fills at the open (breaker closes, then entries decided at the previous
//! close), (c) exits by the worst-first rule; then for the whole portfolio (d) at the close:
//! peaks, equity, the daily breaker, and new signals, whose orders fill at the next open.
//!
//! Accounting: the wallet starts at the capital; an entry pays its fee; funding is paid or
//! received in the wallet; an exit realizes `sign * qty * (exit - entry)` minus its fee, except a
//! liquidation, which loses the position's initial margin and pays no fee. Equity is the wallet
//! plus the unrealized P&L at the latest closes. A trade's `pnl` is everything it brought to the
//! wallet: gross P&L minus both fees plus funding.

use exchange_core::marketdata::FundingRate;
use exchange_core::{Bar, InstrumentRules, PositionSide, Qty, Symbol};
use risk_core::breaker::DailyBreaker;
use risk_core::decision::Decision;
use risk_core::levels::{ExitLevels, Peak};
use risk_core::liquidation::isolated_liquidation_price_at_leverage;
use risk_core::params::FuturesRiskParams;
use risk_core::sizing::{SizingInput, size_entry};
use rust_decimal::Decimal;

use super::exits::{BarPrices, ExitReason, Levels, exit_in_bar};
use super::report::TradeRecord;

/// One symbol's data for a run: klines, and optionally mark-price klines and funding rates.
#[derive(Debug, Clone)]
pub struct SymbolSeries {
    /// The instrument.
    pub symbol: Symbol,
    /// Its tick, step and minimums.
    pub rules: InstrumentRules,
    /// Trade-price klines, sorted by open time.
    pub bars: Vec<Bar>,
    /// The kline interval in ms (a bar opened at `t` closes at `t + interval_ms`).
    pub interval_ms: i64,
    /// Mark-price klines, sorted (empty: trade prices stand in).
    pub mark: Vec<Bar>,
    /// Funding rates, sorted (empty: no funding).
    pub funding: Vec<FundingRate>,
}

/// What a strategy sees at the close of bar `t` of one symbol: that symbol's bars up to and
/// including `t`, nothing later (so no strategy can look ahead).
#[derive(Debug, Clone, Copy)]
pub struct SignalInput<'a> {
    /// Bars `0..=t`.
    pub bars: &'a [Bar],
    /// The same closes as `f64`, for cheap screening; exact decisions use `bars`.
    pub closes: &'a [f64],
}

/// An entry the strategy wants at this close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntrySignal {
    /// Long or short.
    pub side: PositionSide,
    /// Leverage to use (already clamped to the allowed range).
    pub leverage: u32,
}

/// A strategy that decides entries from closed bars. Pure: no clock, no I/O.
pub trait EntryStrategy {
    /// The entry wanted at the close of the last bar of `input`, if any.
    fn signal(&self, input: SignalInput<'_>) -> Option<EntrySignal>;
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// Closed trades in the order they closed.
    pub trades: Vec<TradeRecord>,
    /// `(bar open time, equity at that bar's close)`; the last point is after end-of-data closes.
    pub equity: Vec<(i64, Decimal)>,
    /// Wallet after everything closed.
    pub final_equity: Decimal,
    /// Symbol-bars processed.
    pub bar_steps: u64,
    /// Open times of the bars at whose close the breaker tripped.
    pub breaker_trips: Vec<i64>,
}

#[derive(Debug, Clone)]
struct OpenPosition {
    side: PositionSide,
    qty: Decimal,
    entry_price: Decimal,
    leverage: u32,
    margin: Decimal,
    entry_time: i64,
    levels: ExitLevels,
    peak: Peak,
    /// The trailing stop from `peak`, kept with it.
    trailing_level: Decimal,
    liquidation: Option<Decimal>,
    screen: LevelScreen,
    fees: Decimal,
    funding: Decimal,
}

/// Relative margin of the `f64` screens: far above `f64` error (~1e-15), far below any price
/// move that matters. A screen only skips exact work that would surely find nothing.
const SCREEN_EPS: f64 = 1e-9;

/// `f64` copies of a position's levels, in favour space (higher is better for the position),
/// to skip the exact exit rule on bars that come nowhere near any level.
#[derive(Debug, Clone, Copy)]
struct LevelScreen {
    /// The highest downside level: max of stop loss, trailing stop and liquidation.
    worst: f64,
    /// The take profit.
    take: f64,
    /// The best price since entry (the peak).
    best: f64,
}

impl LevelScreen {
    fn new(pos: &OpenPosition) -> Self {
        let fav = |p: Decimal| if pos.side == PositionSide::Short { -screen_f64(p) } else { screen_f64(p) };
        let liq = pos.liquidation.map_or(f64::NEG_INFINITY, fav);
        Self {
            worst: fav(pos.levels.stop_loss).max(fav(pos.trailing_level)).max(liq),
            take: fav(pos.levels.take_profit),
            best: fav(pos.peak.price()),
        }
    }

    /// True when a bar with this `high` and `low` may set a new best price.
    fn may_improve(&self, side: PositionSide, high: Decimal, low: Decimal) -> bool {
        let seen = if side == PositionSide::Short { -screen_f64(low) } else { screen_f64(high) };
        seen > self.best - self.best.abs() * SCREEN_EPS
    }

    /// True when a bar spanning `[low, high]` (trade and mark) surely touches no level.
    fn clear_of(&self, side: PositionSide, low: f64, high: f64) -> bool {
        let (worst_seen, best_seen) = if side == PositionSide::Short { (-high, -low) } else { (low, high) };
        let margin = |x: f64| x.abs() * SCREEN_EPS;
        worst_seen > self.worst + margin(self.worst) && best_seen < self.take - margin(self.take)
    }
}

#[derive(Debug, Clone, Copy)]
struct PendingEntry {
    side: PositionSide,
    qty: Decimal,
    leverage: u32,
}

#[derive(Debug)]
struct SymbolState<'a> {
    series: &'a SymbolSeries,
    closes: Vec<f64>,
    /// The smallest order value the rules allow, as `f64`: max of the minimum notional, and of the
    /// minimum quantity (or one step) at the close; for the sizing screen.
    min_notional: f64,
    min_qty: f64,
    next_bar: usize,
    next_mark: usize,
    next_funding: usize,
    last_close: Option<Decimal>,
    position: Option<OpenPosition>,
    pending: Option<PendingEntry>,
    close_at_open: bool,
}

/// Runs the rules of DESIGN §10 over `series` (in config order) with `params`.
pub fn run(series: &[SymbolSeries], params: &FuturesRiskParams, strategy: &impl EntryStrategy) -> RunOutput {
    Engine::new(series, params).run(strategy)
}

struct Engine<'a> {
    params: &'a FuturesRiskParams,
    slip: Decimal,
    /// `risk_per_trade / stop_loss` and `max_leverage` as `f64`, for the sizing screen.
    risk_over_stop: f64,
    max_leverage: f64,
    states: Vec<SymbolState<'a>>,
    wallet: Decimal,
    breaker: DailyBreaker,
    out: RunOutput,
}

impl<'a> Engine<'a> {
    fn new(series: &'a [SymbolSeries], params: &'a FuturesRiskParams) -> Self {
        let states = series
            .iter()
            .map(|s| SymbolState {
                series: s,
                closes: s.bars.iter().map(|b| screen_f64(b.close.get())).collect(),
                min_notional: screen_f64(s.rules.min_notional.get()),
                min_qty: screen_f64(s.rules.min_qty.get().max(s.rules.step_size.get())),
                next_bar: 0,
                next_mark: 0,
                next_funding: 0,
                last_close: None,
                position: None,
                pending: None,
                close_at_open: false,
            })
            .collect();
        Self {
            params,
            slip: params.slippage_bps / Decimal::from(10_000),
            risk_over_stop: screen_f64(params.risk_per_trade) / screen_f64(params.stop_loss),
            max_leverage: f64::from(params.max_leverage),
            states,
            wallet: params.capital,
            breaker: DailyBreaker::new(params.max_daily_loss, params.capital),
            out: RunOutput {
                trades: Vec::new(),
                equity: Vec::new(),
                final_equity: Decimal::ZERO,
                bar_steps: 0,
                breaker_trips: Vec::new(),
            },
        }
    }

    fn run(mut self, strategy: &impl EntryStrategy) -> RunOutput {
        let mut active: Vec<usize> = Vec::with_capacity(self.states.len());
        while let Some(open_time) = self.next_open_time() {
            active.clear();
            active.extend(
                self.states
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        s.series.bars.get(s.next_bar).is_some_and(|b| b.open_time_ms == open_time)
                    })
                    .map(|(i, _)| i),
            );
            let mut interval = 0;
            for &i in &active {
                self.open_and_intrabar(i, open_time);
                interval = interval.max(self.states[i].series.interval_ms);
            }
            self.at_close(&active, open_time, interval, strategy);
            for &i in &active {
                self.states[i].next_bar += 1;
            }
            self.out.bar_steps += active.len() as u64;
        }
        self.end_of_data();
        self.out
    }

    fn next_open_time(&self) -> Option<i64> {
        self.states.iter().filter_map(|s| s.series.bars.get(s.next_bar)).map(|b| b.open_time_ms).min()
    }

    /// Steps a to c for one symbol's bar.
    fn open_and_intrabar(&mut self, i: usize, open_time: i64) {
        let fee_rate = self.params.fee;
        let slip = self.slip;
        let state = &mut self.states[i];
        if state.position.is_none() && state.pending.is_none() {
            // Nothing to fund, fill or exit; the mark and funding cursors catch up lazily.
            state.close_at_open = false;
            return;
        }
        let bar = state.series.bars[state.next_bar];
        let mark = mark_bar(state, open_time);
        let prices = BarPrices {
            open: bar.open.get(),
            high: bar.high.get(),
            low: bar.low.get(),
            mark_open: mark.map_or(bar.open.get(), |m| m.open.get()),
            mark_high: mark.map_or(bar.high.get(), |m| m.high.get()),
            mark_low: mark.map_or(bar.low.get(), |m| m.low.get()),
        };

        // a. funding
        if let Some(rate) = funding_at(state, open_time)
            && let Some(pos) = state.position.as_mut()
        {
            let cash = -pos.side.sign() * pos.qty * prices.mark_open * rate;
            pos.funding += cash;
            self.wallet += cash;
        }

        // b. fills at the open: breaker close first, then the entry decided at the previous close.
        if std::mem::take(&mut state.close_at_open)
            && let Some(pos) = state.position.take()
        {
            let trade = close_position(
                &mut self.wallet,
                pos,
                &state.series.symbol,
                ExitReason::Breaker,
                prices.open,
                open_time,
                fee_rate,
                slip,
            );
            self.out.trades.push(trade);
        }
        if let Some(entry) = state.pending.take() {
            let fill = with_slippage(prices.open, entry.side.sign(), slip);
            let fee = entry.qty * fill * fee_rate;
            self.wallet -= fee;
            let p = self.params;
            let levels = ExitLevels::new(entry.side, fill, p.stop_loss, p.take_profit, p.trailing_stop);
            let peak = Peak::new(fill);
            let trailing_level = levels.trailing_stop(&peak);
            let liquidation =
                isolated_liquidation_price_at_leverage(entry.side, entry.qty, fill, entry.leverage, p.mmr);
            let mut pos = OpenPosition {
                side: entry.side,
                qty: entry.qty,
                entry_price: fill,
                leverage: entry.leverage,
                margin: entry.qty * fill / Decimal::from(entry.leverage),
                entry_time: open_time,
                screen: LevelScreen {
                    worst: f64::INFINITY,
                    take: f64::NEG_INFINITY,
                    best: f64::NEG_INFINITY,
                },
                levels,
                peak,
                trailing_level,
                liquidation,
                fees: fee,
                funding: Decimal::ZERO,
            };
            pos.screen = LevelScreen::new(&pos);
            state.position = Some(pos);
        }

        // c. exits
        let Some(pos) = state.position.as_ref() else { return };
        let low = screen_f64(prices.low).min(screen_f64(prices.mark_low));
        let high = screen_f64(prices.high).max(screen_f64(prices.mark_high));
        if pos.screen.clear_of(pos.side, low, high) {
            return;
        }
        let levels = Levels {
            side: pos.side,
            stop_loss: pos.levels.stop_loss,
            take_profit: pos.levels.take_profit,
            trailing_stop: pos.trailing_level,
            liquidation: pos.liquidation,
        };
        if let Some(hit) = exit_in_bar(&levels, &prices)
            && let Some(pos) = state.position.take()
        {
            let trade = if hit.reason == ExitReason::Liquidation {
                liquidate(&mut self.wallet, pos, &state.series.symbol, hit.price, open_time)
            } else {
                close_position(
                    &mut self.wallet,
                    pos,
                    &state.series.symbol,
                    hit.reason,
                    hit.price,
                    open_time,
                    fee_rate,
                    slip,
                )
            };
            self.out.trades.push(trade);
        }
    }

    /// Step d for the whole portfolio at the close of the bars opened at `open_time`.
    fn at_close(&mut self, active: &[usize], open_time: i64, interval: i64, strategy: &impl EntryStrategy) {
        for &i in active {
            let state = &mut self.states[i];
            let bar = state.series.bars[state.next_bar];
            state.last_close = Some(bar.close.get());
            if let Some(pos) = state.position.as_mut()
                && pos.screen.may_improve(pos.side, bar.high.get(), bar.low.get())
            {
                let before = pos.peak;
                pos.peak.update(pos.side, bar.high.get(), bar.low.get());
                if pos.peak != before {
                    pos.trailing_level = pos.levels.trailing_stop(&pos.peak);
                    pos.screen = LevelScreen::new(pos);
                }
            }
        }
        let equity = self.equity();
        self.out.equity.push((open_time, equity));

        let close_time = open_time + interval;
        if self.breaker.on_close(close_time, equity).tripped_now() {
            self.out.breaker_trips.push(open_time);
            for state in &mut self.states {
                state.close_at_open = state.position.is_some();
            }
        }
        if self.breaker.is_tripped(close_time) {
            return;
        }

        let mut committed: Decimal =
            self.states.iter().filter_map(|s| s.position.as_ref()).map(|p| p.margin).sum();
        let mut busy = self.states.iter().filter(|s| s.position.is_some() || s.pending.is_some()).count();
        // The largest entry any signal could size (rule 4 at maximum leverage), as `f64`: a
        // symbol where even that is under its minimums cannot trade at this close.
        let risk_notional = screen_f64(equity) * self.risk_over_stop;
        for &i in active {
            if busy >= self.params.max_positions {
                break;
            }
            let state = &self.states[i];
            if state.position.is_some() || state.pending.is_some() {
                continue;
            }
            let t = state.next_bar;
            let largest = risk_notional.min(screen_f64(self.wallet - committed) * self.max_leverage);
            let too_small = |min: f64| largest < min - min.abs() * SCREEN_EPS;
            if too_small(state.min_notional) || too_small(state.min_qty * state.closes[t]) {
                continue;
            }
            let input = SignalInput { bars: &state.series.bars[..=t], closes: &state.closes[..=t] };
            let Some(signal) = strategy.signal(input) else { continue };
            let price = state.series.bars[t].close.get();
            let sizing = size_entry(&SizingInput {
                equity,
                free: self.wallet - committed,
                risk_per_trade: self.params.risk_per_trade,
                stop_loss: self.params.stop_loss,
                leverage: signal.leverage,
                price,
                rules: &state.series.rules,
            });
            if let Decision::Approved(sized) = sizing {
                committed += sized.initial_margin;
                busy += 1;
                self.states[i].pending =
                    Some(PendingEntry { side: signal.side, qty: sized.qty.get(), leverage: signal.leverage });
            }
        }
    }

    fn equity(&self) -> Decimal {
        let unrealized: Decimal =
            self.states.iter().filter_map(|s| Some(unrealized(s.position.as_ref()?, s.last_close?))).sum();
        self.wallet + unrealized
    }

    fn end_of_data(&mut self) {
        let (fee_rate, slip) = (self.params.fee, self.slip);
        for state in &mut self.states {
            let (Some(pos), Some(last)) = (state.position.take(), state.series.bars.last()) else { continue };
            let trade = close_position(
                &mut self.wallet,
                pos,
                &state.series.symbol,
                ExitReason::EndOfData,
                last.close.get(),
                last.open_time_ms,
                fee_rate,
                slip,
            );
            self.out.trades.push(trade);
        }
        self.out.final_equity = self.wallet;
        if let Some(last) = self.out.equity.last_mut() {
            last.1 = self.wallet;
        }
    }
}

/// `price` moved against the trader: up for a buy (`buy_sign` +1), down for a sell.
fn with_slippage(price: Decimal, buy_sign: Decimal, slip: Decimal) -> Decimal {
    if slip.is_zero() { price } else { price * (Decimal::ONE + buy_sign * slip) }
}

fn unrealized(pos: &OpenPosition, mark: Decimal) -> Decimal {
    let gain = match pos.side {
        PositionSide::Long => mark - pos.entry_price,
        PositionSide::Short => pos.entry_price - mark,
    };
    pos.qty * gain
}

#[allow(clippy::too_many_arguments)]
fn close_position(
    wallet: &mut Decimal,
    pos: OpenPosition,
    symbol: &Symbol,
    reason: ExitReason,
    level: Decimal,
    time: i64,
    fee_rate: Decimal,
    slip: Decimal,
) -> TradeRecord {
    let exit_price = with_slippage(level, -pos.side.sign(), slip);
    let fee = pos.qty * exit_price * fee_rate;
    let gross = unrealized(&pos, exit_price);
    *wallet += gross - fee;
    record(pos, symbol, reason, exit_price, time, gross, fee)
}

fn liquidate(
    wallet: &mut Decimal,
    pos: OpenPosition,
    symbol: &Symbol,
    price: Decimal,
    time: i64,
) -> TradeRecord {
    let gross = -pos.margin;
    *wallet += gross;
    record(pos, symbol, ExitReason::Liquidation, price, time, gross, Decimal::ZERO)
}

fn record(
    pos: OpenPosition,
    symbol: &Symbol,
    reason: ExitReason,
    exit_price: Decimal,
    time: i64,
    gross: Decimal,
    exit_fee: Decimal,
) -> TradeRecord {
    let fees = pos.fees + exit_fee;
    TradeRecord {
        symbol: symbol.clone(),
        side: pos.side,
        entry_time: pos.entry_time,
        exit_time: time,
        entry_price: pos.entry_price,
        exit_price,
        qty: Qty::new(pos.qty),
        leverage: pos.leverage,
        fees,
        funding: pos.funding,
        pnl: gross - fees + pos.funding,
        exit_reason: reason,
    }
}

/// The mark bar with this open time, advancing the symbol's mark cursor.
fn mark_bar(state: &mut SymbolState<'_>, open_time: i64) -> Option<Bar> {
    let mark = &state.series.mark;
    while mark.get(state.next_mark).is_some_and(|m| m.open_time_ms < open_time) {
        state.next_mark += 1;
    }
    mark.get(state.next_mark).filter(|m| m.open_time_ms == open_time).copied()
}

/// The funding rate settled at this open time, advancing the symbol's funding cursor.
fn funding_at(state: &mut SymbolState<'_>, open_time: i64) -> Option<Decimal> {
    let funding = &state.series.funding;
    while funding.get(state.next_funding).is_some_and(|f| f.funding_time_ms < open_time) {
        state.next_funding += 1;
    }
    funding.get(state.next_funding).filter(|f| f.funding_time_ms == open_time).map(|f| f.rate)
}

/// A decimal as `f64` quickly, for screening only: mantissa over a power of ten, within a few
/// ulps of the correctly rounded value (`decimal_to_f64`), which is far inside the strategy's
/// screening margin.
fn screen_f64(value: Decimal) -> f64 {
    const POW10: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
        1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    let mantissa = value.mantissa();
    match (i64::try_from(mantissa), POW10.get(value.scale() as usize)) {
        (Ok(m), Some(p)) if m.unsigned_abs() < (1 << 53) => m as f64 / p,
        _ => decimal_to_f64(value),
    }
}

/// A decimal as `f64` for statistics and screening (never for money).
pub fn decimal_to_f64(value: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().unwrap_or(f64::NAN)
}
