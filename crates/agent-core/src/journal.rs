//! The trade journal (DESIGN §6): `logs/<agent>_trades.jsonl`, one JSON object per line (order
//! sent, order update, fill, position opened or closed, breaker, day rollover), each with `seq`
//! (1, 2, 3, ... with no holes), `ts` (event time, ms) and `kind`.
//!
//! Appends only. Records whose loss would lose money (fills and position records) are synced to
//! disk before `append` returns; the others are flushed and synced with the next such record.
//! On open, the file is read back: a torn last line (a crash mid-write: no newline, or not
//! JSON) is cut off with a warning, since its record was never acknowledged; anything wrong
//! before the last line (bad JSON, a gap or repeat in `seq`) is corruption that a person has to
//! look at, and opening fails naming the line.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// Event time in ms (exchange time where the event came from the exchange).
    pub ts: i64,
    /// What happened (`order_sent`, `order_update`, `fill`, `position_opened`, ...).
    pub kind: String,
    /// The record's own fields.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// How hard an append holds on to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Written and synced to disk before `append` returns (fills, positions).
    Sync,
    /// Written to the OS; synced with the next `Sync` record or `sync()`.
    Buffered,
}

/// A journal problem.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened, read or written.
    #[error("journal {}: {source}", path.display())]
    Io {
        /// The journal file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A line before the last is not a valid record, or `seq` is out of order.
    #[error("journal {} line {line}: {problem}; the file needs a look before the agent can trust it", path.display())]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The record's fields could not be serialized, or would clash with `seq`, `ts`, `kind`.
    #[error("journal record {kind:?}: {problem}")]
    BadRecord {
        /// The record kind.
        kind: String,
        /// What is wrong.
        problem: String,
    },
}

/// What opening the journal found.
#[derive(Debug)]
pub struct Opened {
    /// The journal, ready to append.
    pub journal: Journal,
    /// Every record already in it, in order.
    pub records: Vec<JournalRecord>,
    /// A warning when a torn last line was cut off.
    pub warning: Option<String>,
}

/// An open journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and reads it back.
    ///
    /// # Errors
    /// When the file cannot be read or written, or a line before the last is corrupt.
    pub fn open(path: &Path) -> Result<Opened, JournalError> {
        let io_err = |source| JournalError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io_err)?;
        let bytes = std::fs::read(path).map_err(io_err)?;
        let (records, good_len, warning) = read_back(path, &bytes)?;
        if good_len < bytes.len() {
            file.set_len(good_len as u64).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
        }
        file.flush().map_err(io_err)?;
        let next_seq = records.last().map_or(1, |r| r.seq + 1);
        Ok(Opened { journal: Self { path: path.to_path_buf(), file, next_seq }, records, warning })
    }

    /// Reads the journal at `path` without opening it for writing (a torn last line is skipped,
    /// as [`Journal::open`] would cut it); no file is no records.
    ///
    /// # Errors
    /// When the file cannot be read, or a line before the last is corrupt.
    pub fn read(path: &Path) -> Result<Vec<JournalRecord>, JournalError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(JournalError::Io { path: path.to_path_buf(), source }),
        };
        Ok(read_back(path, &bytes)?.0)
    }

    /// Appends a record of `kind` at event time `ts` with `fields` (a struct or map that
    /// serializes to a JSON object); returns its `seq`.
    ///
    /// # Errors
    /// When `fields` is not a JSON object or uses `seq`, `ts` or `kind`, or the write fails.
    pub fn append<T: Serialize>(
        &mut self,
        kind: &str,
        ts: i64,
        fields: &T,
        durability: Durability,
    ) -> Result<u64, JournalError> {
        let bad = |problem: String| JournalError::BadRecord { kind: kind.to_owned(), problem };
        let fields = match serde_json::to_value(fields).map_err(|e| bad(e.to_string()))? {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => return Err(bad(format!("fields must be a JSON object, not {other}"))),
        };
        if let Some(clash) = ["seq", "ts", "kind"].into_iter().find(|k| fields.contains_key(*k)) {
            return Err(bad(format!("field {clash:?} is reserved")));
        }
        let record = JournalRecord { seq: self.next_seq, ts, kind: kind.to_owned(), fields };
        let mut line = serde_json::to_vec(&record).map_err(|e| bad(e.to_string()))?;
        line.push(b'\n');
        let io_err = |source| JournalError::Io { path: self.path.clone(), source };
        self.file.write_all(&line).map_err(io_err)?;
        if durability == Durability::Sync {
            self.file.sync_data().map_err(io_err)?;
        }
        self.next_seq += 1;
        Ok(record.seq)
    }

    /// Syncs everything appended so far to disk.
    ///
    /// # Errors
    /// When the sync fails.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(|source| JournalError::Io { path: self.path.clone(), source })
    }

    /// The `seq` the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }
}

