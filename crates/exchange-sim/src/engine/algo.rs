//! USD-M conditional orders on the algo API (`/fapi/v1/algoOrder`): STOP_MARKET,
//! TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT and TRAILING_STOP_MARKET, their placement checks, and
//! what happens on trigger.
//!
//! Facts used (PROTOCOL.md §3.3, §4.4): `algoType` is `CONDITIONAL`; STOP types fire for a buy when
//! the price rises to the trigger and for a sell when it falls to it, TAKE_PROFIT types the other
//! way; a trigger already reached is -2021; a trailing stop tracks the best price since activation
//! and fires on a retracement of `callbackRate` percent (0.1 to 10); `closePosition=true` closes the
//! whole position and takes no quantity (-4137) and no `reduceOnly`. There is no margin check before
//! the trigger: a rejection then is reported in `ALGO_UPDATE` (`X=REJECTED`, `rm`). On trigger the
//! algo order becomes `TRIGGERED` with `ai` = the id of a MARKET (or, for STOP / TAKE_PROFIT, LIMIT)
//! order whose `origType` is the algo type and whose client id is the `clientAlgoId`; once that
//! order is done the algo order is `FINISHED`. Algo orders never appear in `/fapi/v1/order` queries.

use exchange_core::Side;
use rust_decimal::Decimal;

use super::Engine;
use super::events::Event;
use super::futures::valid_futures_client_id;
use super::types::{AlgoOrder, AlgoStatus, Order, OrderType, Status, Tif, Trail, WorkingType};
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};

const MAX_OPEN_ALGOS: usize = 200;

/// A new algo order as `/fapi/v1/algoOrder` received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoRequest {
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// One of the five conditional types.
    pub order_type: OrderType,
    /// Time in force of the order placed on trigger.
    pub tif: Option<Tif>,
    /// `quantity`.
    pub qty: Option<Decimal>,
    /// `price` (STOP / TAKE_PROFIT).
    pub price: Option<Decimal>,
    /// `triggerPrice`.
    pub trigger_price: Option<Decimal>,
    /// `workingType`.
    pub working_type: WorkingType,
    /// `closePosition`.
    pub close_position: bool,
    /// `reduceOnly`.
    pub reduce_only: bool,
    /// `priceProtect`.
    pub price_protect: bool,
    /// `activatePrice`.
    pub activate_price: Option<Decimal>,
    /// `callbackRate` in percent.
    pub callback_rate: Option<Decimal>,
    /// `positionSide` as sent.
    pub position_side: Option<String>,
    /// `clientAlgoId`.
    pub client_algo_id: Option<String>,
}

/// True when a trigger of `order_type` on `side` fires when the price rises to it.
pub fn fires_upwards(order_type: OrderType, side: Side) -> bool {
    let stop_kind = matches!(
        order_type,
        OrderType::Stop | OrderType::StopMarket | OrderType::StopLoss | OrderType::StopLossLimit
    );
    stop_kind == (side == Side::Buy)
}

impl Engine {
    /// The price an algo order watches right now.
    fn watched_price(&self, symbol: SymbolId, working_type: WorkingType) -> Decimal {
        match working_type {
            WorkingType::ContractPrice => self.market.last(symbol),
            WorkingType::MarkPrice => self.market.mark(symbol),
        }
    }

