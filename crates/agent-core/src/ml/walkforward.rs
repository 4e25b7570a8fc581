//! The walk-forward ML gate (DESIGN §11): labelled samples gathered as bars close, a logistic
//! model refitted on a rolling window of them, and the probability a signal must reach.
//!
//! A sample is the feature vector of an asset at the close of grid step `s` (one bar interval
//! per step, counted from the run's first bar), taken every `sample_every` steps. Its label
//! becomes known at the close of step `s + horizon`: 1 when `close[s + horizon] / close[s] - 1`
//! beats `label_threshold` (the round-trip costs plus `label_margin`), else 0. A sample whose
//! asset has no bar exactly `horizon` steps later is dropped (holes are not bridged). Only then
//! does it enter the training window, so a model fitted at the close of step `t` has seen only
//! labels whose horizon ended at or before `t`: nothing from after the decision.
//!
//! The window keeps the last `train_window` labelled samples (all assets pooled, in the order
//! their labels arrived). The first fit happens at the first close with `min_train_samples`
//! labelled samples, then every `retrain_every` steps; each fit warm-starts from the previous
//! model. Until the first fit there is no model, and the gate refuses every signal.
//!
//! Memory is fixed at start: one ring of `horizon + 1` pending samples per asset and the window.

use serde::{Deserialize, Serialize};

use super::logistic::{FitOptions, LogisticModel, MlError};

/// The gate's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateParams {
    /// Probability a signal needs to trade. Default 0.5.
    pub threshold: f64,
    /// Bars ahead the label looks. Default 24.
    pub horizon: usize,
    /// Return above the round-trip costs a label needs to be 1. Default 0.
    pub label_margin: f64,
    /// A sample every this many bars. Default 4.
    pub sample_every: usize,
    /// Labelled samples in the rolling training window. Default 4000.
    pub train_window: usize,
    /// Labelled samples needed for the first fit. Default 1000.
    pub min_train_samples: usize,
    /// Bars between fits. Default 168 (a week of hours).
    pub retrain_every: usize,
    /// L2 penalty. Default 1.
    pub l2: f64,
    /// Most Newton steps per fit. Default 25.
    pub max_iter: usize,
}

impl Default for GateParams {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            horizon: 24,
            label_margin: 0.0,
            sample_every: 4,
            train_window: 4000,
            min_train_samples: 1000,
            retrain_every: 168,
            l2: 1.0,
            max_iter: 25,
        }
    }
}

impl GateParams {
    /// Every range problem, as `key = value: rule` lines.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |ok: bool, key: &str, value: String, rule: &str| {
            if !ok {
                out.push(format!("{key} = {value} is out of range: {rule}"));
            }
        };
        check(
            (0.0..=1.0).contains(&self.threshold),
            "threshold",
            self.threshold.to_string(),
            "must be in [0, 1]",
        );
        check(self.horizon >= 1, "horizon", self.horizon.to_string(), "must be at least 1");
        check(
            self.label_margin.is_finite(),
            "label_margin",
            self.label_margin.to_string(),
            "must be a number",
        );
        check(self.sample_every >= 1, "sample_every", self.sample_every.to_string(), "must be at least 1");
        check(self.train_window >= 10, "train_window", self.train_window.to_string(), "must be at least 10");
        check(
            self.min_train_samples >= 10 && self.min_train_samples <= self.train_window,
            "min_train_samples",
            self.min_train_samples.to_string(),
            "must be in [10, train_window]",
        );
        check(self.retrain_every >= 1, "retrain_every", self.retrain_every.to_string(), "must be at least 1");
        check(self.l2.is_finite() && self.l2 > 0.0, "l2", self.l2.to_string(), "must be above 0");
        check(self.max_iter >= 1, "max_iter", self.max_iter.to_string(), "must be at least 1");
        out
    }
}

/// Samples of one asset waiting for their label.
#[derive(Debug, Clone)]
struct Pending {
    features: Vec<f64>,
    close: Vec<f64>,
    step: Vec<i64>,
}

/// Samples, the rolling window and the current model.
#[derive(Debug, Clone)]
pub struct WalkForward {
    params: GateParams,
    names: Vec<&'static str>,
    d: usize,
    label_threshold: f64,
    pending: Vec<Pending>,
    x: Vec<f64>,
    y: Vec<f64>,
    head: usize,
    len: usize,
    model: Option<LogisticModel>,
    last_fit: Option<i64>,
    fits: usize,
    labelled: u64,
}

