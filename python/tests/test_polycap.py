"""Tests of the Python package: numbers against closed forms and numpy, files through numpy's
and the safetensors package's own loaders. numpy and safetensors only (no torch)."""

import json
from fractions import Fraction

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

import polycap


def capacities_numpy(W):
    """(C1) computed with numpy: Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)², 0 for a zero column."""
    G = W.T @ W
    num = np.diag(G) ** 2
    den = (G**2).sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


# --- the worked example ----------------------------------------------------------------------


def test_worked_example_matches_the_exact_fractions():
    a = polycap.allocate([0.5, 1, 1, 1, 1, 1], dims=3, density=0.1)
    assert a.lam == pytest.approx(187 / 114, rel=1e-13)
    assert a.mu == pytest.approx(34969 / 6498, rel=1e-13)
    assert a.loss == pytest.approx(1462 / 171, rel=1e-13)
    expect_c = [Fraction(7, 33)] + [Fraction(92, 165)] * 5
    expect_n = [Fraction(119, 342)] + [Fraction(782, 855)] * 5
    np.testing.assert_allclose(a.capacity, [float(c) for c in expect_c], rtol=1e-13)
    np.testing.assert_allclose(a.sq_norm, [float(n) for n in expect_n], rtol=1e-13)
    assert a.phase == ["polysemantic"] * 6
    assert a.total_capacity == pytest.approx(3.0, abs=1e-12)
    assert a.kkt["max_residual"] < 1e-10
    assert isinstance(a.capacity, np.ndarray) and a.capacity.dtype == np.float64


def test_allocate_by_kurtosis_equals_allocate_by_density():
    # Uniform magnitudes: k = (9/5)/p, so p = 0.1 is k = 18.
    a = polycap.allocate([0.5, 1, 1, 1, 1, 1], 3, density=0.1)
    b = polycap.allocate([0.5, 1, 1, 1, 1, 1], 3, kurtosis=18.0)
    np.testing.assert_allclose(a.capacity, b.capacity, rtol=1e-12)


def test_allocate_errors_are_value_errors_with_the_cli_message():
    with pytest.raises(ValueError, match=r"density p = 1 − S of feature 2 must be in \(0, 1\], got 2"):
        polycap.allocate([1, 1], 1, density=[0.5, 2.0])
    with pytest.raises(ValueError, match="embedding dimension D must be ≥ 1"):
        polycap.allocate([1, 1], 0, density=0.5)
    with pytest.raises(ValueError, match="mutually exclusive"):
        polycap.allocate([1, 1], 1, density=0.5, kurtosis=3.0)
    with pytest.raises(ValueError, match="unknown input distribution 'cauchy'"):
        polycap.allocate([1, 1], 1, density=0.5, input="cauchy")
    with pytest.raises(ValueError, match="expected 3 values"):
        polycap.allocate([1, 1, 1], 1, density=[0.5, 0.5])


# --- capacities against numpy ----------------------------------------------------------------


def test_capacity_matches_numpy_in_every_layout():
    rng = np.random.default_rng(7)
    W = rng.normal(size=(5, 8))
    W[:, 3] = 0.0  # a zero column has capacity 0
    expect = capacities_numpy(W)
    r = polycap.capacity(W)
    np.testing.assert_allclose(r.capacity, expect, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.sq_norm, (W**2).sum(axis=0), rtol=1e-12)
    assert r.capacity[3] == 0.0
    assert r.total_capacity == pytest.approx(expect.sum(), rel=1e-12)
    assert (r.dims, r.features, r.rank) == (5, 8, 5)
    # Fortran order, one feature per row, negative strides, float32: same numbers.
    np.testing.assert_allclose(polycap.capacity(np.asfortranarray(W)).capacity, expect, rtol=1e-12)
    np.testing.assert_allclose(
        polycap.capacity(W.T.copy(), features_as_rows=True).capacity, expect, rtol=1e-12
    )
    np.testing.assert_allclose(
        polycap.capacity(W[:, ::-1]).capacity, expect[::-1], rtol=1e-12, atol=1e-15
    )
    W32 = W.astype(np.float32)
    np.testing.assert_allclose(
        polycap.capacity(W32).capacity, capacities_numpy(W32.astype(np.float64)), rtol=1e-12
    )


