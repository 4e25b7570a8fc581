//! PID files held under an exclusive lock for the process's whole life (DESIGN §6, §8).
//!
//! The lock, not the number, says the process is alive: a PID file whose lock nobody holds is
//! stale (its process died), whatever PID it names, and a PID can be reused by an unrelated
//! process. So the supervisor never signals a PID whose file is not locked. Creation is not
//! check-then-create: the file is opened (created if missing), locked without waiting, and only
//! then truncated and written; two starts race on the lock, and exactly one wins.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The PID file of this process, locked until dropped (or until the process exits).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    // Holding the open file holds the lock.
    _file: File,
}

/// Why the PID file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another live process holds it.
    #[error("{} is held by a running process (pid {pid})", path.display())]
    AlreadyRunning {
        /// The PID file.
        path: PathBuf,
        /// The PID written in it (as text; may be empty while it starts).
        pid: String,
    },
    /// The file could not be opened, locked or written.
    #[error("PID file {}: {source}", path.display())]
    Io {
        /// The PID file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// What a PID file says about its process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// Locked: the process is alive, with this PID.
    Running(u32),
    /// The file exists but nobody holds its lock: the process died without cleaning up.
    Stale(Option<u32>),
    /// No PID file.
    Stopped,
}

impl PidFile {
    /// Takes the PID file at `path` for this process.
    ///
    /// # Errors
    /// `AlreadyRunning` when another process holds it; `Io` when it cannot be created, locked or
    /// written.
    pub fn acquire(path: &Path) -> Result<Self, PidFileError> {
        let io_err = |source| PidFileError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(PidFileError::AlreadyRunning {
                    path: path.to_path_buf(),
                    pid: pid.trim().to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        file.set_len(0).map_err(io_err)?;
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        writeln!(file, "{}", std::process::id()).map_err(io_err)?;
        file.sync_all().map_err(io_err)?;
        Ok(Self { path: path.to_path_buf(), _file: file })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Removed while still locked, so no other process can see it unlocked and half gone.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Probes the PID file at `path` without disturbing its owner: a shared lock attempt fails while
/// the owner holds its exclusive lock.
///
/// # Errors
/// When the file exists but cannot be opened or probed.
pub fn probe(path: &Path) -> io::Result<Liveness> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Liveness::Stopped),
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let pid = text.trim().parse::<u32>().ok();
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(Liveness::Stale(pid))
        }
        Err(TryLockError::WouldBlock) => match pid {
            Some(pid) => Ok(Liveness::Running(pid)),
            // Locked but not yet written: the owner is between lock and write.
            None => Ok(Liveness::Running(0)),
        },
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pidfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("run").join("agent.pid")
    }

    #[test]
    fn second_acquire_is_refused_while_held() {
        let path = temp("held");
        let held = PidFile::acquire(&path).unwrap();
        assert_eq!(probe(&path).unwrap(), Liveness::Running(std::process::id()));
        let err = PidFile::acquire(&path).unwrap_err();
        assert!(
            matches!(err, PidFileError::AlreadyRunning { ref pid, .. } if *pid == std::process::id().to_string()),
            "{err}"
        );
        drop(held);
        assert_eq!(probe(&path).unwrap(), Liveness::Stopped);
    }

    #[test]
    fn an_unlocked_file_is_stale_and_can_be_taken() {
        let path = temp("stale");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "99999999\n").unwrap();
        assert_eq!(probe(&path).unwrap(), Liveness::Stale(Some(99_999_999)));
        let taken = PidFile::acquire(&path).unwrap();
        assert_eq!(std::fs::read_to_string(taken.path()).unwrap().trim(), std::process::id().to_string());
    }
}
