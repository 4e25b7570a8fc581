//! The paper account's money: [`Ledger`], either USD-M margin (a wallet per margin asset, one-way
//! isolated positions with their leverage) or spot wallets (free and locked per asset). It checks
//! whether an order can be paid for, holds and releases what resting orders need, and books fills.
//!
//! USD-M accounting (Binance's, isolated): a fill that grows a position moves its entry price to
//! the quantity-weighted average; one that shrinks it realizes `sign * qty * (price - entry)` into
//! the wallet; every fee comes out of the wallet; a non-reduce-only order larger than the
//! position flips it, the rest opening at the fill price. Available balance = wallet - the initial
//! margin of every position (`qty * entry / leverage`) - the margin held by resting orders that
//! would grow a position. Liquidation is not simulated.
//!
//! Spot accounting (Binance's): a buy pays `qty * price` of the quote asset and receives `qty`
//! of the base asset less the fee (charged in the base asset); a sell gives `qty` of the base
//! and receives `qty * price` less the fee (in the quote asset). A resting sell locks its base
//! quantity, a resting limit buy its quote value; a conditional buy locks nothing and is checked
//! for funds when it triggers.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use crate::model::{Balance, MarginMode, Notional, Position, PositionSide, Price, Qty, Side, Symbol};
use crate::venue::{AccountUpdate, PositionUpdate};

/// One USD-M position: signed quantity (positive long) and average entry price.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    qty: Decimal,
    entry: Decimal,
    quote: String,
}

/// USD-M margin: wallets, positions, leverage.
#[derive(Debug, Clone)]
pub(super) struct Margin {
    wallets: BTreeMap<String, Decimal>,
    held_by_orders: BTreeMap<String, Decimal>,
    positions: BTreeMap<Symbol, Held>,
    leverage: HashMap<Symbol, u32>,
    default_leverage: u32,
}

/// Spot wallets: free and locked per asset.
#[derive(Debug, Clone, Default)]
pub(super) struct Wallets {
    free: BTreeMap<String, Decimal>,
    locked: BTreeMap<String, Decimal>,
}

/// The paper account's money.
#[derive(Debug, Clone)]
pub(super) enum Ledger {
    /// USD-M.
    Futures(Margin),
    /// Spot.
    Spot(Wallets),
}

/// One fill, as the ledger books it.
#[derive(Debug, Clone)]
pub(super) struct Booking<'a> {
    pub symbol: &'a Symbol,
    pub base: &'a str,
    pub quote: &'a str,
    pub side: Side,
    pub qty: Decimal,
    pub price: Decimal,
    pub fee: Decimal,
    pub time: i64,
}

/// A hold on funds for a resting order: how much of which asset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Hold {
    pub asset: String,
    pub amount: Decimal,
}

fn add(map: &mut BTreeMap<String, Decimal>, asset: &str, amount: Decimal) {
    *map.entry(asset.to_owned()).or_insert(Decimal::ZERO) += amount;
}

fn get(map: &BTreeMap<String, Decimal>, asset: &str) -> Decimal {
    map.get(asset).copied().unwrap_or(Decimal::ZERO)
}

impl Margin {
    fn new(wallets: BTreeMap<String, Decimal>, default_leverage: u32) -> Self {
        Self {
            wallets,
            held_by_orders: BTreeMap::new(),
            positions: BTreeMap::new(),
            leverage: HashMap::new(),
            default_leverage,
        }
    }

    fn leverage_of(&self, symbol: &Symbol) -> u32 {
        self.leverage.get(symbol).copied().unwrap_or(self.default_leverage).max(1)
    }

    /// Wallet less position and order margin.
    fn available(&self, asset: &str) -> Decimal {
        let positions: Decimal = self
            .positions
            .iter()
            .filter(|(_, h)| h.quote == asset)
            .map(|(s, h)| h.qty.abs() * h.entry / Decimal::from(self.leverage_of(s)))
            .sum();
        get(&self.wallets, asset) - positions - get(&self.held_by_orders, asset)
    }

    /// The signed position of `symbol` (zero when flat).
    pub(super) fn position_qty(&self, symbol: &Symbol) -> Decimal {
        self.positions.get(symbol).map_or(Decimal::ZERO, |h| h.qty)
    }

    /// Margin an order of `qty` on `side` at `price` needs: the part that grows the position.
    pub(super) fn margin_needed(&self, symbol: &Symbol, side: Side, qty: Decimal, price: Decimal) -> Decimal {
        let held = self.position_qty(symbol);
        let reducing = if held.is_zero() || held.is_sign_positive() == (side == Side::Buy) {
            Decimal::ZERO
        } else {
            qty.min(held.abs())
        };
        (qty - reducing) * price / Decimal::from(self.leverage_of(symbol))
    }

