//! L2-regularized logistic regression, fitted by Newton's method (IRLS) on standardized
//! features, and persisted as JSON.
//!
//! Fitting: each feature is standardized with the training set's mean and population standard
//! deviation (a deviation under 1e-12 counts as 1, so a constant feature contributes nothing);
//! the model is `p = 1 / (1 + exp(-(b + w . z)))`; the loss is the mean log loss plus
//! `l2 / 2 * |w|^2 / n` (the intercept is not penalized). Each Newton step solves
//! `(Z' S Z + l2 I) d = Z' (p - y) + l2 w` by Cholesky (`S = diag(p (1 - p))`), halving the step
//! while the loss does not fall; it stops when the largest change is under `tol` or after
//! `max_iter` steps. A fit may start from earlier weights (a warm start), which makes refits on a
//! rolling window converge in a couple of steps.
//!
//! No randomness anywhere: the same samples in the same order give the same bits, on any run.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Why a model could not be fitted, saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The inputs do not have the shape the call needs.
    #[error("bad shape: {0}")]
    Shape(String),
    /// Reading or writing the model file failed.
    #[error("model file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The model file is not a model.
    #[error("model file {path}: {source}")]
    Json {
        /// The file.
        path: String,
        /// The parse error.
        source: serde_json::Error,
    },
}

/// The fitting knobs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// L2 penalty on the weights (not the intercept), > 0 keeps the problem well posed.
    pub l2: f64,
    /// Most Newton steps.
    pub max_iter: usize,
    /// Stop when no coefficient moves more than this.
    pub tol: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self { l2: 1.0, max_iter: 25, tol: 1e-6 }
    }
}

/// Feature means and deviations of a training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// Mean per feature.
    pub mean: Vec<f64>,
    /// Population standard deviation per feature (1 where it was under 1e-12).
    pub std: Vec<f64>,
}

/// A fitted model with its scaler: everything a prediction needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Names of the features, in order (for the file's reader; not used to predict).
    pub features: Vec<String>,
    /// The standardization.
    pub scaler: Scaler,
    /// One weight per standardized feature.
    pub weights: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// Samples it was fitted on.
    pub samples: usize,
    /// Newton steps the fit took.
    pub iterations: usize,
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Mean log loss plus the penalty, of standardized rows `z` (n x d, row-major).
fn loss(z: &[f64], y: &[f64], d: usize, coef: &[f64], l2: f64) -> f64 {
    let n = y.len().max(1) as f64;
    let mut total = 0.0;
    for (row, &label) in z.chunks_exact(d).zip(y) {
        let eta = coef[d] + row.iter().zip(coef).map(|(a, b)| a * b).sum::<f64>();
        // log(1 + exp(eta)) - y * eta, computed without overflow.
        let softplus = if eta > 0.0 { eta + (-eta).exp().ln_1p() } else { eta.exp().ln_1p() };
        total += softplus - label * eta;
    }
    let penalty: f64 = coef[..d].iter().map(|w| w * w).sum::<f64>() * l2 / 2.0;
    (total + penalty) / n
}

/// Solves `a x = b` for a symmetric positive definite `a` (k x k, row-major, overwritten by its
/// Cholesky factor); `None` when it is not positive definite.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], k: usize) -> Option<()> {
    for j in 0..k {
        let mut diag = a[j * k + j];
        for p in 0..j {
            diag -= a[j * k + p] * a[j * k + p];
        }
        if diag.is_nan() || diag <= 0.0 {
            return None;
        }
        let diag = diag.sqrt();
        a[j * k + j] = diag;
        for i in j + 1..k {
            let mut v = a[i * k + j];
            for p in 0..j {
                v -= a[i * k + p] * a[j * k + p];
            }
            a[i * k + j] = v / diag;
        }
    }
    for i in 0..k {
        let mut v = b[i];
        for p in 0..i {
            v -= a[i * k + p] * b[p];
        }
        b[i] = v / a[i * k + i];
    }
    for i in (0..k).rev() {
        let mut v = b[i];
        for p in i + 1..k {
            v -= a[p * k + i] * b[p];
        }
        b[i] = v / a[i * k + i];
    }
    Some(())
}

impl Scaler {
    /// The mean and population deviation of each of the `d` columns of `x` (n x d, row-major).
    pub fn fit(x: &[f64], d: usize) -> Self {
        let n = (x.len() / d.max(1)).max(1) as f64;
        let mut mean = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for row in x.chunks_exact(d) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std = var.into_iter().map(|s| (s / n).sqrt()).map(|s| if s < 1e-12 { 1.0 } else { s }).collect();
        Self { mean, std }
    }
}

