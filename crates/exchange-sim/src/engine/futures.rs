//! USD-M orders (one-way mode): placement with Binance's checks, fills that open, add to, reduce
//! or flip the position, cancels, leverage and margin type.
//!
//! USD-M facts used (PROTOCOL.md §3.3, §5.2): `/fapi/v1/order` takes LIMIT and MARKET only, the
//! conditional types answer -4120; client ids match `^[\.A-Z\:/a-z0-9_-]{1,36}$` (-4015) and may not
//! repeat among open orders (-4116); LOT_SIZE and PRICE_FILTER are offsets from the minimum
//! (-4023, -4014); limit prices must stay within 5 % of the mark (-4016, -4024); the minimum notional
//! uses the mark price for market orders and exempts reduce-only (-4164); post-only that would take
//! is -5022, FOK that cannot fill -5021; margin shortfall -2019. The default leverage is 20x cross.

use exchange_core::Side;
use rust_decimal::Decimal;

use super::Engine;
use super::accounts::{MarginType, SymbolConfig};
use super::events::{Event, ExecType, FillInfo};
use super::spot::Placed;
use super::types::{Income, Order, OrderType, Status, Tif, Trade, Trail};
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};

/// A new USD-M order as `/fapi/v1/order` received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuturesOrderRequest {
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Type (LIMIT or MARKET; conditional types are refused).
    pub order_type: OrderType,
    /// Time in force.
    pub tif: Option<Tif>,
    /// `quantity`.
    pub qty: Option<Decimal>,
    /// `price`.
    pub price: Option<Decimal>,
    /// `reduceOnly`.
    pub reduce_only: bool,
    /// `positionSide` as sent (only `BOTH` is accepted: one-way mode).
    pub position_side: Option<String>,
    /// `newClientOrderId`.
    pub client_id: Option<String>,
}

/// USD-M's client order id rule.
pub fn valid_futures_client_id(id: &str) -> bool {
    (1..=36).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-'))
}

impl Engine {
    /// Checks a USD-M quantity and optional price against the symbol's filters.
    pub(super) fn futures_check_filters(
        &self,
        symbol: SymbolId,
        qty: Decimal,
        price: Option<Decimal>,
        market: bool,
    ) -> Result<(), ApiError> {
        let spec = self.spec(symbol);
        if qty <= Decimal::ZERO {
            return Err(ApiError::bad(-4003, "Quantity less than or equal to zero."));
        }
        if qty < spec.min_qty {
            return Err(ApiError::bad(-4004, "Quantity less than min quantity."));
        }
        if qty > if market { spec.market_max_qty } else { spec.max_qty } {
            return Err(ApiError::bad(-4005, "Quantity greater than max quantity."));
        }
        if !((qty - spec.min_qty) % spec.step).is_zero() {
            return Err(ApiError::bad(-4023, "Quantity not increased by step size."));
        }
        if let Some(price) = price {
            if price <= Decimal::ZERO {
                return Err(ApiError::bad(-4001, "Price less than 0."));
            }
            if price < spec.min_price {
                return Err(ApiError::bad(-4013, "Price less than min price."));
            }
            if price > spec.max_price {
                return Err(ApiError::bad(-4002, "Price greater than max price."));
            }
            if !((price - spec.min_price) % spec.tick).is_zero() {
                return Err(ApiError::bad(-4014, "Price not increased by tick size."));
            }
        }
        Ok(())
    }

    /// The quantity of an order of `qty` on `side` that opens or adds exposure.
    fn opening_qty(&self, account: usize, symbol: SymbolId, side: Side, qty: Decimal) -> Decimal {
        let amount = self.accounts.get(account).map_or(Decimal::ZERO, |a| a.futures.position(symbol).amount);
        if amount.is_zero() || amount.is_sign_positive() == (side == Side::Buy) {
            qty
        } else {
            (qty - amount.abs()).max(Decimal::ZERO)
        }
    }