    fn book(&mut self, b: &Booking<'_>) {
        let signed = b.side.sign() * b.qty;
        let held = self.positions.entry(b.symbol.clone()).or_insert_with(|| Held {
            qty: Decimal::ZERO,
            entry: Decimal::ZERO,
            quote: b.quote.to_owned(),
        });
        if held.qty.is_zero() || held.qty.is_sign_positive() == signed.is_sign_positive() {
            let total = held.qty.abs() + b.qty;
            held.entry = (held.qty.abs() * held.entry + b.qty * b.price) / total;
            held.qty += signed;
        } else {
            let closed = b.qty.min(held.qty.abs());
            let sign = if held.qty.is_sign_positive() { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
            let realized = sign * closed * (b.price - held.entry);
            add(&mut self.wallets, b.quote, realized);
            held.qty += b.side.sign() * closed;
            let rest = b.qty - closed;
            if rest > Decimal::ZERO {
                held.qty = b.side.sign() * rest;
                held.entry = b.price;
            }
        }
        add(&mut self.wallets, b.quote, -b.fee);
        if held.qty.is_zero() {
            self.positions.remove(b.symbol);
        }
    }

    fn balance(&self, asset: &str) -> Balance {
        let wallet = get(&self.wallets, asset);
        let free = self.available(asset).max(Decimal::ZERO);
        Balance {
            asset: asset.to_owned(),
            wallet: Notional::new(wallet),
            free: Notional::new(free),
            locked: Notional::new(wallet - free),
        }
    }

    fn position_update(&self, symbol: &Symbol, mark: Decimal) -> PositionUpdate {
        let held = self.positions.get(symbol);
        let qty = held.map_or(Decimal::ZERO, |h| h.qty);
        let entry = held.map_or(Decimal::ZERO, |h| h.entry);
        PositionUpdate {
            symbol: symbol.clone(),
            side: side_of(qty),
            qty: Qty::new(qty.abs()),
            entry_price: Price::new(entry),
            margin_mode: Some(MarginMode::Isolated),
            unrealized_pnl: qty * (mark - entry),
        }
    }

    /// Seeds a position (restore).
    pub(super) fn seed_position(&mut self, p: &Position, quote: &str) {
        self.leverage.insert(p.symbol.clone(), p.leverage.max(1));
        let qty = p.side.sign() * p.qty.get();
        if !qty.is_zero() {
            let held = Held { qty, entry: p.entry_price.get(), quote: quote.to_owned() };
            self.positions.insert(p.symbol.clone(), held);
        }
    }

    /// Sets `symbol`'s leverage.
    pub(super) fn set_leverage(&mut self, symbol: &Symbol, leverage: u32) {
        self.leverage.insert(symbol.clone(), leverage);
    }

    /// Settles funding on `symbol`'s position at `mark` and `rate` (Binance's formula: the
    /// account receives `-qty * mark * rate`, so longs pay a positive rate); `None` when flat.
    fn fund(&mut self, symbol: &Symbol, mark: Decimal, rate: Decimal, time: i64) -> Option<AccountUpdate> {
        let held = self.positions.get(symbol)?;
        let (amount, quote) = (-held.qty * mark * rate, held.quote.clone());
        add(&mut self.wallets, &quote, amount);
        Some(AccountUpdate {
            reason: "FUNDING_FEE".to_owned(),
            balances: vec![self.balance(&quote)],
            positions: Vec::new(),
            time_exchange: time,
        })
    }

    /// Open positions.
    pub(super) fn positions(&self) -> Vec<Position> {
        self.positions
            .iter()
            .filter_map(|(symbol, h)| {
                Some(Position {
                    symbol: symbol.clone(),
                    side: side_of(h.qty)?,
                    qty: Qty::new(h.qty.abs()),
                    entry_price: Price::new(h.entry),
                    leverage: self.leverage_of(symbol),
                    margin_mode: MarginMode::Isolated,
                    liquidation_price: None,
                })
            })
            .collect()
    }
}

fn side_of(qty: Decimal) -> Option<PositionSide> {
    if qty.is_zero() {
        None
    } else if qty.is_sign_positive() {
        Some(PositionSide::Long)
    } else {
        Some(PositionSide::Short)
    }
}

impl Wallets {
    fn free(&self, asset: &str) -> Decimal {
        get(&self.free, asset)
    }

    fn balance(&self, asset: &str) -> Balance {
        let (free, locked) = (self.free(asset), get(&self.locked, asset));
        Balance {
            asset: asset.to_owned(),
            wallet: Notional::new(free + locked),
            free: Notional::new(free),
            locked: Notional::new(locked),
        }
    }