def test_efficient_matrix_and_stacks():
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]])
    r = polycap.capacity(W)
    np.testing.assert_allclose(r.capacity, [1.0, 0.5, 0.5], rtol=1e-15)
    assert r.efficient and r.rank == 2
    stack = np.stack([W, 2 * W, W[:, [2, 0, 1]]])
    rs = polycap.capacity(stack)
    assert isinstance(rs, list) and len(rs) == 3
    np.testing.assert_allclose(rs[2].capacity, [0.5, 1.0, 0.5], rtol=1e-15)


@pytest.mark.parametrize(
    "W, error, needle",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "row 1, column 2 is NaN"),
        (np.array([[1.0, 0.0], [np.inf, 1.0]]), ValueError, "row 2, column 1 is inf"),
        (np.ones(3), ValueError, "must be 2-D"),
        (np.ones((1, 1, 1, 1)), ValueError, "4 dimensions"),
        (np.ones((0, 3)), ValueError, "empty"),
        (np.ones((2, 3), dtype=np.int64), TypeError, "int64"),
        (np.ones((2, 3), dtype=np.complex128), TypeError, "complex128"),
        ([[1, 2], [3, 4]], TypeError, "float64 or float32"),
    ],
)
def test_bad_arrays_name_the_problem(W, error, needle):
    with pytest.raises(error, match=needle):
        polycap.capacity(W)
    with pytest.raises(error, match=needle):
        polycap.geometry(W)


# --- theory curves ---------------------------------------------------------------------------


def test_marginal_curves_are_the_closed_form():
    v = np.array([2.0, 0.75, 0.2])
    k = np.array([1.2, 2.5, 21.0])
    m = polycap.marginal(v, dims=2, kurtosis=k, points=11)
    C = np.linspace(0, 1, 11)
    expect = 2 * (k[:, None] - 1) ** 2 * v[:, None] ** 2 / ((k[:, None] - 3) * C + 2) ** 2
    np.testing.assert_allclose(m.capacity, C, atol=1e-15)
    np.testing.assert_allclose(m.benefit, expect, rtol=1e-12)
    # The spec's counterexample (B6.iv): the feature with larger (k−1)v² is fractional.
    np.testing.assert_allclose(m.allocation.capacity, [1.0, 0.794521, 0.205479], atol=1e-6)
    assert m.mu == pytest.approx(0.985392, rel=1e-6)


def test_phase_diagram_agrees_with_allocate_at_grid_points():
    d = polycap.phase_diagram(features=6, dims=3, v_range=(0.1, 10), p_range=(0.01, 1), grid=(5, 4))
    assert d.capacity.shape == (4, 5)
    assert d.boundaries is not None and d.boundaries["ignored"].shape == (4, 2)
    for row in range(4):
        for col in range(5):
            V, p = d.importance[col], d.density[row]
            a = polycap.allocate([V, 1, 1, 1, 1, 1], 3, density=p)
            assert d.capacity[row, col] == pytest.approx(a.capacity[0], abs=1e-9)


def test_geometry_names_blocks_and_fractions():
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, -1.0]])
    g = polycap.geometry(W)
    assert [b.features for b in g.blocks] == [[0], [1, 2]]
    assert [b.dims for b in g.blocks] == [1, 1]
    assert g.blocks[1].scale == pytest.approx(2.0, rel=1e-12)
    assert g.fractions == ["1/1", "1/2", "1/2"]
    assert g.polytopes[1:] == ["digon", "digon"]
    assert g.tegum and g.efficient


# --- training --------------------------------------------------------------------------------

TINY = dict(steps=300, batch=64, eval_batch=1024)


def test_training_is_deterministic_per_seed():
    a = polycap.train("tms-relu", 5, 2, importance=1.0, density=0.1, seed=3, **TINY)
    b = polycap.train("tms-relu", 5, 2, importance=1.0, density=0.1, seed=3, **TINY)
    c = polycap.train("tms-relu", 5, 2, importance=1.0, density=0.1, seed=4, **TINY)
    assert a.W.shape == (1, 2, 5) and a.b.shape == (1, 5)
    assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
    assert np.array_equal(a.losses, b.losses)
    assert not np.array_equal(a.W, c.W)
    np.testing.assert_allclose(a.capacity[0], capacities_numpy(a.W[0]), rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(a.loss))


