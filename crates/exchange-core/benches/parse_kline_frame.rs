//! The client's parse time for one kline WebSocket frame: raw combined-stream JSON text to a
//! domain `Bar` plus its closed flag (`exchange_core::binance::parse::parse_kline_frame`), the
//! hot path of every live bar. Target: under 2 µs per frame.
//!
//! Run: `cargo bench -p exchange-core --bench parse_kline_frame`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use exchange_core::binance::parse::parse_kline_frame;

/// A USD-M combined-stream kline frame as Binance sends it (compact, realistic values).
const FRAME: &str = r#"{"stream":"btcusdt@kline_1h","data":{"e":"kline","E":1764226801234,"s":"BTCUSDT","k":{"t":1764223200000,"T":1764226799999,"s":"BTCUSDT","i":"1h","f":6432178901,"L":6432301245,"o":"91234.50","c":"91410.10","h":"91588.00","l":"91102.30","v":"1532.417","n":122345,"x":true,"q":"139874563.21784","V":"801.223","Q":"73129876.55321","B":"0"}}}"#;

fn bench(c: &mut Criterion) {
    let parsed = parse_kline_frame(FRAME).map(|k| (k.bar.close.get().to_string(), k.closed));
    assert_eq!(parsed.ok(), Some(("91410.10".to_owned(), true)), "the frame parses");
    c.bench_function("parse_kline_frame", |b| {
        b.iter(|| {
            let update = parse_kline_frame(black_box(FRAME));
            black_box(update.map(|k| (k.bar, k.closed)))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
