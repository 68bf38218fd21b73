//! `polycap._polycap`: the Python extension. Marshalling only — numpy arrays and Python values
//! in, library types through their validating constructors, library calls with the GIL
//! released, numpy arrays and dicts out. The Python package `polycap` (python/polycap/) wraps
//! these functions in typed result classes with docstrings.
//!
//! Errors: every library error becomes `ValueError` with the message the CLI prints after
//! `error: ` (I/O errors become `OSError`); a wrong dtype is a `TypeError`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nalgebra::DMatrix;
use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use polycap::base::{Error, FeatureSet, Magnitude};
use polycap::io::run::TrainedInstance;
use polycap::io::{self, Array};
use polycap::theory::allocation::{Allocation, allocate as allocate_quadratic};
use polycap::theory::capacity::{analyze, capacities};
use polycap::theory::geometry::{DEFAULT_TOLERANCE, decompose, polytope};
use polycap::theory::phase::{
    self, Budget, CONTOUR_LEVELS, DEFAULT_DENSITY_RANGE, PhaseSetting, marginal_curves,
};
use polycap::theory::quadratic::ExpectedLoss;
use polycap::training::abs::{self, AbsConfig, AbsInit, AbsRun};
use polycap::training::finite::{self, FiniteConfig, FiniteRun};
use polycap::training::{
    ExactConfig, ExactTrainer, Family, Hidden, Model, Optimizer, Schedule, TrainConfig, Trainer,
    best_by,
};
use polycap::verify::geometry::{TRAINED_TOLERANCE, decompose_trained, fractions};
use polycap::verify::{
    Bands, GridSpec, Protocol, QuadraticTheory, Verifier, best_sampled, verify_grid,
};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A library error as a Python exception.
fn py_err(e: Error) -> PyErr {
    match e {
        Error::Io(m) => PyOSError::new_err(m),
        other => PyValueError::new_err(other.to_string()),
    }
}

fn value_err(m: impl Into<String>) -> PyErr {
    PyValueError::new_err(m.into())
}

/// The embedding matrices of a numpy array: 2-D (one W) or 3-D (a stack), float64 read in
/// place when C-contiguous (a strided or Fortran-order array is read element by element),
/// float32 widened; any other dtype is a `TypeError`.
fn matrices(
    name: &str,
    w: &Bound<'_, PyAny>,
    features_as_rows: bool,
) -> PyResult<Vec<DMatrix<f64>>> {
    let result = if let Ok(a) = w.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        let shape = a.shape().to_vec();
        match a.as_slice() {
            Ok(s) if a.is_c_contiguous() => io::matrix_stack(&shape, s, features_as_rows),
            _ => {
                let v: Vec<f64> = a.as_array().iter().copied().collect();
                io::matrix_stack(&shape, &v, features_as_rows)
            }
        }
    } else if let Ok(a) = w.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let shape = a.shape().to_vec();
        let v: Vec<f64> = a.as_array().iter().map(|&x| f64::from(x)).collect();
        io::matrix_stack(&shape, &v, features_as_rows)
    } else {
        let dtype = w
            .getattr("dtype")
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_else(|_| {
                w.get_type()
                    .name()
                    .map_or_else(|_| "?".into(), |n| n.to_string())
            });
        return Err(PyTypeError::new_err(format!(
            "{name} must be a float64 or float32 numpy array, got {dtype}"
        )));
    };
    result.map_err(|m| value_err(format!("{name}: {m}")))
}

/// One value per feature: a list of n values, or one value for all.
fn per_feature(name: &str, values: Vec<f64>, n: usize) -> PyResult<Vec<f64>> {
    match values.len() {
        1 => Ok(vec![values[0]; n]),
        len if len == n => Ok(values),
        len => Err(value_err(format!(
            "{name}: expected {n} values (one per feature) or one for all, got {len}"
        ))),
    }
}

/// The feature set of (importance, density or kurtosis, input law).
fn feature_set(
    importance: Vec<f64>,
    density: Option<Vec<f64>>,
    kurtosis: Option<Vec<f64>>,
    input: &str,
) -> PyResult<FeatureSet> {
    let law_len = density.as_ref().or(kurtosis.as_ref()).map_or(1, Vec::len);
    let n = importance.len().max(law_len);
    let v = per_feature("importance", importance, n)?;
    match (density, kurtosis) {
        (Some(p), None) => {
            let p = per_feature("density", p, n)?;
            FeatureSet::from_densities(v, &p, Magnitude::parse(input).map_err(py_err)?)
                .map_err(py_err)
        }
        (None, Some(k)) => {
            FeatureSet::from_kurtosis(v, per_feature("kurtosis", k, n)?).map_err(py_err)
        }
        (Some(_), Some(_)) => Err(value_err(
            "density and kurtosis are mutually exclusive: give one of them",
        )),
        (None, None) => Err(value_err("give density or kurtosis")),
    }
}

fn arr1<'py>(py: Python<'py>, v: Vec<f64>) -> Bound<'py, PyArray1<f64>> {
    v.into_pyarray(py)
}

