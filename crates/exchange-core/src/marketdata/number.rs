//! Exact, fast parsers for the numbers in market-data files: decimals (`27000.50`, `-0.00012345`,
//! `1.3e-06`) into `Decimal`, and unsigned integer timestamps.
//!
//! `Decimal::from_str` costs more than the rest of a kline load put together, so decimals are read
//! here: the digits are accumulated into an integer mantissa (a `u64` for up to 19 digits, a
//! `u128` beyond) with the scale taken from the fraction and exponent, and handed to
//! `Decimal::try_from_i128_with_scale`. The result equals `Decimal::from_str_exact` for plain text
//! and `Decimal::from_scientific` for exponent text, trailing zeros (the scale) included.
//!
//! Grammar, nothing else accepted: `-? digit+ ( . digit+ )? ( (e|E) (+|-)? digit+ )?`. So `.5`,
//! `5.`, `+5`, `1_000`, spaces, `NaN` and `inf` are rejected; Binance never writes them. `-0` is
//! zero. A value Decimal cannot hold exactly (more than 28 decimal places, a mantissa over 96
//! bits, an exponent beyond +-28) is `OutOfRange`, never rounded.

use rust_decimal::Decimal;

/// Why a text is not a decimal the files may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// The text does not follow the grammar in the module doc.
    NotDecimal,
    /// The text is a well-formed number that `Decimal` cannot hold exactly.
    OutOfRange,
}

/// Largest exponent magnitude accepted, as `Decimal::from_scientific` does.
const MAX_EXPONENT: u32 = Decimal::MAX_SCALE;
/// Largest mantissa a `Decimal` holds: 2^96 - 1.
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// Parses decimal text exactly; see the module doc for the grammar.
#[inline]
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    match parse_short_plain(rest) {
        Some((mantissa, scale)) => {
            let signed = if negative { -i128::from(mantissa) } else { i128::from(mantissa) };
            Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| DecimalError::OutOfRange)
        }
        None => parse_general(negative, rest),
    }
}

/// The common case in one pass: at most 19 bytes of `digits[.digits]`, so at most 19 digits,
/// which a `u64` holds. Returns mantissa and scale, or `None` for anything else (which the general
/// parser then accepts or refuses).
#[inline]
fn parse_short_plain(bytes: &[u8]) -> Option<(u64, u32)> {
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut dot = None;
    for (index, &byte) in bytes.iter().enumerate() {
        let digit = byte.wrapping_sub(b'0');
        if digit <= 9 {
            // At most 19 digits: below 10^19 < 2^64.
            mantissa = mantissa * 10 + u64::from(digit);
        } else if byte == b'.' && dot.is_none() {
            dot = Some(index);
        } else {
            return None;
        }
    }
    match dot {
        None => Some((mantissa, 0)),
        // Digits on both sides of the dot; the scale is at most 17.
        Some(at) if at > 0 && at + 1 < bytes.len() => Some((mantissa, (bytes.len() - at - 1) as u32)),
        Some(_) => None,
    }
}

/// Everything the short path does not take: long mantissas, exponents, and all malformed text.
fn parse_general(negative: bool, rest: &[u8]) -> Result<Decimal, DecimalError> {
    let (int_digits, rest) = split_digits(rest);
    if int_digits.is_empty() {
        return Err(DecimalError::NotDecimal);
    }
    let (frac_digits, rest) = match rest.split_first() {
        Some((b'.', after)) => match split_digits(after) {
            ([], _) => return Err(DecimalError::NotDecimal),
            split => split,
        },
        _ => (&[][..], rest),
    };
    let exponent: i64 = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', after)) => parse_exponent(after)?,
        Some(_) => return Err(DecimalError::NotDecimal),
    };

    let mut mantissa = accumulate(int_digits, frac_digits).ok_or(DecimalError::OutOfRange)?;
    // A slice is shorter than 2^63 bytes and the exponent is within +-28: no i64 overflow.
    let mut scale = frac_digits.len() as i64 - exponent;
    if scale < 0 {
        // A positive exponent beyond the fraction: shift it into the mantissa (`1.2e3` is 1200).
        let shift = u32::try_from(-scale).map_err(|_| DecimalError::OutOfRange)?;
        mantissa = 10u128
            .checked_pow(shift)
            .and_then(|power| mantissa.checked_mul(power))
            .ok_or(DecimalError::OutOfRange)?;
        scale = 0;
    }
    let scale = u32::try_from(scale).map_err(|_| DecimalError::OutOfRange)?;
    if scale > Decimal::MAX_SCALE || mantissa > MAX_MANTISSA {
        return Err(DecimalError::OutOfRange);
    }
    // mantissa <= 2^96 - 1, so it fits an i128 with room for the sign.
    let signed = if negative { -(mantissa as i128) } else { mantissa as i128 };
    Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| DecimalError::OutOfRange)
}