    /// Checks that opening `qty` at `price` fits the available balance.
    pub(super) fn check_margin(
        &self,
        account: usize,
        symbol: SymbolId,
        side: Side,
        qty: Decimal,
        price: Decimal,
    ) -> Result<(), ApiError> {
        let opening = self.opening_qty(account, symbol, side, qty);
        if opening.is_zero() {
            return Ok(());
        }
        let leverage = self.accounts.get(account).map_or(1, |a| a.futures.config(symbol).leverage.max(1));
        let required = opening * price / Decimal::from(leverage) + opening * price * self.fees.futures_taker;
        if required > self.futures_available(account) {
            return Err(ApiError::margin_insufficient());
        }
        Ok(())
    }

    /// Places a USD-M order for `account`.
    ///
    /// # Errors
    /// -4120 for conditional types, -4061 for a hedge-mode position side, -1102/-1106 for missing or
    /// unneeded parameters, -4015/-4116 for bad or duplicate client ids, the filter codes, -2022,
    /// -4164, -5021, -5022 and -2019 as described in the module docs.
    pub fn futures_place(&mut self, account: usize, req: FuturesOrderRequest) -> Result<Placed, ApiError> {
        let t = req.order_type;
        if !matches!(t, OrderType::Limit | OrderType::Market) {
            return Err(ApiError::use_algo_api());
        }
        if req.position_side.as_deref().is_some_and(|s| s != "BOTH") {
            return Err(ApiError::bad(-4061, "Order's position side does not match user's setting."));
        }
        let qty = req.qty.ok_or_else(|| ApiError::mandatory("quantity"))?;
        if t == OrderType::Limit {
            req.tif.ok_or_else(|| ApiError::mandatory("timeInForce"))?;
            req.price.ok_or_else(|| ApiError::mandatory("price"))?;
        } else if req.price.is_some() {
            return Err(ApiError::not_required("price"));
        }
        if let Some(id) = &req.client_id {
            if !valid_futures_client_id(id) {
                return Err(ApiError::bad_client_id());
            }
            if self.book.client_id_open(account, Venue::Futures, id) {
                return Err(ApiError::duplicate_client_id());
            }
        }
        self.futures_check_filters(req.symbol, qty, req.price, t == OrderType::Market)?;
        let (last, mark) = (self.market.last(req.symbol), self.market.mark(req.symbol));
        if let Some(price) = req.price {
            let cap = (mark * Decimal::new(105, 2)).round_dp(self.spec(req.symbol).price_precision);
            let floor = (mark * Decimal::new(95, 2)).round_dp(self.spec(req.symbol).price_precision);
            if req.side == Side::Buy && price > cap {
                return Err(ApiError::bad(-4016, format!("Limit price can't be higher than {cap}.")));
            }
            if req.side == Side::Sell && price < floor {
                return Err(ApiError::bad(-4024, format!("Limit price can't be lower than {floor}.")));
            }
        }
        let position = self.accounts.get(account).map(|a| a.futures.position(req.symbol)).unwrap_or_default();
        if req.reduce_only
            && (position.amount.is_zero() || position.amount.is_sign_positive() == (req.side == Side::Buy))
        {
            return Err(ApiError::reduce_only_rejected());
        }
        let reference = req.price.unwrap_or(mark);
        let min_notional = self.spec(req.symbol).min_notional;
        if !req.reduce_only && qty * reference < min_notional {
            return Err(ApiError::min_notional(&min_notional));
        }
        let tif = req.tif.unwrap_or(Tif::Gtc);
        let marketable = req.price.is_none_or(|p| if req.side == Side::Buy { p >= last } else { p <= last });
        if t == OrderType::Limit && tif == Tif::Gtx && marketable {
            return Err(ApiError::gtx_rejected());
        }
        if t == OrderType::Limit && tif == Tif::Fok && !marketable {
            return Err(ApiError::fok_rejected());
        }
        if !req.reduce_only {
            let price = if marketable { last } else { reference };
            self.check_margin(account, req.symbol, req.side, qty, price)?;
        }
        let order_id = self.book.next_order_id();
        let order = Order {
            order_id,
            account,
            venue: Venue::Futures,
            symbol: req.symbol,
            client_id: req.client_id.clone().unwrap_or_else(|| format!("sim{order_id}")),
            side: req.side,
            order_type: t,
            orig_type: t,
            tif,
            price: req.price.unwrap_or_default(),
            qty,
            quote_qty: Decimal::ZERO,
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: Status::New,
            stop_price: Decimal::ZERO,
            trailing_delta: None,
            trail: Trail::default(),
            reduce_only: req.reduce_only,
            close_position: false,
            working: true,
            time: self.now,
            update_time: self.now,
            working_time: self.now,
            deferred: Decimal::ZERO,
            locked: Decimal::ZERO,
            algo_id: None,
        };
        self.start_futures_order(order, marketable.then_some(last))
    }