impl LogisticModel {
    /// Fits a model to `x` (n rows of `d` features, row-major) and labels `y` (0 or 1), starting
    /// from `warm` when it has the same number of features.
    ///
    /// # Errors
    /// `Shape` when `x` is not `y.len()` rows of `d` values, `d` is 0, `names` is not `d` long,
    /// or there are no samples.
    pub fn fit(
        x: &[f64],
        y: &[f64],
        d: usize,
        names: &[&str],
        options: FitOptions,
        warm: Option<&LogisticModel>,
    ) -> Result<Self, MlError> {
        if d == 0 || y.is_empty() || x.len() != y.len() * d || names.len() != d {
            return Err(MlError::Shape(format!(
                "{} values for {} samples of {d} features ({} names)",
                x.len(),
                y.len(),
                names.len()
            )));
        }
        let scaler = Scaler::fit(x, d);
        let z: Vec<f64> = x
            .chunks_exact(d)
            .flat_map(|row| row.iter().zip(&scaler.mean).zip(&scaler.std).map(|((v, m), s)| (v - m) / s))
            .collect();
        let k = d + 1;
        let mut coef = vec![0.0; k];
        if let Some(w) = warm.filter(|w| w.weights.len() == d) {
            coef[..d].copy_from_slice(&w.weights);
            coef[d] = w.intercept;
        }
        let (mut hess, mut grad) = (vec![0.0; k * k], vec![0.0; k]);
        let mut trial = vec![0.0; k];
        let mut current = loss(&z, y, d, &coef, options.l2);
        let mut iterations = 0;
        while iterations < options.max_iter {
            iterations += 1;
            hess.iter_mut().for_each(|h| *h = 0.0);
            grad.iter_mut().for_each(|g| *g = 0.0);
            for (row, &label) in z.chunks_exact(d).zip(y) {
                let p = sigmoid(coef[d] + row.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>());
                let (r, s) = (p - label, p * (1.0 - p));
                for a in 0..d {
                    let za = row[a];
                    grad[a] += r * za;
                    let sa = s * za;
                    let line = &mut hess[a * k..a * k + k];
                    for (h, zb) in line[a..d].iter_mut().zip(&row[a..]) {
                        *h += sa * zb;
                    }
                    line[d] += sa;
                }
                grad[d] += r;
                hess[d * k + d] += s;
            }
            for a in 0..k {
                for b in 0..a {
                    hess[a * k + b] = hess[b * k + a];
                }
            }
            for a in 0..d {
                grad[a] += options.l2 * coef[a];
                hess[a * k + a] += options.l2;
            }
            hess[d * k + d] += 1e-9;
            if cholesky_solve(&mut hess, &mut grad, k).is_none() {
                break;
            }
            let mut step = 1.0;
            let mut moved = false;
            for _ in 0..20 {
                for ((t, c), g) in trial.iter_mut().zip(&coef).zip(&grad) {
                    *t = c - step * g;
                }
                let next = loss(&z, y, d, &trial, options.l2);
                if next <= current {
                    current = next;
                    moved = true;
                    break;
                }
                step *= 0.5;
            }
            if !moved {
                break;
            }
            let change = trial.iter().zip(&coef).map(|(t, c)| (t - c).abs()).fold(0.0, f64::max);
            coef.copy_from_slice(&trial);
            if change < options.tol {
                break;
            }
        }
        Ok(Self {
            features: names.iter().map(|s| (*s).to_owned()).collect(),
            scaler,
            intercept: coef[d],
            weights: coef[..d].to_vec(),
            samples: y.len(),
            iterations,
        })
    }

    /// The probability of the positive class for one row of raw (unstandardized) features; 0.5
    /// for a row of the wrong length.
    pub fn predict(&self, x: &[f64]) -> f64 {
        if x.len() != self.weights.len() {
            return 0.5;
        }
        let eta = self.intercept
            + x.iter()
                .zip(&self.weights)
                .zip(self.scaler.mean.iter().zip(&self.scaler.std))
                .map(|((v, w), (m, s))| w * (v - m) / s)
                .sum::<f64>();
        sigmoid(eta)
    }

    /// The model as pretty JSON, the content [`save`](Self::save) writes.
    ///
    /// # Errors
    /// Never in practice (a model is plain numbers and names); a non-finite weight, which JSON
    /// cannot hold, is written as `null` and refused on reading.
    pub fn to_json(&self) -> Result<String, MlError> {
        serde_json::to_string_pretty(self).map_err(|source| MlError::Json { path: "(model)".into(), source })
    }

    /// Reads a model from the JSON [`to_json`](Self::to_json) makes; `name` says where it came
    /// from in errors.
    ///
    /// # Errors
    /// When the text is not a model, or its vectors disagree in length.
    pub fn from_json(text: &str, name: &str) -> Result<Self, MlError> {
        let model: Self =
            serde_json::from_str(text).map_err(|source| MlError::Json { path: name.to_owned(), source })?;
        let d = model.weights.len();
        if model.scaler.mean.len() != d || model.scaler.std.len() != d || model.features.len() != d {
            return Err(MlError::Shape(format!(
                "{name}: weights, scaler and feature names disagree in length"
            )));
        }
        Ok(model)
    }

    /// Writes the model as JSON, atomically (a temp file beside it, synced, then renamed).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), MlError> {
        let io = |source| MlError::Io { path: path.display().to_string(), source };
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        let text = self.to_json()?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a model written by [`save`](Self::save).
    ///
    /// # Errors
    /// When the file cannot be read, is not a model, or its vectors disagree in length.
    pub fn load(path: &Path) -> Result<Self, MlError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| MlError::Io { path: name.clone(), source })?;
        Self::from_json(&text, &name)
    }
}
