//! Tests of the logistic regression and the walk-forward gate.

use super::*;

/// A deterministic pseudo-random stream (xorshift), so the tests need no dependency.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Two features; the label is 1 exactly when `3 * x0 - 2 * x1 + 0.5 > 0` (separable), with
/// features on very different scales to exercise the standardization.
fn separable(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Xorshift(seed);
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let a = rng.next() * 2.0 - 1.0;
        let b = rng.next() * 2.0 - 1.0;
        x.push(a * 1000.0);
        x.push(b * 0.001);
        y.push(if 3.0 * a - 2.0 * b + 0.5 > 0.0 { 1.0 } else { 0.0 });
    }
    (x, y)
}

fn accuracy(model: &LogisticModel, x: &[f64], y: &[f64]) -> f64 {
    let right = x
        .chunks_exact(2)
        .zip(y)
        .filter(|(row, label)| (model.predict(row) >= 0.5) == (**label == 1.0))
        .count();
    right as f64 / y.len() as f64
}

#[test]
fn separable_data_is_learned() {
    let (x, y) = separable(2000, 7);
    let options = FitOptions { l2: 0.01, ..FitOptions::default() };
    let model = LogisticModel::fit(&x, &y, 2, &["a", "b"], options, None).unwrap();
    let (tx, ty) = separable(1000, 99);
    let acc = accuracy(&model, &tx, &ty);
    assert!(acc > 0.97, "out-of-sample accuracy {acc}");
    assert!(model.weights[0] > 0.0 && model.weights[1] < 0.0, "{:?}", model.weights);
}

#[test]
fn fitting_is_deterministic_and_warm_starts_agree() {
    let (x, y) = separable(1500, 3);
    let options = FitOptions::default();
    let a = LogisticModel::fit(&x, &y, 2, &["a", "b"], options, None).unwrap();
    let b = LogisticModel::fit(&x, &y, 2, &["a", "b"], options, None).unwrap();
    assert_eq!(a, b, "bit for bit");
    let warm = LogisticModel::fit(&x, &y, 2, &["a", "b"], options, Some(&a)).unwrap();
    assert!(warm.iterations <= 2, "a warm start at the optimum stops at once: {}", warm.iterations);
    for (w, v) in warm.weights.iter().zip(&a.weights) {
        assert!((w - v).abs() < 1e-6);
    }
}

#[test]
fn save_and_load_round_trip() {
    let (x, y) = separable(500, 11);
    let model = LogisticModel::fit(&x, &y, 2, &["a", "b"], FitOptions::default(), None).unwrap();
    let path = std::env::temp_dir().join(format!("agent-core-model-{}.json", std::process::id()));
    model.save(&path).unwrap();
    let back = LogisticModel::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(back, model);
    for row in x.chunks_exact(2).take(50) {
        assert_eq!(back.predict(row).to_bits(), model.predict(row).to_bits());
    }
    let bad = std::env::temp_dir().join(format!("agent-core-model-bad-{}.json", std::process::id()));
    std::fs::write(&bad, "{\"weights\": [1]}").unwrap();
    let err = LogisticModel::load(&bad).unwrap_err();
    let _ = std::fs::remove_file(&bad);
    assert!(err.to_string().contains("model file"), "{err}");
}

#[test]
fn bad_shapes_are_errors() {
    let err = LogisticModel::fit(&[1.0, 2.0, 3.0], &[1.0, 0.0], 2, &["a", "b"], FitOptions::default(), None);
    assert!(matches!(err, Err(MlError::Shape(_))));
    let err = LogisticModel::fit(&[], &[], 2, &["a", "b"], FitOptions::default(), None);
    assert!(matches!(err, Err(MlError::Shape(_))));
}

#[test]
fn constant_feature_is_harmless() {
    let (x, y) = separable(400, 5);
    let with_const: Vec<f64> = x.chunks_exact(2).flat_map(|r| [r[0], r[1], 42.0]).collect();
    let model =
        LogisticModel::fit(&with_const, &y, 3, &["a", "b", "c"], FitOptions::default(), None).unwrap();
    assert!(model.weights[2].abs() < 1e-9, "{:?}", model.weights);
    assert!(model.predict(&[500.0, 0.0, 42.0]) > 0.9);
}