    /// Stores a new USD-M order, reports it, and fills it at once at `fill_at` if given (else it
    /// rests, or expires if IOC).
    pub(super) fn start_futures_order(
        &mut self,
        order: Order,
        fill_at: Option<Decimal>,
    ) -> Result<Placed, ApiError> {
        let (order_id, account, tif) = (order.order_id, order.account, order.tif);
        self.book.insert(order.clone());
        self.events.push(Event::FuturesOrder {
            account,
            order,
            exec: ExecType::New,
            fill: None,
            time: self.now,
        });
        let fills = if let Some(price) = fill_at {
            self.fill_now(order_id, price, tif != Tif::Fok)
        } else {
            if tif == Tif::Ioc {
                self.expire(order_id);
            }
            Vec::new()
        };
        let order = self.book.order(order_id).cloned().ok_or_else(ApiError::unknown)?;
        Ok(Placed { order, fills })
    }

    /// Fills `qty` of a USD-M order at `price`, updating the position, wallet and income.
    pub(super) fn futures_fill(
        &mut self,
        order_id: u64,
        price: Decimal,
        qty: Decimal,
        maker: bool,
    ) -> Option<FillInfo> {
        let mut order = self.book.order(order_id)?.clone();
        let symbol = order.symbol;
        let account = order.account;
        let acc = &self.accounts.get(account)?.futures;
        let position = acc.position(symbol);
        let SymbolConfig { leverage, margin_type } = acc.config(symbol);
        let a = position.amount;
        let reducing = !a.is_zero() && a.is_sign_positive() != (order.side == Side::Buy);
        let mut qty = qty;
        if order.reduce_only || order.close_position {
            qty = if reducing { qty.min(a.abs()) } else { Decimal::ZERO };
            if qty.is_zero() {
                self.expire(order_id);
                return None;
            }
        }
        let closing = if reducing { qty.min(a.abs()) } else { Decimal::ZERO };
        let opening = qty - closing;
        let direction = if a.is_sign_negative() { Decimal::NEGATIVE_ONE } else { Decimal::ONE };
        let realized = (closing * (price - position.entry) * direction).round_dp(8);
        let signed = if order.side == Side::Buy { qty } else { -qty };
        let new_amount = a + signed;
        let mut next = position;
        next.amount = new_amount;
        next.entry = if new_amount.is_zero() {
            Decimal::ZERO
        } else if opening > Decimal::ZERO && closing.is_zero() {
            ((a.abs() * position.entry + opening * price) / (a.abs() + opening)).round_dp(8)
        } else if opening > Decimal::ZERO {
            price
        } else {
            position.entry
        };
        next.realized =
            if closing == a.abs() && !a.is_zero() { realized } else { position.realized + realized };
        if margin_type == MarginType::Isolated {
            let released =
                if a.is_zero() { Decimal::ZERO } else { position.isolated_wallet * closing / a.abs() };
            next.isolated_wallet = (position.isolated_wallet - released
                + opening * price / Decimal::from(leverage.max(1)))
            .round_dp(8)
            .max(Decimal::ZERO);
        }
        if new_amount.is_zero() {
            next.isolated_wallet = Decimal::ZERO;
        }
        next.update_time = self.now;
        let rate = if maker { self.fees.futures_maker } else { self.fees.futures_taker };
        let commission = (price * qty * rate).round_dp(8);
        let acc = &mut self.accounts.get_mut(account)?.futures;
        acc.wallet += realized - commission;
        if new_amount.is_zero() {
            acc.positions.remove(&symbol);
        } else {
            acc.positions.insert(symbol, next);
        }
        acc.update_time = self.now;
        order.executed += qty;
        order.cum_quote += price * qty;
        order.update_time = self.now;
        order.status =
            if order.executed >= order.qty || order.reduce_only && next.amount.is_zero() && reducing {
                Status::Filled
            } else {
                Status::PartiallyFilled
            };
        if order.status == Status::Filled {
            order.qty = order.qty.max(order.executed);
        }
        let trade_id = self.market.take_trade_ids(symbol, 1);
        let fill = FillInfo {
            price,
            qty,
            commission,
            commission_asset: "USDT".to_owned(),
            trade_id,
            maker,
            realized_pnl: realized,
        };
        self.record_futures_trade(&order, &fill);
        let is_final = order.status.is_final();
        if let Some(slot) = self.book.order_mut(order_id) {
            *slot = order.clone();
        }
        if is_final {
            self.book.close(order_id);
        }
        self.events.push(Event::FuturesOrder {
            account,
            order: order.clone(),
            exec: ExecType::Trade,
            fill: Some(fill.clone()),
            time: self.now,
        });
        self.emit_futures_account(account, "ORDER", Decimal::ZERO, &[symbol], None);
        if is_final {
            self.algo_order_done(&order);
        }
        Some(fill)
    }

