//! `MarketDataError`: why a kline or funding file could not be loaded. Every variant carries the
//! file, and every variant about a row carries its 1-based line number, so the message alone
//! points at the spot: `data/BTCUSDT.csv line 1234: column 3 (high) "abc" is not a decimal number`.

use std::io;
use std::path::{Path, PathBuf};

/// A market-data file that could not be read, or whose content breaks the format.
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    /// The file could not be read (missing, unreadable, a directory).
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A line breaks the format: wrong column count, a field that is not a number, an
    /// inconsistent bar (a non-positive price, `low` above `open`), a missing header, a truncated
    /// last line, bytes that are not UTF-8, a time off the interval grid.
    #[error("{} line {line}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number, counting the header.
        line: usize,
        /// What is wrong with the line, naming the column where there is one.
        reason: String,
    },
    /// A row's time is earlier than the row before it: rows must be sorted by time.
    #[error(
        "{} line {line}: time {open_time_ms} is earlier than the previous row's {previous_ms}; \
         rows must be sorted by time",
        path.display()
    )]
    Unsorted {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the out-of-order row.
        line: usize,
        /// The row's time in ms (the open time of a kline, the funding time of a funding row).
        open_time_ms: i64,
        /// The time of the row before it, in ms.
        previous_ms: i64,
    },
    /// A row has the same time as the row before it.
    #[error("{} line {line}: time {open_time_ms} repeats the previous row's time", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the second of the two rows.
        line: usize,
        /// The repeated time in ms (open time of a kline, funding time of a funding row).
        open_time_ms: i64,
    },
    /// The file holds no data rows (it is empty, or has only a header).
    #[error("{}: no data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl MarketDataError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::Malformed { path, .. }
            | Self::Unsorted { path, .. }
            | Self::Duplicate { path, .. }
            | Self::Empty { path } => path,
        }
    }

    /// The 1-based line the error is about, when it is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. } | Self::Unsorted { line, .. } | Self::Duplicate { line, .. } => {
                Some(*line)
            }
            Self::Io { .. } | Self::Empty { .. } => None,
        }
    }

    /// Builds a `Malformed` error.
    pub(crate) fn malformed(path: &Path, line: usize, reason: impl Into<String>) -> Self {
        Self::Malformed { path: path.to_path_buf(), line, reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_error_names_file_and_line() {
        let path = Path::new("data/BTCUSDT.csv");
        let errors = [
            MarketDataError::malformed(path, 1234, "column 3 (high) \"abc\" is not a decimal number"),
            MarketDataError::Unsorted { path: path.into(), line: 7, open_time_ms: 5, previous_ms: 9 },
            MarketDataError::Duplicate { path: path.into(), line: 8, open_time_ms: 5 },
        ];
        let want = [
            "data/BTCUSDT.csv line 1234: column 3 (high) \"abc\" is not a decimal number",
            "data/BTCUSDT.csv line 7: time 5 is earlier than the previous row's 9; rows must be sorted by time",
            "data/BTCUSDT.csv line 8: time 5 repeats the previous row's time",
        ];
        for (error, want) in errors.iter().zip(want) {
            assert_eq!(error.to_string(), want);
            assert_eq!(error.path(), path);
        }
        assert_eq!(
            errors.iter().map(MarketDataError::line).collect::<Vec<_>>(),
            [Some(1234), Some(7), Some(8)]
        );
    }

    #[test]
    fn file_level_errors_name_the_file() {
        let io = MarketDataError::Io {
            path: "x/y.csv".into(),
            source: io::Error::new(io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(io.to_string(), "x/y.csv: cannot read the file: gone");
        assert_eq!(io.line(), None);
        assert!(std::error::Error::source(&io).is_some());
        let empty = MarketDataError::Empty { path: "x/y.csv".into() };
        assert_eq!(empty.to_string(), "x/y.csv: no data rows");
        assert_eq!(empty.path(), Path::new("x/y.csv"));
    }
}
