//! What a paper venue is started with: [`PaperConfig`] (product, fees, slippage, which price
//! triggers conditional orders, starting capital, symbols to watch) and [`PaperSnapshot`] (the
//! account an agent rebuilt from its journal, to continue from after a restart).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::{OrderRequest, Position, Price, Symbol};
use crate::venue::Product;

/// The price a resting conditional order watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerSource {
    /// The mark price stream (USD-M only; what [`crate::binance::WorkingType::MarkPrice`], the
    /// USD-M client's default, triggers on).
    Mark,
    /// The last trade price (the close of the 1-minute kline stream).
    Last,
}

/// How a paper venue trades.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperConfig {
    /// Spot (balances per asset, fees on spot buys in the base asset) or USD-M (one-way isolated
    /// positions, a margin wallet in the quote asset).
    pub product: Product,
    /// Fee on a fill that takes liquidity (market orders, triggered orders, marketable limits),
    /// as a fraction of the fill's value.
    pub taker_fee: Decimal,
    /// Fee on a resting limit order's fill.
    pub maker_fee: Decimal,
    /// Slippage of a taker fill against the trader, as a fraction of the price (0.0005 = 5 bps);
    /// the price is then rounded to the tick, away from the trader.
    pub slippage: Decimal,
    /// What conditional orders trigger on ([`TriggerSource::Last`] on spot, which has no mark).
    pub trigger: TriggerSource,
    /// Starting balances by asset (USD-M: the wallet of the margin asset).
    pub balances: BTreeMap<String, Decimal>,
    /// Symbols whose prices are streamed from the start; others are added on their first order.
    pub symbols: Vec<Symbol>,
    /// Leverage of a USD-M symbol until `set_leverage` says otherwise (Binance's default is 20).
    pub default_leverage: u32,
    /// Quote assets a symbol may end in (`BTCUSDT` = `BTC` + `USDT`), longest match first.
    pub quote_assets: Vec<String>,
    /// Stamp that makes this session's order and trade ids differ from any other session's
    /// (`paper-<stamp>-t<n>`); [`PaperConfig::usdm`] and [`PaperConfig::spot`] take the wall
    /// clock in ms.
    pub id_stamp: u64,
}

/// The quote assets recognized by default.
const QUOTES: [&str; 6] = ["FDUSD", "USDT", "USDC", "BTC", "ETH", "BNB"];

fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl PaperConfig {
    /// A USD-M paper account of `capital` USDT: taker fee 0.0005, maker 0.0002, no slippage,
    /// triggers on the mark price, leverage 20 until set.
    pub fn usdm(capital: Decimal) -> Self {
        Self {
            product: Product::UsdM,
            taker_fee: Decimal::new(5, 4),
            maker_fee: Decimal::new(2, 4),
            slippage: Decimal::ZERO,
            trigger: TriggerSource::Mark,
            balances: BTreeMap::from([("USDT".to_owned(), capital)]),
            symbols: Vec::new(),
            default_leverage: 20,
            quote_assets: QUOTES.iter().map(|q| (*q).to_owned()).collect(),
            id_stamp: wall_clock_ms(),
        }
    }

    /// A spot paper account holding `balances`: taker and maker fee 0.001, no slippage, triggers
    /// on the last price.
    pub fn spot(balances: BTreeMap<String, Decimal>) -> Self {
        Self {
            product: Product::Spot,
            taker_fee: Decimal::new(1, 3),
            maker_fee: Decimal::new(1, 3),
            trigger: TriggerSource::Last,
            balances,
            ..Self::usdm(Decimal::ZERO)
        }
    }

    /// The symbols to stream from the start.
    #[must_use]
    pub fn watching(mut self, symbols: Vec<Symbol>) -> Self {
        self.symbols = symbols;
        self
    }

    /// `symbol` as (base, quote) by the longest configured quote asset it ends in.
    pub fn split(&self, symbol: &Symbol) -> Option<(String, String)> {
        let text = symbol.as_str();
        let mut quotes: Vec<&String> = self.quote_assets.iter().collect();
        quotes.sort_by_key(|q| std::cmp::Reverse(q.len()));
        quotes
            .into_iter()
            .find(|q| text.len() > q.len() && text.ends_with(q.as_str()))
            .map(|q| (text[..text.len() - q.len()].to_owned(), q.clone()))
    }

    /// Problems that make the config unusable, all of them.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, fee) in [("taker_fee", self.taker_fee), ("maker_fee", self.maker_fee)] {
            if fee.is_sign_negative() || fee >= Decimal::ONE {
                out.push(format!("{name} {fee} is not a fraction in [0, 1)"));
            }
        }
        if self.slippage.is_sign_negative() || self.slippage >= Decimal::ONE {
            out.push(format!("slippage {} is not a fraction in [0, 1)", self.slippage));
        }
        if self.product == Product::Spot && self.trigger == TriggerSource::Mark {
            out.push("spot has no mark price to trigger on".to_owned());
        }
        if !(1..=125).contains(&self.default_leverage) {
            out.push(format!("default leverage {} is outside 1..=125", self.default_leverage));
        }
        if let Some((asset, amount)) = self.balances.iter().find(|(_, a)| a.is_sign_negative()) {
            out.push(format!("starting balance of {asset} is negative ({amount})"));
        }
        out
    }
}

/// A conditional or limit order resting when the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestingOrder {
    /// The order as it was placed (same client order id).
    pub order: OrderRequest,
    /// For a trailing stop: the best price it had tracked. `None`: tracking starts afresh at
    /// the first price after the restart (so the stop may sit lower than it did).
    pub peak: Option<Price>,
}

/// A paper account's state, for [`super::PaperVenue::restore`]: what an agent rebuilds from its
/// journal so that its reconciliation after a restart finds the venue as it left it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaperSnapshot {
    /// Balances by asset: the wallet (realized funds) of each, locks excluded (the resting orders
    /// below lock again what they need).
    pub balances: BTreeMap<String, Decimal>,
    /// Open USD-M positions, with their leverage (ignored on spot).
    pub positions: Vec<Position>,
    /// Orders resting on the venue.
    pub orders: Vec<RestingOrder>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn splits_symbols_by_the_longest_quote() {
        let c = PaperConfig::spot(BTreeMap::new());
        let s = |t: &str| Symbol::new(t).unwrap();
        assert_eq!(c.split(&s("BTCUSDT")), Some(("BTC".into(), "USDT".into())));
        assert_eq!(c.split(&s("ETHBTC")), Some(("ETH".into(), "BTC".into())));
        assert_eq!(c.split(&s("BTCFDUSD")), Some(("BTC".into(), "FDUSD".into())));
        assert_eq!(c.split(&s("USDT")), None);
        assert_eq!(c.split(&s("XYZ")), None);
    }

    #[test]
    fn defaults_and_problems() {
        let f = PaperConfig::usdm(dec!(10000));
        assert_eq!((f.taker_fee, f.trigger), (dec!(0.0005), TriggerSource::Mark));
        assert!(f.problems().is_empty());
        let s = PaperConfig::spot(BTreeMap::from([("USDT".into(), dec!(100))]));
        assert_eq!((s.taker_fee, s.trigger), (dec!(0.001), TriggerSource::Last));
        let bad = PaperConfig {
            taker_fee: dec!(-0.1),
            slippage: dec!(1),
            trigger: TriggerSource::Mark,
            default_leverage: 0,
            ..s
        };
        assert_eq!(bad.problems().len(), 4, "{:?}", bad.problems());
    }
}
