//! Orders in venue-neutral terms: `Side`, `OrderKind`, `TimeInForce`, `ClientOrderId`,
//! `OrderRequest`, and what comes back: `OrderStatus`, `OrderUpdate`, `Fill`.
//!
//! Every order carries a client order id. Binance accepts `^[a-zA-Z0-9-_]{1,36}$` for
//! `newClientOrderId` (USD-M) and rejects a duplicate among open orders; ours also say which agent
//! made the order and why, so that a restart can tell its own orders from anyone else's.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::num::{Price, Qty};
use super::symbol::Symbol;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    /// Buy: opens a long or closes a short.
    Buy,
    /// Sell: opens a short or closes a long.
    Sell,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// +1 for buy, -1 for sell.
    pub fn sign(self) -> Decimal {
        match self {
            Self::Buy => Decimal::ONE,
            Self::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    /// The venue's spelling (`BUY`, `SELL`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

/// How long a limit order rests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: fill what can be filled now, cancel the rest.
    Ioc,
    /// Fill or kill: fill all now or nothing.
    Fok,
    /// Good till crossing (post only): rejected if it would take liquidity.
    Gtx,
}

/// What kind of order, with the prices that kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderKind {
    /// Fills now at the best available prices.
    Market,
    /// Rests at `price` or better.
    Limit {
        /// The limit price.
        price: Price,
        /// How long it rests.
        time_in_force: TimeInForce,
    },
    /// A market order once the price reaches `trigger` (a stop loss).
    StopMarket {
        /// The trigger price.
        trigger: Price,
    },
    /// A market order once the price reaches `trigger` in the favourable direction.
    TakeProfitMarket {
        /// The trigger price.
        trigger: Price,
    },
    /// A market order once the price retraces `callback_rate` from its best level since
    /// activation.
    TrailingStop {
        /// Retracement that triggers it, as a fraction (0.10 = 10%; Binance takes percent).
        callback_rate: Decimal,
        /// Price at which trailing starts; absent: at once.
        activation: Option<Price>,
    },
}

impl OrderKind {
    /// True for the kinds that wait for a trigger (on Binance USD-M: the algo order API).
    pub fn is_conditional(&self) -> bool {
        matches!(self, Self::StopMarket { .. } | Self::TakeProfitMarket { .. } | Self::TrailingStop { .. })
    }

    /// The venue's type name (`MARKET`, `LIMIT`, `STOP_MARKET`, ...).
    pub fn venue_name(&self) -> &'static str {
        match self {
            Self::Market => "MARKET",
            Self::Limit { .. } => "LIMIT",
            Self::StopMarket { .. } => "STOP_MARKET",
            Self::TakeProfitMarket { .. } => "TAKE_PROFIT_MARKET",
            Self::TrailingStop { .. } => "TRAILING_STOP_MARKET",
        }
    }
}

/// Which agent made an order; the first part of its client order id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentTag {
    /// main-agent (`ma`).
    Main,
    /// futures-agent (`fa`).
    Futures,
}

impl AgentTag {
    fn prefix(self) -> &'static str {
        match self {
            Self::Main => "ma",
            Self::Futures => "fa",
        }
    }
}

/// Why an order was sent; the second part of its client order id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    /// Opens a position (`en`).
    Entry,
    /// Stop loss (`sl`).
    StopLoss,
    /// Take profit (`tp`).
    TakeProfit,
    /// Trailing stop (`ts`).
    TrailingStop,
    /// Closes a position at market (`cl`): breaker, flatten, unprotected position.
    Close,
}

impl OrderPurpose {
    const ALL: [Self; 5] = [Self::Entry, Self::StopLoss, Self::TakeProfit, Self::TrailingStop, Self::Close];

    fn code(self) -> &'static str {
        match self {
            Self::Entry => "en",
            Self::StopLoss => "sl",
            Self::TakeProfit => "tp",
            Self::TrailingStop => "ts",
            Self::Close => "cl",
        }
    }
}