def test_training_sweeps_instances():
    r = polycap.train("quadratic", 4, 2, instances_density=[1.0, 0.1], **TINY)
    assert r.W.shape == (2, 2, 4)
    np.testing.assert_allclose(r.density, [[1.0] * 4, [0.1] * 4])
    assert r.b.shape == (2, 1)


def test_training_errors():
    with pytest.raises(ValueError, match="unknown model"):
        polycap.train("tms-sigmoid", 5, 2)
    with pytest.raises(ValueError, match=r"\.safetensors or \.npz"):
        polycap.train("tms-relu", 5, 2, save="run.txt", **TINY)


def test_zoo_neuron_model_and_pairs():
    # The neuron model with SoLU-LN on correlated pairs: W has the (instances, D, N) layout and
    # its capacities are (C1), recomputed in numpy; bad zoo options are ValueErrors.
    r = polycap.train(
        "tms-neuron", 6, 4, density=0.2, hidden="solu_ln", pairs="correlated:1", **TINY
    )
    assert r.W.shape == (1, 4, 6)
    np.testing.assert_allclose(r.capacity[0], capacities_numpy(r.W[0]), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="N/2"):
        polycap.train("tms-relu", 3, 2, pairs="correlated:2", **TINY)
    with pytest.raises(ValueError, match="solu_ln"):
        polycap.train("tms-neuron", 4, 2, hidden="solu_ln", **TINY)
    with pytest.raises(ValueError, match="tms-neuron"):
        polycap.train("tms-relu", 4, 2, hidden="solu", **TINY)


def test_abs_model_responses_recomputed_in_numpy():
    # y′ = ReLU(W₂ ReLU(W₁x) + b) (Z10) at x = ±eᵢ, recomputed from the returned weights;
    # "computed" is both responses ≥ 0.5 (Z12); the capacities are (C1) of W₁.
    r = polycap.train("abs", 3, 6, density=1.0, seeds=2, **TINY)
    assert isinstance(r, polycap.AbsResult)
    assert r.W1.shape == (1, 6, 3) and r.W2.shape == (1, 3, 6) and r.b.shape == (1, 3)
    w1, w2, b = r.W1[0], r.W2[0], r.b[0]
    for i in range(3):
        for side, x in ((0, 1.0), (1, -1.0)):
            e = np.zeros(3)
            e[i] = x
            y = np.maximum(w2 @ np.maximum(w1 @ e, 0.0) + b, 0.0)
            assert abs(r.responses[0, i, side] - y[i]) < 1e-12
    np.testing.assert_array_equal(r.computed[0], (r.responses[0] >= 0.5).all(axis=1))
    np.testing.assert_allclose(r.capacity[0], capacities_numpy(w1), rtol=1e-12, atol=1e-15)
    again = polycap.train("abs", 3, 6, density=1.0, seeds=2, **TINY)
    np.testing.assert_array_equal(r.W1, again.W1)
    with pytest.raises(ValueError, match="pairs does not apply to abs"):
        polycap.train("abs", 4, 2, pairs="correlated:1", **TINY)


def test_abs_positive_w2_takes_absolute_values_of_the_init():
    # (ZB12): after one step of lr 1e-12, W₂ is its init to 1e-12: with positive_w2 the
    # absolute values of ARENA's init (same seed), which has both signs.
    tiny = dict(steps=1, lr=1e-12, batch=8, eval_batch=8)
    on = polycap.train("abs", 6, 5, positive_w2=True, **tiny)
    off = polycap.train("abs", 6, 5, **tiny)
    assert (on.W2 > 0).all() and (off.W2 < 0).any()
    np.testing.assert_allclose(on.W2, np.abs(off.W2), atol=1e-9)
    with pytest.raises(ValueError, match="positive_w2 applies to abs only"):
        polycap.train("tms-relu", 4, 2, positive_w2=True, **TINY)


