//! The human log file (DESIGN §6): `logs/<agent>.log`, rotated daily (UTC) by renaming it to
//! `<agent>.log.YYYY-MM-DD` and starting a fresh file under the same name, keeping the newest 14.
//!
//! Rotating by rename (rather than writing to dated files, as `tracing-appender` does) keeps one
//! stable name that `tail -F logs/futures_agent.log` follows across days: `tail -F` notices the
//! rename and reopens the new file. Log timestamps are wall-clock time; this is the one place
//! where the wall clock is right, since a log is read by people.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::time::{format_utc_date, utc_day};

/// Milliseconds since the Unix epoch, wall clock.
pub fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Debug)]
struct State {
    file: File,
    day: i64,
}

/// A log file that rotates itself at the first write of each UTC day. Cloning shares it.
#[derive(Debug, Clone)]
pub struct DailyFile {
    path: PathBuf,
    keep: usize,
    clock: fn() -> i64,
    state: Arc<Mutex<State>>,
}

impl DailyFile {
    /// Opens `dir/name` for appending, keeping `keep` rotated files. A file left from an earlier
    /// day is rotated first.
    ///
    /// # Errors
    /// When the directory or file cannot be created or opened.
    pub fn open(dir: &Path, name: &str, keep: usize) -> io::Result<Self> {
        Self::open_with_clock(dir, name, keep, wall_clock_ms)
    }

    /// As [`DailyFile::open`], with the clock given (for tests).
    ///
    /// # Errors
    /// As [`DailyFile::open`].
    pub fn open_with_clock(dir: &Path, name: &str, keep: usize, clock: fn() -> i64) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(name);
        let today = utc_day(clock());
        if let Ok(meta) = std::fs::metadata(&path) {
            let modified_ms = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
            if meta.len() > 0 && utc_day(modified_ms) < today {
                rotate(&path, utc_day(modified_ms), keep)?;
            }
        }
        let file = append(&path)?;
        Ok(Self { path, keep, clock, state: Arc::new(Mutex::new(State { file, day: today })) })
    }

    /// The current file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_line(&self, buf: &[u8]) -> io::Result<()> {
        let mut state = self.state.lock().map_err(|_| io::Error::other("log file lock poisoned"))?;
        let today = utc_day((self.clock)());
        if today > state.day {
            state.file.flush()?;
            rotate(&self.path, state.day, self.keep)?;
            state.file = append(&self.path)?;
            state.day = today;
        }
        state.file.write_all(buf)
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Renames `path` to `path.YYYY-MM-DD` (of `day`) and deletes the oldest rotated files beyond
/// `keep`.
fn rotate(path: &Path, day: i64, keep: usize) -> io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dated = path.with_file_name(format!("{name}.{}", format_utc_date(day * crate::time::DAY_MS)));
    if path.exists() {
        std::fs::rename(path, &dated)?;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let prefix = format!("{name}.");
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
        .collect();
    // Dated names sort chronologically.
    rotated.sort();
    let excess = rotated.len().saturating_sub(keep);
    for old in &rotated[..excess] {
        std::fs::remove_file(old)?;
    }
    Ok(())
}

/// A writer handle for one log event (what `tracing-subscriber`'s `MakeWriter` hands out).
#[derive(Debug)]
pub struct DailyFileWriter(DailyFile);

impl Write for DailyFileWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl DailyFile {
    /// A writer for one event.
    pub fn writer(&self) -> DailyFileWriter {
        DailyFileWriter(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    static NOW: AtomicI64 = AtomicI64::new(0);
    fn fake_clock() -> i64 {
        NOW.load(Ordering::SeqCst)
    }

    #[test]
    fn rotates_by_rename_at_the_day_change_and_keeps_the_newest() {
        let dir = std::env::temp_dir().join(format!("logfile-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let day = crate::time::DAY_MS;
        NOW.store(20_000 * day + 5, Ordering::SeqCst);
        let log = DailyFile::open_with_clock(&dir, "agent.log", 2, fake_clock).unwrap();
        log.writer().write_all(b"day one\n").unwrap();
        for n in 1..=3 {
            NOW.store((20_000 + n) * day + 5, Ordering::SeqCst);
            log.writer().write_all(format!("day {}\n", n + 1).as_bytes()).unwrap();
        }
        assert_eq!(std::fs::read_to_string(log.path()).unwrap(), "day 4\n");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // Day 20000 is 2024-10-04; its file was pruned, keeping the two newest.
        assert_eq!(names, ["agent.log", "agent.log.2024-10-05", "agent.log.2024-10-06"]);
        assert_eq!(std::fs::read_to_string(dir.join("agent.log.2024-10-06")).unwrap(), "day 3\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