    /// Places an algo order for `account`.
    ///
    /// # Errors
    /// -1116 for another type, -1102/-1106 for missing or extra parameters, -4137 for a quantity
    /// with closePosition, -1130 for a callback rate outside 0.1..=10, -2021 for a trigger already
    /// reached, -4015/-4116 for bad or duplicate client algo ids, -4045 beyond 200 open algo
    /// orders, the filter codes, and -4164 under the minimum notional.
    pub fn algo_place(&mut self, account: usize, req: AlgoRequest) -> Result<AlgoOrder, ApiError> {
        use OrderType::*;
        let t = req.order_type;
        if !matches!(t, Stop | StopMarket | TakeProfit | TakeProfitMarket | TrailingStopMarket) {
            return Err(ApiError::bad_order_type());
        }
        if req.position_side.as_deref().is_some_and(|s| s != "BOTH") {
            return Err(ApiError::bad(-4061, "Order's position side does not match user's setting."));
        }
        if req.close_position {
            if !matches!(t, StopMarket | TakeProfitMarket) {
                return Err(ApiError::not_required("closePosition"));
            }
            if req.qty.is_some() {
                return Err(ApiError::bad(-4137, "Quantity must be zero with closePosition equals true."));
            }
            if req.reduce_only {
                return Err(ApiError::not_required("reduceOnly"));
            }
        } else if req.qty.is_none() {
            return Err(ApiError::mandatory("quantity"));
        }
        if matches!(t, Stop | TakeProfit) && req.price.is_none() {
            return Err(ApiError::mandatory("price"));
        }
        if t == TrailingStopMarket {
            let rate = req.callback_rate.ok_or_else(|| ApiError::mandatory("callbackRate"))?;
            if rate < Decimal::new(1, 1) || rate > Decimal::TEN {
                return Err(ApiError::invalid_param("callbackRate"));
            }
        } else if req.trigger_price.is_none() {
            return Err(ApiError::mandatory("triggerprice"));
        }
        if let Some(id) = &req.client_algo_id {
            if !valid_futures_client_id(id) {
                return Err(ApiError::bad_client_id());
            }
            if self.book.algo_by_client_id(account, id).is_some_and(|a| self.book.algo_open(a.algo_id)) {
                return Err(ApiError::duplicate_client_id());
            }
        }
        if self.book.open_algos(account).count() >= MAX_OPEN_ALGOS {
            return Err(ApiError::bad(-4045, "Reach max stop order limit."));
        }
        let symbol = req.symbol;
        let qty = req.qty.unwrap_or_default();
        if !req.close_position {
            self.futures_check_filters(symbol, qty, req.price, true)?;
        }
        for level in [req.trigger_price, req.activate_price].into_iter().flatten() {
            self.futures_check_filters(symbol, self.spec(symbol).min_qty, Some(level), true)?;
        }
        let watched = self.watched_price(symbol, req.working_type);
        if let Some(trigger) = req.trigger_price.filter(|_| t != TrailingStopMarket) {
            let fired = if fires_upwards(t, req.side) { watched >= trigger } else { watched <= trigger };
            if fired {
                return Err(ApiError::would_trigger());
            }
            let min = self.spec(symbol).min_notional;
            if !req.close_position && !req.reduce_only && qty * trigger < min {
                return Err(ApiError::min_notional(&min));
            }
        }
        if let Some(act) = req.activate_price {
            let beyond = if req.side == Side::Buy { act >= watched } else { act <= watched };
            if beyond {
                return Err(ApiError::would_trigger());
            }
        }
        let algo_id = self.book.next_algo_id();
        let algo = AlgoOrder {
            algo_id,
            client_algo_id: req.client_algo_id.clone().unwrap_or_else(|| format!("simalgo{algo_id}")),
            account,
            symbol,
            side: req.side,
            order_type: t,
            tif: req.tif.unwrap_or(Tif::Gtc),
            qty,
            price: req.price.unwrap_or_default(),
            trigger_price: req.trigger_price.unwrap_or_default(),
            working_type: req.working_type,
            close_position: req.close_position,
            reduce_only: req.reduce_only,
            price_protect: req.price_protect,
            activate_price: req.activate_price,
            callback_rate: req.callback_rate,
            trail: Trail { active: req.activate_price.is_none(), extreme: watched },
            status: AlgoStatus::New,
            create_time: self.now,
            update_time: self.now,
            trigger_time: 0,
            actual_order_id: None,
            actual_price: Decimal::ZERO,
            actual_qty: Decimal::ZERO,
        };
        self.book.insert_algo(algo.clone());
        self.events.push(Event::FuturesAlgo {
            account,
            algo: algo.clone(),
            reason: String::new(),
            time: self.now,
        });
        Ok(algo)
    }

    /// Looks up an algo order of `account` by id or client algo id.
    ///
    /// # Errors
    /// -1102 when neither is given, -2013 when there is no such algo order.
    pub fn algo_find(
        &self,
        account: usize,
        algo_id: Option<u64>,
        client: Option<&str>,
    ) -> Result<&AlgoOrder, ApiError> {
        let algo = match (algo_id, client) {
            (Some(id), _) => self.book.algo(id),
            (None, Some(client)) => self.book.algo_by_client_id(account, client),
            (None, None) => return Err(ApiError::mandatory("algoId")),
        };
        algo.filter(|a| a.account == account).ok_or_else(ApiError::no_such_order)
    }

    /// Cancels a waiting algo order of `account`.
    ///
    /// # Errors
    /// -1102 when neither id is given, -2011 when it is not waiting.
    pub fn algo_cancel(
        &mut self,
        account: usize,
        algo_id: Option<u64>,
        client: Option<&str>,
    ) -> Result<AlgoOrder, ApiError> {
        let id = match self.algo_find(account, algo_id, client) {
            Ok(algo) if self.book.algo_open(algo.algo_id) => algo.algo_id,
            Err(e) if e.code == -1102 => return Err(e),
            _ => return Err(ApiError::cancel_unknown()),
        };
        self.end_algo(id, AlgoStatus::Canceled, String::new()).ok_or_else(ApiError::cancel_unknown)
    }

