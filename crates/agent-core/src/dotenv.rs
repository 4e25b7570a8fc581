//! Environment layers of DESIGN §9: the process environment over dotenv files (`.env` and the
//! agent's own, such as `futures_agent_config.env`, in the working directory). Secrets (API
//! keys, bot tokens, webhook URLs) come only from here, never from TOML.
//!
//! Dotenv syntax: `KEY=VALUE` per line, an optional `export ` prefix, `#` comments and blank
//! lines; values unquoted (trimmed, ` #` starts a comment), in double quotes (escapes `\n`, `\"`,
//! `\\`) or single quotes (literal). Anything else is an error naming the file and line. A
//! dotenv file readable by group or others is refused for live trading and warned about
//! otherwise (it may hold secrets); [`Layers::loose_files`] says which.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The process environment.
    Process,
    /// A dotenv file.
    File(PathBuf),
}

/// The process environment over the dotenv files.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    process: HashMap<String, String>,
    files: Vec<(PathBuf, HashMap<String, String>)>,
    loose: Vec<PathBuf>,
}

impl Layers {
    /// The process environment over `files` (those that exist; earlier files win over later).
    ///
    /// # Errors
    /// When a file exists but cannot be read or has a malformed line (every problem listed).
    pub fn load(files: &[PathBuf]) -> Result<Self, ConfigError> {
        let process = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::from_parts(process, files)
    }

    /// As [`Layers::load`] with the process environment given (for tests).
    ///
    /// # Errors
    /// As [`Layers::load`].
    pub fn from_parts(process: HashMap<String, String>, files: &[PathBuf]) -> Result<Self, ConfigError> {
        let mut layers = Self { process, files: Vec::new(), loose: Vec::new() };
        for path in files.iter().filter(|p| p.exists()) {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError::one(path.display().to_string(), format!("cannot read: {e}")))?;
            layers.files.push((path.clone(), parse(&text, path)?));
            let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0);
            if mode & 0o077 != 0 {
                layers.loose.push(path.clone());
            }
        }
        Ok(layers)
    }

    /// The value of `key` and where it came from: the process environment first, then the
    /// files in order. Empty values count as absent.
    pub fn get(&self, key: &str) -> Option<(&str, Source)> {
        if let Some(v) = self.process.get(key).filter(|v| !v.is_empty()) {
            return Some((v, Source::Process));
        }
        self.files.iter().find_map(|(path, vars)| {
            vars.get(key).filter(|v| !v.is_empty()).map(|v| (v.as_str(), Source::File(path.clone())))
        })
    }

    /// Dotenv files readable by group or others.
    pub fn loose_files(&self) -> &[PathBuf] {
        &self.loose
    }
}

/// Parses dotenv text; `path` names the source in errors.
///
/// # Errors
/// Every malformed line, each with its number.
pub fn parse(text: &str, path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let mut vars = HashMap::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        match parse_line(line) {
            Ok((key, value)) => {
                vars.insert(key, value);
            }
            Err(problem) => problems.push(format!("line {}: {problem}", i + 1)),
        }
    }
    if problems.is_empty() {
        Ok(vars)
    } else {
        Err(ConfigError { source: path.display().to_string(), problems })
    }
}

fn parse_line(line: &str) -> Result<(String, String), String> {
    let (key, rest) = line.split_once('=').ok_or("expected KEY=VALUE")?;
    let key = key.trim();
    let key_ok = !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !key.as_bytes()[0].is_ascii_digit();
    if !key_ok {
        return Err(format!("{key:?} is not a variable name"));
    }
    let rest = rest.trim();
    let value = if let Some(body) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.chars();
        loop {
            match chars.next() {
                None => return Err(format!("{key}: unterminated double quote")),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(c @ ('"' | '\\')) => out.push(c),
                    Some(c) => return Err(format!("{key}: unknown escape \\{c}")),
                    None => return Err(format!("{key}: unterminated double quote")),
                },
                Some(c) => out.push(c),
            }
        }
        let tail = chars.as_str().trim();
        if !(tail.is_empty() || tail.starts_with('#')) {
            return Err(format!("{key}: text after the closing quote"));
        }
        out
    } else if let Some(body) = rest.strip_prefix('\'') {
        let (value, tail) =
            body.split_once('\'').ok_or_else(|| format!("{key}: unterminated single quote"))?;
        let tail = tail.trim();
        if !(tail.is_empty() || tail.starts_with('#')) {
            return Err(format!("{key}: text after the closing quote"));
        }
        value.to_owned()
    } else {
        rest.split_once(" #").map_or(rest, |(v, _)| v).trim().to_owned()
    };
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let text =
            "# comment\n\nA=1\nexport B = two words # note\nC=\"x \\\"q\\\" \\n y\"\nD='lit \\n #'\nE=\n";
        let vars = parse(text, Path::new(".env")).unwrap();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "x \"q\" \n y");
        assert_eq!(vars["D"], "lit \\n #");
        assert_eq!(vars["E"], "");
    }

    #[test]
    fn every_bad_line_is_named() {
        let err = parse("OK=1\nno equals\n1X=2\nQ=\"open\n", Path::new("f.env")).unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.problems[0].starts_with("line 2:"), "{err}");
        assert!(err.problems[1].starts_with("line 3:"), "{err}");
        assert!(err.problems[2].starts_with("line 4:"), "{err}");
    }

    #[test]
    fn process_wins_over_files_and_loose_files_are_reported() {
        let dir = std::env::temp_dir().join(format!("dotenv-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, second) = (dir.join(".env"), dir.join("agent.env"));
        std::fs::write(&first, "K=from-file\nONLY=first\nEMPTY=\n").unwrap();
        std::fs::write(&second, "ONLY=second\nLAST=second\n").unwrap();
        std::fs::set_permissions(&first, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(&second, std::fs::Permissions::from_mode(0o644)).unwrap();
        let process = HashMap::from([("K".to_owned(), "from-process".to_owned())]);
        let layers =
            Layers::from_parts(process, &[first.clone(), second.clone(), dir.join("missing.env")]).unwrap();
        assert_eq!(layers.get("K"), Some(("from-process", Source::Process)));
        assert_eq!(layers.get("ONLY"), Some(("first", Source::File(first))));
        assert_eq!(layers.get("LAST"), Some(("second", Source::File(second.clone()))));
        assert_eq!(layers.get("EMPTY"), None);
        assert_eq!(layers.loose_files(), [second]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
