//! The simulated instruments: 24 spot USDT pairs and 3 USD-M perpetuals, each with Binance's
//! filters, and the synthetic assets behind them (starting price, volatility, correlation).
//!
//! Futures filters are Binance USD-M's (BTCUSDT tick 0.10 step 0.001 min notional 100; ETHUSDT
//! tick 0.01 step 0.001 min notional 20; SOLUSDT tick 0.0100 step 1 min notional 5), with their
//! leverage brackets. Spot filters are plausible copies of the live ones (min notional 5 USDT).
//! A spot pair and a perpetual on the same base asset share one price process.

use std::collections::HashMap;
use std::str::FromStr;

use exchange_core::{InstrumentRules, Notional, Price, Qty, Symbol};
use risk_core::Bracket;
use rust_decimal::Decimal;

/// Which Binance product a symbol belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Venue {
    /// Spot, `/api/v3`.
    Spot,
    /// USD-M perpetual futures, `/fapi`.
    Futures,
}

/// Index of a symbol in [`Catalog::symbols`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SymbolId(pub usize);

/// One synthetic asset: the price process a base asset follows.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSpec {
    /// Base asset name (`BTC`).
    pub name: &'static str,
    /// Price at the market start time, in USDT.
    pub start_price: f64,
    /// Annualised volatility in calm conditions.
    pub vol: f64,
    /// Correlation of its returns with the common market factor.
    pub rho: f64,
    /// Typical traded volume per minute, in base units.
    pub minute_volume: f64,
}

/// One tradable instrument and its filters.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolSpec {
    /// Its index in the catalogue.
    pub id: SymbolId,
    /// Name (`BTCUSDT`).
    pub symbol: Symbol,
    /// Spot or futures.
    pub venue: Venue,
    /// Base asset (`BTC`).
    pub base: &'static str,
    /// Quote asset (always `USDT`).
    pub quote: &'static str,
    /// Index of the price process in [`Catalog::assets`].
    pub asset: usize,
    /// PRICE_FILTER `tickSize`.
    pub tick: Decimal,
    /// LOT_SIZE `stepSize`.
    pub step: Decimal,
    /// LOT_SIZE `minQty`.
    pub min_qty: Decimal,
    /// LOT_SIZE `maxQty`.
    pub max_qty: Decimal,
    /// MARKET_LOT_SIZE `maxQty`.
    pub market_max_qty: Decimal,
    /// PRICE_FILTER `minPrice`.
    pub min_price: Decimal,
    /// PRICE_FILTER `maxPrice`.
    pub max_price: Decimal,
    /// NOTIONAL / MIN_NOTIONAL minimum order value.
    pub min_notional: Decimal,
    /// Decimals printed for prices (futures `pricePrecision`; spot prints 8).
    pub price_precision: u32,
    /// Decimals printed for quantities (futures `quantityPrecision`; spot prints 8).
    pub qty_precision: u32,
    /// The same filters as exchange-core's venue-neutral rules.
    pub rules: InstrumentRules,
    /// Leverage brackets (futures only; empty for spot), with `cum` from the recurrence.
    pub brackets: Vec<Bracket>,
    /// Largest leverage allowed (futures; the first bracket's `initialLeverage`).
    pub max_leverage: u32,
    /// Each bracket's `initialLeverage` (futures), parallel to `brackets`.
    pub bracket_leverages: Vec<u32>,
}

impl SymbolSpec {
    /// `maxNotionalValue` at `leverage`: the cap of the last bracket that still allows it.
    pub fn max_notional(&self, leverage: u32) -> Decimal {
        self.brackets
            .iter()
            .zip(&self.bracket_leverages)
            .filter(|(_, max)| **max >= leverage)
            .map(|(b, _)| b.notional_cap)
            .next_back()
            .unwrap_or(Decimal::ZERO)
    }

    /// Converts a price in ticks to a decimal with the tick's scale.
    pub fn price_of_ticks(&self, ticks: i64) -> Decimal {
        Decimal::from_i128_with_scale(i128::from(ticks) * self.tick.mantissa(), self.tick.scale())
    }

    /// A price in ticks as a float (for the generator).
    pub fn price_of_ticks_f64(&self, ticks: i64) -> f64 {
        ticks as f64 * f64::try_from(self.tick).unwrap_or(1.0)
    }

    /// The number of ticks nearest to `price` (a float from the generator), at least one tick.
    pub fn ticks_of_f64(&self, price: f64) -> i64 {
        let tick = f64::try_from(self.tick).unwrap_or(1.0);
        // Clamp before the cast: `as` saturates, and prices stay far inside i64.
        ((price / tick).round() as i64).max(1)
    }
}

