//! The venue-neutral vocabulary every other part of the system speaks. No I/O here.

pub mod account;
pub mod bar;
pub mod instrument;
pub mod num;
pub mod order;
pub mod symbol;

pub use account::{Balance, MarginMode, Position, PositionSide};
pub use bar::Bar;
pub use instrument::{FilterViolation, InstrumentRules, InvalidRules, PriceRounding};
pub use num::{Notional, ParseDecimalError, Price, Qty};
pub use order::{
    AgentTag, ClientOrderId, Fill, InvalidClientOrderId, OrderKind, OrderPurpose, OrderRequest, OrderStatus,
    OrderUpdate, Side, TimeInForce,
};
pub use symbol::{InvalidSymbol, Symbol};
