//! Loads every kline and funding file of the shared real market data (DESIGN §14) and checks row
//! counts, gaps and error reporting on damaged copies. Skips loudly when the data is absent, and
//! fails instead under `REQUIRE_SHARED_DATA=1`.

// A test binary: its helpers panic on purpose, as the #[test] functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use exchange_core::marketdata::{
    KlineSeries, MarketDataError, load_funding, load_klines, parse_klines, shared_data_dir,
};

const HOUR_MS: i64 = 3_600_000;

/// Every kline file: path under the data folder, data rows (`wc -l` minus the header), gaps, and
/// missing hours across those gaps.
const KLINE_FILES: &[(&str, usize, usize, u64)] = &[
    ("spot-1h/AAVEUSDT.csv", 18_583, 1, 166),
    ("spot-1h/ADAUSDT.csv", 20_803, 0, 0),
    ("spot-1h/APTUSDT.csv", 6_002, 0, 0),
    ("spot-1h/ARBUSDT.csv", 18_572, 1, 166),
    ("spot-1h/ATOMUSDT.csv", 6_002, 0, 0),
    ("spot-1h/AVAXUSDT.csv", 20_803, 0, 0),
    ("spot-1h/AXSUSDT.csv", 12_174, 0, 0),
    ("spot-1h/BCHUSDT.csv", 20_803, 0, 0),
    ("spot-1h/BNBUSDT.csv", 12_554, 0, 0),
    ("spot-1h/BTCUSDT.csv", 73_265, 27, 122),
    ("spot-1h/DASHUSDT.csv", 12_174, 0, 0),
    ("spot-1h/DOGEUSDT.csv", 20_803, 0, 0),
    ("spot-1h/DOTUSDT.csv", 20_803, 0, 0),
    ("spot-1h/ENAUSDT.csv", 15_955, 1, 574),
    ("spot-1h/ETCUSDT.csv", 6_002, 0, 0),
    ("spot-1h/ETHUSDT.csv", 73_265, 27, 122),
    ("spot-1h/HBARUSDT.csv", 6_002, 0, 0),
    ("spot-1h/ICPUSDT.csv", 6_002, 0, 0),
    ("spot-1h/INJUSDT.csv", 18_166, 1, 574),
    ("spot-1h/LINKUSDT.csv", 20_803, 0, 0),
    ("spot-1h/LTCUSDT.csv", 20_803, 0, 0),
    ("spot-1h/MATICUSDT.csv", 6_002, 0, 0),
    ("spot-1h/NEARUSDT.csv", 20_803, 0, 0),
    ("spot-1h/OMUSDT.csv", 18_172, 1, 574),
    ("spot-1h/OPUSDT.csv", 18_560, 1, 166),
    ("spot-1h/PAXGUSDT.csv", 12_570, 0, 0),
    ("spot-1h/PEPEUSDT.csv", 15_998, 1, 2_374),
    ("spot-1h/SHIBUSDT.csv", 6_002, 0, 0),
    ("spot-1h/SNXUSDT.csv", 12_571, 0, 0),
    ("spot-1h/SOLUSDT.csv", 50_489, 10, 20),
    ("spot-1h/SUIUSDT.csv", 18_563, 1, 166),
    ("spot-1h/TAOUSDT.csv", 15_725, 1, 574),
    ("spot-1h/TRXUSDT.csv", 18_574, 1, 166),
    ("spot-1h/UNIUSDT.csv", 18_574, 1, 166),
    ("spot-1h/XRPUSDT.csv", 20_803, 0, 0),
    ("spot-1h/XTZUSDT.csv", 20_803, 0, 0),
    ("spot-1h/ZECUSDT.csv", 12_157, 0, 0),
    ("spot-1h/ZROUSDT.csv", 14_059, 1, 574),
    ("futures-1h/BTCUSDT.csv", 58_623, 0, 0),
    ("futures-1h/ETHUSDT.csv", 56_713, 0, 0),
    ("futures-1h/SOLUSDT.csv", 12_035, 0, 0),
    ("futures-1h/BTCUSDT-mark.csv", 56_084, 0, 0),
    ("futures-1h/ETHUSDT-mark.csv", 56_084, 0, 0),
    ("futures-1h/SOLUSDT-mark.csv", 10_924, 1, 1_110),
];

