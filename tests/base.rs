//! base: input distributions (closed-form kurtosis against sampling) and FeatureSet validation.

use polycap::base::{Error, FeatureSet, Magnitude, SparseInput};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// Sample mean and standard error of f(x) over n draws.
fn moment(input: &SparseInput, n: usize, seed: u64, f: impl Fn(f64) -> f64) -> (f64, f64) {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let (mut s, mut s2) = (0.0, 0.0);
    for _ in 0..n {
        let y = f(input.sample(&mut rng));
        s += y;
        s2 += y * y;
    }
    let mean = s / n as f64;
    let var = (s2 / n as f64 - mean * mean).max(0.0);
    (mean, (var / n as f64).sqrt())
}

#[test]
fn kurtosis_closed_forms_match_monte_carlo() {
    let shapes = [
        Magnitude::Uniform,
        Magnitude::Gaussian,
        Magnitude::Laplace,
        Magnitude::Rademacher,
        Magnitude::StudentT { nu: 12.0 },
    ];
    for (t, m) in shapes.into_iter().enumerate() {
        for p in [1.0, 0.3] {
            let input = SparseInput::new(p, m).expect("valid input");
            let n = 400_000;
            let seed = 17 + t as u64;
            let (mean, se1) = moment(&input, n, seed, |x| x);
            let (var, se2) = moment(&input, n, seed, |x| x * x);
            let (k, se4) = moment(&input, n, seed, |x| x.powi(4));
            let (nz, _) = moment(&input, n, seed, |x| f64::from(u8::from(x != 0.0)));
            assert!(mean.abs() <= 6.0 * se1 + 1e-12, "{m:?} p={p}: mean {mean}");
            assert!(
                (var - 1.0).abs() <= 6.0 * se2 + 1e-12,
                "{m:?} p={p}: var {var}"
            );
            assert!(
                (k - input.kurtosis()).abs() <= 6.0 * se4 + 1e-12,
                "{m:?} p={p}: E x⁴ = {k} ± {se4}, closed form {}",
                input.kurtosis()
            );
            let se_p = (p * (1.0 - p) / n as f64).sqrt().max(1e-12);
            assert!((nz - p).abs() <= 6.0 * se_p, "{m:?} p={p}: density {nz}");
        }
    }
}

#[test]
fn sparse_uniform_kurtosis_is_nine_over_five_p() {
    // (Q5): k = 9/(5p); k = 3 at p = 0.6 and k = 18 at p = 0.1.
    let k = |p| SparseInput::new(p, Magnitude::Uniform).map(|s| s.kurtosis());
    assert!((k(0.6).expect("valid") - 3.0).abs() < 1e-12);
    assert!((k(0.1).expect("valid") - 18.0).abs() < 1e-12);
    assert!((k(1.0).expect("valid") - 1.8).abs() < 1e-12);
}

#[test]
fn feature_set_rejects_bad_values_naming_them() {
    let bad_v = FeatureSet::from_kurtosis(vec![1.0, f64::NAN], vec![5.0, 5.0]);
    assert!(matches!(bad_v, Err(Error::Importance { index: 1, .. })));
    let neg = FeatureSet::from_kurtosis(vec![-1.0], vec![5.0]);
    assert!(matches!(neg, Err(Error::Importance { index: 0, .. })));
    let bad_k = FeatureSet::from_kurtosis(vec![1.0], vec![0.5]);
    assert!(matches!(bad_k, Err(Error::Kurtosis { index: 0, .. })));
    let len = FeatureSet::from_kurtosis(vec![1.0, 1.0], vec![5.0]);
    assert!(matches!(
        len,
        Err(Error::Length {
            expected: 2,
            got: 1,
            ..
        })
    ));
    let dens = FeatureSet::from_densities(vec![1.0, 1.0], &[0.5, 1.5], Magnitude::Uniform);
    assert!(matches!(dens, Err(Error::Density { index: 1, .. })));
    assert!(matches!(
        FeatureSet::from_kurtosis(vec![], vec![]),
        Err(Error::NoFeatures)
    ));
    let msg = Error::Density {
        index: 1,
        value: 1.5,
    }
    .to_string();
    assert!(msg.contains("1.5") && msg.contains("p = 1 − S"), "{msg}");
}