    /// Cancels every waiting algo order of `account` on `symbol`; returns how many.
    pub fn algo_cancel_all(&mut self, account: usize, symbol: SymbolId) -> usize {
        let ids: Vec<u64> =
            self.book.open_algos(account).filter(|a| a.symbol == symbol).map(|a| a.algo_id).collect();
        ids.into_iter().filter_map(|id| self.end_algo(id, AlgoStatus::Canceled, String::new())).count()
    }

    fn end_algo(&mut self, id: u64, status: AlgoStatus, reason: String) -> Option<AlgoOrder> {
        let now = self.now;
        let algo = self.book.algo_mut(id)?;
        algo.status = status;
        algo.update_time = now;
        let algo = algo.clone();
        self.book.close_algo(id);
        self.events.push(Event::FuturesAlgo { account: algo.account, algo: algo.clone(), reason, time: now });
        Some(algo)
    }

    /// Fires algo order `id` with the market at `price` (the trigger level, or the price after a
    /// gap): places its order and fills what fills at once.
    pub(super) fn algo_trigger(&mut self, id: u64, price: Decimal) {
        let Some(algo) = self.book.algo(id).cloned() else { return };
        let account = algo.account;
        let position =
            self.accounts.get(account).map(|a| a.futures.position(algo.symbol)).unwrap_or_default();
        let reduces =
            !position.amount.is_zero() && position.amount.is_sign_positive() != (algo.side == Side::Buy);
        let qty = if algo.close_position { position.amount.abs() } else { algo.qty };
        if (algo.close_position || algo.reduce_only) && !reduces {
            let (status, reason) = if algo.close_position {
                (AlgoStatus::Expired, "No position to close.")
            } else {
                (AlgoStatus::Rejected, "ReduceOnly Order is rejected.")
            };
            self.end_algo(id, status, reason.to_owned());
            return;
        }
        if !algo.close_position
            && !algo.reduce_only
            && let Err(e) = self.check_margin(account, algo.symbol, algo.side, qty, price)
        {
            self.end_algo(id, AlgoStatus::Rejected, e.msg);
            return;
        }
        let limit = algo.order_type.limit_on_trigger();
        let order_id = self.book.next_order_id();
        let now = self.now;
        if let Some(a) = self.book.algo_mut(id) {
            a.status = AlgoStatus::Triggered;
            a.trigger_time = now;
            a.update_time = now;
            a.actual_order_id = Some(order_id);
        }
        self.book.close_algo(id);
        if let Some(a) = self.book.algo(id).cloned() {
            self.events.push(Event::FuturesAlgo { account, algo: a, reason: String::new(), time: now });
        }
        let order = Order {
            order_id,
            account,
            venue: Venue::Futures,
            symbol: algo.symbol,
            client_id: algo.client_algo_id.clone(),
            side: algo.side,
            order_type: if limit { OrderType::Limit } else { OrderType::Market },
            orig_type: algo.order_type,
            tif: algo.tif,
            price: if limit { algo.price } else { Decimal::ZERO },
            qty: qty.min(if algo.reduce_only { position.amount.abs() } else { qty }),
            quote_qty: Decimal::ZERO,
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: Status::New,
            stop_price: algo.trigger_price,
            trailing_delta: None,
            trail: algo.trail,
            reduce_only: algo.reduce_only || algo.close_position,
            close_position: algo.close_position,
            working: true,
            time: now,
            update_time: now,
            working_time: now,
            deferred: Decimal::ZERO,
            locked: Decimal::ZERO,
            algo_id: Some(id),
        };
        let marketable =
            !limit || if algo.side == Side::Buy { algo.price >= price } else { algo.price <= price };
        // An order that cannot be stored leaves the algo order TRIGGERED; that needs a bug.
        let _placed = self.start_futures_order(order, marketable.then_some(price));
    }

    /// Marks the algo order behind a finished order as `FINISHED`.
    pub(super) fn algo_order_done(&mut self, order: &Order) {
        let Some(id) = order.algo_id else { return };
        let now = self.now;
        let Some(algo) = self.book.algo_mut(id) else { return };
        if algo.status != AlgoStatus::Triggered {
            return;
        }
        algo.status = AlgoStatus::Finished;
        algo.actual_price = order.avg_price();
        algo.actual_qty = order.executed;
        algo.update_time = now;
        let algo = algo.clone();
        self.events.push(Event::FuturesAlgo {
            account: algo.account,
            algo,
            reason: String::new(),
            time: now,
        });
    }
}

#[cfg(test)]
mod tests;
