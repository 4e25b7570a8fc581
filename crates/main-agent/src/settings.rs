//! main-agent's config resolved with DESIGN §9's precedence: `--set` flags over the process
//! environment over the dotenv files (`main_agent_config.env`, then `.env`, in the working
//! directory) over `config/main_agent.toml` (or `--config`) over the built-in defaults.
//!
//! Environment variables (values `1/0`, `true/false`, `yes/no`, `on/off`):
//! `TB_ENABLE_ML_GATE`, `TB_ENABLE_REGIME`, `TB_ENABLE_CORRELATION_FILTER`,
//! `TB_ENABLE_VAR_LIMIT` switch the features of `[features]`; `TB_PAPER_TRADING` sets `paper`.
//!
//! `--set key=value` reaches any key of the file: `section.key` (`risk.var_limit=0.03`), a
//! top-level key (`capital=5000`), a bare key that only one section has
//! (`correlation_cap=0.7`), or a deeper path (`instruments.BTCUSDT.min_notional=10`, for a pair
//! that has a table).
//! The value is read as the key's type (a boolean also from `1/0/yes/no/on/off`). Unknown keys,
//! values of the wrong type and out-of-range values are all listed together.

use std::path::Path;

use agent_core::config::ConfigError;
use agent_core::dotenv::Layers;
use toml::{Table, Value};

use crate::config::MainConfig;

/// The dotenv files read from the working directory, earlier ones winning.
pub const DOTENV_FILES: [&str; 2] = ["main_agent_config.env", ".env"];

/// The config file used when none is given, if it exists.
pub const DEFAULT_CONFIG: &str = "config/main_agent.toml";

/// The feature switches and where they live.
pub const FEATURE_VARIABLES: [(&str, &str); 4] = [
    ("TB_ENABLE_ML_GATE", "ml_gate"),
    ("TB_ENABLE_REGIME", "regime"),
    ("TB_ENABLE_CORRELATION_FILTER", "correlation_filter"),
    ("TB_ENABLE_VAR_LIMIT", "var_limit"),
];

pub use agent_core::live::venue::truthy;

/// Applies the `TB_*` variables of `layers` to `config`; every bad value is a problem.
pub fn apply_env(config: &mut MainConfig, layers: &Layers, problems: &mut Vec<String>) {
    for (var, key) in FEATURE_VARIABLES {
        let Some((value, _)) = layers.get(var) else { continue };
        let Some(on) = truthy(value) else {
            problems.push(format!("{var}: {value:?} is not 1/0, true/false, yes/no or on/off"));
            continue;
        };
        let f = &mut config.features;
        match key {
            "ml_gate" => f.ml_gate = on,
            "regime" => f.regime = on,
            "correlation_filter" => f.correlation_filter = on,
            _ => f.var_limit = on,
        }
    }
    if let Some((value, _)) = layers.get("TB_PAPER_TRADING") {
        match truthy(value) {
            Some(paper) => config.paper = paper,
            None => {
                problems.push(format!("TB_PAPER_TRADING: {value:?} is not 1/0, true/false, yes/no or on/off"))
            }
        }
    }
}

