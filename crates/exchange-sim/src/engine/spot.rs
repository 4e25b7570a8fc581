//! Spot orders: placement with Binance's checks (mandatory parameters, filters, duplicate client
//! ids, balances) and fills with commission (cancels and lookups: `orders`; triggers: `crossing`).
//!
//! Spot facts used (PROTOCOL.md §3.1-3.2): LIMIT needs timeInForce, quantity, price; MARKET needs
//! quantity or quoteOrderQty; STOP_LOSS/TAKE_PROFIT need quantity and stopPrice or trailingDelta,
//! their *_LIMIT forms add timeInForce and price; LIMIT_MAKER is post-only. Filter failures are
//! `-1013 Filter failure: NAME`; everything the matching engine refuses is `-2010` with a reason.
//! Commission is taken from what the order receives (base for buys, quote for sells).
//! Locks: limit buys lock `price * qty` quote, sells lock the base quantity; stop buys lock
//! `stopPrice * qty` (or `price * qty` for the limit forms).

use exchange_core::Side;
use rust_decimal::Decimal;

use super::Engine;
use super::events::{Event, ExecType, FillInfo};
use super::types::{Order, OrderType, Status, Tif, Trade, Trail};
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};

/// A new spot order as the REST or WebSocket API received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotOrderRequest {
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Time in force, when sent.
    pub tif: Option<Tif>,
    /// `quantity`.
    pub qty: Option<Decimal>,
    /// `quoteOrderQty` (market orders).
    pub quote_qty: Option<Decimal>,
    /// `price`.
    pub price: Option<Decimal>,
    /// `stopPrice`.
    pub stop_price: Option<Decimal>,
    /// `trailingDelta` in basis points.
    pub trailing_delta: Option<u32>,
    /// `newClientOrderId`.
    pub client_id: Option<String>,
}

/// The outcome of a placement: the order after its immediate execution, and its fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The order.
    pub order: Order,
    /// Fills made at once.
    pub fills: Vec<FillInfo>,
}

/// Spot's client order id rule.
pub const SPOT_CLIENT_ID_RULE: &str = "^[a-zA-Z0-9-_]{1,36}$";

