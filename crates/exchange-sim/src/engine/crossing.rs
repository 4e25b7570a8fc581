//! Walking a tick's price path: every segment of the last-price and mark-price paths is scanned
//! for what it crosses (resting limit orders, spot stops, algo triggers, liquidations), and the
//! earliest crossing fires first; ties go to liquidation, then triggers, then limit fills. After
//! each firing the scan starts again, since a fill changes positions and liquidation prices.
//!
//! Prices: a limit fills at its limit (or better, if the segment starts beyond it); a trigger fires
//! at its level, rounded to the tick; on a gap (the first segment of a path, or a price shock) it
//! fires at the price after the gap. A mark-price trigger executes at the last price at the same
//! point of the segment. After each firing the rest of the scan starts from the point reached, so
//! an order created by a trigger (a stop-limit's limit order) only sees the rest of the path.
//! Trailing orders update their best price from each segment's favourable move before the scan,
//! and can fire only on an adverse segment.

use exchange_core::{Price, PriceRounding, Side};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Engine;
use super::algo::fires_upwards;
use super::types::{OrderType, Trail, WorkingType};
use crate::catalog::{SymbolId, Venue};
use crate::market::SymbolMove;

/// One segment of the two paths of a symbol.
#[derive(Debug, Clone, Copy)]
struct Segment {
    last: (Decimal, Decimal),
    mark: (Decimal, Decimal),
    gap: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Hit {
    Liquidation(usize),
    Algo(u64),
    SpotTrigger(u64),
    Limit(u64),
}

/// Where along `(a, b)` the price reaches `level` moving `up` (fires at `>= level`) or down:
/// the fraction of the segment and the execution price.
fn cross(up: bool, level: Decimal, (a, b): (Decimal, Decimal), gap: bool) -> Option<(f64, Decimal)> {
    let beyond = |p: Decimal| if up { p >= level } else { p <= level };
    if beyond(a) {
        return Some((0.0, a));
    }
    if !beyond(b) {
        return None;
    }
    if gap {
        return Some((0.0, b));
    }
    let frac = ((level - a) / (b - a)).to_f64().unwrap_or(0.0);
    Some((frac, level))
}

/// Updates a trailing state with a segment; `sell` trails the highest price.
fn trail_update(trail: &mut Trail, sell: bool, activation: Option<Decimal>, (a, b): (Decimal, Decimal)) {
    let best = if sell { a.max(b) } else { a.min(b) };
    if !trail.active {
        let reached = activation.is_none_or(|act| if sell { best >= act } else { best <= act });
        if !reached {
            return;
        }
        trail.active = true;
        trail.extreme = best;
    }
    trail.extreme = if sell { trail.extreme.max(best) } else { trail.extreme.min(best) };
}

impl Engine {
    /// Runs the price paths of `moves` through every order and position (`gap`: the whole move
    /// is a jump, as for a price shock).
    pub(super) fn on_moves(&mut self, moves: &[SymbolMove], gap: bool) {
        for mv in moves {
            for i in 0..4 {
                let spec = self.spec(mv.id);
                let p = |t: i64| spec.price_of_ticks(t);
                let seg = Segment {
                    last: (p(mv.last.points[i]), p(mv.last.points[i + 1])),
                    mark: (p(mv.mark.points[i]), p(mv.mark.points[i + 1])),
                    gap: gap || i == 0,
                };
                if seg.last.0 != seg.last.1 || seg.mark.0 != seg.mark.1 {
                    self.run_segment(mv.id, seg);
                }
            }
        }
    }

    fn round_tick(&self, symbol: SymbolId, price: Decimal) -> Decimal {
        self.spec(symbol).rules.round_price(Price::new(price), PriceRounding::Nearest).get()
    }

    /// The point `frac` of the way along `(a, b)`, on the tick grid (`b` after a gap).
    fn point_at(&self, symbol: SymbolId, (a, b): (Decimal, Decimal), frac: f64, gap: bool) -> Decimal {
        if gap {
            return b;
        }
        let frac = Decimal::from_f64_retain(frac).unwrap_or(Decimal::ZERO);
        self.round_tick(symbol, a + (b - a) * frac)
    }