    fn record_futures_trade(&mut self, order: &Order, fill: &FillInfo) {
        let symbol_name = self.spec(order.symbol).symbol.to_string();
        self.book.push_trade(Trade {
            id: fill.trade_id,
            account: order.account,
            venue: Venue::Futures,
            symbol: order.symbol,
            order_id: order.order_id,
            side: order.side,
            price: fill.price,
            qty: fill.qty,
            quote_qty: fill.price * fill.qty,
            commission: fill.commission,
            commission_asset: "USDT".to_owned(),
            realized_pnl: fill.realized_pnl,
            maker: fill.maker,
            time: self.now,
        });
        for (kind, amount) in [("REALIZED_PNL", fill.realized_pnl), ("COMMISSION", -fill.commission)] {
            if !amount.is_zero() {
                let tran_id = self.book.next_tran_id();
                self.book.push_income(Income {
                    account: order.account,
                    symbol: symbol_name.clone(),
                    kind: kind.to_owned(),
                    amount,
                    time: self.now,
                    tran_id,
                    trade_id: fill.trade_id.to_string(),
                });
            }
        }
    }

    /// Sets the leverage of `account` on `symbol`; returns it and the `maxNotionalValue`.
    ///
    /// # Errors
    /// -4028 when `leverage` is outside 1..=the symbol's maximum.
    pub fn set_leverage(
        &mut self,
        account: usize,
        symbol: SymbolId,
        leverage: u32,
    ) -> Result<(u32, Decimal), ApiError> {
        let spec = self.spec(symbol);
        if leverage == 0 || leverage > spec.max_leverage {
            return Err(ApiError::bad(-4028, format!("Leverage {leverage} is not valid")));
        }
        let max_notional = spec.max_notional(leverage);
        let acc = self.account_mut(account).ok_or_else(ApiError::rejected_api_key)?;
        let mut config = acc.futures.config(symbol);
        config.leverage = leverage;
        acc.futures.configs.insert(symbol, config);
        self.events.push(Event::FuturesConfig { account, symbol, leverage, time: self.now });
        Ok((leverage, max_notional))
    }

    /// Sets the margin type of `account` on `symbol`.
    ///
    /// # Errors
    /// -4046 when unchanged, -4047 with open orders, -4048 with a position.
    pub fn set_margin_type(
        &mut self,
        account: usize,
        symbol: SymbolId,
        margin_type: MarginType,
    ) -> Result<(), ApiError> {
        let has_orders = self.book.open_orders(account, Venue::Futures).any(|o| o.symbol == symbol);
        let acc = self.account_mut(account).ok_or_else(ApiError::rejected_api_key)?;
        let mut config = acc.futures.config(symbol);
        if config.margin_type == margin_type {
            return Err(ApiError::bad(-4046, "No need to change margin type."));
        }
        if has_orders {
            return Err(ApiError::bad(-4047, "Margin type cannot be changed if there exists open orders."));
        }
        if !acc.futures.position(symbol).amount.is_zero() {
            return Err(ApiError::bad(-4048, "Margin type cannot be changed if there exists position."));
        }
        config.margin_type = margin_type;
        acc.futures.configs.insert(symbol, config);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
