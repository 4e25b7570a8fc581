//! Whole user-data frames into [`VenueEvent`]s: the USD-M listenKey stream (raw or combined
//! frames) and the spot WS-API subscription (`{"subscriptionId":0,"event":{..}}` plus the
//! answers to our own requests). PROTOCOL.md §4.4.
//!
//! An execution produces two events: [`VenueEvent::Order`] (whose `fill` holds it) and
//! [`VenueEvent::Fill`]; a consumer handles one or the other, and fills are idempotent by
//! `trade_id`.

use super::market::event_type;
use super::{
    from_json, parse_account_update, parse_algo_update, parse_execution_report, parse_order_trade_update,
    parse_outbound_account_position,
};
use crate::binance::models::{
    BinanceAccountConfigUpdate, BinanceAccountUpdate, BinanceAlgoUpdate, BinanceCombined,
    BinanceExecutionReport, BinanceListenKeyExpired, BinanceOrderTradeUpdate, BinanceOutboundAccountPosition,
    BinanceWsApiEvent, BinanceWsApiResponse,
};
use crate::model::{OrderUpdate, Symbol};
use crate::venue::{VenueError, VenueEvent};

/// What one USD-M user-data frame means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsdmUserFrame {
    /// Events to deliver.
    Events(Vec<VenueEvent>),
    /// The listenKey expired: make a new one and reconnect.
    ListenKeyExpired,
    /// An event type this client does not use (`MARGIN_CALL`, `TRADE_LITE`, ...).
    Ignored(String),
}

fn order_events(update: OrderUpdate) -> Vec<VenueEvent> {
    match update.fill.clone() {
        Some(fill) => vec![VenueEvent::Order(update), VenueEvent::Fill(fill)],
        None => vec![VenueEvent::Order(update)],
    }
}

fn payload<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, VenueError> {
    if super::is_combined(text) {
        from_json::<BinanceCombined<T>>(text).map(|c| c.data)
    } else {
        from_json(text)
    }
}

/// One USD-M user-data frame.
///
/// # Errors
/// [`VenueError::Decode`] when the frame is not JSON with an event type, or a known event does
/// not have its documented shape.
pub fn parse_usdm_user_frame(text: &str) -> Result<UsdmUserFrame, VenueError> {
    let kind = event_type(text).ok_or_else(|| VenueError::decode(text, "no event type"))?;
    Ok(match kind {
        "ORDER_TRADE_UPDATE" => {
            UsdmUserFrame::Events(order_events(parse_order_trade_update(
                &payload::<BinanceOrderTradeUpdate>(text)?,
            )?))
        }
        "ALGO_UPDATE" => UsdmUserFrame::Events(vec![VenueEvent::Order(parse_algo_update(&payload::<
            BinanceAlgoUpdate,
        >(text)?)?)]),
        "ACCOUNT_UPDATE" => {
            UsdmUserFrame::Events(vec![VenueEvent::Account(parse_account_update(&payload::<
                BinanceAccountUpdate,
            >(text)?)?)])
        }
        "ACCOUNT_CONFIG_UPDATE" => match payload::<BinanceAccountConfigUpdate>(text)?.ac {
            Some(config) => UsdmUserFrame::Events(vec![VenueEvent::LeverageChanged {
                symbol: Symbol::new(&config.s).map_err(|e| VenueError::decode(text, e.to_string()))?,
                leverage: config.l,
            }]),
            None => UsdmUserFrame::Ignored("ACCOUNT_CONFIG_UPDATE".to_owned()),
        },
        "listenKeyExpired" => {
            payload::<BinanceListenKeyExpired>(text)?;
            UsdmUserFrame::ListenKeyExpired
        }
        other => UsdmUserFrame::Ignored(other.to_owned()),
    })
}

/// What one frame on the spot WS-API user-data connection means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpotUserFrame {
    /// Events to deliver.
    Events(Vec<VenueEvent>),
    /// Our subscribe request succeeded.
    Subscribed {
        /// The subscription id.
        subscription_id: i64,
    },
    /// One of our requests failed.
    RequestFailed {
        /// The venue's error code.
        code: i64,
        /// The venue's message.
        msg: String,
    },
    /// The venue ended the subscription (`eventStreamTerminated`): subscribe again.
    Terminated,
    /// An event type this client does not use (`balanceUpdate`, `listStatus`, ...).
    Ignored(String),
}