def test_abs_active_sizes_the_batch_by_density():
    # (ZB13): B = max(batch, ⌈m/p⌉). At p = 0.1, batch 16: m = 1 asks for 10 < 16 samples,
    # so the run is the fixed-batch run bit for bit; m = 4 asks for 40 and trains on other
    # batches.
    tiny = dict(density=0.1, steps=20, batch=16, eval_batch=64, positive_w2=True)
    fixed = polycap.train("abs", 6, 4, **tiny)
    np.testing.assert_array_equal(polycap.train("abs", 6, 4, active=1, **tiny).W1, fixed.W1)
    assert not np.array_equal(polycap.train("abs", 6, 4, active=4, **tiny).W1, fixed.W1)
    with pytest.raises(ValueError, match="active entries per feature"):
        polycap.train("abs", 6, 4, active=0, **tiny)
    with pytest.raises(ValueError, match="active applies to abs only"):
        polycap.train("tms-relu", 4, 2, active=4, **TINY)


def test_dataset_small_t_gives_a_t_gon():
    # (Z19) small T: the hidden vectors of T = 4 points form a square, every D_X = D/T = ½;
    # D_X and D_f are (C1) of the columns of H and W, recomputed in numpy.
    r = polycap.train(
        "tms-relu", 200, 2, density=0.05, dataset=4, steps=4000, seeds=2, data_seeds=2,
        test_points=1000,
    )
    assert isinstance(r, polycap.DatasetResult)
    assert r.W.shape == (2, 2, 200) and r.H.shape == (2, 2, 4) and r.d_point.shape == (2, 4)
    np.testing.assert_array_equal(r.data_seed, [0, 1])
    for k in range(2):
        np.testing.assert_allclose(r.d_point[k], capacities_numpy(r.H[k]), rtol=1e-12)
        np.testing.assert_allclose(r.capacity[k], capacities_numpy(r.W[k]), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(r.d_point[k], 0.5, rtol=0.15)
    assert (r.test_loss > r.train_loss).all()
    with pytest.raises(ValueError, match="T must be|1 to"):
        polycap.train("tms-relu", 5, 2, dataset=0, steps=10)
    with pytest.raises(ValueError, match="autoencoders"):
        polycap.train("quadratic", 5, 2, dataset=5, steps=10)
    with pytest.raises(ValueError, match="batch does not apply"):
        polycap.train("tms-relu", 5, 2, dataset=5, steps=10, batch=8)


# --- files -----------------------------------------------------------------------------------


def test_train_files_load_in_numpy_and_safetensors(tmp_path):
    st, npz = tmp_path / "run.safetensors", tmp_path / "run.npz"
    r = polycap.train("tms-relu", 5, 2, density=0.1, seed=1, save=st, **TINY)
    polycap.train("tms-relu", 5, 2, density=0.1, seed=1, save=npz, **TINY)

    t = safetensors.numpy.load_file(str(st))
    assert t["W"].shape == (1, 5, 2)  # [instances, features, hidden]
    np.testing.assert_array_equal(t["W"][0], r.W[0].T)
    np.testing.assert_array_equal(t["b_final"], r.b)
    np.testing.assert_array_equal(t["losses"], r.losses)
    with safe_open(str(st), framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "polycap-train"
    assert meta["w_layout"] == "[instances, features, hidden]"
    assert json.loads(meta["settings"])["model"] == "tms-relu"

    z = np.load(npz)
    np.testing.assert_array_equal(z["W"], t["W"])
    np.testing.assert_array_equal(z["loss_steps"], t["loss_steps"])
    assert json.loads(str(z["settings"]))["dims"] == 2
    assert str(z["format"]) == "polycap-train"

    # polycap reads its own files back in the D × N orientation.
    for path in (st, npz):
        np.testing.assert_array_equal(polycap.load(path), r.W)


def test_numpy_and_safetensors_files_read_back(tmp_path):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 7))
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "wf.npy", np.asfortranarray(W))
    np.save(tmp_path / "w32.npy", W.astype(np.float32))
    np.savez_compressed(tmp_path / "two.npz", enc=W, other=np.ones((2, 2)))
    np.savez(tmp_path / "stack.npz", np.stack([W, 2 * W]))
    safetensors.numpy.save_file({"W_enc": W.T.copy()}, str(tmp_path / "w.safetensors"))

    np.testing.assert_array_equal(polycap.load(tmp_path / "w.npy")[0], W)
    np.testing.assert_array_equal(polycap.load(tmp_path / "wf.npy")[0], W)
    np.testing.assert_array_equal(polycap.load(tmp_path / "w32.npy")[0], W.astype(np.float32))
    np.testing.assert_array_equal(polycap.load(tmp_path / "two.npz", key="enc")[0], W)
    with pytest.raises(ValueError, match="2 arrays .*choose one with --key"):
        polycap.load(tmp_path / "two.npz")
    with pytest.raises(ValueError, match="no array named 'nope'"):
        polycap.load(tmp_path / "two.npz", key="nope")
    np.testing.assert_array_equal(polycap.load(tmp_path / "stack.npz")[1], 2 * W)
    np.testing.assert_array_equal(
        polycap.load(tmp_path / "w.safetensors", features_as_rows=True)[0], W
    )
    with pytest.raises(OSError, match="cannot read"):
        polycap.load(tmp_path / "missing.npy")