fn gate(horizon: usize, min: usize, every: usize) -> WalkForward {
    let params = GateParams {
        horizon,
        sample_every: 1,
        train_window: 50,
        min_train_samples: min,
        retrain_every: every,
        ..GateParams::default()
    };
    WalkForward::new(&params, &["x"], 2, 0.0)
}

#[test]
fn labels_wait_for_their_horizon_and_gaps_drop_samples() {
    let mut wf = gate(3, 10, 5);
    // Asset 0 at steps 0..=4: a sample at each; the label of step s arrives at s + 3.
    for step in 0..=4 {
        wf.observe(0, step, 100.0 + step as f64, Some(&[step as f64]));
    }
    assert_eq!(wf.labelled(), 2, "samples of steps 0 and 1 are labelled at steps 3 and 4");
    // Asset 1 skips step 3 (a hole): its sample of step 0 is never labelled.
    for step in [0, 1, 2, 4, 5] {
        wf.observe(1, step, 100.0, Some(&[0.0]));
    }
    assert_eq!(wf.labelled(), 4, "steps 1 and 2 of asset 1 labelled at 4 and 5, step 0 dropped");
    assert!(wf.predict(&[0.0]).is_none(), "no model before min_train_samples");
}

#[test]
fn refits_on_schedule_from_the_first_full_window() {
    let mut wf = gate(1, 10, 5);
    let mut fits_at = Vec::new();
    for step in 0..40 {
        // Up when the feature is even: learnable.
        let close = if step % 2 == 0 { 100.0 } else { 101.0 };
        wf.observe(0, step, close, Some(&[(step % 2) as f64]));
        if wf.maybe_refit(step).unwrap() {
            fits_at.push(step);
        }
    }
    // The tenth label arrives at step 10; then every 5 steps.
    assert_eq!(fits_at, vec![10, 15, 20, 25, 30, 35]);
    let up = wf.predict(&[0.0]).unwrap();
    let down = wf.predict(&[1.0]).unwrap();
    assert!(up > 0.5 && down < 0.5, "{up} {down}");
}

#[test]
fn json_text_round_trip_keeps_the_model() {
    let (x, y) = separable(300, 3);
    let model = LogisticModel::fit(&x, &y, 2, &["a", "b"], FitOptions::default(), None).unwrap();
    let text = model.to_json().unwrap();
    let back = LogisticModel::from_json(&text, "saved").unwrap();
    // serde_json parses floats to within an ulp (no `float_roundtrip`): the same answers.
    assert_eq!((back.features.clone(), back.samples), (model.features.clone(), model.samples));
    for row in x.chunks_exact(2).take(50) {
        assert!((back.predict(row) - model.predict(row)).abs() < 1e-12);
    }
    let err = LogisticModel::from_json("{\"weights\": 1}", "run/main-agent.model.json").unwrap_err();
    assert!(err.to_string().contains("run/main-agent.model.json"), "{err}");
    let mut short = model.clone();
    short.features.pop();
    let err = LogisticModel::from_json(&short.to_json().unwrap(), "x").unwrap_err();
    assert!(matches!(err, MlError::Shape(_)), "{err}");
}

#[test]
fn an_installed_model_answers_until_the_first_own_fit() {
    let mut trained = gate(1, 10, 5);
    for step in 0..12 {
        let close = if step % 2 == 0 { 100.0 } else { 101.0 };
        trained.observe(0, step, close, Some(&[(step % 2) as f64]));
        trained.maybe_refit(step).unwrap();
    }
    let model = trained.model().unwrap().clone();
    let mut fresh = gate(1, 10, 5);
    assert!(fresh.predict(&[0.0]).is_none());
    fresh.install(model.clone()).unwrap();
    assert_eq!(fresh.predict(&[0.0]), Some(model.predict(&[0.0])));
    assert_eq!(fresh.fits(), 0, "installing is not a fit");
    let mut other = model;
    other.features = vec!["y".into()];
    assert!(matches!(fresh.install(other), Err(MlError::Shape(_))));
}
