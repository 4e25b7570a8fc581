//! Machine learning for the main agent's gate (DESIGN §11): an L2-regularized logistic
//! regression written here (`logistic`: standardization, Newton/IRLS fit, JSON persistence) and
//! the walk-forward training around it (`walkforward`: samples labelled only once their horizon
//! has passed, a rolling window, periodic refits). Deterministic: no randomness at all, so the
//! same data gives the same model bit for bit. `f64` throughout: statistics, never money.

pub mod logistic;
pub mod walkforward;

pub use logistic::{FitOptions, LogisticModel, MlError, Scaler};
pub use walkforward::{GateParams, WalkForward};

#[cfg(test)]
mod tests;