/// A row-major [rows, cols] float array.
fn arr2<'py>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    v: Vec<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(v.into_pyarray(py).reshape([rows, cols])?.into_any())
}

/// A stack of matrices as a [count, rows, cols] array.
fn arr3<'py>(py: Python<'py>, ms: &[DMatrix<f64>]) -> PyResult<Bound<'py, PyAny>> {
    let a = Array::stack(ms, false).map_err(py_err)?;
    let s = a.shape().to_vec();
    Ok(a.data()
        .to_vec()
        .into_pyarray(py)
        .reshape([s[0], s[1], s[2]])?
        .into_any())
}

/// Capacities (C1), squared lengths, ΣC, rank and efficiency of each matrix.
#[pyfunction]
#[pyo3(signature = (w, features_as_rows = false))]
fn capacity<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyAny>,
    features_as_rows: bool,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let ws = matrices("W", w, features_as_rows)?;
    let reports = py
        .detach(|| ws.iter().map(analyze).collect::<Result<Vec<_>, Error>>())
        .map_err(py_err)?;
    reports
        .into_iter()
        .zip(&ws)
        .map(|(r, w)| {
            let d = PyDict::new(py);
            d.set_item("capacity", arr1(py, r.capacity))?;
            d.set_item("sq_norm", arr1(py, r.sq_norm))?;
            d.set_item("total_capacity", r.total_capacity)?;
            d.set_item("rank", r.rank)?;
            d.set_item("efficient", r.efficient)?;
            d.set_item("dims", w.nrows())?;
            d.set_item("features", w.ncols())?;
            Ok(d)
        })
        .collect()
}

fn allocation_dict<'py>(py: Python<'py>, a: Allocation) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(
        "phase",
        a.phase.iter().map(|p| p.name()).collect::<Vec<_>>(),
    )?;
    d.set_item("capacity", arr1(py, a.capacity))?;
    d.set_item("sq_norm", arr1(py, a.sq_norm))?;
    d.set_item("lam", a.lambda)?;
    d.set_item("mu", a.mu)?;
    d.set_item("loss", a.loss)?;
    d.set_item("total_capacity", a.total_capacity)?;
    d.set_item("dims", a.dims)?;
    d.set_item("method", a.method.name())?;
    d.set_item("ties", a.ties)?;
    let k = PyDict::new(py);
    k.set_item("interior", a.kkt.interior)?;
    k.set_item("full", a.kkt.full)?;
    k.set_item("ignored", a.kkt.ignored)?;
    k.set_item("capacity_sum", a.kkt.capacity_sum)?;
    k.set_item("ratio", a.kkt.ratio)?;
    k.set_item("max_residual", a.kkt.max_residual)?;
    d.set_item("kkt", k)?;
    Ok(d)
}

/// The optimal capacity allocation of the quadratic model (A7).
#[pyfunction]
#[pyo3(signature = (importance, dims, density = None, kurtosis = None, input = "uniform"))]
fn allocate<'py>(
    py: Python<'py>,
    importance: Vec<f64>,
    dims: usize,
    density: Option<Vec<f64>>,
    kurtosis: Option<Vec<f64>>,
    input: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let f = feature_set(importance, density, kurtosis, input)?;
    let a = py.detach(|| allocate_quadratic(&f, dims)).map_err(py_err)?;
    allocation_dict(py, a)
}

fn points<'py>(py: Python<'py>, pts: &[(f64, f64)]) -> PyResult<Bound<'py, PyAny>> {
    arr2(
        py,
        pts.len(),
        2,
        pts.iter().flat_map(|&(a, b)| [a, b]).collect(),
    )
}

/// C₁ over a (V, p) grid, with the closed-form boundaries.
#[pyfunction]
#[pyo3(signature = (features = 6, dims = 3, v_range = (0.01, 100.0), p_range = None, grid = (400, 400), input = "uniform"))]
fn phase_diagram<'py>(
    py: Python<'py>,
    features: usize,
    dims: usize,
    v_range: (f64, f64),
    p_range: Option<(f64, f64)>,
    grid: (usize, usize),
    input: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let magnitude = Magnitude::parse(input).map_err(py_err)?;
    let setting = PhaseSetting::new(features, dims, magnitude).map_err(py_err)?;
    let (p_lo, p_hi) = p_range.unwrap_or(DEFAULT_DENSITY_RANGE);
    let (w, h) = grid;
    let (g, curves, first_order) = py
        .detach(|| -> Result<_, Error> {
            let v_axis = phase::log_axis(v_range.0, v_range.1, w)?;
            let p_axis = phase::log_axis(p_lo, p_hi, h)?;
            let g = phase::phase_grid(&setting, &v_axis, &p_axis)?;
            let curves = if setting.closed_form_applies() {
                let mut c = vec![
                    (
                        "ignored".to_string(),
                        phase::boundary_curve(&setting, 0.0, &p_axis)?,
                    ),
                    (
                        "full".to_string(),
                        phase::boundary_curve(&setting, 1.0, &p_axis)?,
                    ),
                ];
                for level in CONTOUR_LEVELS {
                    c.push((
                        format!("{level}"),
                        phase::boundary_curve(&setting, level, &p_axis)?,
                    ));
                }
                Some(c)
            } else {
                None
            };
            let first = phase::first_order_line(&setting, &p_axis);
            Ok((g, curves, first))
        })
        .map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("importance", arr1(py, g.importance.clone()))?;
    d.set_item("density", arr1(py, g.density.clone()))?;
    d.set_item("kurtosis", arr1(py, g.kurtosis.clone()))?;
    d.set_item("capacity", arr2(py, h, w, g.capacity.clone())?)?;
    match curves {
        Some(c) => {
            let b = PyDict::new(py);
            for (name, pts) in c {
                b.set_item(name, points(py, &pts)?)?;
            }
            d.set_item("boundaries", b)?;
        }
        None => d.set_item("boundaries", py.None())?,
    }
    d.set_item("first_order", points(py, &first_order)?)?;
    d.set_item("critical_point", phase::critical_point(&setting))?;
    Ok(d)
}

