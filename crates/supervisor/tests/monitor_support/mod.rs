//! What the monitor's tests and bench share: a temp root laid out as the agents write it, the
//! agents' files in it, the real binary pointed at it, and a deterministic number generator.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::Decimal;
use supervisor::monitor::watch::AgentSource;

/// A fresh temp root with `logs/`, `run/`, `config/` and an empty `bin/`.
pub fn root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sup-monitor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["logs", "run", "config", "bin"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    dir
}

/// The agents' files under `root`, as the layout resolves them with the shipped configs, each
/// agent with 10,000 of capital.
pub fn sources(root: &Path) -> Vec<AgentSource> {
    let source = |name, journal, strategy| AgentSource {
        name,
        pid_path: root.join(format!("run/{name}.pid")),
        status_path: root.join(format!("run/{name}.status.json")),
        journal_path: root.join("logs").join(journal),
        capital: Decimal::from(10_000),
        default_strategy: strategy,
    };
    vec![
        source("main-agent", "main_trades.jsonl", "unknown"),
        source("futures-agent", "futures_trades.jsonl", "momentum"),
    ]
}

/// `supervisor --root ROOT --bin-dir ROOT/bin`, run in ROOT, with nothing inherited that would
/// point it elsewhere or turn notifications on.
pub fn supervisor(root: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_supervisor"));
    command.arg("--root").arg(root).arg("--bin-dir").arg(root.join("bin")).current_dir(root);
    for key in [
        "DUAL_AGENT_ROOT",
        "DUAL_AGENT_BIN_DIR",
        "DISCORD_WEBHOOK_URL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_CHAT_ID",
    ] {
        command.env_remove(key);
    }
    command
}

/// A small deterministic generator (64-bit LCG).
#[derive(Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number below `below`.
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}