/// Parses the file's bytes: the records, the length of the good prefix, and a warning when a
/// torn last line was left out.
fn read_back(path: &Path, bytes: &[u8]) -> Result<(Vec<JournalRecord>, usize, Option<String>), JournalError> {
    let mut records = Vec::new();
    let mut start = 0;
    let mut line_no = 0;
    while start < bytes.len() {
        line_no += 1;
        let end = bytes[start..].iter().position(|b| *b == b'\n').map(|i| start + i);
        let is_last = end.is_none_or(|e| e + 1 == bytes.len());
        let text = &bytes[start..end.unwrap_or(bytes.len())];
        let expected = records.last().map_or(1, |r: &JournalRecord| r.seq + 1);
        let checked = match serde_json::from_slice::<JournalRecord>(text) {
            Ok(r) if r.seq != expected => {
                // A whole record out of sequence is not a torn write: someone edited the file.
                let problem = format!("seq {} where {expected} was expected", r.seq);
                return Err(JournalError::Corrupt { path: path.to_path_buf(), line: line_no, problem });
            }
            Ok(_) if end.is_none() => Err("no newline at the end".to_owned()),
            Ok(r) => Ok(r),
            Err(e) => Err(format!("not a journal record: {e}")),
        };
        match checked {
            Ok(record) => records.push(record),
            Err(problem) if is_last => {
                let warning = format!(
                    "journal {} line {line_no}: torn last line dropped ({problem}); its record was never acknowledged",
                    path.display()
                );
                return Ok((records, start, Some(warning)));
            }
            Err(problem) => {
                return Err(JournalError::Corrupt { path: path.to_path_buf(), line: line_no, problem });
            }
        }
        start = end.map_or(bytes.len(), |e| e + 1);
    }
    Ok((records, bytes.len(), None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("logs").join("trades.jsonl")
    }

    #[test]
    fn read_only_skips_a_torn_last_line_and_refuses_a_corrupt_middle_one() {
        let path = temp_path("read-only");
        assert!(Journal::read(&path).unwrap().is_empty(), "no file is no records");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let good = "{\"seq\":1,\"ts\":5,\"kind\":\"session\",\"session_ms\":5}\n";
        std::fs::write(&path, format!("{good}{{\"seq\":2,\"ts\":6,\"ki")).unwrap();
        let records = Journal::read(&path).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].seq, records[0].kind.as_str()), (1, "session"));
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("\"ki"), "reading leaves the file alone");
        std::fs::write(&path, format!("not json\n{good}")).unwrap();
        let err = Journal::read(&path).unwrap_err();
        assert!(matches!(err, JournalError::Corrupt { line: 1, .. }), "{err}");
    }

    #[test]
    fn appends_and_reads_back_in_order() {
        let path = temp_path("roundtrip");
        let mut j = Journal::open(&path).unwrap().journal;
        assert_eq!(
            j.append("order_sent", 10, &json!({"symbol": "BTCUSDT"}), Durability::Buffered).unwrap(),
            1
        );
        assert_eq!(j.append("fill", 11, &json!({"qty": "0.001"}), Durability::Sync).unwrap(), 2);
        drop(j);
        let opened = Journal::open(&path).unwrap();
        assert_eq!(opened.warning, None);
        assert_eq!(opened.records.len(), 2);
        assert_eq!(opened.records[1].kind, "fill");
        assert_eq!(opened.records[1].fields["qty"], json!("0.001"));
        assert_eq!(opened.journal.next_seq(), 3);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\"seq\":1,\"ts\":10,\"kind\":\"order_sent\""), "{text}");
    }

    #[test]
    fn torn_last_line_is_dropped_with_a_warning() {
        let path = temp_path("torn");
        let mut j = Journal::open(&path).unwrap().journal;
        j.append("fill", 1, &json!({"qty": "1"}), Durability::Sync).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":2,\"ts\":2,\"ki").unwrap();
        drop(f);
        let opened = Journal::open(&path).unwrap();
        assert_eq!(opened.records.len(), 1);
        assert!(opened.warning.as_deref().unwrap().contains("line 2"), "{:?}", opened.warning);
        let mut j = opened.journal;
        assert_eq!(j.append("fill", 3, &json!({}), Durability::Sync).unwrap(), 2);
        drop(j);
        let again = Journal::open(&path).unwrap();
        assert_eq!((again.records.len(), again.warning), (2, None));
    }

    #[test]
    fn corruption_before_the_last_line_refuses_to_open() {
        let path = temp_path("corrupt");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "{\"seq\":1,\"ts\":1,\"kind\":\"a\"}\nGARBAGE\n{\"seq\":2,\"ts\":2,\"kind\":\"b\"}\n",
        )
        .unwrap();
        let err = Journal::open(&path).unwrap_err();
        assert!(matches!(err, JournalError::Corrupt { line: 2, .. }), "{err}");
        std::fs::write(&path, "{\"seq\":1,\"ts\":1,\"kind\":\"a\"}\n{\"seq\":3,\"ts\":2,\"kind\":\"b\"}\n{\"seq\":4,\"ts\":2,\"kind\":\"b\"}\n").unwrap();
        let err = Journal::open(&path).unwrap_err();
        assert!(err.to_string().contains("line 2: seq 3 where 2 was expected"), "{err}");
    }

    #[test]
    fn reserved_and_non_object_fields_are_refused() {
        let path = temp_path("reserved");
        let mut j = Journal::open(&path).unwrap().journal;
        assert!(j.append("x", 1, &json!({"seq": 9}), Durability::Buffered).is_err());
        assert!(j.append("x", 1, &json!([1, 2]), Durability::Buffered).is_err());
        assert_eq!(j.append("x", 1, &(), Durability::Buffered).unwrap(), 1);
    }
}