/// Marginal-benefit curves mᵢ(C) (Q16), the threshold μ and the allocation on them.
#[pyfunction]
#[pyo3(signature = (importance, dims = None, lam = None, density = None, kurtosis = None, input = "uniform", points = 101))]
#[allow(clippy::too_many_arguments)]
fn marginal<'py>(
    py: Python<'py>,
    importance: Vec<f64>,
    dims: Option<usize>,
    lam: Option<f64>,
    density: Option<Vec<f64>>,
    kurtosis: Option<Vec<f64>>,
    input: &str,
    points: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let budget = match (dims, lam) {
        (Some(d), None) => Budget::Dims(d),
        (None, Some(l)) => Budget::Lambda(l),
        _ => {
            return Err(value_err(
                "give the budget: dims (optimal allocation) or lam (prescribed λ), not both",
            ));
        }
    };
    if points < 2 {
        return Err(value_err(format!("points must be ≥ 2, got {points}")));
    }
    let f = feature_set(importance, density, kurtosis, input)?;
    let c = py
        .detach(|| marginal_curves(&f, budget, points))
        .map_err(py_err)?;
    let d = PyDict::new(py);
    let n = c.benefit.len();
    d.set_item(
        "benefit",
        arr2(py, n, c.capacity.len(), c.benefit.concat())?,
    )?;
    d.set_item("capacity", arr1(py, c.capacity.clone()))?;
    d.set_item("optimum_benefit", arr1(py, c.optimum_benefit.clone()))?;
    d.set_item("threshold", c.threshold)?;
    d.set_item("mu", c.mu())?;
    d.set_item("allocation", allocation_dict(py, c.allocation)?)?;
    Ok(d)
}

/// Block structure (tegum factors) of each matrix.
#[pyfunction]
#[pyo3(signature = (w, tolerance = None, trained = false, features_as_rows = false, max_denominator = 12, fraction_tolerance = None))]
fn geometry<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyAny>,
    tolerance: Option<f64>,
    trained: bool,
    features_as_rows: bool,
    max_denominator: u32,
    fraction_tolerance: Option<f64>,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    let ws = matrices("W", w, features_as_rows)?;
    let tol = tolerance.unwrap_or(if trained {
        TRAINED_TOLERANCE
    } else {
        DEFAULT_TOLERANCE
    });
    if !(tol.is_finite() && tol > 0.0 && tol < 1.0) {
        return Err(value_err(format!("tolerance must be in (0, 1), got {tol}")));
    }
    if max_denominator == 0 {
        return Err(value_err("max_denominator must be ≥ 1, got 0"));
    }
    let ftol = fraction_tolerance.unwrap_or(tol);
    if !(ftol.is_finite() && ftol >= 0.0) {
        return Err(value_err(format!(
            "fraction_tolerance must be finite and ≥ 0, got {ftol}"
        )));
    }
    let decs = py
        .detach(|| {
            ws.iter()
                .map(|w| {
                    if trained {
                        decompose_trained(w, tol)
                    } else {
                        decompose(w, tol)
                    }
                })
                .collect::<Result<Vec<_>, Error>>()
        })
        .map_err(py_err)?;
    decs.iter()
        .map(|dec| {
            let d = PyDict::new(py);
            let blocks = PyList::empty(py);
            for b in &dec.blocks {
                let bd = PyDict::new(py);
                bd.set_item("dims", b.dims)?;
                bd.set_item("features", b.features.clone())?;
                bd.set_item("scale", b.scale)?;
                bd.set_item("scale_spread", b.scale_spread)?;
                bd.set_item("capacities", arr1(py, b.capacities.clone()))?;
                bd.set_item("sq_norms", arr1(py, b.sq_norms.clone()))?;
                bd.set_item("capacity_sum", b.capacity_sum)?;
                bd.set_item("efficient", b.efficient)?;
                blocks.append(bd)?;
            }
            let fr = fractions(dec, max_denominator, ftol);
            d.set_item("blocks", blocks)?;
            d.set_item("capacity", arr1(py, dec.capacities()))?;
            d.set_item(
                "fractions",
                fr.iter()
                    .map(|f| f.map(|(p, q)| format!("{p}/{q}")))
                    .collect::<Vec<_>>(),
            )?;
            d.set_item(
                "polytopes",
                fr.iter()
                    .map(|f| f.and_then(|(p, q)| polytope(p, q)).map(|t| t.name))
                    .collect::<Vec<_>>(),
            )?;
            d.set_item("ignored", dec.ignored.clone())?;
            d.set_item("total_capacity", dec.total_capacity)?;
            d.set_item("rank", dec.rank)?;
            d.set_item("efficient", dec.efficient)?;
            d.set_item("tegum", dec.tegum)?;
            d.set_item("max_cross_overlap", dec.max_cross_overlap)?;
            d.set_item("capacity_leak", dec.capacity_leak)?;
            d.set_item("tolerance", dec.tolerance)?;
            Ok(d)
        })
        .collect()
}

