//! The systemd notification protocol (`sd_notify(3)`), written directly: one datagram of
//! `KEY=VALUE` lines to the Unix socket named by `NOTIFY_SOCKET`, a filesystem path or, when it
//! starts with `@`, an abstract socket (Linux). `READY=1` when started, `WATCHDOG=1` at least
//! every half of `WATCHDOG_USEC` (when `WATCHDOG_PID` is unset or ours), `STOPPING=1` on the way
//! down, `STATUS=...` for `systemctl status`. Outside systemd (`NOTIFY_SOCKET` unset) every call
//! does nothing.

use std::cell::Cell;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// A connection to systemd's notification socket, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
    watchdog: Option<Duration>,
    last_ping: Cell<Option<Instant>>,
}

impl Notifier {
    /// From the environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`).
    ///
    /// # Errors
    /// When `NOTIFY_SOCKET` is set but names no usable address, or no socket can be made.
    pub fn from_env() -> io::Result<Self> {
        let socket = std::env::var_os("NOTIFY_SOCKET").map(|s| s.to_string_lossy().into_owned());
        let watchdog_usec = std::env::var("WATCHDOG_USEC").ok().and_then(|v| v.parse::<u64>().ok());
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        Self::new(socket.as_deref(), watchdog_usec.filter(|_| for_us).map(Duration::from_micros))
    }

    /// To the socket `path` (`@name` for an abstract one), with a watchdog interval.
    ///
    /// # Errors
    /// When the address is unusable or no socket can be made.
    pub fn new(path: Option<&str>, watchdog: Option<Duration>) -> io::Result<Self> {
        let target = match path.filter(|p| !p.is_empty()) {
            None => None,
            Some(path) => {
                let addr = match path.strip_prefix('@') {
                    Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
                    None => SocketAddr::from_pathname(path)?,
                };
                Some((UnixDatagram::unbound()?, addr))
            }
        };
        Ok(Self { target, watchdog: watchdog.filter(|w| !w.is_zero()), last_ping: Cell::new(None) })
    }

    /// True when running under systemd's notification protocol.
    pub fn active(&self) -> bool {
        self.target.is_some()
    }

    /// Sends `state` (`READY=1`, `STATUS=...`, newline-separated pairs).
    pub fn notify(&self, state: &str) {
        if let Some((socket, addr)) = &self.target {
            // systemd may be gone or busy: nothing useful to do about a lost notification.
            let _ = socket.send_to_addr(state.as_bytes(), addr);
        }
    }

    /// Sends `WATCHDOG=1` if half the watchdog interval has passed since the last one.
    pub fn keepalive(&self) {
        let Some(interval) = self.watchdog else { return };
        let due = self.last_ping.get().is_none_or(|last| last.elapsed() >= interval / 2);
        if due {
            self.notify("WATCHDOG=1");
            self.last_ping.set(Some(Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn notifies_a_socket_on_a_path() {
        let path = std::env::temp_dir().join(format!("sup-notify-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::new(path.to_str(), Some(Duration::from_secs(10))).unwrap();
        assert!(n.active());
        n.notify("READY=1");
        assert_eq!(receive(&listener), "READY=1");
        n.keepalive();
        assert_eq!(receive(&listener), "WATCHDOG=1");
        // Not due again until half the interval has passed.
        n.keepalive();
        listener.set_nonblocking(true).unwrap();
        assert!(listener.recv(&mut [0u8; 16]).is_err());
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn notifies_an_abstract_socket() {
        let name = format!("sup-notify-abstract-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::new(Some(&format!("@{name}")), None).unwrap();
        n.notify("READY=1\nSTATUS=up");
        assert_eq!(receive(&listener), "READY=1\nSTATUS=up");
        // No watchdog interval: keepalive sends nothing.
        n.keepalive();
        listener.set_nonblocking(true).unwrap();
        assert!(listener.recv(&mut [0u8; 16]).is_err());
    }

    #[test]
    fn outside_systemd_nothing_is_sent() {
        let n = Notifier::new(None, Some(Duration::from_secs(1))).unwrap();
        assert!(!n.active());
        n.notify("READY=1");
        n.keepalive();
    }
}
