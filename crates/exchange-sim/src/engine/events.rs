//! What the engine tells the user-data streams, as typed values: spot `executionReport` and
//! `outboundAccountPosition`, USD-M `ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`, `ALGO_UPDATE` and
//! `ACCOUNT_CONFIG_UPDATE`. The `wire` module renders them as Binance JSON.

use rust_decimal::Decimal;

use super::Engine;
use super::types::{AlgoOrder, Order};
use crate::catalog::SymbolId;

/// Why an order report was sent (`x` / execution type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecType {
    /// Accepted.
    New,
    /// Filled, fully or in part.
    Trade,
    /// Cancelled.
    Canceled,
    /// Expired.
    Expired,
    /// Liquidation (USD-M `CALCULATED`).
    Calculated,
}

impl ExecType {
    /// Binance's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Trade => "TRADE",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
            Self::Calculated => "CALCULATED",
        }
    }
}

/// The fill an order report carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillInfo {
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub qty: Decimal,
    /// Fee.
    pub commission: Decimal,
    /// Fee asset.
    pub commission_asset: String,
    /// Trade id.
    pub trade_id: u64,
    /// Maker or taker.
    pub maker: bool,
    /// USD-M realized profit of the fill.
    pub realized_pnl: Decimal,
}

/// A USD-M position as `ACCOUNT_UPDATE` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionReport {
    /// The symbol.
    pub symbol: SymbolId,
    /// Signed size.
    pub amount: Decimal,
    /// Entry price.
    pub entry: Decimal,
    /// Realized profit since opening.
    pub realized: Decimal,
    /// Unrealized profit at the mark.
    pub upnl: Decimal,
    /// `cross` or `isolated`.
    pub margin_type: &'static str,
    /// Isolated wallet.
    pub isolated_wallet: Decimal,
}

/// One user-data event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Spot `executionReport`.
    SpotExecution {
        /// Owner.
        account: usize,
        /// The order after the change.
        order: Order,
        /// What happened.
        exec: ExecType,
        /// The fill, for `TRADE`.
        fill: Option<FillInfo>,
        /// Event time (market ms).
        time: i64,
    },
    /// Spot `outboundAccountPosition`.
    SpotBalances {
        /// Owner.
        account: usize,
        /// Changed assets: (asset, free, locked).
        assets: Vec<(String, Decimal, Decimal)>,
        /// Event time (market ms).
        time: i64,
    },
    /// USD-M `ORDER_TRADE_UPDATE`.
    FuturesOrder {
        /// Owner.
        account: usize,
        /// The order after the change.
        order: Order,
        /// What happened.
        exec: ExecType,
        /// The fill, for `TRADE`.
        fill: Option<FillInfo>,
        /// Event time (market ms).
        time: i64,
    },
    /// USD-M `ACCOUNT_UPDATE`.
    FuturesAccount {
        /// Owner.
        account: usize,
        /// `m`: ORDER, FUNDING_FEE, MARGIN_TYPE_CHANGE ...
        reason: &'static str,
        /// Wallet balance after the change.
        wallet: Decimal,
        /// Cross wallet balance after the change.
        cross_wallet: Decimal,
        /// Balance change that is not PnL or fee (funding amount for FUNDING_FEE).
        balance_change: Decimal,
        /// The changed positions.
        positions: Vec<PositionReport>,
        /// The symbol of a FUNDING_FEE event.
        symbol: Option<SymbolId>,
        /// Event time (market ms).
        time: i64,
    },
    /// USD-M `ALGO_UPDATE`.
    FuturesAlgo {
        /// Owner.
        account: usize,
        /// The algo order after the change.
        algo: AlgoOrder,
        /// Reject reason (`rm`), empty if none.
        reason: String,
        /// Event time (market ms).
        time: i64,
    },
    /// USD-M `ACCOUNT_CONFIG_UPDATE` (leverage change).
    FuturesConfig {
        /// Owner.
        account: usize,
        /// The symbol.
        symbol: SymbolId,
        /// New leverage.
        leverage: u32,
        /// Event time (market ms).
        time: i64,
    },
}

impl Event {
    /// The account the event belongs to.
    pub fn account(&self) -> usize {
        match self {
            Self::SpotExecution { account, .. }
            | Self::SpotBalances { account, .. }
            | Self::FuturesOrder { account, .. }
            | Self::FuturesAccount { account, .. }
            | Self::FuturesAlgo { account, .. }
            | Self::FuturesConfig { account, .. } => *account,
        }
    }

    /// True for spot events (delivered on the WebSocket API), false for USD-M (listenKey stream).
    pub fn is_spot(&self) -> bool {
        matches!(self, Self::SpotExecution { .. } | Self::SpotBalances { .. })
    }
}

impl Engine {
    /// Queues the spot balances of `assets` for `account`.
    pub(super) fn emit_spot_balances(&mut self, account: usize, assets: &[&str]) {
        let Some(acc) = self.accounts.get(account) else { return };
        let assets = assets
            .iter()
            .map(|a| {
                let b = acc.spot.balance(a);
                ((*a).to_owned(), b.free, b.locked)
            })
            .collect();
        self.events.push(Event::SpotBalances { account, assets, time: self.now });
    }

    /// The report of `account`'s position on `symbol`.
    pub(super) fn position_report(&self, account: usize, symbol: SymbolId) -> PositionReport {
        let acc = self.accounts.get(account);
        let position = acc.map(|a| a.futures.position(symbol)).unwrap_or_default();
        let margin_type = acc.map_or("cross", |a| a.futures.config(symbol).margin_type.as_lower());
        PositionReport {
            symbol,
            amount: position.amount,
            entry: position.entry,
            realized: position.realized,
            upnl: position.upnl(self.market.mark(symbol)),
            margin_type,
            isolated_wallet: position.isolated_wallet,
        }
    }

    /// Queues an `ACCOUNT_UPDATE` for `account` with the positions on `symbols`.
    pub(super) fn emit_futures_account(
        &mut self,
        account: usize,
        reason: &'static str,
        balance_change: Decimal,
        symbols: &[SymbolId],
        funding_symbol: Option<SymbolId>,
    ) {
        let Some(acc) = self.accounts.get(account) else { return };
        let (wallet, cross_wallet) = (acc.futures.wallet, acc.futures.cross_wallet());
        let positions = symbols.iter().map(|s| self.position_report(account, *s)).collect();
        self.events.push(Event::FuturesAccount {
            account,
            reason,
            wallet,
            cross_wallet,
            balance_change,
            positions,
            symbol: funding_symbol,
            time: self.now,
        });
    }
}
