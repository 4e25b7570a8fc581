//! Workspace root package: it owns the cross-crate tests in `tests/`.
