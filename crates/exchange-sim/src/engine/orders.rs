//! The order lifecycle shared by spot and USD-M: filling now (with the partial-fills fault),
//! dispatching a fill to its venue, ending an order (cancelled or expired, releasing its locks),
//! looking orders up by id or client id, cancelling, and completing deferred partial fills.

use exchange_core::Side;
use rust_decimal::Decimal;

use super::Engine;
use super::events::{Event, ExecType, FillInfo};
use super::types::{Order, Status};
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};

impl Engine {
    /// Fills the order now at `price` as a taker: all of it, or half of it when the partial-fills
    /// fault applies (`allow_partial`), the rest at the end of the tick.
    pub(super) fn fill_now(&mut self, order_id: u64, price: Decimal, allow_partial: bool) -> Vec<FillInfo> {
        let Some(order) = self.book.order(order_id) else { return Vec::new() };
        let remaining = order.remaining();
        let step = self.spec(order.symbol).step;
        let mut qty = remaining;
        if allow_partial && self.partial_fills > 0 {
            self.partial_fills -= 1;
            let half = remaining / Decimal::TWO;
            let half = half - half % step;
            if half > Decimal::ZERO {
                qty = half;
            }
        }
        let fill = self.fill(order_id, price, qty, false);
        if qty < remaining
            && let Some(order) = self.book.order_mut(order_id)
        {
            order.deferred = remaining - qty;
        }
        fill.into_iter().collect()
    }

    /// Fills `qty` of an order at `price` on its venue.
    pub(super) fn fill(
        &mut self,
        order_id: u64,
        price: Decimal,
        qty: Decimal,
        maker: bool,
    ) -> Option<FillInfo> {
        match self.book.order(order_id)?.venue {
            Venue::Spot => self.spot_fill(order_id, price, qty, maker),
            Venue::Futures => self.futures_fill(order_id, price, qty, maker),
        }
    }

    /// Ends an open order as cancelled (`cancel`) or expired, releasing what it locked.
    pub(super) fn end_order(&mut self, order_id: u64, status: Status) -> Option<Order> {
        let order = self.book.order_mut(order_id)?;
        if order.status.is_final() {
            return None;
        }
        order.status = status;
        order.update_time = self.now;
        order.deferred = Decimal::ZERO;
        let locked = std::mem::take(&mut order.locked);
        let order = order.clone();
        self.book.close(order_id);
        let exec = if status == Status::Canceled { ExecType::Canceled } else { ExecType::Expired };
        match order.venue {
            Venue::Spot => {
                let asset = if order.side == Side::Buy { "USDT" } else { self.spec(order.symbol).base };
                if let Some(acc) = self.accounts.get_mut(order.account) {
                    acc.spot.unlock(asset, locked);
                    acc.spot.update_time = self.now;
                }
                let event = Event::SpotExecution {
                    account: order.account,
                    order: order.clone(),
                    exec,
                    fill: None,
                    time: self.now,
                };
                self.events.push(event);
                if locked > Decimal::ZERO {
                    self.emit_spot_balances(order.account, &[asset]);
                }
            }
            Venue::Futures => {
                let event = Event::FuturesOrder {
                    account: order.account,
                    order: order.clone(),
                    exec,
                    fill: None,
                    time: self.now,
                };
                self.events.push(event);
                self.algo_order_done(&order);
            }
        }
        Some(order)
    }

    pub(super) fn expire(&mut self, order_id: u64) {
        self.end_order(order_id, Status::Expired);
    }

    /// Looks up an order of `account` on `venue` and `symbol` by id or client id.
    ///
    /// # Errors
    /// -1102 when neither id is given; -2013 when no such order exists.
    pub fn find_order(
        &self,
        account: usize,
        venue: Venue,
        symbol: SymbolId,
        order_id: Option<u64>,
        client_id: Option<&str>,
    ) -> Result<&Order, ApiError> {
        let order = match (order_id, client_id) {
            (Some(id), _) => self.book.order(id),
            (None, Some(client)) => self.book.by_client_id(account, venue, client),
            (None, None) => return Err(ApiError::mandatory("orderId")),
        };
        order
            .filter(|o| o.account == account && o.venue == venue && o.symbol == symbol)
            .filter(|o| client_id.is_none_or(|c| o.client_id == c))
            .ok_or_else(ApiError::no_such_order)
    }

    /// Cancels an open order of `account` (spot or USD-M).
    ///
    /// # Errors
    /// -1102 when neither id is given; -2011 "Unknown order sent." when it is not open.
    pub fn cancel_order(
        &mut self,
        account: usize,
        venue: Venue,
        symbol: SymbolId,
        order_id: Option<u64>,
        client_id: Option<&str>,
    ) -> Result<Order, ApiError> {
        let found = match self.find_order(account, venue, symbol, order_id, client_id) {
            Ok(order) => order.order_id,
            Err(e) if e.code == -1102 => return Err(e),
            Err(_) => return Err(ApiError::cancel_unknown()),
        };
        if !self.book.is_open(found) {
            return Err(ApiError::cancel_unknown());
        }
        self.end_order(found, Status::Canceled).ok_or_else(ApiError::cancel_unknown)
    }

    /// Cancels every open order of `account` on `venue` and `symbol`; returns them.
    pub fn cancel_all(&mut self, account: usize, venue: Venue, symbol: SymbolId) -> Vec<Order> {
        let ids: Vec<u64> = self
            .book
            .open_orders(account, venue)
            .filter(|o| o.symbol == symbol)
            .map(|o| o.order_id)
            .collect();
        ids.into_iter().filter_map(|id| self.end_order(id, Status::Canceled)).collect()
    }

    /// Fills the deferred parts left by the partial-fills fault, at the current price.
    pub(super) fn complete_deferred(&mut self) {
        let pending: Vec<(u64, SymbolId, bool, Side, Decimal)> = self
            .book
            .open_ids()
            .into_iter()
            .filter_map(|id| self.book.order(id))
            .filter(|o| o.deferred > Decimal::ZERO)
            .map(|o| (o.order_id, o.symbol, o.price.is_zero(), o.side, o.price))
            .collect();
        for (id, symbol, is_market, side, price) in pending {
            let last = self.market.last(symbol);
            if let Some(order) = self.book.order_mut(id) {
                order.deferred = Decimal::ZERO;
            }
            let marketable =
                is_market || (side == Side::Buy && price >= last) || (side == Side::Sell && price <= last);
            if marketable {
                let remaining = self.book.order(id).map_or(Decimal::ZERO, Order::remaining);
                self.fill(id, last, remaining, false);
            }
        }
    }
}