/// Parses an unsigned decimal integer (a timestamp, a trade count): digits only, no sign, at most
/// 19 of them, so the value always fits a `u64` and never overflows.
#[inline]
pub(crate) fn parse_unsigned(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in bytes {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        // 19 digits are at most 10^19 - 1 < 2^64: no overflow.
        value = value * 10 + u64::from(digit);
    }
    Some(value)
}

/// Splits off the leading ASCII digits.
fn split_digits(bytes: &[u8]) -> (&[u8], &[u8]) {
    let end = bytes.iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(bytes.len());
    bytes.split_at(end)
}

/// Reads the exponent after the `e`: an optional sign and at least one digit, nothing after.
fn parse_exponent(bytes: &[u8]) -> Result<i64, DecimalError> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::NotDecimal);
    }
    let mut magnitude: u32 = 0;
    for &digit in digits {
        magnitude = magnitude.saturating_mul(10).saturating_add(u32::from(digit - b'0'));
    }
    if magnitude > MAX_EXPONENT {
        return Err(DecimalError::OutOfRange);
    }
    let magnitude = i64::from(magnitude);
    Ok(if negative { -magnitude } else { magnitude })
}

/// The digits of the integer and fraction parts as one integer, or `None` past `u128`.
fn accumulate(int_digits: &[u8], frac_digits: &[u8]) -> Option<u128> {
    if int_digits.len() + frac_digits.len() <= 19 {
        // Up to 19 digits fit a u64 (10^19 - 1 < 2^64); the common case, kept cheap.
        let mut value: u64 = 0;
        for &byte in int_digits.iter().chain(frac_digits) {
            value = value * 10 + u64::from(byte - b'0');
        }
        return Some(u128::from(value));
    }
    let mut value: u128 = 0;
    for &byte in int_digits.iter().chain(frac_digits) {
        value = value.checked_mul(10)?.checked_add(u128::from(byte - b'0'))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// What rust_decimal itself makes of the text, in the same two forms as the module doc.
    fn reference(text: &str) -> Option<Decimal> {
        if text.contains(['e', 'E']) {
            Decimal::from_scientific(text).ok()
        } else {
            Decimal::from_str_exact(text).ok()
        }
    }

    /// Value and scale, so `1.0` and `1.00` count as different.
    fn exact(value: Decimal) -> (i128, u32) {
        (value.mantissa(), value.scale())
    }

    #[test]
    fn reads_the_texts_the_files_carry() {
        let cases = [
            ("13715.65", dec!(13715.65)),
            ("0.10000000", dec!(0.10000000)),
            ("00012.50", dec!(12.50)),
            ("-0.00012345", dec!(-0.00012345)),
            ("0", dec!(0)),
            ("-0", dec!(0)),
            ("443.356199", dec!(443.356199)),
            ("413956328095.0", dec!(413956328095.0)),
            ("1e-4", dec!(0.0001)),
            ("8.373e-05", dec!(0.00008373)),
            ("-1.226E-05", dec!(-0.00001226)),
            ("1.20e+3", dec!(1200)),
            ("1.25e1", dec!(12.5)),
            ("0.0000000000000000000000000001", dec!(0.0000000000000000000000000001)),
            ("79228162514264337593543950335", Decimal::MAX),
            ("-79228162514264337593543950335", Decimal::MIN),
            ("7922816251426433759354395033.5", dec!(7922816251426433759354395033.5)),
            ("0000000000000000000000000000000000000000001", dec!(1)),
        ];
        for (text, want) in cases {
            let got = parse_decimal(text);
            assert_eq!(got.map(exact), Ok(exact(want)), "{text}");
            assert_eq!(got.ok(), reference(text), "{text} disagrees with rust_decimal");
        }
    }

    #[test]
    fn rejects_text_outside_the_grammar() {
        for text in [
            "", "-", ".5", "5.", "+5", "1_000", " 1", "1 ", "1.2.3", "abc", "NaN", "inf", "0x10", "1,5",
            "1e", "1e+", "e5", "1.e5", "--1", "-.5", "1\r", "\u{0}", "١٢", "1e5x",
        ] {
            assert_eq!(parse_decimal(text), Err(DecimalError::NotDecimal), "{text:?}");
        }
    }

    #[test]
    fn refuses_to_round_what_decimal_cannot_hold() {
        for text in [
            "79228162514264337593543950336",
            "0.00000000000000000000000000001",
            "0.10000000000000000000000000000",
            "12345678901234567890123456789.0",
            "1e29",
            "5e-29",
            "1e999999999999",
            "99999999999999999999999999999999999999999999",
        ] {
            assert_eq!(parse_decimal(text), Err(DecimalError::OutOfRange), "{text:?}");
            assert_eq!(reference(text), None, "{text:?}: rust_decimal accepts it");
        }
    }

    #[test]
    fn unsigned_integers() {
        assert_eq!(parse_unsigned("1514764800000"), Some(1_514_764_800_000));
        assert_eq!(parse_unsigned("9999999999999999999"), Some(9_999_999_999_999_999_999));
        for text in ["", "-1", "+1", "1.0", "1e3", "10000000000000000000", " 1", "12a"] {
            assert_eq!(parse_unsigned(text), None, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn plain_text_matches_from_str_exact(text in "-?[0-9]{1,32}(\\.[0-9]{1,32})?") {
            let ours = parse_decimal(&text).ok().map(exact);
            let theirs = Decimal::from_str_exact(&text).ok().map(exact);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn plain_text_near_the_96_bit_limit_matches_from_str_exact(text in "-?[1-9][0-9]{17,29}(\\.[0-9]{1,10})?") {
            let ours = parse_decimal(&text).ok().map(exact);
            let theirs = Decimal::from_str_exact(&text).ok().map(exact);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn short_plain_text_always_parses(text in "-?[0-9]{1,14}(\\.[0-9]{1,14})?") {
            prop_assert!(parse_decimal(&text).is_ok());
        }

        #[test]
        fn the_short_path_agrees_with_the_general_one(text in "-?[0-9.]{1,21}") {
            let negative = text.starts_with('-');
            let rest = text.trim_start_matches('-').as_bytes();
            if let Some((mantissa, scale)) = parse_short_plain(rest) {
                let signed = if negative { -i128::from(mantissa) } else { i128::from(mantissa) };
                prop_assert_eq!(Decimal::try_from_i128_with_scale(signed, scale).ok(), parse_general(negative, rest).ok());
            }
        }

        #[test]
        fn exponent_text_matches_from_scientific(text in "-?[0-9]{1,12}(\\.[0-9]{1,12})?[eE][+-]?[0-9]{1,2}") {
            let ours = parse_decimal(&text).ok().map(exact);
            let theirs = Decimal::from_scientific(&text).ok().map(exact);
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn any_text_is_refused_or_agrees_with_rust_decimal(text in any::<String>()) {
            if let Ok(value) = parse_decimal(&text) {
                prop_assert_eq!(Some(exact(value)), reference(&text).map(exact));
            }
            let _ = parse_unsigned(&text);
        }

        #[test]
        fn number_like_noise_never_panics(text in "[-+0-9.eE]{0,60}") {
            if let Ok(value) = parse_decimal(&text) {
                prop_assert_eq!(Some(exact(value)), reference(&text).map(exact));
            }
            if let Some(value) = parse_unsigned(&text) {
                prop_assert_eq!(Some(value), text.parse::<u64>().ok());
            }
        }
    }
}
