//! risk-core: pure risk math (no I/O, no clock).
