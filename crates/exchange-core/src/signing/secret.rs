//! Secrets (API secrets, bot tokens, webhook URLs) and API credentials: zeroized on drop, never
//! printed, never serialized. Reading a secret takes an explicit [`Secret::expose`] call, so every
//! use is easy to find. Secrets come only from the environment (STYLE.md "Config and secrets").

use std::env::{self, VarError};
use std::fmt;

use zeroize::Zeroize;

const REDACTED: &str = "[REDACTED]";

/// A secret string: an API secret, a bot token, a webhook URL.
///
/// The text is zeroized when the value is dropped, `Debug` prints `Secret([REDACTED])`, `Display`
/// prints `[REDACTED]`, and there is deliberately no `Serialize`, `PartialEq` or `Deref`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`. The `String` is moved in, so no unzeroized copy is left behind here.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// Reads the secret from environment variable `var`; unset or empty means absent (`Ok(None)`).
    ///
    /// # Errors
    /// [`SecretError::NotUnicode`] when the variable is set but is not valid UTF-8. The error names
    /// the variable only; the offending value is zeroized, not kept.
    pub fn from_env(var: &str) -> Result<Option<Self>, SecretError> {
        from_var_result(var, env::var(var))
    }

    /// The secret text. This is the only way to read it: use it to sign, never store or log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Why a secret could not be read from the environment.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The variable is set but its value is not valid UTF-8. No source is kept: it would carry the
    /// secret value itself.
    #[error("environment variable {var} is set but is not valid UTF-8")]
    NotUnicode {
        /// Name of the environment variable.
        var: String,
    },
}

fn from_var_result(var: &str, result: Result<String, VarError>) -> Result<Option<Secret>, SecretError> {
    match result {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(Secret::new(value))),
        Err(VarError::NotPresent) => Ok(None),
        Err(VarError::NotUnicode(raw)) => {
            raw.into_encoded_bytes().zeroize();
            Err(SecretError::NotUnicode { var: var.to_owned() })
        }
    }
}

/// An API key with its secret.
///
/// The key travels in request headers and is not secret, but `Debug` still shows only its first 4
/// characters followed by `…`; the secret is redacted.
#[derive(Clone)]
pub struct ApiCredentials {
    /// The public API key (Binance `X-MBX-APIKEY`, Bybit `X-BAPI-API-KEY`, BitMEX `api-key`,
    /// Deribit `client_id`).
    pub api_key: String,
    /// The secret the requests are signed with.
    pub secret: Secret,
}

impl ApiCredentials {
    /// Pairs `api_key` with `secret`.
    pub fn new(api_key: String, secret: Secret) -> Self {
        Self { api_key, secret }
    }
}

impl fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key_prefix: String = self.api_key.chars().take(4).collect();
        f.debug_struct("ApiCredentials")
            .field("api_key", &format_args!("\"{key_prefix}…\""))
            .field("secret", &self.secret)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_TEXT: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

    #[test]
    fn secret_formats_are_redacted() {
        let secret = Secret::new(SECRET_TEXT.to_owned());
        let cases = [
            ("{:?}", format!("{secret:?}"), "Secret([REDACTED])"),
            ("{:#?}", format!("{secret:#?}"), "Secret([REDACTED])"),
            ("{}", format!("{secret}"), "[REDACTED]"),
        ];
        for (name, shown, expected) in cases {
            assert_eq!(shown, expected, "{name}");
            assert!(!shown.contains(SECRET_TEXT), "{name}");
        }
        assert_eq!(secret.expose(), SECRET_TEXT);
        assert_eq!(Secret::from(SECRET_TEXT.to_owned()).clone().expose(), SECRET_TEXT);
    }

    #[test]
    fn credentials_debug_shows_key_prefix_and_hides_secret() {
        let credentials = ApiCredentials::new(API_KEY.to_owned(), Secret::new(SECRET_TEXT.to_owned()));
        for shown in [format!("{credentials:?}"), format!("{credentials:#?}")] {
            assert!(shown.contains("\"vmPU…\""), "{shown}");
            assert!(shown.contains("Secret([REDACTED])"), "{shown}");
            assert!(!shown.contains(SECRET_TEXT), "{shown}");
            assert!(!shown.contains(API_KEY), "{shown}");
        }
        assert_eq!(
            format!("{credentials:?}"),
            "ApiCredentials { api_key: \"vmPU…\", secret: Secret([REDACTED]) }"
        );
    }

    #[test]
    fn credentials_debug_takes_characters_not_bytes() {
        let credentials = ApiCredentials::new("ключ-123".to_owned(), Secret::new("s".to_owned()));
        assert!(format!("{credentials:?}").contains("\"ключ…\""));
    }

    #[test]
    fn environment_values_map_to_present_absent_or_error() {
        assert!(matches!(from_var_result("V", Ok("abc".to_owned())), Ok(Some(s)) if s.expose() == "abc"));
        assert!(matches!(from_var_result("V", Ok(String::new())), Ok(None)));
        assert!(matches!(from_var_result("V", Err(VarError::NotPresent)), Ok(None)));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_environment_value_is_an_error_that_does_not_carry_it() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;

        let raw = OsString::from_vec(vec![b's', b'e', 0xFF, b'c']);
        let error = match from_var_result("BOT_TOKEN", Err(VarError::NotUnicode(raw))) {
            Err(error) => error,
            Ok(_) => panic!("non-UTF-8 value accepted"),
        };
        assert!(matches!(&error, SecretError::NotUnicode { var } if var == "BOT_TOKEN"));
        assert_eq!(error.to_string(), "environment variable BOT_TOKEN is set but is not valid UTF-8");
    }

    #[test]
    fn unset_environment_variable_is_absent() {
        let result = Secret::from_env("EXCHANGE_CORE_SIGNING_TEST_SURELY_UNSET_5F3A");
        assert!(matches!(result, Ok(None)));
    }
}
