//! Reading an agent's journal (`logs/<agent>_trades.jsonl`, DESIGN §6) into its [`Ledger`],
//! incrementally: the reader remembers the byte offset after the last complete line and, on the
//! next refresh, parses only what was appended. A file that shrank or was replaced (another
//! inode: rotation, a restore) is read again from the start. A last line without its newline is
//! left for the next refresh (the agent may be writing it).
//!
//! Speed: most records (bars, orders, fills) do not matter to the monitor, so each line's head
//! (`{"seq":N,"ts":N,"kind":"..."`, the order agent-core writes) is scanned by hand, and only the
//! kinds the monitor uses (`position_closed`, `day_rollover`, `breaker`, `session`) are parsed
//! with serde, into small structs of borrowed strings, and money from its decimal string. A line
//! whose head is in another order falls back to a full parse. A line that does not parse (bad
//! JSON, no `ts` or `kind`, a trade without a decimal `pnl`) is counted and skipped; the count and
//! the first such line number are shown by the dashboard and the report.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::ledger::Ledger;

/// Bytes read from the file at a time.
const CHUNK: usize = 4 << 20;

/// How the journal file looked at the last refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Not read yet.
    Unread,
    /// Read.
    Present,
    /// No such file.
    Missing,
    /// It exists but could not be read; the error.
    Unreadable(String),
}

/// An agent's journal, read so far.
#[derive(Debug)]
pub struct JournalTail {
    path: PathBuf,
    /// Bytes consumed: the end of the last complete line.
    offset: u64,
    inode: Option<u64>,
    /// Lines consumed (for line numbers in messages).
    lines: u64,
    /// Lines that did not parse.
    skipped: u64,
    /// 1-based number of the first line that did not parse.
    first_skipped: Option<u64>,
    /// Bytes after the last newline (a line being written, or a torn one).
    partial: u64,
    state: FileState,
    /// What the journal says.
    pub ledger: Ledger,
}

/// The head every record starts with.
#[derive(Debug, Deserialize)]
struct Head<'a> {
    ts: i64,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// The fields of `position_closed` that the monitor uses.
#[derive(Debug, Deserialize)]
struct Closed<'a> {
    #[serde(borrow)]
    pnl: Cow<'a, str>,
    #[serde(default, borrow)]
    strategy: Option<Cow<'a, str>>,
}

/// The field of `day_rollover` that the monitor uses.
#[derive(Debug, Deserialize)]
struct Rollover<'a> {
    #[serde(borrow)]
    open_equity: Cow<'a, str>,
}

/// The field of `breaker` that the monitor uses.
#[derive(Debug, Deserialize)]
struct Breaker<'a> {
    #[serde(default, borrow)]
    day: Option<Cow<'a, str>>,
}