/// Trains a toy model over instances (one per density) and seeds; keeps the best seed of each
/// instance exactly as `polycap train` does.
#[pyfunction]
#[pyo3(signature = (model, features, dims, importance = vec![1.0], density = vec![1.0], *, instances_density = None, input = "uniform", seeds = 1, seed = 0, steps = None, batch = None, lr = None, optimizer = "adam", weight_decay = 0.01, schedule = None, eval_batch = 65536, save = None, export_synthetic = None, hidden = None, pairs = None))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    model: &str,
    features: usize,
    dims: usize,
    importance: Vec<f64>,
    density: Vec<f64>,
    instances_density: Option<Vec<f64>>,
    input: &str,
    seeds: usize,
    seed: u64,
    steps: Option<usize>,
    batch: Option<usize>,
    lr: Option<f64>,
    optimizer: &str,
    weight_decay: f64,
    schedule: Option<&str>,
    eval_batch: usize,
    save: Option<PathBuf>,
    export_synthetic: Option<PathBuf>,
    hidden: Option<&str>,
    pairs: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let exact = model.trim() == "quadratic-exact";
    // Issue 14a: the neuron model's hidden activation (Z20) and feature pairs (Z4)–(Z6);
    // `Trainer::new` rejects them where they do not apply.
    let hidden = hidden
        .map(polycap::training::Hidden::parse)
        .transpose()
        .map_err(py_err)?
        .unwrap_or_default();
    let pairs = pairs
        .map(polycap::training::Pairs::parse)
        .transpose()
        .map_err(py_err)?
        .unwrap_or_default();
    if exact && (hidden != polycap::training::Hidden::Relu || !pairs.is_none()) {
        return Err(value_err(
            "hidden and pairs do not apply to quadratic-exact",
        ));
    }
    let m = if exact {
        Model::Quadratic
    } else {
        Model::parse(model).map_err(py_err)?
    };
    if dims == 0 {
        return Err(py_err(Error::Dims(0)));
    }
    if seeds == 0 {
        return Err(value_err("seeds must be ≥ 1, got 0"));
    }
    if let Some(p) = &save {
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        if !matches!(ext.as_deref(), Some("safetensors" | "npz")) {
            return Err(value_err(format!(
                "save {}: the file name must end in .safetensors or .npz",
                p.display()
            )));
        }
    }
    let v = per_feature("importance", importance, features)?;
    let magnitude = Magnitude::parse(input).map_err(py_err)?;
    let density_sets: Vec<Vec<f64>> = match instances_density {
        Some(ps) if ps.is_empty() => return Err(value_err("instances_density is empty")),
        Some(ps) => ps.into_iter().map(|p| vec![p; features]).collect(),
        None => vec![per_feature("density", density, features)?],
    };
    let instances = density_sets
        .iter()
        .map(|d| FeatureSet::from_densities(v.clone(), d, magnitude))
        .collect::<Result<Vec<_>, Error>>()
        .map_err(py_err)?;
    for d in &density_sets {
        pairs.validate(d).map_err(py_err)?;
    }
    let optimizer_name = optimizer.trim().to_string();
    let optimizer = Optimizer::parse(optimizer, weight_decay).map_err(py_err)?;
    let schedule_text = schedule.map(str::to_string);
    let schedule = schedule.map(Schedule::parse).transpose().map_err(py_err)?;
    let trained = py
        .detach(|| -> Result<Vec<TrainedInstance>, Error> {
            if exact {
                let mut cfg = ExactConfig::default();
                if let Some(s) = steps {
                    cfg.steps = s;
                }
                if let Some(lr) = lr {
                    cfg.lr = lr;
                }
                cfg.optimizer = optimizer;
                if let Some(s) = schedule {
                    cfg.schedule = s;
                }
                let trainer = ExactTrainer::new(cfg)?;
                instances
                    .iter()
                    .map(|f| {
                        let obj = ExpectedLoss::new(f, dims)?;
                        let r = trainer.train_best(&obj, seeds, seed)?;
                        Ok(TrainedInstance {
                            bias: vec![obj.optimal_bias(&r.w)],
                            w: r.w,
                            loss: r.loss,
                            loss_curve: r.loss_curve,
                            seed: r.seed,
                            importance: f.importance().to_vec(),
                            density: f.densities().unwrap_or_default(),
                        })
                    })
                    .collect()
            } else {
                let mut cfg = TrainConfig::defaults(m);
                if let Some(s) = steps {
                    cfg.steps = s;
                }
                if let Some(b) = batch {
                    cfg.batch = b;
                    cfg.active_per_feature = None;
                }
                if let Some(lr) = lr {
                    cfg.lr = lr;
                }
                cfg.optimizer = optimizer;
                if let Some(s) = schedule {
                    cfg.schedule = s;
                }
                cfg.eval_batch = eval_batch;
                cfg.hidden = hidden;
                cfg.pairs = pairs;
                let trainer = Trainer::new(m, dims, cfg)?;
                let runs = trainer.sweep(&instances, seeds, seed, &|| ())?;
                instances
                    .iter()
                    .zip(&runs)
                    .map(|(f, runs)| {
                        let (best, _) = best_sampled(m, f, dims, runs)?;
                        Ok(TrainedInstance {
                            w: best.w.clone(),
                            bias: best.bias.clone(),
                            loss: best.loss,
                            loss_curve: best.loss_curve.clone(),
                            seed: best.seed,
                            importance: f.importance().to_vec(),
                            density: f.densities().unwrap_or_default(),
                        })
                    })
                    .collect()
            }
        })
        .map_err(py_err)?;
    let settings = serde_json::json!({
        "model": model.trim(), "features": features, "dims": dims, "input": input,
        "seeds": seeds, "seed": seed, "steps": steps, "batch": batch, "lr": lr,
        "optimizer": optimizer_name, "weight_decay": weight_decay, "schedule": schedule_text,
        "eval_batch": eval_batch, "hidden": hidden.name(), "pairs": pairs.name(),
        "source": "polycap Python package",
        "defaults": "null values are the model's defaults",
    });
    py.detach(|| -> Result<(), Error> {
        if let Some(p) = &save {
            io::run::save(p, &trained, &settings)?;
        }
        if let Some(dir) = &export_synthetic {
            io::run::export_synthetic(dir, &trained, !m.is_quadratic())?;
        }
        Ok(())
    })
    .map_err(py_err)?;
    let ws: Vec<DMatrix<f64>> = trained.iter().map(|t| t.w.clone()).collect();
    let k = trained.len();
    let d = PyDict::new(py);
    d.set_item("W", arr3(py, &ws)?)?;
    let b_len = trained[0].bias.len();
    d.set_item(
        "b",
        arr2(
            py,
            k,
            b_len,
            trained.iter().flat_map(|t| t.bias.clone()).collect(),
        )?,
    )?;
    d.set_item(
        "capacity",
        arr2(py, k, features, ws.iter().flat_map(capacities).collect())?,
    )?;
    d.set_item("loss", arr1(py, trained.iter().map(|t| t.loss).collect()))?;
    let p = trained[0].loss_curve.len();
    d.set_item(
        "losses",
        arr2(
            py,
            k,
            p,
            trained
                .iter()
                .flat_map(|t| t.loss_curve.iter().map(|&(_, l)| l))
                .collect(),
        )?,
    )?;
    d.set_item(
        "loss_steps",
        trained[0]
            .loss_curve
            .iter()
            .map(|&(s, _)| s)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    d.set_item(
        "seed",
        trained
            .iter()
            .map(|t| t.seed)
            .collect::<Vec<_>>()
            .into_pyarray(py),
    )?;
    d.set_item(
        "density",
        arr2(
            py,
            k,
            features,
            trained.iter().flat_map(|t| t.density.clone()).collect(),
        )?,
    )?;
    d.set_item(
        "importance",
        arr2(
            py,
            k,
            features,
            trained.iter().flat_map(|t| t.importance.clone()).collect(),
        )?,
    )?;
    Ok(d)
}