/// The path of `key` in the config's table: as written when it has dots (`risk.var_limit`,
/// `instruments.BTCUSDT.tick_size`), else the top-level key or the one section that has it.
fn locate(table: &Table, key: &str) -> Result<Vec<String>, String> {
    if key.contains('.') {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        return match table.get(&path[0]) {
            Some(Value::Table(_)) => Ok(path),
            _ => Err(format!("unknown section {:?}", path[0])),
        };
    }
    if table.get(key).is_some_and(|v| !v.is_table()) || !table.values().any(Value::is_table) {
        return Ok(vec![key.to_owned()]);
    }
    let owners: Vec<&String> = table
        .iter()
        .filter(|(_, v)| v.as_table().is_some_and(|t| t.contains_key(key)))
        .map(|(k, _)| k)
        .collect();
    match owners.as_slice() {
        [one] => Ok(vec![(*one).clone(), key.to_owned()]),
        [] => Err(format!("unknown key {key:?}")),
        many => Err(format!(
            "key {key:?} is in several sections ({}): write section.{key}",
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// `text` as a TOML value of the same type as `existing` where that is unambiguous.
fn typed_value(text: &str, existing: Option<&Value>) -> Value {
    let text = text.trim();
    let parsed = toml::from_str::<Table>(&format!("v = {text}")).ok().and_then(|mut t| t.remove("v"));
    match (existing, parsed) {
        (Some(Value::Boolean(_)), _) if truthy(text).is_some() => {
            Value::Boolean(truthy(text).unwrap_or(false))
        }
        (Some(Value::String(_)), Some(Value::String(s))) => Value::String(s),
        (Some(Value::String(_)), _) => Value::String(text.to_owned()),
        (Some(Value::Float(_)), Some(Value::Integer(i))) => Value::Float(i as f64),
        (_, Some(value)) => value,
        (_, None) => Value::String(text.to_owned()),
    }
}

/// Applies one `--set key=value`.
///
/// # Errors
/// A message naming the item: no `=`, an unknown or ambiguous key, or a value of the wrong type.
pub fn apply_set(config: &mut MainConfig, item: &str) -> Result<(), String> {
    let fail = |why: String| format!("--set {item}: {why}");
    let (key, value) = item.split_once('=').ok_or_else(|| fail("expected KEY=VALUE".to_owned()))?;
    let mut table = Table::try_from(&*config).map_err(|e| fail(e.to_string()))?;
    let path = locate(&table, key.trim()).map_err(fail)?;
    let Some((name, parents)) = path.split_last() else { return Err(fail("empty key".to_owned())) };
    let mut target = &mut table;
    for part in parents {
        let next = target.entry(part.clone()).or_insert_with(|| Value::Table(Table::new()));
        target = match next {
            Value::Table(t) => t,
            _ => return Err(fail(format!("{part} is not a section"))),
        };
    }
    let new = typed_value(value, target.get(name));
    target.insert(name.clone(), new);
    *config = table
        .try_into()
        .map_err(|e: toml::de::Error| fail(format!("{}: {}", path.join("."), e.message().trim())))?;
    Ok(())
}

/// Loads the config (`path`, else [`DEFAULT_CONFIG`] if it exists, else the defaults), applies
/// the environment and the `--set` items, and validates the result.
///
/// # Errors
/// Every problem at once: a bad file, bad environment values, bad `--set` items, out-of-range
/// values.
pub fn resolve(path: Option<&Path>, layers: &Layers, sets: &[String]) -> Result<MainConfig, ConfigError> {
    let (mut config, source) = match path {
        Some(path) => (MainConfig::read(path)?, path.display().to_string()),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            (MainConfig::read(Path::new(DEFAULT_CONFIG))?, DEFAULT_CONFIG.to_owned())
        }
        None => (MainConfig::default(), "built-in defaults".to_owned()),
    };
    let mut problems = Vec::new();
    apply_env(&mut config, layers, &mut problems);
    for item in sets {
        if let Err(problem) = apply_set(&mut config, item) {
            problems.push(problem);
        }
    }
    let source = if sets.is_empty() { source } else { format!("{source} with --set") };
    if let Err(invalid) = config.validate(&source) {
        problems.extend(invalid.problems);
    }
    if problems.is_empty() { Ok(config) } else { Err(ConfigError { source, problems }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn layers(vars: &[(&str, &str)]) -> Layers {
        let process: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Layers::from_parts(process, &[]).unwrap()
    }

    #[test]
    fn environment_switches_features() {
        let mut config = MainConfig::default();
        let mut problems = Vec::new();
        let env = layers(&[
            ("TB_ENABLE_ML_GATE", "0"),
            ("TB_ENABLE_VAR_LIMIT", "false"),
            ("TB_PAPER_TRADING", "yes"),
        ]);
        apply_env(&mut config, &env, &mut problems);
        assert!(problems.is_empty());
        assert!(!config.features.ml_gate && !config.features.var_limit);
        assert!(config.features.regime && config.features.correlation_filter && config.paper);
        apply_env(&mut config, &layers(&[("TB_ENABLE_REGIME", "maybe")]), &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("TB_ENABLE_REGIME"), "{problems:?}");
    }

    #[test]
    fn set_reaches_every_kind_of_key() {
        let mut c = MainConfig::default();
        for item in [
            "risk.var_limit=0.03",
            "correlation_cap=0.7",
            "gate.horizon=12",
            "costs.fee=0.00075",
            "capital=5000",
            "features.ml_gate=0",
            "regime=off",
            "risk.target_vol=1",
            "entries.market_symbol=ETHUSDT",
        ] {
            apply_set(&mut c, item).unwrap_or_else(|e| panic!("{item}: {e}"));
        }
        assert_eq!(c.risk.var_limit, 0.03);
        assert_eq!(c.risk.correlation_cap, 0.7);
        assert_eq!(c.gate.horizon, 12);
        assert_eq!(c.costs.fee, rust_decimal::Decimal::new(75, 5));
        assert_eq!(c.capital, rust_decimal::Decimal::from(5000));
        assert!(!c.features.ml_gate && !c.features.regime);
        assert_eq!(c.risk.target_vol, 1.0);
        assert_eq!(c.entries.market_symbol.as_str(), "ETHUSDT");
        let mut with_table: MainConfig = agent_core::config::parse_toml(
            "[instruments.BTCUSDT]\ntick_size = \"0.01\"\nstep_size = \"0.00001\"\nmin_qty = \"0.00001\"\nmin_notional = \"5\"\n",
            std::path::Path::new("m.toml"),
        )
        .unwrap();
        apply_set(&mut with_table, "instruments.BTCUSDT.min_notional=10").unwrap();
        let btc = exchange_core::Symbol::new("BTCUSDT").unwrap();
        assert_eq!(with_table.instruments[&btc].min_notional.get(), rust_decimal::Decimal::from(10));
        let err = apply_set(&mut with_table, "instruments.ETHUSDT.min_notional=10").unwrap_err();
        assert!(err.contains("instruments.ETHUSDT.min_notional") && err.contains("missing field"), "{err}");
    }

    #[test]
    fn bad_sets_name_the_problem() {
        let mut c = MainConfig::default();
        let cases = [
            ("nonsense=1", "unknown key \"nonsense\""),
            ("risk.nonsense=1", "nonsense"),
            ("nowhere.x=1", "unknown section \"nowhere\""),
            ("gate.horizon=abc", "gate.horizon"),
            ("features.ml_gate=maybe", "features.ml_gate"),
            ("novalue", "expected KEY=VALUE"),
        ];
        for (item, fragment) in cases {
            let err = apply_set(&mut c, item).unwrap_err();
            assert!(err.starts_with(&format!("--set {item}")) && err.contains(fragment), "{item}: {err}");
        }
        assert_eq!(c, MainConfig::default(), "a failed --set changes nothing");
    }

    #[test]
    fn resolve_lists_every_problem() {
        let env = layers(&[("TB_ENABLE_REGIME", "perhaps")]);
        let sets = ["risk.var_limit=-1".to_owned(), "bogus=2".to_owned()];
        let dir = std::env::temp_dir().join(format!("main-agent-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("m.toml");
        std::fs::write(&file, "[gate]\nthreshold = 3\n").unwrap();
        let err = resolve(Some(&file), &env, &sets).unwrap_err();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(err.problems.len(), 4, "{err}");
        let text = err.to_string();
        for fragment in ["TB_ENABLE_REGIME", "bogus", "risk.var_limit = -1", "gate.threshold = 3"] {
            assert!(text.contains(fragment), "{fragment}: {text}");
        }
    }
}
