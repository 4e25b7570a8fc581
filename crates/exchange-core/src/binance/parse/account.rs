//! `Position`, `Balance` and `AccountUpdate` from Binance account payloads (PROTOCOL.md §3.1,
//! §3.3, §4.4).
//!
//! Venue facts: `positionAmt` is signed (negative = short) in one-way mode (`BOTH`); in hedge
//! mode `positionSide` says LONG or SHORT. A flat position is listed with amount 0 and is
//! skipped. `liquidationPrice` 0 means none. `marginType` is `isolated` or `cross`.
//! `ACCOUNT_UPDATE` balances carry the wallet and cross-wallet balance, not the available one.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{invalid, symbol};
use crate::binance::models::{
    BinanceAccountPosition, BinanceAccountUpdate, BinanceFuturesBalance, BinanceOutboundAccountPosition,
    BinancePositionRisk, BinanceSpotAccount,
};
use crate::model::{Balance, MarginMode, Notional, Position, PositionSide, Price, Qty};
use crate::venue::{AccountUpdate, PositionUpdate, VenueError};

fn margin_mode(text: &str) -> Option<MarginMode> {
    match text.to_ascii_lowercase().as_str() {
        "isolated" => Some(MarginMode::Isolated),
        "cross" | "crossed" => Some(MarginMode::Cross),
        _ => None,
    }
}

fn side_of(amount: Decimal, position_side: &str) -> Option<PositionSide> {
    match position_side {
        "LONG" => Some(PositionSide::Long),
        "SHORT" => Some(PositionSide::Short),
        _ if amount > Decimal::ZERO => Some(PositionSide::Long),
        _ if amount < Decimal::ZERO => Some(PositionSide::Short),
        _ => None,
    }
}

/// A `positionRisk` entry; `None` when the position is flat.
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol or a leverage that is not a whole number.
pub fn parse_position_risk(p: &BinancePositionRisk) -> Result<Option<Position>, VenueError> {
    if p.position_amt.is_zero() {
        return Ok(None);
    }
    let Some(side) = side_of(p.position_amt, &p.position_side) else {
        return Ok(None);
    };
    let leverage = match p.leverage {
        Some(l) => l
            .to_u32()
            .filter(|v| Decimal::from(*v) == l)
            .ok_or_else(|| invalid("leverage", &l.to_string()))?,
        None => 1,
    };
    Ok(Some(Position {
        symbol: symbol(&p.symbol)?,
        side,
        qty: Qty::new(p.position_amt.abs()),
        entry_price: Price::new(p.entry_price),
        leverage,
        margin_mode: p.margin_type.as_deref().and_then(margin_mode).unwrap_or(MarginMode::Cross),
        liquidation_price: p.liquidation_price.filter(|l| *l > Decimal::ZERO).map(Price::new),
    }))
}

/// A USD-M balance: wallet `balance`, free `availableBalance`, locked the difference.
pub fn parse_futures_balance(b: &BinanceFuturesBalance) -> Balance {
    let free = b.available_balance.unwrap_or(b.balance);
    Balance {
        asset: b.asset.clone(),
        wallet: Notional::new(b.balance),
        free: Notional::new(free),
        locked: Notional::new((b.balance - free).max(Decimal::ZERO)),
    }
}

fn spot_balance(asset: &str, free: Decimal, locked: Decimal) -> Balance {
    Balance {
        asset: asset.to_owned(),
        wallet: Notional::new(free + locked),
        free: Notional::new(free),
        locked: Notional::new(locked),
    }
}

/// Spot balances, skipping assets with nothing free or locked.
pub fn parse_spot_balances(a: &BinanceSpotAccount) -> Vec<Balance> {
    a.balances
        .iter()
        .filter(|b| !(b.free.is_zero() && b.locked.is_zero()))
        .map(|b| spot_balance(&b.asset, b.free, b.locked))
        .collect()
}

fn position_update(p: &BinanceAccountPosition) -> Result<PositionUpdate, VenueError> {
    Ok(PositionUpdate {
        symbol: symbol(&p.symbol)?,
        side: if p.position_amt.is_zero() {
            None
        } else {
            side_of(p.position_amt, p.position_side.as_deref().unwrap_or("BOTH"))
        },
        qty: Qty::new(p.position_amt.abs()),
        entry_price: Price::new(p.entry_price),
        margin_mode: p.margin_type.as_deref().and_then(margin_mode),
        unrealized_pnl: p.unrealized_pnl.unwrap_or(Decimal::ZERO),
    })
}

/// USD-M `ACCOUNT_UPDATE`. Balances: wallet `wb`; free and locked are not in the event, so free
/// is the cross wallet balance `cw` (or `wb`) and locked is zero.
///
/// # Errors
/// [`VenueError::Decode`] for an invalid symbol.
pub fn parse_account_update(e: &BinanceAccountUpdate) -> Result<AccountUpdate, VenueError> {
    let balances = e
        .data
        .balances
        .iter()
        .map(|b| Balance {
            asset: b.asset.clone(),
            wallet: Notional::new(b.wallet_balance),
            free: Notional::new(b.cross_wallet.unwrap_or(b.wallet_balance)),
            locked: Notional::ZERO,
        })
        .collect();
    let positions = e.data.positions.iter().map(position_update).collect::<Result<_, _>>()?;
    Ok(AccountUpdate { reason: e.data.reason.clone(), balances, positions, time_exchange: e.event_time })
}

/// Spot `outboundAccountPosition`.
pub fn parse_outbound_account_position(e: &BinanceOutboundAccountPosition) -> AccountUpdate {
    AccountUpdate {
        reason: "outboundAccountPosition".to_owned(),
        balances: e.balances.iter().map(|b| spot_balance(&b.asset, b.free, b.locked)).collect(),
        positions: Vec::new(),
        time_exchange: e.event_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn sides_and_modes() {
        let cases = [
            (dec!(1), "BOTH", Some(PositionSide::Long)),
            (dec!(-1), "BOTH", Some(PositionSide::Short)),
            (dec!(0), "BOTH", None),
            (dec!(-10), "SHORT", Some(PositionSide::Short)),
            (dec!(20), "LONG", Some(PositionSide::Long)),
        ];
        for (amount, ps, want) in cases {
            assert_eq!(side_of(amount, ps), want, "{amount} {ps}");
        }
        assert_eq!(margin_mode("CROSSED"), Some(MarginMode::Cross));
        assert_eq!(margin_mode("isolated"), Some(MarginMode::Isolated));
        assert_eq!(margin_mode("?"), None);
    }
}