/// The feature sets of `train_abs` and `train_dataset`: one instance, or one per density of
/// `instances_density` (all features share it); U[0, 1) or U[−1, 1] magnitudes are the
/// model's, so the law is uniform.
fn instance_sets(
    features: usize,
    importance: Vec<f64>,
    density: Vec<f64>,
    instances_density: Option<Vec<f64>>,
) -> PyResult<Vec<FeatureSet>> {
    let v = per_feature("importance", importance, features)?;
    let sets: Vec<Vec<f64>> = match instances_density {
        Some(ps) if ps.is_empty() => return Err(value_err("instances_density is empty")),
        Some(ps) => ps.into_iter().map(|p| vec![p; features]).collect(),
        None => vec![per_feature("density", density, features)?],
    };
    sets.iter()
        .map(|d| FeatureSet::from_densities(v.clone(), d, Magnitude::Uniform))
        .collect::<Result<Vec<_>, Error>>()
        .map_err(py_err)
}

/// The densities and importances of `sets` as (instances, N) arrays under "density" and
/// "importance" of `d`.
fn set_items(d: &Bound<'_, PyDict>, sets: &[&FeatureSet]) -> PyResult<()> {
    let py = d.py();
    let n = sets.first().map_or(0, |f| f.len());
    let rows = |f: &dyn Fn(&FeatureSet) -> Vec<f64>| sets.iter().flat_map(|s| f(s)).collect();
    d.set_item(
        "density",
        arr2(
            py,
            sets.len(),
            n,
            rows(&|f| f.densities().unwrap_or_default()),
        )?,
    )?;
    d.set_item(
        "importance",
        arr2(py, sets.len(), n, rows(&|f| f.importance().to_vec()))?,
    )
}

