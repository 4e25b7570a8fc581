//! The systemd units of scripts/systemd/, rendered by its install script with real paths,
//! pass `systemd-analyze verify`; the shell scripts pass shellcheck. Each check is skipped, with
//! a loud message, when its tool is absent.
// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod supervisor_support;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use supervisor_support::{Outcome, bin_dir};

fn tool(name: &str) -> bool {
    let found = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: {name} is not installed; this check did not run");
    }
    found
}

#[test]
fn rendered_units_pass_systemd_analyze_verify() {
    if !tool("systemd-analyze") {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("sup-systemd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let prefix = dir.join("opt");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    for bin in ["supervisor", "futures-agent", "main-agent", "exchange-sim"] {
        symlink(bin_dir().join(bin), prefix.join("bin").join(bin)).unwrap();
    }
    let units = dir.join("units");
    let render = Command::new("bash")
        .arg(repo.join("scripts/systemd/install.sh"))
        .arg("--render-only")
        .arg(&units)
        .arg("--prefix")
        .arg(&prefix)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--log-dir")
        .arg(dir.join("log"))
        .output()
        .unwrap();
    Outcome::of(render).expect_code(0);
    let mut names: Vec<String> = std::fs::read_dir(&units)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "dual-agent-futures.service",
            "dual-agent-main.service",
            "dual-agent-sim.service",
            "dual-agent.service"
        ]
    );
    let supervisor_unit = std::fs::read_to_string(units.join("dual-agent.service")).unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
    ] {
        assert!(supervisor_unit.contains(line), "{line} missing from dual-agent.service");
    }
    assert!(supervisor_unit.contains(&format!(
        "ReadWritePaths={} {}",
        dir.join("state").display(),
        dir.join("log").display()
    )));
    assert!(!supervisor_unit.contains('@'), "a placeholder was left:\n{supervisor_unit}");
    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(names.iter().map(|n| units.join(n)))
        .output()
        .unwrap();
    let out = Outcome::of(verify);
    assert!(out.code == 0 && out.all().trim().is_empty(), "systemd-analyze verify:\n{}", out.all());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shell_scripts_pass_shellcheck() {
    if !tool("shellcheck") {
        return;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("shellcheck")
        .arg(repo.join("dual_agent.sh"))
        .arg(repo.join("scripts/systemd/install.sh"))
        .output()
        .unwrap();
    Outcome::of(out).expect_code(0);
}