fn valid_spot_client_id(id: &str) -> bool {
    (1..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn on_grid(value: Decimal, step: Decimal) -> bool {
    step.is_zero() || (value % step).is_zero()
}

impl Engine {
    fn spot_check_filters(
        &self,
        req: &SpotOrderRequest,
        qty: Decimal,
        last: Decimal,
    ) -> Result<(), ApiError> {
        let spec = self.spec(req.symbol);
        for price in [req.price, req.stop_price].into_iter().flatten() {
            if price < spec.min_price || price > spec.max_price || !on_grid(price, spec.tick) {
                return Err(ApiError::filter("PRICE_FILTER"));
            }
        }
        let is_market = req.order_type == OrderType::Market;
        let max = if is_market { spec.market_max_qty } else { spec.max_qty };
        if qty < spec.min_qty || qty > max || !on_grid(qty, spec.step) {
            return Err(ApiError::filter(if is_market && qty > max {
                "MARKET_LOT_SIZE"
            } else {
                "LOT_SIZE"
            }));
        }
        let reference = req.price.or(req.stop_price).unwrap_or(last);
        if reference * qty < spec.min_notional {
            return Err(ApiError::filter("NOTIONAL"));
        }
        if let Some(price) = req.price
            && (price > last * Decimal::from(5) || price < last / Decimal::from(5))
        {
            return Err(ApiError::filter("PERCENT_PRICE_BY_SIDE"));
        }
        if let Some(delta) = req.trailing_delta
            && !(10..=2000).contains(&delta)
        {
            return Err(ApiError::filter("TRAILING_DELTA"));
        }
        Ok(())
    }

    fn spot_check_params(req: &SpotOrderRequest) -> Result<(), ApiError> {
        use OrderType::*;
        let t = req.order_type;
        let needs_price = matches!(t, Limit | LimitMaker | StopLossLimit | TakeProfitLimit);
        let needs_tif = matches!(t, Limit | StopLossLimit | TakeProfitLimit);
        if needs_tif && req.tif.is_none() {
            return Err(ApiError::mandatory("timeInForce"));
        }
        if !needs_tif && req.tif.is_some() {
            return Err(ApiError::not_required("timeInForce"));
        }
        if needs_price && req.price.is_none() {
            return Err(ApiError::mandatory("price"));
        }
        if !needs_price && req.price.is_some() {
            return Err(ApiError::not_required("price"));
        }
        if t.is_spot_conditional() {
            if req.stop_price.is_none() && req.trailing_delta.is_none() {
                return Err(ApiError::mandatory("stopPrice"));
            }
        } else if req.stop_price.is_some() {
            return Err(ApiError::not_required("stopPrice"));
        } else if req.trailing_delta.is_some() {
            return Err(ApiError::not_required("trailingDelta"));
        }
        match (t, req.qty, req.quote_qty) {
            (Market, None, None) => Err(ApiError::mandatory("quantity")),
            (Market, Some(_), Some(_)) => Err(ApiError::not_required("quoteOrderQty")),
            (Market, ..) => Ok(()),
            (_, _, Some(_)) => Err(ApiError::not_required("quoteOrderQty")),
            (_, None, _) => Err(ApiError::mandatory("quantity")),
            _ => Ok(()),
        }
    }

    /// True when a spot stop with these parameters would trigger at `last` right away.
    fn spot_would_trigger(t: OrderType, side: Side, stop: Decimal, last: Decimal) -> bool {
        let stop_kind = matches!(t, OrderType::StopLoss | OrderType::StopLossLimit);
        match (stop_kind, side) {
            (true, Side::Sell) | (false, Side::Buy) => stop >= last,
            (true, Side::Buy) | (false, Side::Sell) => stop <= last,
        }
    }

    /// Places a spot order for `account`.
    ///
    /// # Errors
    /// Binance's error for a missing or unneeded parameter (-1102, -1106), a bad client order id
    /// (-1100), a filter failure (-1013), a duplicate client order id, a stop that would trigger
    /// at once, a post-only order that would take, or insufficient balance (-2010).
    pub fn spot_place(&mut self, account: usize, req: SpotOrderRequest) -> Result<Placed, ApiError> {
        Self::spot_check_params(&req)?;
        if let Some(id) = &req.client_id {
            if !valid_spot_client_id(id) {
                return Err(ApiError::illegal_chars("newClientOrderId", SPOT_CLIENT_ID_RULE));
            }
            if self.book.client_id_open(account, Venue::Spot, id) {
                return Err(ApiError::duplicate_order());
            }
        }
        let last = self.market.last(req.symbol);
        let spec = self.spec(req.symbol);
        let (base, step) = (spec.base, spec.step);
        let qty = match (req.qty, req.quote_qty) {
            (Some(qty), _) => qty,
            (None, Some(quote)) => {
                let raw = quote / last;
                raw - raw % step
            }
            (None, None) => Decimal::ZERO,
        };
        self.spot_check_filters(&req, qty, last)?;
        let t = req.order_type;
        if let Some(stop) = req.stop_price
            && req.trailing_delta.is_none()
            && Self::spot_would_trigger(t, req.side, stop, last)
        {
            return Err(ApiError::rejected("Order would trigger immediately."));
        }
        let marketable = |price: Decimal| match req.side {
            Side::Buy => price >= last,
            Side::Sell => price <= last,
        };
        if t == OrderType::LimitMaker && req.price.is_some_and(marketable) {
            return Err(ApiError::rejected("Order would immediately match and take."));
        }
        // Funds: locked for resting and conditional orders, checked for market orders.
        let (lock_asset, lock_amount) = match req.side {
            Side::Buy => {
                let per_unit = req.price.or(req.stop_price).unwrap_or(last);
                let per_unit = match (t, req.trailing_delta) {
                    (OrderType::StopLoss | OrderType::TakeProfit, Some(d)) if req.stop_price.is_none() => {
                        last * (Decimal::ONE + Decimal::from(d) / Decimal::from(10_000))
                    }
                    _ => per_unit,
                };
                ("USDT", req.quote_qty.filter(|_| t == OrderType::Market).unwrap_or(per_unit * qty))
            }
            Side::Sell => (base, qty),
        };
        let Some(acc) = self.accounts.get_mut(account) else { return Err(ApiError::rejected_api_key()) };
        if acc.spot.balance(lock_asset).free < lock_amount {
            return Err(ApiError::insufficient_balance());
        }
        let locks = t != OrderType::Market;
        if locks {
            acc.spot.lock(lock_asset, lock_amount);
            acc.spot.update_time = self.now;
        }
        let order_id = self.book.next_order_id();
        let conditional = t.is_spot_conditional();
        let now = self.now;
        let order = Order {
            order_id,
            account,
            venue: Venue::Spot,
            symbol: req.symbol,
            client_id: req.client_id.clone().unwrap_or_else(|| format!("sim{order_id}")),
            side: req.side,
            order_type: t,
            orig_type: t,
            tif: req.tif.unwrap_or(Tif::Gtc),
            price: req.price.unwrap_or_default(),
            qty,
            quote_qty: req.quote_qty.unwrap_or_default(),
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: Status::New,
            stop_price: req.stop_price.unwrap_or_default(),
            trailing_delta: req.trailing_delta,
            trail: Trail {
                active: !(t == OrderType::TakeProfit || t == OrderType::TakeProfitLimit)
                    || req.stop_price.is_none(),
                extreme: last,
            },
            reduce_only: false,
            close_position: false,
            working: !conditional,
            time: now,
            update_time: now,
            working_time: if conditional { -1 } else { now },
            deferred: Decimal::ZERO,
            locked: if locks { lock_amount } else { Decimal::ZERO },
            algo_id: None,
        };
        self.book.insert(order.clone());
        self.events.push(Event::SpotExecution { account, order, exec: ExecType::New, fill: None, time: now });
        if locks {
            self.emit_spot_balances(account, &[lock_asset]);
        }
        let mut fills = Vec::new();
        let immediate = match t {
            OrderType::Market => true,
            OrderType::Limit => req.price.is_some_and(marketable),
            _ => false,
        };
        if immediate {
            fills = self.fill_now(order_id, last, req.tif != Some(Tif::Fok));
        } else if t == OrderType::Limit && matches!(req.tif, Some(Tif::Ioc | Tif::Fok)) {
            self.expire(order_id);
        }
        let order = self.book.order(order_id).cloned().ok_or_else(ApiError::unknown)?;
        Ok(Placed { order, fills })
    }

    pub(super) fn spot_fill(
        &mut self,
        order_id: u64,
        price: Decimal,
        qty: Decimal,
        maker: bool,
    ) -> Option<FillInfo> {
        let mut order = self.book.order(order_id)?.clone();
        let spec = self.spec(order.symbol);
        let base = spec.base;
        let quote_amount = (price * qty).round_dp(8);
        let rate = if maker { self.fees.spot_maker } else { self.fees.spot_taker };
        let acc = &mut self.accounts.get_mut(order.account)?.spot;
        let (commission, commission_asset) = match order.side {
            Side::Buy => {
                let from_locked = order.locked.min(quote_amount);
                acc.debit_locked("USDT", from_locked);
                acc.credit("USDT", from_locked - quote_amount);
                order.locked -= from_locked;
                let commission = (qty * rate).round_dp(8);
                acc.credit(base, qty - commission);
                (commission, base)
            }
            Side::Sell => {
                let from_locked = order.locked.min(qty);
                acc.debit_locked(base, from_locked);
                acc.credit(base, from_locked - qty);
                order.locked -= from_locked;
                let commission = (quote_amount * rate).round_dp(8);
                acc.credit("USDT", quote_amount - commission);
                (commission, "USDT")
            }
        };
        acc.update_time = self.now;
        order.executed += qty;
        order.cum_quote += quote_amount;
        order.update_time = self.now;
        order.status = if order.executed >= order.qty { Status::Filled } else { Status::PartiallyFilled };
        if order.status.is_final() && order.locked > Decimal::ZERO {
            let asset = if order.side == Side::Buy { "USDT" } else { base };
            acc.unlock(asset, order.locked);
            order.locked = Decimal::ZERO;
        }
        let trade_id = self.market.take_trade_ids(order.symbol, 1);
        let fill = FillInfo {
            price,
            qty,
            commission,
            commission_asset: commission_asset.to_owned(),
            trade_id,
            maker,
            realized_pnl: Decimal::ZERO,
        };
        self.book.push_trade(Trade {
            id: trade_id,
            account: order.account,
            venue: Venue::Spot,
            symbol: order.symbol,
            order_id,
            side: order.side,
            price,
            qty,
            quote_qty: quote_amount,
            commission,
            commission_asset: commission_asset.to_owned(),
            realized_pnl: Decimal::ZERO,
            maker,
            time: self.now,
        });
        let (account, is_final) = (order.account, order.status.is_final());
        if let Some(slot) = self.book.order_mut(order_id) {
            *slot = order.clone();
        }
        if is_final {
            self.book.close(order_id);
        }
        self.events.push(Event::SpotExecution {
            account,
            order,
            exec: ExecType::Trade,
            fill: Some(fill.clone()),
            time: self.now,
        });
        self.emit_spot_balances(account, &[base, "USDT"]);
        Some(fill)
    }
}

#[cfg(test)]
mod tests;