/// Loss curves `(step, loss)` of equal length as "losses" (rows, P) and "loss_steps" (P,).
fn curve_items(d: &Bound<'_, PyDict>, curves: &[&[(usize, f64)]]) -> PyResult<()> {
    let py = d.py();
    let p = curves.first().map_or(0, |c| c.len());
    let flat = curves
        .iter()
        .flat_map(|c| c.iter().map(|&(_, l)| l))
        .collect();
    d.set_item("losses", arr2(py, curves.len(), p, flat)?)?;
    let steps: Vec<usize> = curves
        .first()
        .map_or_else(Vec::new, |c| c.iter().map(|&(s, _)| s).collect());
    d.set_item("loss_steps", steps.into_pyarray(py))
}

/// Trains the |x| model (Z10) over instances and seeds, keeping each instance's lowest-loss
/// seed, as `polycap train --model abs` does.
#[pyfunction]
#[pyo3(signature = (features, dims, importance = vec![1.0], density = vec![1.0], *, instances_density = None, seeds = 1, seed = 0, steps = None, batch = None, lr = None, optimizer = "adam", weight_decay = 0.01, schedule = None, eval_batch = 65536, hidden = None, init = None, positive_w2 = false, active = None))]
#[allow(clippy::too_many_arguments)]
fn train_abs<'py>(
    py: Python<'py>,
    features: usize,
    dims: usize,
    importance: Vec<f64>,
    density: Vec<f64>,
    instances_density: Option<Vec<f64>>,
    seeds: usize,
    seed: u64,
    steps: Option<usize>,
    batch: Option<usize>,
    lr: Option<f64>,
    optimizer: &str,
    weight_decay: f64,
    schedule: Option<&str>,
    eval_batch: usize,
    hidden: Option<&str>,
    init: Option<&str>,
    positive_w2: bool,
    active: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let sets = instance_sets(features, importance, density, instances_density)?;
    let d0 = AbsConfig::default();
    let mut cfg = AbsConfig {
        steps: steps.unwrap_or(d0.steps),
        batch: batch.unwrap_or(d0.batch),
        lr: lr.unwrap_or(d0.lr),
        optimizer: Optimizer::parse(optimizer, weight_decay).map_err(py_err)?,
        eval_batch,
        positive_w2,
        active_per_feature: active,
        ..d0
    };
    if let Some(s) = schedule {
        cfg.schedule = Schedule::parse(s).map_err(py_err)?;
    }
    if let Some(s) = init {
        cfg.init = AbsInit::parse(s, sets.len()).map_err(py_err)?;
    }
    if let Some(h) = hidden {
        let h = Hidden::parse(h).map_err(py_err)?;
        h.validate(dims).map_err(py_err)?;
        cfg.hidden = h;
    }
    let runs = py
        .detach(|| abs::sweep(&sets, dims, &cfg, seeds, seed, &|| ()))
        .map_err(py_err)?;
    let best: Vec<&AbsRun> = runs
        .iter()
        .map(|rs| best_by(rs, |r| r.loss).ok_or_else(|| value_err("seeds must be ≥ 1, got 0")))
        .collect::<PyResult<_>>()?;
    let k = best.len();
    let d = PyDict::new(py);
    let w1: Vec<DMatrix<f64>> = best.iter().map(|r| r.w1.clone()).collect();
    d.set_item("W1", arr3(py, &w1)?)?;
    let w2: Vec<DMatrix<f64>> = best.iter().map(|r| r.w2.clone()).collect();
    d.set_item("W2", arr3(py, &w2)?)?;
    let b = best.iter().flat_map(|r| r.bias.clone()).collect();
    d.set_item("b", arr2(py, k, features, b)?)?;
    let c = w1.iter().flat_map(capacities).collect();
    d.set_item("capacity", arr2(py, k, features, c)?)?;
    d.set_item("loss", arr1(py, best.iter().map(|r| r.loss).collect()))?;
    curve_items(
        &d,
        &best
            .iter()
            .map(|r| r.loss_curve.as_slice())
            .collect::<Vec<_>>(),
    )?;
    let seeds: Vec<u64> = best.iter().map(|r| r.seed).collect();
    d.set_item("seed", seeds.into_pyarray(py))?;
    let responses: Vec<f64> = best
        .iter()
        .flat_map(|r| r.responses().into_iter().flat_map(|(p, m)| [p, m]))
        .collect();
    d.set_item(
        "responses",
        numpy::PyArray1::from_vec(py, responses).reshape([k, features, 2])?,
    )?;
    let computed: Vec<bool> = best.iter().flat_map(|r| r.computed()).collect();
    d.set_item(
        "computed",
        numpy::PyArray1::from_vec(py, computed).reshape([k, features])?,
    )?;
    set_items(&d, &sets.iter().collect::<Vec<_>>())?;
    Ok(d)
}