    fn run_segment(&mut self, symbol: SymbolId, mut seg: Segment) {
        self.update_trails(symbol, seg);
        for _ in 0..10_000 {
            let Some((hit, frac, price)) = self.earliest_hit(symbol, seg) else { return };
            // Whatever fires next (including orders this hit creates) sees only the rest of the
            // segment, from the point reached.
            let (last_at, mark_at) = (
                self.point_at(symbol, seg.last, frac, seg.gap),
                self.point_at(symbol, seg.mark, frac, seg.gap),
            );
            let current = seg;
            seg = Segment { last: (last_at, seg.last.1), mark: (mark_at, seg.mark.1), gap: false };
            match hit {
                Hit::Liquidation(account) => self.liquidate(account, symbol, price),
                Hit::Algo(id) => {
                    let exec = match self.book.algo(id).map(|a| a.working_type) {
                        Some(WorkingType::MarkPrice) => last_at,
                        _ if current.gap => current.last.1,
                        _ => self.round_tick(symbol, price),
                    };
                    self.algo_trigger(id, exec);
                }
                Hit::SpotTrigger(id) => {
                    let price = self.round_tick(symbol, price);
                    self.spot_trigger(id, price);
                }
                Hit::Limit(id) => {
                    let remaining = self.book.order(id).map_or(Decimal::ZERO, |o| o.remaining());
                    self.fill(id, price, remaining, true);
                }
            }
        }
    }

    fn update_trails(&mut self, symbol: SymbolId, seg: Segment) {
        for id in self.book.open_algo_ids_on(symbol) {
            if let Some(algo) =
                self.book.algo_mut(id).filter(|a| a.order_type == OrderType::TrailingStopMarket)
            {
                let path = if algo.working_type == WorkingType::MarkPrice { seg.mark } else { seg.last };
                trail_update(&mut algo.trail, algo.side == Side::Sell, algo.activate_price, path);
            }
        }
        for id in self.book.open_ids_on(symbol) {
            if let Some(order) = self.book.order_mut(id).filter(|o| !o.working && o.trailing_delta.is_some())
            {
                let activation =
                    matches!(order.order_type, OrderType::TakeProfit | OrderType::TakeProfitLimit)
                        .then_some(order.stop_price)
                        .filter(|p| !p.is_zero());
                trail_update(&mut order.trail, order.side == Side::Sell, activation, seg.last);
            }
        }
    }

    /// The trigger level of a trailing state, or `None` while it is not active or the segment
    /// moves the favourable way.
    fn trail_level(
        trail: &Trail,
        sell: bool,
        fraction: Decimal,
        (a, b): (Decimal, Decimal),
    ) -> Option<Decimal> {
        let adverse = if sell { b < a } else { b > a };
        (trail.active && adverse).then(|| {
            if sell {
                trail.extreme * (Decimal::ONE - fraction)
            } else {
                trail.extreme * (Decimal::ONE + fraction)
            }
        })
    }

