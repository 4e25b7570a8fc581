//! Reading TOML config files into typed structs, with errors that name the file, the key and
//! (for syntax and type errors) the line. Semantic checks live in each config's `validate()`,
//! which reports every problem at once; this module carries those lists.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

/// Everything wrong with one config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or `--set` / environment when the problem came from there).
    pub source: String,
    /// One line per problem, each naming the key.
    pub problems: Vec<String>,
}

impl ConfigError {
    /// One problem in `source`.
    pub fn one(source: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { source: source.into(), problems: vec![problem.into()] }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{}: {one}", self.source),
            many => {
                write!(f, "{}: {} problems:", self.source, many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Reads and parses a TOML file into `T` (which should deny unknown fields).
///
/// # Errors
/// When the file cannot be read, is not valid TOML, has an unknown key or a value of the wrong
/// type; the message names the file, the key and the line.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let source = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| ConfigError::one(&source, format!("cannot read: {e}")))?;
    parse_toml(&text, path)
}

/// Parses TOML text into `T`; `path` only names the source in errors.
///
/// # Errors
/// As [`read_toml`], minus the reading.
pub fn parse_toml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let start = e.span().map(|span| span.start.min(text.len()));
        let message = e.message().trim().to_owned();
        let problem = match start {
            Some(start) => {
                let line = 1 + text[..start].matches('\n').count();
                // Name the key when the error points into a `key = value` line.
                let line_text = text[..start].rsplit('\n').next().unwrap_or_default();
                match line_text.split_once('=') {
                    Some((key, _)) if !key.trim().is_empty() && !key.contains('[') => {
                        format!("line {line}, key {}: {message}", key.trim())
                    }
                    _ => format!("line {line}: {message}"),
                }
            }
            None => message,
        };
        ConfigError::one(path.display().to_string(), problem)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    #[test]
    fn names_file_line_and_key() {
        let err =
            parse_toml::<Sample>("name = \"x\"\ncount = \"three\"\n", Path::new("cfg.toml")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cfg.toml: line 2, key count:"), "{text}");
        let err =
            parse_toml::<Sample>("name = \"x\"\ncount = 3\ncolour = 1\n", Path::new("cfg.toml")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn lists_many_problems() {
        let err = ConfigError { source: "f.toml".into(), problems: vec!["a bad".into(), "b bad".into()] };
        assert_eq!(err.to_string(), "f.toml: 2 problems:\n  - a bad\n  - b bad");
    }
}