/// Trains an autoencoder on fixed sets of T points (Z14)–(Z17): per instance and data seed
/// the lowest-training-loss init, as `polycap train --dataset T` does.
#[pyfunction]
#[pyo3(signature = (model, features, dims, points, importance = vec![1.0], density = vec![1.0], *, instances_density = None, test_points = 10000, data_seeds = 1, data_seed = 0, seeds = 1, seed = 0, steps = None, lr = None, optimizer = "adamw", weight_decay = 0.01, schedule = None))]
#[allow(clippy::too_many_arguments)]
fn train_dataset<'py>(
    py: Python<'py>,
    model: &str,
    features: usize,
    dims: usize,
    points: usize,
    importance: Vec<f64>,
    density: Vec<f64>,
    instances_density: Option<Vec<f64>>,
    test_points: usize,
    data_seeds: usize,
    data_seed: u64,
    seeds: usize,
    seed: u64,
    steps: Option<usize>,
    lr: Option<f64>,
    optimizer: &str,
    weight_decay: f64,
    schedule: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    let act = match Model::parse(model).map_err(py_err)?.family() {
        Family::Autoencoder(act) => act,
        _ => {
            return Err(value_err(format!(
                "a dataset applies to the autoencoders (tms-relu, tms-gelu, tms-square, linear), not {}",
                model.trim()
            )));
        }
    };
    let sets = instance_sets(features, importance, density, instances_density)?;
    let mut cfg = FiniteConfig::with_steps(
        points,
        steps.unwrap_or(FiniteConfig::defaults(points).steps),
    );
    cfg.test_points = test_points;
    cfg.optimizer = Optimizer::parse(optimizer, weight_decay).map_err(py_err)?;
    if let Some(lr) = lr {
        cfg.lr = lr;
    }
    if let Some(s) = schedule {
        cfg.schedule = Schedule::parse(s).map_err(py_err)?;
    }
    let runs = py
        .detach(|| {
            finite::sweep(
                act,
                &sets,
                dims,
                &cfg,
                seeds,
                seed,
                data_seeds,
                data_seed,
                &|| (),
            )
        })
        .map_err(py_err)?;
    // One row per (instance, data seed), instance-major.
    let best: Vec<&FiniteRun> = runs
        .iter()
        .map(|rs| {
            best_by(rs, |r| r.train_loss).ok_or_else(|| value_err("seeds must be ≥ 1, got 0"))
        })
        .collect::<PyResult<_>>()?;
    let rows = best.len();
    let d = PyDict::new(py);
    let w: Vec<DMatrix<f64>> = best.iter().map(|r| r.w.clone()).collect();
    d.set_item("W", arr3(py, &w)?)?;
    let h: Vec<DMatrix<f64>> = best.iter().map(|r| r.hidden.clone()).collect();
    d.set_item("H", arr3(py, &h)?)?;
    let b = best.iter().flat_map(|r| r.bias.clone()).collect();
    d.set_item("b", arr2(py, rows, features, b)?)?;
    let c = w.iter().flat_map(capacities).collect();
    d.set_item("capacity", arr2(py, rows, features, c)?)?;
    let dx = h.iter().flat_map(capacities).collect();
    d.set_item("d_point", arr2(py, rows, points, dx)?)?;
    d.set_item(
        "train_loss",
        arr1(py, best.iter().map(|r| r.train_loss).collect()),
    )?;
    d.set_item(
        "test_loss",
        arr1(py, best.iter().map(|r| r.test_loss).collect()),
    )?;
    curve_items(
        &d,
        &best
            .iter()
            .map(|r| r.loss_curve.as_slice())
            .collect::<Vec<_>>(),
    )?;
    let seeds: Vec<u64> = best.iter().map(|r| r.seed).collect();
    d.set_item("seed", seeds.into_pyarray(py))?;
    let dseeds: Vec<u64> = best.iter().map(|r| r.data_seed).collect();
    d.set_item("data_seed", dseeds.into_pyarray(py))?;
    set_items(
        &d,
        &sets
            .iter()
            .flat_map(|f| std::iter::repeat_n(f, data_seeds))
            .collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// Theory against training at one point (importance and density given) or over a V × p grid;
/// the report as JSON text (the `--format json` document of `polycap verify`).
#[pyfunction]
#[pyo3(signature = (model = "quadratic-exact", features = None, dims = 3, importance = None, density = None, input = "uniform", grid = (25, 25), v_range = (0.01, 100.0), p_range = (0.001, 1.0), seeds = None, seed = 0, steps = None, tolerance = None))]
#[allow(clippy::too_many_arguments)]
fn verify_json(
    py: Python<'_>,
    model: &str,
    features: Option<usize>,
    dims: usize,
    importance: Option<Vec<f64>>,
    density: Option<Vec<f64>>,
    input: &str,
    grid: (usize, usize),
    v_range: (f64, f64),
    p_range: (f64, f64),
    seeds: Option<usize>,
    seed: u64,
    steps: Option<usize>,
    tolerance: Option<f64>,
) -> PyResult<String> {
    let mut protocol = match model.trim() {
        "quadratic-exact" => Protocol::exact(),
        "quadratic" => Protocol::sampled(Model::Quadratic),
        other => {
            return Err(value_err(format!(
                "model: expected quadratic-exact or quadratic, got '{other}' (other models have no closed-form theory)"
            )));
        }
    };
    if let Some(s) = steps {
        if s == 0 {
            return Err(value_err("steps must be ≥ 1, got 0"));
        }
        protocol.set_steps(s);
    }
    let seeds = seeds.unwrap_or(match protocol {
        Protocol::Exact(_) => 5,
        _ => 3,
    });
    let mut tol = protocol.tolerance();
    if let Some(t) = tolerance {
        tol.capacity = t;
    }
    let verifier = Verifier::new(Box::new(QuadraticTheory), protocol, seeds, seed)
        .and_then(|v| v.with_tolerance(tol))
        .and_then(|v| {
            v.with_bands(Bands {
                log_importance: 0.05,
                log_kurtosis: 0.05,
            })
        })
        .map_err(py_err)?;
    let magnitude = Magnitude::parse(input).map_err(py_err)?;
    let text = if importance.is_some() || density.is_some() {
        let imp = importance.unwrap_or_else(|| vec![1.0]);
        let den = density.unwrap_or_else(|| vec![1.0]);
        let n = features.unwrap_or(imp.len().max(den.len()));
        let v = per_feature("importance", imp, n)?;
        let p = per_feature("density", den, n)?;
        let f = FeatureSet::from_densities(v, &p, magnitude).map_err(py_err)?;
        let r = py.detach(|| verifier.point(&f, dims, 0)).map_err(py_err)?;
        serde_json::to_string(&r)
    } else {
        let setting = PhaseSetting::new(features.unwrap_or(6), dims, magnitude).map_err(py_err)?;
        let spec = GridSpec::new(setting, v_range, p_range, grid.0, grid.1).map_err(py_err)?;
        let r = py
            .detach(|| verify_grid(&verifier, &spec, None, &|| ()))
            .map_err(py_err)?;
        serde_json::to_string(&r)
    };
    text.map_err(|e| value_err(format!("report: {e}")))
}

/// The embedding matrices of a file as a [instances, D, N] array (see `polycap capacity
/// --help` for the formats).
#[pyfunction]
#[pyo3(signature = (path, key = None, features_as_rows = false))]
fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    key: Option<&str>,
    features_as_rows: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let ws = py
        .detach(|| io::read_matrices(&path, key, features_as_rows))
        .map_err(py_err)?;
    arr3(py, &ws)
}