impl JournalTail {
    /// A reader of the journal at `path` feeding `ledger`; nothing is read until [`refresh`].
    ///
    /// [`refresh`]: JournalTail::refresh
    pub fn new(path: PathBuf, ledger: Ledger) -> Self {
        Self {
            path,
            offset: 0,
            inode: None,
            lines: 0,
            skipped: 0,
            first_skipped: None,
            partial: 0,
            state: FileState::Unread,
            ledger,
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the file looked at the last refresh.
    pub fn state(&self) -> &FileState {
        &self.state
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Lines that did not parse, and the number of the first.
    pub fn skipped(&self) -> (u64, Option<u64>) {
        (self.skipped, self.first_skipped)
    }

    /// Bytes after the last newline at the last refresh (0 normally).
    pub fn partial_bytes(&self) -> u64 {
        self.partial
    }

    /// Reads what was appended since the last refresh (all of it the first time, or after the
    /// file shrank or was replaced). Never fails: a missing or unreadable file is kept in
    /// [`state`](JournalTail::state), with what was read before it went away forgotten.
    pub fn refresh(&mut self) {
        match self.read_appended() {
            Ok(()) => self.state = FileState::Present,
            Err(e) => {
                self.restart();
                self.state = if e.kind() == io::ErrorKind::NotFound {
                    FileState::Missing
                } else {
                    FileState::Unreadable(e.to_string())
                };
            }
        }
    }

    fn restart(&mut self) {
        self.offset = 0;
        self.lines = 0;
        self.skipped = 0;
        self.first_skipped = None;
        self.partial = 0;
        self.inode = None;
        self.ledger = self.ledger.cleared();
    }

    fn read_appended(&mut self) -> io::Result<()> {
        let mut file = File::open(&self.path)?;
        let meta = file.metadata()?;
        if self.inode.is_some_and(|ino| ino != meta.ino()) || meta.len() < self.offset {
            self.restart();
        }
        self.inode = Some(meta.ino());
        if meta.len() == self.offset {
            self.partial = 0;
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let read = (&mut file).take(CHUNK as u64).read_to_end(&mut buf)?;
            if let Some(end) = buf.iter().rposition(|b| *b == b'\n') {
                for line in buf[..end].split(|b| *b == b'\n') {
                    self.apply_line(line);
                }
                self.offset += end as u64 + 1;
                buf.drain(..=end);
            }
            if read == 0 {
                break;
            }
        }
        self.partial = buf.len() as u64;
        Ok(())
    }

    /// Parses one line (without its newline) into the ledger, or counts it as skipped.
    fn apply_line(&mut self, line: &[u8]) {
        self.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if apply_record(&mut self.ledger, line).is_none() {
            self.skipped += 1;
            self.first_skipped.get_or_insert(self.lines);
        }
    }
}

/// Applies one record; `None` when it does not parse.
fn apply_record(ledger: &mut Ledger, line: &[u8]) -> Option<()> {
    let (ts, kind) = match scan_head(line) {
        Some(head) => head,
        None => {
            let head: Head<'_> = serde_json::from_slice(line).ok()?;
            (head.ts, head.kind)
        }
    };
    match &*kind {
        "position_closed" => {
            let closed: Closed<'_> = serde_json::from_slice(line).ok()?;
            let pnl = Decimal::from_str(&closed.pnl).ok()?;
            ledger.saw(ts);
            ledger.closed(ts, pnl, closed.strategy.as_deref());
        }
        "day_rollover" => {
            let rollover: Rollover<'_> = serde_json::from_slice(line).ok()?;
            let equity = Decimal::from_str(&rollover.open_equity).ok()?;
            ledger.saw(ts);
            ledger.day_rollover(equity);
        }
        "breaker" => {
            let breaker: Breaker<'_> = serde_json::from_slice(line).ok()?;
            ledger.saw(ts);
            ledger.breaker = Some((ts, breaker.day.map(Cow::into_owned).unwrap_or_default()));
        }
        // A process start, stamped with the wall clock: not a market event (on the simulator the
        // two clocks differ), so it does not move "now" or the start of the series.
        "session" => {
            let _: IgnoredAny = serde_json::from_slice(line).ok()?;
            ledger.sessions += 1;
        }
        // The other kinds are only checked for their head and a closing brace.
        _ if line.trim_ascii_end().ends_with(b"}") => ledger.saw(ts),
        _ => return None,
    }
    Some(())
}

/// Reads `{"seq":N,"ts":N,"kind":"K"` from the start of a line, as agent-core writes it; `None`
/// for anything else (the caller then parses the line fully).
fn scan_head(line: &[u8]) -> Option<(i64, Cow<'_, str>)> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = rest[digits..].strip_prefix(b",\"ts\":").filter(|_| digits > 0)?;
    let negative = rest.first() == Some(&b'-');
    let start = usize::from(negative);
    let digits = rest[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    let magnitude: i64 = std::str::from_utf8(&rest[start..start + digits]).ok()?.parse().ok()?;
    let ts = if negative { -magnitude } else { magnitude };
    let rest = rest[start + digits..].strip_prefix(b",\"kind\":\"")?;
    let len = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    if rest[len] != b'"' {
        return None;
    }
    let kind = std::str::from_utf8(&rest[..len]).ok()?;
    Some((ts, Cow::Borrowed(kind)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    type Case<'a> = (&'a [u8], Option<(i64, &'a str)>);

    #[test]
    fn heads_are_scanned_or_left_to_serde() {
        let cases: [Case<'_>; 6] = [
            (br#"{"seq":1,"ts":1700,"kind":"fill","x":1}"#, Some((1700, "fill"))),
            (br#"{"seq":12,"ts":-5,"kind":"session"}"#, Some((-5, "session"))),
            (br#"{"ts":1,"seq":1,"kind":"fill"}"#, None),
            (br#"{"seq":,"ts":1,"kind":"fill"}"#, None),
            (br#"{"seq":1,"ts":1,"kind":"fi\"ll"}"#, None),
            (br#"{"seq":1,"ts":99999999999999999999,"kind":"x"}"#, None),
        ];
        for (line, want) in cases {
            let got = scan_head(line);
            assert_eq!(got.as_ref().map(|(t, k)| (*t, &**k)), want, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn lines_that_do_not_parse_are_counted_and_skipped() {
        let mut ledger = Ledger::new(dec!(1000), "momentum");
        let lines: [&[u8]; 6] = [
            br#"{"seq":1,"ts":10,"kind":"position_closed","pnl":"5"}"#,
            br#"{"seq":2,"ts":20,"kind":"position_closed","pnl":5}"#,
            br#"{"seq":3,"ts":30,"kind":"fill","#,
            br#"{"ts":40,"kind":"position_closed","seq":4,"pnl":"-1","strategy":"trend"}"#,
            br#"not json"#,
            br#"{"seq":6,"ts":60,"kind":"day_rollover","open_equity":"abc"}"#,
        ];
        let parsed: Vec<bool> = lines.iter().map(|l| apply_record(&mut ledger, l).is_some()).collect();
        assert_eq!(parsed, [true, false, false, true, false, false]);
        assert_eq!(ledger.equity, vec![(10, dec!(1005)), (40, dec!(1004))]);
        assert_eq!(ledger.strategy_name(ledger.trades[1].strategy), "trend");
    }
}
