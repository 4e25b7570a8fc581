//! Storage of orders, algo orders, trades, income and funding history, with id allocation and
//! client-id lookups. Closed records are kept in bounded histories (oldest dropped first), as
//! Binance also forgets old cancelled orders.

use std::collections::{BTreeSet, HashMap, VecDeque};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::types::{AlgoOrder, Income, Order, Trade};
use crate::catalog::{SymbolId, Venue};

const MAX_CLOSED: usize = 20_000;
const MAX_TRADES: usize = 20_000;
const MAX_INCOME: usize = 20_000;
const MAX_FUNDING: usize = 10_000;

/// One funding settlement of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingRecord {
    /// The symbol.
    pub symbol: SymbolId,
    /// Settlement time (market ms).
    pub time: i64,
    /// Rate applied.
    pub rate: Decimal,
    /// Mark price used.
    pub mark: Decimal,
}

/// Every order, algo order, trade and income record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Book {
    orders: HashMap<u64, Order>,
    open: BTreeSet<u64>,
    closed: VecDeque<u64>,
    #[serde(skip)]
    client_ids: HashMap<(usize, Venue, String), u64>,
    algos: HashMap<u64, AlgoOrder>,
    open_algos: BTreeSet<u64>,
    closed_algos: VecDeque<u64>,
    #[serde(skip)]
    client_algo_ids: HashMap<(usize, String), u64>,
    trades: VecDeque<Trade>,
    income: VecDeque<Income>,
    funding: VecDeque<FundingRecord>,
    next_order_id: u64,
    next_algo_id: u64,
    next_tran_id: u64,
}

impl Book {
    /// Rebuilds the client-id indexes (after loading saved state).
    pub fn reindex(&mut self) {
        let mut orders: Vec<&Order> = self.orders.values().collect();
        orders.sort_by_key(|o| o.order_id);
        self.client_ids =
            orders.into_iter().map(|o| ((o.account, o.venue, o.client_id.clone()), o.order_id)).collect();
        let mut algos: Vec<&AlgoOrder> = self.algos.values().collect();
        algos.sort_by_key(|a| a.algo_id);
        self.client_algo_ids =
            algos.into_iter().map(|a| ((a.account, a.client_algo_id.clone()), a.algo_id)).collect();
    }

    /// A new order id.
    pub fn next_order_id(&mut self) -> u64 {
        self.next_order_id = self.next_order_id.max(4_000_000_000) + 1;
        self.next_order_id
    }

    /// A new algo id.
    pub fn next_algo_id(&mut self) -> u64 {
        self.next_algo_id = self.next_algo_id.max(1_000_000) + 1;
        self.next_algo_id
    }

    /// A new transaction id (income records).
    pub fn next_tran_id(&mut self) -> u64 {
        self.next_tran_id = self.next_tran_id.max(9_000_000) + 1;
        self.next_tran_id
    }

    /// Stores a new order (open unless already final).
    pub fn insert(&mut self, order: Order) {
        let id = order.order_id;
        self.client_ids.insert((order.account, order.venue, order.client_id.clone()), id);
        let is_final = order.status.is_final();
        self.orders.insert(id, order);
        if is_final {
            self.close(id);
        } else {
            self.open.insert(id);
        }
    }