/// One frame of the spot WS-API user-data connection.
///
/// # Errors
/// [`VenueError::Decode`] when the frame is neither an answer nor an event of a known shape.
pub fn parse_spot_user_frame(text: &str) -> Result<SpotUserFrame, VenueError> {
    match event_type(text) {
        None => {
            let answer: BinanceWsApiResponse = from_json(text)?;
            if let Some(error) = answer.error {
                return Ok(SpotUserFrame::RequestFailed { code: error.code, msg: error.msg });
            }
            match (answer.status, answer.result.and_then(|r| r.subscription_id)) {
                (Some(200), Some(subscription_id)) => Ok(SpotUserFrame::Subscribed { subscription_id }),
                (status, _) => Ok(SpotUserFrame::Ignored(format!("answer with status {status:?}"))),
            }
        }
        Some("executionReport") => {
            let e: BinanceWsApiEvent<BinanceExecutionReport> = from_json(text)?;
            Ok(SpotUserFrame::Events(order_events(parse_execution_report(&e.event)?)))
        }
        Some("outboundAccountPosition") => {
            let e: BinanceWsApiEvent<BinanceOutboundAccountPosition> = from_json(text)?;
            Ok(SpotUserFrame::Events(vec![VenueEvent::Account(parse_outbound_account_position(&e.event))]))
        }
        Some("eventStreamTerminated") => Ok(SpotUserFrame::Terminated),
        Some(other) => Ok(SpotUserFrame::Ignored(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_table() {
        assert_eq!(
            parse_usdm_user_frame(r#"{"e":"listenKeyExpired","E":1}"#).unwrap(),
            UsdmUserFrame::ListenKeyExpired
        );
        assert_eq!(
            parse_usdm_user_frame(r#"{"e":"MARGIN_CALL","E":1}"#).unwrap(),
            UsdmUserFrame::Ignored("MARGIN_CALL".into())
        );
        // The documented examples: a leverage change, and a multi-assets mode change.
        let leverage = r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}"#;
        assert_eq!(
            parse_usdm_user_frame(leverage).unwrap(),
            UsdmUserFrame::Events(vec![VenueEvent::LeverageChanged {
                symbol: Symbol::new("BTCUSDT").unwrap(),
                leverage: 25
            }])
        );
        let combined = format!(r#"{{"stream":"key","data":{leverage}}}"#);
        assert!(
            matches!(parse_usdm_user_frame(&combined).unwrap(), UsdmUserFrame::Events(e) if e.len() == 1)
        );
        assert_eq!(
            parse_usdm_user_frame(
                r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ai":{"j":true}}"#
            )
            .unwrap(),
            UsdmUserFrame::Ignored("ACCOUNT_CONFIG_UPDATE".into())
        );
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"e":"ORDER_TRADE_UPDATE","E":1}"#,
            r#"{"e":"listenKeyExpired","E":"x"}"#,
            r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"ac":{"s":"BTCUSDT","l":-3}}"#,
            r#"{"e":"ACCOUNT_CONFIG_UPDATE","E":1,"ac":{"s":"","l":5}}"#,
        ] {
            assert!(parse_usdm_user_frame(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_spot_user_frame(r#"{"id":"1","status":200,"result":{"subscriptionId":3}}"#).unwrap(),
            SpotUserFrame::Subscribed { subscription_id: 3 }
        );
        assert_eq!(
            parse_spot_user_frame(r#"{"id":1,"status":400,"error":{"code":-1022,"msg":"bad"}}"#).unwrap(),
            SpotUserFrame::RequestFailed { code: -1022, msg: "bad".into() }
        );
        assert_eq!(
            parse_spot_user_frame(r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1}}"#)
                .unwrap(),
            SpotUserFrame::Terminated
        );
        assert!(parse_spot_user_frame("nonsense").is_err());
    }
}
