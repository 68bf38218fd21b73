//! Optimisers against hand-computed steps, schedules against their formulas.

use approx::assert_relative_eq;
use polycap::training::optim::{OptState, Optimizer, Schedule};

/// θ₀ = 1, gradients 0.5 then −1, η = 0.1. Step 1: m̂ = 0.5, v̂ = 0.25, so θ₁ = 1 − 0.1·0.5/(0.5 + 1e-8)
/// = 0.900000002. Step 2: m = 0.045 − 0.1 = −0.055, v = 0.999·0.00025 + 0.001 = 0.00124975,
/// m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999, θ₂ = θ₁ + 0.1·0.2894737/0.7906880 = 0.93661035424.
#[test]
fn adam_matches_two_hand_computed_steps() {
    let mut st = OptState::new(Optimizer::Adam, 1);
    let mut th = [1.0];
    st.step(&mut th, &[0.5], 0.1);
    assert_relative_eq!(th[0], 0.900000002, max_relative = 1e-14);
    st.step(&mut th, &[-1.0], 0.1);
    assert_relative_eq!(th[0], 0.9366103542405654, max_relative = 1e-13);
}

/// AdamW with wd = 0.1 additionally shrinks θ by (1 − η·wd) = 0.99 before each Adam step:
/// θ₁ = 0.99 − 0.1 + 2e-9 = 0.890000002, θ₂ = 0.99·θ₁ + 0.0366103542… = 0.91771035422.
#[test]
fn adamw_decouples_weight_decay() {
    let mut st = OptState::new(Optimizer::AdamW { weight_decay: 0.1 }, 1);
    let mut th = [1.0];
    st.step(&mut th, &[0.5], 0.1);
    assert_relative_eq!(th[0], 0.890000002, max_relative = 1e-14);
    st.step(&mut th, &[-1.0], 0.1);
    assert_relative_eq!(th[0], 0.9177103542205653, max_relative = 1e-13);
}

#[test]
fn sgd_steps_against_the_gradient() {
    let mut st = OptState::new(Optimizer::Sgd, 2);
    let mut th = [1.0, -2.0];
    st.step(&mut th, &[0.5, -1.0], 0.1);
    assert_relative_eq!(th[0], 0.95, max_relative = 1e-15);
    assert_relative_eq!(th[1], -1.9, max_relative = 1e-15);
}

#[test]
fn schedules_follow_their_formulas() {
    assert_relative_eq!(Schedule::Constant.factor(7, 10), 1.0);
    assert_relative_eq!(Schedule::Cosine.factor(0, 10), 1.0);
    assert_relative_eq!(Schedule::Cosine.factor(5, 10), 0.5, epsilon = 1e-15);
    assert_relative_eq!(
        Schedule::Cosine.factor(9, 10),
        0.5 * (1.0 + (0.9 * std::f64::consts::PI).cos()),
        epsilon = 1e-15
    );
    assert_relative_eq!(Schedule::Warmup(4).factor(0, 100), 0.25);
    assert_relative_eq!(Schedule::Warmup(4).factor(3, 100), 1.0);
    assert_relative_eq!(Schedule::Warmup(4).factor(50, 100), 1.0);
    assert_eq!(Schedule::parse("warmup:3"), Ok(Schedule::Warmup(3)));
    assert!(Schedule::parse("warmup:0").is_err());
    assert!(Schedule::parse("linear").is_err());
    assert!(Optimizer::parse("adamw", -1.0).is_err());
    assert!(Optimizer::parse("rmsprop", 0.0).is_err());
}