/// A client order id: 1 to 36 characters of `[A-Za-z0-9-_]`.
///
/// Ids this system makes read `fa-sl-<session>-<seq>`: agent, purpose, a session stamp in base 36
/// (the agent's start time in ms, so ids differ across restarts) and a sequence number within
/// the session. Ids from elsewhere (placed by hand, by another program) parse too; they just
/// have no agent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId(String);

/// A text that is not a valid client order id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client order id {text:?} is invalid: expected 1 to 36 characters of A-Z, a-z, 0-9, '-', '_'")]
pub struct InvalidClientOrderId {
    /// The text as given.
    pub text: String,
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    // The digits are ASCII by construction.
    String::from_utf8(out).unwrap_or_default()
}

impl ClientOrderId {
    /// Makes the id of the `seq`-th order of a session started at `session_ms`.
    /// The longest possible id (`u64::MAX` for both numbers) is 33 characters.
    pub fn generate(agent: AgentTag, purpose: OrderPurpose, session_ms: u64, seq: u64) -> Self {
        Self(format!("{}-{}-{}-{}", agent.prefix(), purpose.code(), base36(session_ms), base36(seq)))
    }

    /// Validates an id received from elsewhere.
    ///
    /// # Errors
    /// When the text is empty, longer than 36 characters, or has a character outside
    /// `[A-Za-z0-9-_]`.
    pub fn new(text: &str) -> Result<Self, InvalidClientOrderId> {
        let ok = (1..=36).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok { Ok(Self(text.to_owned())) } else { Err(InvalidClientOrderId { text: text.to_owned() }) }
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The agent that made this order, if one of ours did.
    pub fn agent(&self) -> Option<AgentTag> {
        let (agent, _) = self.parts()?;
        Some(agent)
    }

    /// Why the order was sent, if one of ours made it.
    pub fn purpose(&self) -> Option<OrderPurpose> {
        let (_, purpose) = self.parts()?;
        Some(purpose)
    }

    fn parts(&self) -> Option<(AgentTag, OrderPurpose)> {
        let mut it = self.0.splitn(4, '-');
        let agent = match it.next()? {
            "ma" => AgentTag::Main,
            "fa" => AgentTag::Futures,
            _ => return None,
        };
        let code = it.next()?;
        let purpose = OrderPurpose::ALL.into_iter().find(|p| p.code() == code)?;
        let session = it.next()?;
        let seq = it.next()?;
        let is_base36 =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
        (is_base36(session) && is_base36(seq)).then_some((agent, purpose))
    }
}

impl FromStr for ClientOrderId {
    type Err = InvalidClientOrderId;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ClientOrderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

/// An order as the agent decided it, before any venue's encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Our id for the order; the key for every later query.
    pub client_order_id: ClientOrderId,
    /// The instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Kind and prices.
    pub kind: OrderKind,
    /// Size in base units (ignored by the venue when `close_position` is set).
    pub qty: Qty,
    /// May only reduce a position, never open or grow one.
    pub reduce_only: bool,
    /// Closes the whole position when it triggers (conditional kinds only).
    pub close_position: bool,
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Accepted, resting or waiting for its trigger.
    New,
    /// Some of it filled; the rest is live.
    PartiallyFilled,
    /// All of it filled.
    Filled,
    /// Cancelled (by us, or by the venue for a reduce-only that would have grown a position).
    Canceled,
    /// Refused by the venue.
    Rejected,
    /// Expired (IOC/FOK remainder, GTX that would have crossed, or a triggered conditional
    /// turned into its market order).
    Expired,
}

impl OrderStatus {
    /// True when nothing more will happen to the order.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Filled | Self::Canceled | Self::Rejected | Self::Expired)
    }
}

