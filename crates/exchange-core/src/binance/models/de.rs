//! Lenient deserializers for Binance payloads (PROTOCOL.md §11.10): decimals arrive as strings
//! and are read exactly into `Decimal` (a bare JSON integer is accepted too, a float never);
//! optional decimals may be absent, `null` or `""`; ids and times may be numbers or strings
//! (`"E":"1736996475556"`, `"ai":""`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

fn parse_decimal<E: de::Error>(text: &str) -> Result<Decimal, E> {
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| E::custom(format_args!("{text:?} is not a decimal")))
}

struct DecimalVisitor;

impl<'de> Visitor<'de> for DecimalVisitor {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a string or an integer")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() { Ok(None) } else { parse_decimal(v).map(Some) }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format_args!("decimal {v} sent as a float; refusing to round it")))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }
}

/// A required decimal (`"0.01"` or `5`).
pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)?.ok_or_else(|| de::Error::custom("empty decimal"))
}

/// An optional decimal: absent (with `#[serde(default)]`), `null` and `""` are `None`.
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or an integer string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() { Ok(None) } else { i64::from_str(v).map(Some).map_err(E::custom) }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v).map(Some).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A required integer that may be sent as a string (`"E":"1736996475556"`).
pub(crate) fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(IntVisitor)?.ok_or_else(|| de::Error::custom("empty integer"))
}

/// An optional integer that may be sent as a string; `null` and `""` are `None`.
pub(crate) fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(IntVisitor)
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id as a number or a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((!v.is_empty()).then(|| v.to_owned()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An optional id sent as a number or a string (`"ai":""`, `"orderId":22542179`).
pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(IdVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_decimal")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_int_or_string")]
        t: Option<i64>,
        #[serde(default, deserialize_with = "opt_id")]
        id: Option<String>,
    }

    fn probe(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn lenient_values_table() {
        let ok = [
            (r#"{"d":"0.010","t":1,"id":5}"#, Some(dec!(0.010)), Some(1), Some("5")),
            (
                r#"{"d":5,"t":"1736996475556","id":"abc"}"#,
                Some(dec!(5)),
                Some(1_736_996_475_556),
                Some("abc"),
            ),
            (r#"{"d":"","t":"","id":""}"#, None, None, None),
            (r#"{"d":null,"t":null,"id":null}"#, None, None, None),
            (r#"{}"#, None, None, None),
            (r#"{"d":"1e-8"}"#, Some(dec!(0.00000001)), None, None),
        ];
        for (json, d, t, id) in ok {
            assert_eq!(probe(json).unwrap(), Probe { d, t, id: id.map(str::to_owned) }, "{json}");
        }
        for bad in [r#"{"d":0.1}"#, r#"{"d":"abc"}"#, r#"{"t":"12x"}"#, r#"{"t":1.5}"#] {
            assert!(probe(bad).is_err(), "{bad}");
        }
    }
}