/// Every float array of a file by name, and its string metadata.
#[pyfunction]
fn read<'py>(
    py: Python<'py>,
    path: PathBuf,
) -> PyResult<(Bound<'py, PyDict>, BTreeMap<String, String>)> {
    let archive = py.detach(|| io::read_archive(&path)).map_err(py_err)?;
    let d = PyDict::new(py);
    for (name, a) in archive.arrays {
        let shape = a.shape().to_vec();
        d.set_item(name, a.data().to_vec().into_pyarray(py).reshape(shape)?)?;
    }
    Ok((d, archive.metadata))
}

/// Writes named float arrays and string metadata as .safetensors, .npz or .npy (atomically).
#[pyfunction]
#[pyo3(signature = (path, arrays, metadata = None))]
fn save(
    py: Python<'_>,
    path: PathBuf,
    arrays: &Bound<'_, PyDict>,
    metadata: Option<BTreeMap<String, String>>,
) -> PyResult<()> {
    let mut named = Vec::with_capacity(arrays.len());
    for (k, v) in arrays.iter() {
        let name: String = k.extract()?;
        let a = v.extract::<PyReadonlyArrayDyn<'_, f64>>().map_err(|_| {
            PyTypeError::new_err(format!("arrays['{name}'] must be a float64 numpy array"))
        })?;
        let data: Vec<f64> = a.as_array().iter().copied().collect();
        named.push((name, Array::new(a.shape().to_vec(), data).map_err(py_err)?));
    }
    let metadata = metadata.unwrap_or_default();
    py.detach(|| io::save(&path, &named, &metadata))
        .map_err(py_err)
}

/// The extension module.
#[pymodule]
fn _polycap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(capacity, m)?)?;
    m.add_function(wrap_pyfunction!(allocate, m)?)?;
    m.add_function(wrap_pyfunction!(phase_diagram, m)?)?;
    m.add_function(wrap_pyfunction!(marginal, m)?)?;
    m.add_function(wrap_pyfunction!(geometry, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(train_abs, m)?)?;
    m.add_function(wrap_pyfunction!(train_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(verify_json, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(read, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