/// Every funding file and its rows.
const FUNDING_FILES: &[(&str, usize)] = &[
    ("futures-1h/BTCUSDT-funding.csv", 7_323),
    ("futures-1h/ETHUSDT-funding.csv", 7_089),
    ("futures-1h/SOLUSDT-funding.csv", 1_504),
];

/// The shared data folder, or `None` to skip (the locator has said so on stderr).
fn data_dir() -> Option<PathBuf> {
    shared_data_dir().unwrap_or_else(|why| panic!("{why}"))
}

/// A fresh folder under the system temp dir, removed by the caller.
fn scratch_dir(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("exchange-core-{name}-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Byte offset at which 1-based line `line` starts.
fn line_start(text: &[u8], line: usize) -> usize {
    if line == 1 {
        return 0;
    }
    text.iter().enumerate().filter(|(_, byte)| **byte == b'\n').nth(line - 2).unwrap().0 + 1
}

#[test]
fn every_kline_file_loads_with_the_expected_rows_and_gaps() {
    let Some(dir) = data_dir() else { return };
    for &(name, rows, gaps, missing) in KLINE_FILES {
        let series = load_klines(&dir.join(name)).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(series.bars.len(), rows, "{name} rows");
        assert_eq!(series.interval_ms, HOUR_MS, "{name} interval");
        assert_eq!((series.gaps.len(), series.missing_bars()), (gaps, missing), "{name} gaps");
        assert!(series.bars.iter().all(|bar| bar.is_consistent()), "{name}");
        let span_hours = (series.bars[rows - 1].open_time_ms - series.bars[0].open_time_ms) / HOUR_MS;
        assert_eq!(span_hours as u64 + 1, rows as u64 + missing, "{name}: rows and gaps cover the span");
    }
}

#[test]
fn perpetual_klines_have_no_gaps_and_sol_mark_has_its_known_hole() {
    let Some(dir) = data_dir() else { return };
    for symbol in ["BTCUSDT", "ETHUSDT", "SOLUSDT"] {
        let series = load_klines(&dir.join(format!("futures-1h/{symbol}.csv"))).unwrap();
        assert_eq!(series.gaps, [], "{symbol} perpetual");
    }
    let mark = load_klines(&dir.join("futures-1h/SOLUSDT-mark.csv")).unwrap();
    assert_eq!(mark.gaps.len(), 1);
    let hole = mark.gaps[0];
    // 2026-02-19 17:00 UTC, the last mark bar before the hole; 2026-04-07 00:00 UTC, the first after.
    assert_eq!((hole.last_before_ms, hole.first_after_ms), (1_771_520_400_000, 1_775_520_000_000));
    assert_eq!(hole.missing_bars, 1_110);
    assert!(mark.bars.iter().all(|bar| bar.volume.is_zero()), "mark klines carry no volume");
}

#[test]
fn every_funding_file_loads_in_increasing_time() {
    let Some(dir) = data_dir() else { return };
    for &(name, rows) in FUNDING_FILES {
        let series = load_funding(&dir.join(name)).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(series.rates.len(), rows, "{name} rows");
        let spacings: BTreeSet<i64> =
            series.rates.windows(2).map(|pair| pair[1].funding_time_ms - pair[0].funding_time_ms).collect();
        assert!(spacings.iter().all(|&spacing| spacing > 0), "{name}");
        if spacings != BTreeSet::from([8 * HOUR_MS]) {
            eprintln!("note: {name} funding spacings are not all 8 h: {spacings:?}");
        }
    }
}

#[test]
fn the_table_lists_every_file_in_the_data() {
    let Some(dir) = data_dir() else { return };
    let mut on_disk = BTreeSet::new();
    for folder in ["spot-1h", "futures-1h"] {
        for entry in fs::read_dir(dir.join(folder)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            on_disk.insert(format!("{folder}/{name}"));
        }
    }
    let listed: BTreeSet<String> =
        KLINE_FILES.iter().map(|f| f.0).chain(FUNDING_FILES.iter().map(|f| f.0)).map(String::from).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn the_dump_layout_in_microseconds_reads_to_the_same_bars() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("spot-1h/BTCUSDT.csv");
    let text = fs::read_to_string(&path).unwrap();
    let dump: String = text
        .lines()
        .skip(1)
        .take(2_000)
        .map(|line| {
            let (open_ms, rest) = line.split_once(',').unwrap();
            let open_us: i64 = open_ms.parse::<i64>().unwrap() * 1000;
            let close_us = open_us + HOUR_MS * 1000 - 1;
            format!("{open_us},{rest},{close_us},0,0,0,0,0\r\n")
        })
        .collect();
    let from_dump = parse_klines(&dump, Path::new("dump.csv")).unwrap();
    let from_file = load_klines(&path).unwrap();
    assert_eq!(from_dump.bars, from_file.bars[..2_000]);
    assert_eq!(from_dump.interval_ms, HOUR_MS);
}

/// Writes `bytes` as `name` in a scratch folder, loads it, removes it, and returns the error.
fn load_damaged(name: &str, bytes: &[u8]) -> (PathBuf, MarketDataError) {
    let dir = scratch_dir("damaged");
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    let result: Result<KlineSeries, _> = load_klines(&path);
    fs::remove_dir_all(&dir).unwrap();
    let error = result.expect_err("a damaged file must not load");
    (path, error)
}

/// Asserts `error` is `Malformed` on `line` and its message names `path`, the line and `fragment`.
fn assert_names_file_and_line(error: &MarketDataError, path: &Path, line: usize, fragment: &str) {
    assert!(matches!(error, MarketDataError::Malformed { .. }), "{error:?}");
    assert_eq!(error.path(), path);
    assert_eq!(error.line(), Some(line));
    let message = error.to_string();
    assert!(message.starts_with(&format!("{} line {line}: ", path.display())), "{message}");
    assert!(message.contains(fragment), "{message} lacks {fragment:?}");
}

#[test]
fn a_copy_truncated_mid_line_names_the_file_and_the_last_line() {
    let Some(dir) = data_dir() else { return };
    let bytes = fs::read(dir.join("spot-1h/BTCUSDT.csv")).unwrap();
    // Cut inside line 50_001 (row 50_000), in the middle of the line.
    let start = line_start(&bytes, 50_001);
    let end = line_start(&bytes, 50_002);
    let (path, error) = load_damaged("BTCUSDT-cut.csv", &bytes[..(start + end) / 2]);
    assert_names_file_and_line(&error, &path, 50_001, "the file looks truncated");
    // Cut just before the line ending: every column still reads, only the ending is missing.
    let (path, error) = load_damaged("BTCUSDT-cut-at-end.csv", &bytes[..end - 1]);
    assert_names_file_and_line(&error, &path, 50_001, "has no line ending, so the file looks truncated");
}

#[test]
fn a_copy_with_a_garbled_byte_names_the_file_and_its_line() {
    let Some(dir) = data_dir() else { return };
    let bytes = fs::read(dir.join("spot-1h/BTCUSDT.csv")).unwrap();
    let line = 36_637;
    let start = line_start(&bytes, line);
    let high_start =
        start + bytes[start..].iter().enumerate().filter(|(_, b)| **b == b',').nth(1).unwrap().0 + 1;

    let mut not_utf8 = bytes.clone();
    not_utf8[high_start] = 0xFF;
    let (path, error) = load_damaged("BTCUSDT-not-utf8.csv", &not_utf8);
    assert_names_file_and_line(&error, &path, line, "byte 0xFF at position");

    let mut garbled = bytes.clone();
    garbled[high_start] = b'#';
    let (path, error) = load_damaged("BTCUSDT-garbled.csv", &garbled);
    assert_names_file_and_line(&error, &path, line, "column 3 (high) \"#");

    let mut nul = bytes;
    nul[high_start + 2] = 0;
    let (path, error) = load_damaged("BTCUSDT-nul.csv", &nul);
    assert_names_file_and_line(&error, &path, line, "column 3 (high)");
}