/// One execution: part or all of an order traded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The order that traded.
    pub client_order_id: ClientOrderId,
    /// The venue's trade id, unique per symbol; the key that makes fills idempotent.
    pub trade_id: String,
    /// The instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// Quantity traded in this execution.
    pub qty: Qty,
    /// Price of this execution.
    pub price: Price,
    /// Fee charged (positive) or rebate (negative), in `fee_asset`.
    #[serde(with = "rust_decimal::serde::str")]
    pub fee: Decimal,
    /// Asset the fee was charged in (USDT, BNB, the base asset on spot buys).
    pub fee_asset: String,
    /// Exchange time of the trade, ms since the Unix epoch.
    pub time_exchange: i64,
}

/// A change in an order's state, as reported by the venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// Our id for the order.
    pub client_order_id: ClientOrderId,
    /// The venue's id for the order, once it has one.
    pub venue_order_id: Option<String>,
    /// The instrument.
    pub symbol: Symbol,
    /// Buy or sell.
    pub side: Side,
    /// The new state.
    pub status: OrderStatus,
    /// Total quantity filled so far.
    pub filled_qty: Qty,
    /// Average fill price so far, when anything has filled.
    pub avg_price: Option<Price>,
    /// The execution that caused this update, if one did.
    pub fill: Option<Fill>,
    /// The venue's reject or cancel reason, when it gives one.
    pub reason: Option<String>,
    /// Exchange time of the update, ms since the Unix epoch.
    pub time_exchange: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_say_who_made_them() {
        let id = ClientOrderId::generate(AgentTag::Futures, OrderPurpose::StopLoss, 1_764_226_800_000, 17);
        assert_eq!(id.as_str(), "fa-sl-mih33340-h");
        assert_eq!(ClientOrderId::new(id.as_str()), Ok(id.clone()));
        assert_eq!(id.agent(), Some(AgentTag::Futures));
        assert_eq!(id.purpose(), Some(OrderPurpose::StopLoss));
        let longest = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, u64::MAX, u64::MAX);
        assert!(longest.as_str().len() <= 36, "{longest}");
        assert!(ClientOrderId::new(longest.as_str()).is_ok());
    }

    #[test]
    fn ids_differ_by_session_and_sequence() {
        let a = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, 1, 2);
        let b = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, 1, 3);
        let c = ClientOrderId::generate(AgentTag::Main, OrderPurpose::Entry, 2, 2);
        assert!(a != b && a != c && b != c);
    }

    #[test]
    fn foreign_ids_parse_without_an_agent() {
        for text in ["web_12345", "x-ABCDEF", "fa-zz-1-2", "ma-en--2", "A"] {
            let id = ClientOrderId::new(text).unwrap();
            assert_eq!(id.agent(), None, "{text}");
        }
    }

    #[test]
    fn rejects_invalid_ids() {
        for text in ["", "has space", "semi;colon", "dots.not.allowed", &"a".repeat(37)] {
            assert!(ClientOrderId::new(text).is_err(), "{text:?}");
        }
        assert!(serde_json::from_str::<ClientOrderId>("\"bad id\"").is_err());
    }

    #[test]
    fn conditional_kinds() {
        let p = Price::new(Decimal::ONE);
        assert!(!OrderKind::Market.is_conditional());
        assert!(!OrderKind::Limit { price: p, time_in_force: TimeInForce::Gtc }.is_conditional());
        assert!(OrderKind::StopMarket { trigger: p }.is_conditional());
        assert!(OrderKind::TakeProfitMarket { trigger: p }.is_conditional());
        assert!(OrderKind::TrailingStop { callback_rate: Decimal::ONE, activation: None }.is_conditional());
        assert_eq!(
            OrderKind::TrailingStop { callback_rate: Decimal::ONE, activation: None }.venue_name(),
            "TRAILING_STOP_MARKET"
        );
    }

    #[test]
    fn side_helpers() {
        assert_eq!(Side::Buy.opposite(), Side::Sell);
        assert_eq!(Side::Sell.sign(), Decimal::NEGATIVE_ONE);
        assert_eq!(serde_json::to_string(&Side::Buy).unwrap(), "\"BUY\"");
    }
}