#[test]
fn per_feature_densities_give_per_feature_kurtosis() {
    let fs = FeatureSet::from_densities(vec![1.0, 2.0], &[0.1, 0.9], Magnitude::Gaussian)
        .expect("valid");
    assert!((fs.kurtosis()[0] - 30.0).abs() < 1e-12);
    assert!((fs.kurtosis()[1] - 3.0 / 0.9).abs() < 1e-12);
    assert_eq!(fs.densities(), Some(vec![0.1, 0.9]));
}

/// Shards of a sweep merge into the unsharded list; every malformed set of shards is an
/// error naming the problem (V7).
#[test]
fn shards_merge_and_bad_sets_are_rejected() {
    use polycap::base::{Shard, ShardResults, merge_shards, run_jobs};
    let f = |j: usize| Ok(((j * 7919) % 13) as f64 / 3.0);
    let whole: Vec<f64> = run_jobs(11, None, f, &|| ())
        .expect("runs")
        .into_iter()
        .map(|(_, x)| x)
        .collect();
    let shard = |i: usize, n: usize, settings: &str| {
        let s = Shard::new(i, n).expect("valid shard");
        ShardResults::new(
            settings.to_string(),
            s,
            11,
            run_jobs(11, Some(s), f, &|| ()).expect("runs"),
        )
    };
    let three: Vec<_> = (0..3).map(|i| shard(i, 3, "a")).collect();
    assert_eq!(
        three[1].items.iter().map(|(j, _)| *j).collect::<Vec<_>>(),
        [1, 4, 7, 10]
    );
    // Any order of the shards; through JSON text and back.
    let text: Vec<String> = three
        .iter()
        .rev()
        .map(|s| serde_json::to_string(s).expect("serialises"))
        .collect();
    let parsed: Vec<ShardResults<String, f64>> = text
        .iter()
        .map(|t| serde_json::from_str(t).expect("parses"))
        .collect();
    let (settings, merged) = merge_shards(parsed).expect("merges");
    assert_eq!(settings, "a");
    assert_eq!(
        merged.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        whole.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    let err = |shards: Vec<ShardResults<String, f64>>| match merge_shards(shards) {
        Err(Error::Parameter(m)) => m,
        other => panic!("expected a parameter error, got {other:?}"),
    };
    assert!(err(vec![shard(0, 3, "a"), shard(1, 3, "a")]).contains("missing shard(s): 2/3"));
    assert!(err(vec![shard(0, 2, "a"), shard(1, 2, "a"), shard(1, 2, "a")]).contains("twice"));
    assert!(err(vec![shard(0, 2, "a"), shard(1, 2, "b")]).contains("different settings"));
    assert!(err(vec![shard(0, 2, "a"), shard(1, 3, "a")]).contains("different counts"));
    assert!(err(Vec::new()).contains("no shards"));
    // A shard whose items were tampered with: an index outside, or one repeated.
    let mut bad = vec![shard(0, 2, "a"), shard(1, 2, "a")];
    bad[1].items.push((99, 0.0));
    assert!(err(bad).contains("outside"));
    let mut bad = vec![shard(0, 2, "a"), shard(1, 2, "a")];
    bad[1].items.push((0, 0.0));
    assert!(err(bad).contains("appears twice"));
    // i ≥ N and N = 0 are rejected when the shard is made or parsed.
    assert!(Shard::new(3, 3).is_err() && Shard::new(0, 0).is_err());
    for s in ["3/3", "0/0", "1", "a/2", "-1/2", "1/2/3"] {
        assert!(s.parse::<Shard>().is_err(), "{s}");
    }
    assert_eq!(
        "2/5".parse::<Shard>().expect("parses"),
        Shard::new(2, 5).expect("valid")
    );
    assert_eq!(Shard::new(2, 5).expect("valid").to_string(), "2/5");
}