/// Every simulated instrument, looked up by venue and name.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The price processes.
    pub assets: Vec<AssetSpec>,
    /// The instruments, spot first.
    pub symbols: Vec<SymbolSpec>,
    by_name: HashMap<(Venue, String), SymbolId>,
}

/// (base, tick, step, start price, vol, rho, volume per minute) of the spot pairs.
const SPOT: &[(&str, &str, &str, f64, f64, f64, f64)] = &[
    ("BTC", "0.01", "0.00001", 90_000.0, 0.55, 0.95, 8.0),
    ("ETH", "0.01", "0.0001", 3_000.0, 0.70, 0.88, 150.0),
    ("BNB", "0.01", "0.001", 900.0, 0.55, 0.75, 30.0),
    ("SOL", "0.01", "0.001", 140.0, 0.90, 0.82, 800.0),
    ("XRP", "0.0001", "0.1", 2.0, 0.85, 0.75, 300_000.0),
    ("ADA", "0.0001", "0.1", 0.40, 0.90, 0.78, 500_000.0),
    ("DOGE", "0.00001", "1", 0.15, 1.00, 0.75, 2_000_000.0),
    ("AVAX", "0.01", "0.01", 13.0, 1.00, 0.78, 8_000.0),
    ("DOT", "0.001", "0.01", 2.2, 0.95, 0.76, 50_000.0),
    ("LINK", "0.01", "0.01", 13.0, 0.95, 0.78, 10_000.0),
    ("LTC", "0.01", "0.001", 80.0, 0.80, 0.75, 1_500.0),
    ("BCH", "0.1", "0.001", 550.0, 0.80, 0.72, 150.0),
    ("TRX", "0.0001", "0.1", 0.28, 0.55, 0.55, 500_000.0),
    ("NEAR", "0.001", "0.1", 1.7, 1.05, 0.75, 60_000.0),
    ("UNI", "0.001", "0.01", 5.5, 1.00, 0.74, 15_000.0),
    ("AAVE", "0.01", "0.001", 170.0, 1.00, 0.72, 300.0),
    ("ATOM", "0.001", "0.01", 2.3, 0.95, 0.74, 30_000.0),
    ("ETC", "0.01", "0.01", 12.0, 0.90, 0.72, 5_000.0),
    ("OP", "0.0001", "0.01", 0.30, 1.05, 0.74, 200_000.0),
    ("ARB", "0.0001", "0.1", 0.20, 1.05, 0.74, 200_000.0),
    ("INJ", "0.01", "0.01", 5.5, 1.10, 0.72, 5_000.0),
    ("SUI", "0.0001", "0.1", 1.5, 1.10, 0.74, 100_000.0),
    ("XTZ", "0.001", "0.1", 0.80, 0.80, 0.70, 100_000.0),
    ("ZEC", "0.01", "0.001", 50.0, 1.00, 0.72, 1_000.0),
];

/// A USD-M perpetual: (base, tick, step, min qty, max qty, market max qty, min price, max price,
/// min notional, price precision, qty precision, brackets as (floor, cap, mmr, initial leverage)).
struct FuturesRow {
    base: &'static str,
    tick: &'static str,
    step: &'static str,
    min_qty: &'static str,
    max_qty: &'static str,
    market_max_qty: &'static str,
    min_price: &'static str,
    max_price: &'static str,
    min_notional: &'static str,
    price_precision: u32,
    qty_precision: u32,
    brackets: &'static [(i64, i64, &'static str, u32)],
}