impl WalkForward {
    /// A gate for `assets` assets with the features `names`; a label is 1 when the forward
    /// return beats `costs + label_margin` (`costs`: the round-trip fees and slippage).
    pub fn new(params: &GateParams, names: &[&'static str], assets: usize, costs: f64) -> Self {
        let d = names.len();
        let slots = params.horizon + 1;
        let pending =
            Pending { features: vec![0.0; slots * d], close: vec![0.0; slots], step: vec![i64::MIN; slots] };
        let window = params.train_window.max(1);
        Self {
            params: params.clone(),
            names: names.to_vec(),
            d,
            label_threshold: costs + params.label_margin,
            pending: vec![pending; assets],
            x: vec![0.0; window * d],
            y: vec![0.0; window],
            head: 0,
            len: 0,
            model: None,
            last_fit: None,
            fits: 0,
            labelled: 0,
        }
    }

    /// The close of `asset`'s bar at grid `step`: labels the sample taken `horizon` steps
    /// earlier (if there is one) and, on a sampling step, keeps `features` (when given and of the
    /// right length) to be labelled later.
    pub fn observe(&mut self, asset: usize, step: i64, close: f64, features: Option<&[f64]>) {
        let (d, slots) = (self.d, self.params.horizon as i64 + 1);
        let Some(pending) = self.pending.get_mut(asset) else { return };
        let origin = step - self.params.horizon as i64;
        let old = origin.rem_euclid(slots) as usize;
        if pending.step[old] == origin && pending.close[old] > 0.0 && close.is_finite() {
            let label = close / pending.close[old] - 1.0 > self.label_threshold;
            let row = self.head * d;
            self.x[row..row + d].copy_from_slice(&pending.features[old * d..old * d + d]);
            self.y[self.head] = if label { 1.0 } else { 0.0 };
            self.head = (self.head + 1) % self.y.len();
            self.len = (self.len + 1).min(self.y.len());
            self.labelled += 1;
            pending.step[old] = i64::MIN;
        }
        let sample_every = self.params.sample_every.max(1) as i64;
        if let Some(f) = features.filter(|f| f.len() == d && f.iter().all(|v| v.is_finite()))
            && step.rem_euclid(sample_every) == 0
        {
            let at = step.rem_euclid(slots) as usize;
            pending.features[at * d..at * d + d].copy_from_slice(f);
            pending.close[at] = close;
            pending.step[at] = step;
        }
    }

    /// Refits at the close of grid `step` when due (see the module notes); true when it did.
    ///
    /// # Errors
    /// Never in practice: the window always has the shape the fit needs.
    pub fn maybe_refit(&mut self, step: i64) -> Result<bool, MlError> {
        if self.len < self.params.min_train_samples {
            return Ok(false);
        }
        let due = self.last_fit.is_none_or(|last| step - last >= self.params.retrain_every as i64);
        if !due {
            return Ok(false);
        }
        let options = FitOptions { l2: self.params.l2, max_iter: self.params.max_iter, tol: 1e-6 };
        let model = LogisticModel::fit(
            &self.x[..self.len * self.d],
            &self.y[..self.len],
            self.d,
            &self.names,
            options,
            self.model.as_ref(),
        )?;
        self.model = Some(model);
        self.last_fit = Some(step);
        self.fits += 1;
        Ok(true)
    }

    /// Starts from a model fitted earlier (a previous run's, saved in `run_dir`): it answers
    /// until this gate's own first fit, which warm-starts from it.
    ///
    /// # Errors
    /// [`MlError::Shape`] when the model was fitted on other features than this gate's.
    pub fn install(&mut self, model: LogisticModel) -> Result<(), MlError> {
        if model.features.len() != self.d || model.features.iter().zip(&self.names).any(|(a, b)| a != b) {
            return Err(MlError::Shape(format!(
                "the model's features ({}) are not the gate's ({})",
                model.features.join(", "),
                self.names.join(", ")
            )));
        }
        self.model = Some(model);
        Ok(())
    }

    /// The probability the current model gives `features`; `None` before the first fit.
    pub fn predict(&self, features: &[f64]) -> Option<f64> {
        self.model.as_ref().map(|m| m.predict(features))
    }

    /// True when `probability` passes the gate.
    pub fn passes(&self, probability: f64) -> bool {
        probability >= self.params.threshold
    }

    /// The current model, if fitted.
    pub fn model(&self) -> Option<&LogisticModel> {
        self.model.as_ref()
    }

    /// Fits so far.
    pub fn fits(&self) -> usize {
        self.fits
    }

    /// Samples labelled so far.
    pub fn labelled(&self) -> u64 {
        self.labelled
    }

    /// Labelled samples in the window now.
    pub fn window_len(&self) -> usize {
        self.len
    }
}
