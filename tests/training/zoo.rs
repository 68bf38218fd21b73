//! The zoo engine (zoo.rs) and paired data (pairs.rs): gradients against central differences
//! of an independent dense f64 loss, the pair sampler's statistics ([A]'s self-test), and
//! bit-reproducibility across thread counts.

use approx::assert_abs_diff_eq;
use polycap::base::{FeatureSet, Magnitude};
use polycap::training::data::SparseBatch;
use polycap::training::hidden::HiddenCache;
use polycap::training::model::Activation;
use polycap::training::pairs::PairSampler;
use polycap::training::rng::Xoshiro;
use polycap::training::zoo::{ZooModel, ZooNet, ZooScratch};
use polycap::training::{Hidden, Model, Pairs, TrainConfig, Trainer};

const N: usize = 6;
const D: usize = 4;

/// Independent dense loss: mean over samples and features of Iᵢ(x′ᵢ − xᵢ)².
fn dense_loss(net: ZooNet, imp: &[f64], theta: &[f64], rows: &[Vec<f64>]) -> f64 {
    let (w, rest) = theta.split_at(N * D);
    let (b, ln) = rest.split_at(N);
    let mut tot = 0.0;
    for x in rows {
        let z: Vec<f64> = (0..D)
            .map(|r| (0..N).map(|i| w[i * D + r] * x[i]).sum())
            .collect();
        let (h, out): (Vec<f64>, Activation) = match net {
            ZooNet::Autoencoder(a) => (z, a),
            ZooNet::Neuron(hid) => {
                let mut h = vec![0.0; D];
                hid.forward(&z, ln, &mut h, &mut HiddenCache::default());
                (h, Activation::Relu)
            }
        };
        for i in 0..N {
            let o: f64 = (0..D).map(|r| w[i * D + r] * h[r]).sum::<f64>() + b[i];
            let e = out.eval(o).0 - x[i];
            tot += imp[i] * e * e;
        }
    }
    tot / (rows.len() * N) as f64
}

#[test]
fn zoo_gradients_match_central_differences() {
    // Three stored rows (one of them with a single feature) and two all-zero samples.
    let mut batch = SparseBatch::default();
    batch.start = vec![0, 3, 4, 6];
    batch.index = vec![0, 2, 5, 3, 1, 4];
    batch.value = vec![0.7, 0.2, 0.9, 0.5, 0.35, 0.8];
    batch.zeros = 2;
    let mut rows = vec![vec![0.0; N]; 5];
    for (r, row) in rows.iter_mut().take(3).enumerate() {
        for e in batch.start[r]..batch.start[r + 1] {
            row[batch.index[e] as usize] = f64::from(batch.value[e]);
        }
    }
    let imp: Vec<f64> = (0..N).map(|i| 0.9f64.powi(i as i32)).collect();
    let nets = [
        ZooNet::Autoencoder(Activation::Relu),
        ZooNet::Autoencoder(Activation::Gelu),
        ZooNet::Neuron(Hidden::Relu),
        ZooNet::Neuron(Hidden::Solu),
        ZooNet::Neuron(Hidden::SoluLn),
    ];
    for net in nets {
        let model = ZooModel {
            net,
            n: N,
            d: D,
            importance: imp.clone(),
        };
        let mut rng = Xoshiro::new(3, 1);
        let mut theta = model.init(0.6, &mut rng);
        // Biases and LN parameters away from their initial values, so every path is live.
        for (k, t) in theta[N * D..].iter_mut().enumerate() {
            *t += 0.15 * ((k as f64) * 1.7).sin();
        }
        let mut grad = vec![0.0; theta.len()];
        let loss = model.loss_grad(&theta, &batch, &mut grad, &mut ZooScratch::default());
        assert_abs_diff_eq!(loss, dense_loss(net, &imp, &theta, &rows), epsilon = 1e-12);
        let eps = 1e-6;
        for k in 0..theta.len() {
            let (mut tp, mut tm) = (theta.clone(), theta.clone());
            tp[k] += eps;
            tm[k] -= eps;
            let fd = (dense_loss(net, &imp, &tp, &rows) - dense_loss(net, &imp, &tm, &rows))
                / (2.0 * eps);
            assert_abs_diff_eq!(grad[k], fd, epsilon = 1e-7);
        }
    }
}