const FUTURES: &[FuturesRow] = &[
    FuturesRow {
        base: "BTC",
        tick: "0.10",
        step: "0.001",
        min_qty: "0.001",
        max_qty: "1000",
        market_max_qty: "120",
        min_price: "261.10",
        max_price: "809484",
        min_notional: "100",
        price_precision: 2,
        qty_precision: 3,
        brackets: &[
            (0, 50_000, "0.004", 125),
            (50_000, 600_000, "0.005", 100),
            (600_000, 3_000_000, "0.01", 75),
            (3_000_000, 12_000_000, "0.025", 50),
            (12_000_000, 70_000_000, "0.05", 25),
            (70_000_000, 100_000_000, "0.1", 20),
            (100_000_000, 230_000_000, "0.125", 10),
            (230_000_000, 480_000_000, "0.15", 5),
            (480_000_000, 600_000_000, "0.25", 4),
            (600_000_000, 800_000_000, "0.5", 1),
        ],
    },
    FuturesRow {
        base: "ETH",
        tick: "0.01",
        step: "0.001",
        min_qty: "0.001",
        max_qty: "10000",
        market_max_qty: "2000",
        min_price: "37.35",
        max_price: "306177",
        min_notional: "20",
        price_precision: 2,
        qty_precision: 3,
        brackets: &[
            (0, 50_000, "0.005", 125),
            (50_000, 600_000, "0.0065", 100),
            (600_000, 3_000_000, "0.01", 75),
            (3_000_000, 12_000_000, "0.02", 50),
            (12_000_000, 50_000_000, "0.05", 25),
            (50_000_000, 65_000_000, "0.1", 20),
            (65_000_000, 150_000_000, "0.125", 10),
            (150_000_000, 320_000_000, "0.15", 5),
            (320_000_000, 400_000_000, "0.25", 4),
            (400_000_000, 500_000_000, "0.5", 1),
        ],
    },
    FuturesRow {
        base: "SOL",
        tick: "0.0100",
        step: "1",
        min_qty: "1",
        max_qty: "1000000",
        market_max_qty: "5000",
        min_price: "0.4200",
        max_price: "6857",
        min_notional: "5",
        price_precision: 4,
        qty_precision: 0,
        brackets: &[
            (0, 5_000, "0.01", 75),
            (5_000, 50_000, "0.015", 50),
            (50_000, 600_000, "0.02", 40),
            (600_000, 3_000_000, "0.05", 20),
            (3_000_000, 6_000_000, "0.1", 10),
            (6_000_000, 12_000_000, "0.125", 5),
            (12_000_000, 50_000_000, "0.25", 2),
            (50_000_000, 100_000_000, "0.5", 1),
        ],
    },
];

fn dec(text: &str) -> Decimal {
    // The tables above are literals checked by `catalog_builds` below.
    Decimal::from_str(text).unwrap_or(Decimal::ONE)
}

/// A generous spot LOT_SIZE maximum for a pair at `price`.
fn spot_max_qty(price: f64) -> Decimal {
    if price >= 1_000.0 {
        Decimal::from(9_000)
    } else if price >= 1.0 {
        Decimal::from(900_000)
    } else {
        Decimal::from(90_000_000)
    }
}

impl Catalog {
    /// The built-in catalogue. Fails only if a built-in table is inconsistent (a bug).
    ///
    /// # Errors
    /// When exchange-core or risk-core refuses one of the built-in filter or bracket tables.
    pub fn builtin() -> Result<Self, String> {
        let assets: Vec<AssetSpec> = SPOT
            .iter()
            .map(|&(name, _, _, start_price, vol, rho, minute_volume)| AssetSpec {
                name,
                start_price,
                vol,
                rho,
                minute_volume,
            })
            .collect();
        let mut symbols = Vec::new();
        for (asset, &(base, tick, step, price, ..)) in SPOT.iter().enumerate() {
            let (tick, step) = (dec(tick), dec(step));
            let max_qty = spot_max_qty(price);
            symbols.push(Self::spec(SymbolSpecInput {
                id: SymbolId(symbols.len()),
                venue: Venue::Spot,
                base,
                asset,
                tick,
                step,
                min_qty: step,
                max_qty,
                market_max_qty: max_qty / Decimal::TEN,
                min_price: tick,
                max_price: Decimal::from(1_000_000),
                min_notional: Decimal::from(5),
                price_precision: 8,
                qty_precision: 8,
                brackets: Vec::new(),
                max_leverage: 1,
                bracket_leverages: Vec::new(),
            })?);
        }
        for row in FUTURES {
            let asset = SPOT.iter().position(|s| s.0 == row.base).ok_or("futures asset has no spot pair")?;
            let raw: Vec<Bracket> = row
                .brackets
                .iter()
                .map(|&(floor, cap, mmr, _)| Bracket {
                    notional_floor: Decimal::from(floor),
                    notional_cap: Decimal::from(cap),
                    mmr: dec(mmr),
                    cum: Decimal::ZERO,
                })
                .collect();
            let brackets = risk_core::cum_for_brackets(&raw).map_err(|e| e.to_string())?;
            symbols.push(Self::spec(SymbolSpecInput {
                id: SymbolId(symbols.len()),
                venue: Venue::Futures,
                base: row.base,
                asset,
                tick: dec(row.tick),
                step: dec(row.step),
                min_qty: dec(row.min_qty),
                max_qty: dec(row.max_qty),
                market_max_qty: dec(row.market_max_qty),
                min_price: dec(row.min_price),
                max_price: dec(row.max_price),
                min_notional: dec(row.min_notional),
                price_precision: row.price_precision,
                qty_precision: row.qty_precision,
                brackets,
                max_leverage: row.brackets.first().map_or(20, |b| b.3),
                bracket_leverages: row.brackets.iter().map(|b| b.3).collect(),
            })?);
        }
        let by_name = symbols.iter().map(|s| ((s.venue, s.symbol.as_str().to_owned()), s.id)).collect();
        Ok(Self { assets, symbols, by_name })
    }