    fn book(&mut self, b: &Booking<'_>) {
        match b.side {
            Side::Buy => {
                add(&mut self.free, b.quote, -(b.qty * b.price));
                add(&mut self.free, b.base, b.qty - b.fee);
            }
            Side::Sell => {
                add(&mut self.free, b.base, -b.qty);
                add(&mut self.free, b.quote, b.qty * b.price - b.fee);
            }
        }
    }
}

impl Ledger {
    /// A ledger for `product` holding `balances`.
    pub(super) fn new(futures: bool, balances: BTreeMap<String, Decimal>, default_leverage: u32) -> Self {
        if futures {
            Self::Futures(Margin::new(balances, default_leverage))
        } else {
            Self::Spot(Wallets { free: balances, locked: BTreeMap::new() })
        }
    }

    /// True when `amount` of `asset` is free to pay with or hold (spot: the free balance;
    /// USD-M: the available balance).
    pub(super) fn can_pay(&self, asset: &str, amount: Decimal) -> bool {
        match self {
            Self::Futures(m) => m.available(asset) >= amount,
            Self::Spot(w) => w.free(asset) >= amount,
        }
    }

    /// Holds `hold` for a resting order; false (and nothing held) when it is not available.
    pub(super) fn hold(&mut self, hold: &Hold) -> bool {
        if hold.amount.is_zero() {
            return true;
        }
        if !self.can_pay(&hold.asset, hold.amount) {
            return false;
        }
        match self {
            Self::Futures(m) => add(&mut m.held_by_orders, &hold.asset, hold.amount),
            Self::Spot(w) => {
                add(&mut w.free, &hold.asset, -hold.amount);
                add(&mut w.locked, &hold.asset, hold.amount);
            }
        }
        true
    }

    /// Releases what `hold` held.
    pub(super) fn release(&mut self, hold: &Hold) {
        if hold.amount.is_zero() {
            return;
        }
        match self {
            Self::Futures(m) => add(&mut m.held_by_orders, &hold.asset, -hold.amount),
            Self::Spot(w) => {
                add(&mut w.locked, &hold.asset, -hold.amount);
                add(&mut w.free, &hold.asset, hold.amount);
            }
        }
    }

    /// Books a fill and says what changed, for the user stream.
    pub(super) fn book(&mut self, b: &Booking<'_>) -> AccountUpdate {
        match self {
            Self::Futures(m) => {
                m.book(b);
                AccountUpdate {
                    reason: "ORDER".to_owned(),
                    balances: vec![m.balance(b.quote)],
                    positions: vec![m.position_update(b.symbol, b.price)],
                    time_exchange: b.time,
                }
            }
            Self::Spot(w) => {
                w.book(b);
                AccountUpdate {
                    reason: "outboundAccountPosition".to_owned(),
                    balances: vec![w.balance(b.base), w.balance(b.quote)],
                    positions: Vec::new(),
                    time_exchange: b.time,
                }
            }
        }
    }

    /// Every balance held (assets with nothing at all are left out).
    pub(super) fn balances(&self) -> Vec<Balance> {
        let assets: Vec<&String> = match self {
            Self::Futures(m) => m.wallets.keys().collect(),
            Self::Spot(w) => w.free.keys().chain(w.locked.keys()).collect(),
        };
        let mut assets: Vec<String> = assets.into_iter().cloned().collect();
        assets.sort();
        assets.dedup();
        assets
            .iter()
            .map(|a| match self {
                Self::Futures(m) => m.balance(a),
                Self::Spot(w) => w.balance(a),
            })
            .filter(|b| !(b.wallet.get().is_zero() && b.locked.get().is_zero()))
            .collect()
    }

    /// Settles funding of `symbol` (USD-M with a position only); see [`Margin`].
    pub(super) fn fund(
        &mut self,
        symbol: &Symbol,
        mark: Decimal,
        rate: Decimal,
        time: i64,
    ) -> Option<AccountUpdate> {
        self.margin_mut()?.fund(symbol, mark, rate, time)
    }

    /// The USD-M margin, `None` on spot.
    pub(super) fn margin(&self) -> Option<&Margin> {
        match self {
            Self::Futures(m) => Some(m),
            Self::Spot(_) => None,
        }
    }

    /// The USD-M margin, mutable; `None` on spot.
    pub(super) fn margin_mut(&mut self) -> Option<&mut Margin> {
        match self {
            Self::Futures(m) => Some(m),
            Self::Spot(_) => None,
        }
    }
}