    /// The order with `id`.
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// The order with `id`, to change it. Call [`Book::close`] once it is final.
    pub fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        self.orders.get_mut(&id)
    }

    /// Moves a final order to the closed history.
    pub fn close(&mut self, id: u64) {
        self.open.remove(&id);
        self.closed.push_back(id);
        while self.closed.len() > MAX_CLOSED {
            if let Some(old) = self.closed.pop_front()
                && let Some(order) = self.orders.remove(&old)
            {
                let key = (order.account, order.venue, order.client_id);
                if self.client_ids.get(&key) == Some(&old) {
                    self.client_ids.remove(&key);
                }
            }
        }
    }

    /// The latest order of `account` on `venue` with client id `client_id`.
    pub fn by_client_id(&self, account: usize, venue: Venue, client_id: &str) -> Option<&Order> {
        self.client_ids.get(&(account, venue, client_id.to_owned())).and_then(|id| self.orders.get(id))
    }

    /// True when an open order of `account` on `venue` uses `client_id`.
    pub fn client_id_open(&self, account: usize, venue: Venue, client_id: &str) -> bool {
        self.by_client_id(account, venue, client_id).is_some_and(|o| self.open.contains(&o.order_id))
    }

    /// Open orders of `account` on `venue`, oldest first.
    pub fn open_orders(&self, account: usize, venue: Venue) -> impl Iterator<Item = &Order> {
        self.open
            .iter()
            .filter_map(|id| self.orders.get(id))
            .filter(move |o| o.account == account && o.venue == venue)
    }

    /// Ids of every open order on `symbol` (all accounts), oldest first.
    pub fn open_ids_on(&self, symbol: SymbolId) -> Vec<u64> {
        self.open
            .iter()
            .filter(|id| self.orders.get(id).is_some_and(|o| o.symbol == symbol))
            .copied()
            .collect()
    }

    /// Ids of every open order.
    pub fn open_ids(&self) -> Vec<u64> {
        self.open.iter().copied().collect()
    }

    /// Every stored order of `account` on `symbol`, oldest first.
    pub fn orders_of(&self, account: usize, symbol: SymbolId) -> Vec<&Order> {
        let mut out: Vec<&Order> =
            self.orders.values().filter(|o| o.account == account && o.symbol == symbol).collect();
        out.sort_by_key(|o| o.order_id);
        out
    }

    /// True when the order is open.
    pub fn is_open(&self, id: u64) -> bool {
        self.open.contains(&id)
    }

    /// Stores a new algo order.
    pub fn insert_algo(&mut self, algo: AlgoOrder) {
        let id = algo.algo_id;
        self.client_algo_ids.insert((algo.account, algo.client_algo_id.clone()), id);
        self.algos.insert(id, algo);
        self.open_algos.insert(id);
    }

    /// The algo order with `id`.
    pub fn algo(&self, id: u64) -> Option<&AlgoOrder> {
        self.algos.get(&id)
    }

    /// The algo order with `id`, to change it.
    pub fn algo_mut(&mut self, id: u64) -> Option<&mut AlgoOrder> {
        self.algos.get_mut(&id)
    }

    /// The latest algo order of `account` with `client_algo_id`.
    pub fn algo_by_client_id(&self, account: usize, client_algo_id: &str) -> Option<&AlgoOrder> {
        self.client_algo_ids.get(&(account, client_algo_id.to_owned())).and_then(|id| self.algos.get(id))
    }

    /// True while the algo order waits for its trigger.
    pub fn algo_open(&self, id: u64) -> bool {
        self.open_algos.contains(&id)
    }

    /// Moves an algo order out of the open set (triggered, cancelled, expired); it stays
    /// queryable in the bounded history.
    pub fn close_algo(&mut self, id: u64) {
        if self.open_algos.remove(&id) {
            self.closed_algos.push_back(id);
        }
        while self.closed_algos.len() > MAX_CLOSED {
            if let Some(old) = self.closed_algos.pop_front() {
                self.algos.remove(&old);
            }
        }
    }

    /// Open algo orders of `account`, oldest first.
    pub fn open_algos(&self, account: usize) -> impl Iterator<Item = &AlgoOrder> {
        self.open_algos.iter().filter_map(|id| self.algos.get(id)).filter(move |a| a.account == account)
    }

    /// Ids of the open algo orders on `symbol`.
    pub fn open_algo_ids_on(&self, symbol: SymbolId) -> Vec<u64> {
        self.open_algos
            .iter()
            .filter(|id| self.algos.get(id).is_some_and(|a| a.symbol == symbol))
            .copied()
            .collect()
    }

    /// Every stored algo order of `account`, oldest first.
    pub fn algos_of(&self, account: usize) -> Vec<&AlgoOrder> {
        let mut out: Vec<&AlgoOrder> = self.algos.values().filter(|a| a.account == account).collect();
        out.sort_by_key(|a| a.algo_id);
        out
    }

    /// Records a fill.
    pub fn push_trade(&mut self, trade: Trade) {
        self.trades.push_back(trade);
        while self.trades.len() > MAX_TRADES {
            self.trades.pop_front();
        }
    }

    /// Fills of `account` on `venue` and `symbol`, oldest first.
    pub fn trades_of(&self, account: usize, venue: Venue, symbol: SymbolId) -> impl Iterator<Item = &Trade> {
        self.trades.iter().filter(move |t| t.account == account && t.venue == venue && t.symbol == symbol)
    }

    /// Records income.
    pub fn push_income(&mut self, income: Income) {
        self.income.push_back(income);
        while self.income.len() > MAX_INCOME {
            self.income.pop_front();
        }
    }

    /// Income of `account`, oldest first.
    pub fn income_of(&self, account: usize) -> impl Iterator<Item = &Income> {
        self.income.iter().filter(move |i| i.account == account)
    }

    /// Records a funding settlement.
    pub fn push_funding(&mut self, record: FundingRecord) {
        self.funding.push_back(record);
        while self.funding.len() > MAX_FUNDING {
            self.funding.pop_front();
        }
    }

    /// Funding settlements of `symbol` (all symbols if `None`), oldest first.
    pub fn funding_of(&self, symbol: Option<SymbolId>) -> impl Iterator<Item = &FundingRecord> {
        self.funding.iter().filter(move |f| symbol.is_none_or(|s| s == f.symbol))
    }
}