    fn spec(input: SymbolSpecInput) -> Result<SymbolSpec, String> {
        let name = format!("{}USDT", input.base);
        let symbol = Symbol::new(&name).map_err(|e| e.to_string())?;
        let rules = InstrumentRules::new(
            symbol.clone(),
            Price::new(input.tick),
            Qty::new(input.step),
            Qty::new(input.min_qty),
            Some(Qty::new(input.max_qty)),
            Notional::new(input.min_notional),
        )
        .map_err(|e| e.to_string())?;
        Ok(SymbolSpec {
            id: input.id,
            symbol,
            venue: input.venue,
            base: input.base,
            quote: "USDT",
            asset: input.asset,
            tick: input.tick,
            step: input.step,
            min_qty: input.min_qty,
            max_qty: input.max_qty,
            market_max_qty: input.market_max_qty,
            min_price: input.min_price,
            max_price: input.max_price,
            min_notional: input.min_notional,
            price_precision: input.price_precision,
            qty_precision: input.qty_precision,
            rules,
            brackets: input.brackets,
            max_leverage: input.max_leverage,
            bracket_leverages: input.bracket_leverages,
        })
    }

    /// The symbol named `name` on `venue`.
    pub fn find(&self, venue: Venue, name: &str) -> Option<&SymbolSpec> {
        self.by_name.get(&(venue, name.to_owned())).and_then(|id| self.symbols.get(id.0))
    }

    /// The symbol with index `id`.
    ///
    /// Ids only come from this catalogue, so the lookup cannot miss; the first symbol stands in
    /// if it ever did.
    pub fn get(&self, id: SymbolId) -> &SymbolSpec {
        &self.symbols[id.0.min(self.symbols.len().saturating_sub(1))]
    }

    /// The symbols of one venue, in catalogue order.
    pub fn of_venue(&self, venue: Venue) -> impl Iterator<Item = &SymbolSpec> {
        self.symbols.iter().filter(move |s| s.venue == venue)
    }

    /// Asset names that appear as a base or quote on spot, USDT first.
    pub fn spot_assets(&self) -> Vec<&'static str> {
        std::iter::once("USDT").chain(self.of_venue(Venue::Spot).map(|s| s.base)).collect()
    }
}

struct SymbolSpecInput {
    id: SymbolId,
    venue: Venue,
    base: &'static str,
    asset: usize,
    tick: Decimal,
    step: Decimal,
    min_qty: Decimal,
    max_qty: Decimal,
    market_max_qty: Decimal,
    min_price: Decimal,
    max_price: Decimal,
    min_notional: Decimal,
    price_precision: u32,
    qty_precision: u32,
    brackets: Vec<Bracket>,
    max_leverage: u32,
    bracket_leverages: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn catalog_builds_with_binance_futures_filters() {
        let catalog = Catalog::builtin().unwrap();
        assert_eq!(catalog.of_venue(Venue::Spot).count(), 24);
        assert_eq!(catalog.of_venue(Venue::Futures).count(), 3);
        let btc = catalog.find(Venue::Futures, "BTCUSDT").unwrap();
        assert_eq!((btc.tick, btc.step, btc.min_notional), (dec!(0.10), dec!(0.001), dec!(100)));
        let eth = catalog.find(Venue::Futures, "ETHUSDT").unwrap();
        assert_eq!((eth.tick, eth.step, eth.min_notional), (dec!(0.01), dec!(0.001), dec!(20)));
        let sol = catalog.find(Venue::Futures, "SOLUSDT").unwrap();
        assert_eq!((sol.tick.to_string().as_str(), sol.step, sol.min_notional), ("0.0100", dec!(1), dec!(5)));
        assert_eq!(btc.brackets[1].cum, dec!(50), "cum from the recurrence");
        assert!(catalog.find(Venue::Futures, "XRPUSDT").is_none());
        assert!(catalog.find(Venue::Spot, "XRPUSDT").is_some());
        for spec in &catalog.symbols {
            assert!(spec.min_price % spec.tick == Decimal::ZERO, "{} min price on grid", spec.symbol);
        }
    }

    #[test]
    fn ticks_convert_exactly() {
        let catalog = Catalog::builtin().unwrap();
        let sol = catalog.find(Venue::Futures, "SOLUSDT").unwrap();
        assert_eq!(sol.price_of_ticks(14_012).to_string(), "140.1200");
        assert_eq!(sol.ticks_of_f64(140.123), 14_012);
    }
}