#[test]
fn pair_sampler_statistics() {
    // [A]'s self-test: one correlated and one anticorrelated pair, p = 10^(−t), t ∈ [0.5, 1].
    let pairs = Pairs {
        correlated: 1,
        anticorrelated: 1,
    };
    let samples = 100_000;
    let mut dev = 0.0;
    let ps: Vec<f64> = (0..6)
        .map(|k| 10f64.powf(-(0.5 + 0.1 * k as f64)))
        .collect();
    for (k, &p) in ps.iter().enumerate() {
        let f = FeatureSet::from_densities(vec![1.0; 4], &[p; 4], Magnitude::Uniform)
            .expect("valid features");
        let mut s = PairSampler::new(&f, pairs).expect("valid pairs");
        let mut rng = Xoshiro::new(11, k as u64);
        let mut b = SparseBatch::default();
        s.sample(samples, &mut rng, &mut b);
        assert_eq!(b.len(), samples);
        let mut count = [0usize; 4];
        for r in 0..b.rows() {
            let row = &b.index[b.start[r]..b.start[r + 1]];
            assert!(!row.is_empty() && row.windows(2).all(|w| w[0] < w[1]));
            let has = |i: u32| row.contains(&i);
            assert_eq!(has(0), has(1), "correlated partners are co-active");
            assert!(!(has(2) && has(3)), "anticorrelated partners never are");
            for &i in row {
                count[i as usize] += 1;
            }
        }
        for v in &b.value {
            assert!((0.0..1.0).contains(v));
        }
        dev += (count[0] as f64 / samples as f64 - p).abs() / 2.0;
        dev += (count[2] as f64 / samples as f64 - p).abs() / 2.0;
    }
    assert!(
        dev / ps.len() as f64 <= 0.002,
        "mean |frequency − p| = {}",
        dev / ps.len() as f64
    );
}

#[test]
fn pairs_parse_and_validate() {
    let p = Pairs::parse("correlated:2").expect("parses");
    assert_eq!(p.paired(), 4);
    assert_eq!(Pairs::parse(&p.name()).ok(), Some(p));
    assert!(Pairs::parse("correlated:0").is_err());
    assert!(Pairs::parse("sideways:1").is_err());
    assert!(Pairs::parse("correlated:1,correlated:2").is_err());
    assert!(p.validate(&[0.1; 3]).is_err(), "beyond N/2");
    assert!(
        p.validate(&[0.1, 0.2, 0.1, 0.1]).is_err(),
        "partners with different densities"
    );
    let a = Pairs::parse("anticorrelated:1").expect("parses");
    assert!(a.validate(&[0.6, 0.6]).is_err(), "anticorrelated p > 1/2");
    assert!(a.validate(&[0.5, 0.5]).is_ok());
}

#[test]
fn neuron_runs_are_bit_identical_across_thread_counts() {
    let mut cfg = TrainConfig::defaults(Model::TmsNeuron);
    cfg.steps = 150;
    cfg.batch = 64;
    cfg.eval_batch = 512;
    cfg.hidden = Hidden::SoluLn;
    cfg.pairs = Pairs::parse("correlated:1").expect("parses");
    let trainer = Trainer::new(Model::TmsNeuron, 4, cfg).expect("valid config");
    let f = FeatureSet::from_densities(vec![1.0; 5], &[0.2; 5], Magnitude::Uniform)
        .expect("valid features");
    let inst = [f.clone(), f];
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("pool");
    let a = one
        .install(|| trainer.sweep(&inst, 2, 5, &|| ()))
        .expect("trains");
    let b = two
        .install(|| trainer.sweep(&inst, 2, 5, &|| ()))
        .expect("trains");
    for (ra, rb) in a.iter().flatten().zip(b.iter().flatten()) {
        assert_eq!(ra.w, rb.w);
        assert_eq!(ra.hidden_params, rb.hidden_params);
        assert_eq!(ra.loss.to_bits(), rb.loss.to_bits());
    }
    // The LN parameters are trained (γ, β moved from 1, 0) and reported.
    assert_eq!(a[0][0].hidden_params.len(), 8);
    assert!(
        a[0][0]
            .hidden_params
            .iter()
            .any(|&g| (g - 1.0).abs() > 1e-4)
    );
    // Same seed, two instances: different streams, so different runs.
    assert_ne!(a[0][0].w, a[1][0].w);
}

#[test]
fn zoo_options_apply_only_where_they_mean_something() {
    let mut cfg = TrainConfig::defaults(Model::TmsRelu);
    cfg.hidden = Hidden::Solu;
    assert!(Trainer::new(Model::TmsRelu, 2, cfg).is_err());
    let mut cfg = TrainConfig::defaults(Model::TmsNeuron);
    cfg.hidden = Hidden::SoluLn;
    assert!(Trainer::new(Model::TmsNeuron, 3, cfg).is_err());
    let mut cfg = TrainConfig::defaults(Model::Quadratic);
    cfg.pairs = Pairs::parse("correlated:1").expect("parses");
    assert!(Trainer::new(Model::Quadratic, 2, cfg).is_err());
}