    fn earliest_hit(&self, symbol: SymbolId, seg: Segment) -> Option<(Hit, f64, Decimal)> {
        let mut best: Option<(Hit, f64, u8, Decimal)> = None;
        let mut consider = |hit: Hit, rank: u8, found: Option<(f64, Decimal)>| {
            if let Some((frac, price)) = found
                && best.is_none_or(|(_, f, r, _)| frac < f || (frac == f && rank < r))
            {
                best = Some((hit, frac, rank, price));
            }
        };
        if self.spec(symbol).venue == Venue::Futures {
            for (index, account) in self.accounts.iter().enumerate() {
                let position = account.futures.position(symbol);
                if position.amount.is_zero() {
                    continue;
                }
                if let Some(lp) = self.liquidation_price(index, symbol) {
                    consider(
                        Hit::Liquidation(index),
                        0,
                        cross(position.amount.is_sign_negative(), lp, seg.mark, seg.gap),
                    );
                }
            }
            for id in self.book.open_algo_ids_on(symbol) {
                let Some(algo) = self.book.algo(id) else { continue };
                let path = if algo.working_type == WorkingType::MarkPrice { seg.mark } else { seg.last };
                let sell = algo.side == Side::Sell;
                let found = if algo.order_type == OrderType::TrailingStopMarket {
                    let rate = algo.callback_rate.unwrap_or_default() / Decimal::ONE_HUNDRED;
                    Self::trail_level(&algo.trail, sell, rate, path)
                        .and_then(|level| cross(!sell, level, path, seg.gap))
                } else {
                    cross(fires_upwards(algo.order_type, algo.side), algo.trigger_price, path, seg.gap)
                };
                consider(Hit::Algo(id), 1, found);
            }
        }
        for id in self.book.open_ids_on(symbol) {
            let Some(order) = self.book.order(id) else { continue };
            if order.deferred > Decimal::ZERO {
                continue;
            }
            let sell = order.side == Side::Sell;
            if !order.working {
                let found = match order.trailing_delta {
                    Some(delta) => {
                        let fraction = Decimal::from(delta) / Decimal::from(10_000);
                        let level = Self::trail_level(&order.trail, sell, fraction, seg.last);
                        let stop = matches!(order.order_type, OrderType::StopLoss | OrderType::StopLossLimit)
                            .then_some(order.stop_price)
                            .filter(|s| !s.is_zero());
                        let level = match (level, stop) {
                            (Some(l), Some(s)) => Some(if sell { l.max(s) } else { l.min(s) }),
                            (l, s) => l.or(s),
                        };
                        level.and_then(|level| cross(!sell, level, seg.last, seg.gap))
                    }
                    None => cross(
                        fires_upwards(order.order_type, order.side),
                        order.stop_price,
                        seg.last,
                        seg.gap,
                    ),
                };
                consider(Hit::SpotTrigger(id), 1, found);
            } else if !order.price.is_zero() {
                let found = cross(sell, order.price, seg.last, seg.gap).map(|(frac, price)| {
                    // A limit fills at its price, or better when the segment starts beyond it.
                    let better = if sell { price.max(order.price) } else { price.min(order.price) };
                    (frac, better)
                });
                consider(Hit::Limit(id), 2, found);
            }
        }
        best.map(|(hit, frac, _, price)| (hit, frac, price))
    }

    /// Fires a spot conditional order at `price`: market types fill now, limit types start
    /// working (and fill now if their limit allows).
    pub(super) fn spot_trigger(&mut self, id: u64, price: Decimal) {
        let Some(order) = self.book.order_mut(id) else { return };
        order.working = true;
        order.working_time = self.now;
        order.update_time = self.now;
        let (limit, side, remaining) = (order.order_type.limit_on_trigger(), order.side, order.remaining());
        let limit_price = order.price;
        if !limit {
            // The fill reports the change; a sell holds its base quantity locked already, a buy
            // pays from its locked quote.
            let _ = self.fill_now(id, price, true);
            return;
        }
        let marketable = if side == Side::Buy { limit_price >= price } else { limit_price <= price };
        if marketable {
            self.fill(id, price, remaining, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn crossing_table() {
        let d = |x: i64| Decimal::from(x);
        assert_eq!(cross(false, d(95), (d(100), d(90)), false), Some((0.5, d(95))));
        assert_eq!(cross(false, d(95), (d(100), d(90)), true), Some((0.0, d(90))), "gap fills after the gap");
        assert_eq!(cross(false, d(95), (d(94), d(90)), false), Some((0.0, d(94))), "already beyond");
        assert_eq!(cross(false, d(95), (d(100), d(96)), false), None);
        assert_eq!(cross(true, d(105), (d(100), d(110)), false), Some((0.5, d(105))));
        assert_eq!(cross(true, d(105), (d(110), d(100)), false), Some((0.0, d(110))));
    }

    #[test]
    fn trailing_tracks_the_best_price_after_activation() {
        let mut trail = Trail { active: false, extreme: dec!(100) };
        trail_update(&mut trail, true, Some(dec!(105)), (dec!(100), dec!(104)));
        assert!(!trail.active);
        trail_update(&mut trail, true, Some(dec!(105)), (dec!(104), dec!(110)));
        assert_eq!((trail.active, trail.extreme), (true, dec!(110)));
        trail_update(&mut trail, true, Some(dec!(105)), (dec!(110), dec!(107)));
        assert_eq!(trail.extreme, dec!(110));
        let level = Engine::trail_level(&trail, true, dec!(0.05), (dec!(110), dec!(100)));
        assert_eq!(level, Some(dec!(104.50)));
        assert_eq!(Engine::trail_level(&trail, true, dec!(0.05), (dec!(100), dec!(110))), None, "rising");
    }
}
