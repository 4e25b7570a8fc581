//! `supervisor logs [main|futures|sim] [-f] [-n N]`: the last lines of the logs, and following
//! them like `tail -F`.
//!
//! The agents rotate their logs daily by renaming the file and starting a new one under the same
//! name (agent_core::logfile), so following watches the path: when the file at the path is a
//! different one (another inode) or shorter than what was read, it is reopened from its start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::SupervisorError;
use crate::cli::{LogsArgs, Target};
use crate::layout::{Component, Layout};

/// How often a followed file is looked at.
const FOLLOW_POLL: Duration = Duration::from_millis(200);
/// Bytes read at a time when looking for lines from the end.
const BLOCK: u64 = 8192;

/// The last `n` lines of the file at `path` that come after byte `offset`.
///
/// # Errors
/// When the file cannot be opened or read.
pub fn tail_lines(path: &Path, n: usize, offset: u64) -> io::Result<Vec<String>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let offset = offset.min(len);
    // Read blocks backwards until they hold n + 1 line ends (the last line may lack one).
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    while start > offset && buf.iter().filter(|b| **b == b'\n').count() <= n {
        let from = start.saturating_sub(BLOCK).max(offset);
        let mut block = vec![0u8; usize::try_from(start - from).unwrap_or(0)];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&buf);
        buf = block;
        start = from;
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    Ok(lines[lines.len().saturating_sub(n)..].iter().map(|l| (*l).to_owned()).collect())
}

/// The log files a target names: the agents' for `all` (the installed ones, or any whose log
/// exists), exchange-sim's for `sim`.
pub fn log_files(layout: &Layout, target: Target) -> Vec<(Component, PathBuf)> {
    match target {
        Target::Sim => vec![(Component::Sim, layout.sim.log_path.clone())],
        Target::Main | Target::Futures => {
            layout.agents_of(target).into_iter().map(|a| (a.component, a.log_path())).collect()
        }
        Target::All => layout
            .agents
            .iter()
            .filter(|a| a.installed() || a.log_path().exists())
            .map(|a| (a.component, a.log_path()))
            .collect(),
    }
}

/// `supervisor logs`.
///
/// # Errors
/// When a log cannot be read, or stdout is gone.
pub fn logs(layout: &Layout, args: &LogsArgs) -> Result<(), SupervisorError> {
    let files = log_files(layout, args.target);
    let several = files.len() > 1;
    let mut out = io::stdout().lock();
    let mut followed = Vec::new();
    for (component, path) in &files {
        if several {
            writeln!(out, "==> {} <==", path.display()).map_err(stdout_gone)?;
        }
        match tail_lines(path, args.lines, 0) {
            Ok(lines) => {
                for line in lines {
                    writeln!(out, "{line}").map_err(stdout_gone)?;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                writeln!(out, "({} has no log yet at {})", component.name(), path.display())
                    .map_err(stdout_gone)?;
            }
            Err(e) => return Err(SupervisorError::Runtime(format!("{}: {e}", path.display()))),
        }
        followed.push(Followed::at_end(path));
    }
    if files.is_empty() {
        writeln!(out, "no agent is installed in {}", layout.bin_dir.display()).map_err(stdout_gone)?;
    }
    out.flush().map_err(stdout_gone)?;
    drop(out);
    if args.follow {
        follow(&mut followed, several)?;
    }
    Ok(())
}

fn stdout_gone(e: io::Error) -> SupervisorError {
    SupervisorError::Runtime(format!("stdout: {e}"))
}

/// One followed file: its path, the inode read and how far.
#[derive(Debug)]
pub struct Followed {
    path: PathBuf,
    inode: Option<u64>,
    pos: u64,
}

impl Followed {
    /// Follows `path` from its current end (or from the start of a file that appears later).
    pub fn at_end(path: &Path) -> Self {
        let meta = std::fs::metadata(path).ok();
        Self {
            path: path.to_path_buf(),
            inode: meta.as_ref().map(MetadataExt::ino),
            pos: meta.map_or(0, |m| m.len()),
        }
    }

    /// What was appended since the last call; a rotated or truncated file is read from its start.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn read_new(&mut self) -> io::Result<Vec<u8>> {
        let Ok(meta) = std::fs::metadata(&self.path) else { return Ok(Vec::new()) };
        if self.inode != Some(meta.ino()) || meta.len() < self.pos {
            self.inode = Some(meta.ino());
            self.pos = 0;
        }
        if meta.len() == self.pos {
            return Ok(Vec::new());
        }
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.pos))?;
        let mut bytes = Vec::new();
        file.take(meta.len() - self.pos).read_to_end(&mut bytes)?;
        self.pos += bytes.len() as u64;
        Ok(bytes)
    }
}

/// Prints what is appended to the files until interrupted.
fn follow(files: &mut [Followed], several: bool) -> Result<(), SupervisorError> {
    let mut last: Option<usize> = None;
    loop {
        for (i, f) in files.iter_mut().enumerate() {
            let bytes =
                f.read_new().map_err(|e| SupervisorError::Runtime(format!("{}: {e}", f.path.display())))?;
            if bytes.is_empty() {
                continue;
            }
            let mut out = io::stdout().lock();
            if several && last != Some(i) {
                writeln!(out, "\n==> {} <==", f.path.display()).map_err(stdout_gone)?;
            }
            last = Some(i);
            out.write_all(&bytes).and_then(|()| out.flush()).map_err(stdout_gone)?;
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sup-logs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn tail_takes_the_last_lines_across_blocks_and_after_an_offset() {
        let dir = temp("tail");
        let path = dir.join("a.log");
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        assert_eq!(tail_lines(&path, 3, 0).unwrap(), ["line 4997", "line 4998", "line 4999"]);
        assert_eq!(tail_lines(&path, 0, 0).unwrap(), Vec::<String>::new());
        let offset = text.find("line 4999").unwrap() as u64;
        assert_eq!(tail_lines(&path, 10, offset).unwrap(), ["line 4999"]);
        std::fs::write(&path, "no newline at the end").unwrap();
        assert_eq!(tail_lines(&path, 2, 0).unwrap(), ["no newline at the end"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn following_survives_rotation_by_rename() {
        let dir = temp("follow");
        let path = dir.join("agent.log");
        std::fs::write(&path, "old\n").unwrap();
        let mut f = Followed::at_end(&path);
        assert!(f.read_new().unwrap().is_empty());
        std::fs::write(&path, "old\nnew 1\n").unwrap();
        assert_eq!(f.read_new().unwrap(), b"new 1\n");
        std::fs::rename(&path, dir.join("agent.log.2026-01-01")).unwrap();
        std::fs::write(&path, "after rotation\n").unwrap();
        assert_eq!(f.read_new().unwrap(), b"after rotation\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