def test_polycap_writes_what_numpy_and_safetensors_read(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {"a": rng.normal(size=(2, 3, 4)), "b": np.arange(5.0)}
    polycap.save(tmp_path / "x.npz", arrays, {"note": "λ = 187/114"})
    polycap.save(tmp_path / "x.safetensors", arrays, {"note": "λ = 187/114"})
    polycap.save(tmp_path / "x.npy", {"a": arrays["a"]})
    z = np.load(tmp_path / "x.npz")
    t = safetensors.numpy.load_file(str(tmp_path / "x.safetensors"))
    for k, v in arrays.items():
        np.testing.assert_array_equal(z[k], v)
        np.testing.assert_array_equal(t[k], v)
    assert str(z["note"]) == "λ = 187/114"
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), arrays["a"])
    back, meta = polycap.read(tmp_path / "x.safetensors")
    np.testing.assert_array_equal(back["a"], arrays["a"])
    assert meta == {"note": "λ = 187/114"}
    with pytest.raises(ValueError, match="one array"):
        polycap.save(tmp_path / "y.npy", arrays)


def test_synthetic_model_folder(tmp_path):
    r = polycap.train(
        "tms-relu", 5, 2, density=[0.1, 0.1, 0.2, 0.2, 0.3], seed=2,
        export_synthetic=tmp_path / "world", **TINY,
    )
    cfg = json.loads((tmp_path / "world" / "synthetic_model_config.json").read_text())
    assert (cfg["num_features"], cfg["hidden_dim"]) == (5, 2)
    assert cfg["firing_probability"]["generator_name"] == "linear"
    t = safetensors.numpy.load_file(str(tmp_path / "world" / "synthetic_model.safetensors"))
    assert t["feature_vectors"].dtype == np.float32 and t["feature_vectors"].shape == (5, 2)
    np.testing.assert_allclose(t["feature_vectors"], r.W[0].T, rtol=1e-6)
    np.testing.assert_allclose(t["firing_probabilities"], [0.1, 0.1, 0.2, 0.2, 0.3], rtol=1e-6)
    np.testing.assert_array_equal(t["bias"], np.zeros(2, dtype=np.float32))
    # The folder reads back as W (D × N).
    np.testing.assert_allclose(polycap.load(tmp_path / "world")[0], r.W[0], rtol=1e-6)


# --- verify ----------------------------------------------------------------------------------


def test_verify_point_agrees_with_theory():
    rep = polycap.verify(importance=[0.5, 1, 1, 1, 1, 1], density=0.1, dims=3, steps=5000, seeds=2)
    assert rep["within"], rep["reasons"]
    a = polycap.allocate([0.5, 1, 1, 1, 1, 1], 3, density=0.1)
    predicted = np.array(rep["theory_capacity"])
    np.testing.assert_allclose(predicted, a.capacity, rtol=1e-12)


# --- the README ------------------------------------------------------------------------------


def test_readme_python_example_prints_what_the_readme_says(tmp_path, monkeypatch, capsys):
    """Runs the README's "From Python" example and compares its output with the README."""
    import pathlib
    import re

    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    if not readme.is_file():
        pytest.skip("not run from a clone of the repository")
    section = readme.read_text(encoding="utf-8").split("## From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out == shown
