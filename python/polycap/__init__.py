"""polycap: capacity theory of polysemanticity and toy models of superposition.

A numpy-native front end of the Rust library: every number is computed by the library (the
same code as the ``polycap`` command line), this package only converts arrays and wraps the
results in typed objects. Work runs with the GIL released.

Conventions: ``W`` is an embedding matrix of shape (D, N) — rows are embedding dimensions,
columns are features — unless ``features_as_rows=True`` (shape (N, D), the layout of the
Anthropic notebook and of PyTorch's ``nn.Linear(D, N).weight``). A 3-D array is a stack of
matrices (instances × D × N) and gives one result per instance. Density p is the probability
that a feature is non-zero (the papers' sparsity is S = 1 − p). Feature indices in results are
0-based, as everywhere in numpy.

Bad input raises ``ValueError`` with the one-line message the CLI prints (``TypeError`` for a
wrong dtype, ``OSError`` for a file that cannot be read or written).

Example — the worked example of the specification (6 features in 3 dimensions)::

    >>> import polycap
    >>> a = polycap.allocate([0.5, 1, 1, 1, 1, 1], dims=3, density=0.1)
    >>> round(a.lam, 12) == round(187 / 114, 12)
    True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _polycap

__all__ = [
    "AbsResult",
    "Allocation",
    "Block",
    "Capacity",
    "DatasetResult",
    "Geometry",
    "Marginal",
    "PhaseDiagram",
    "TrainResult",
    "allocate",
    "capacity",
    "geometry",
    "load",
    "marginal",
    "phase_diagram",
    "read",
    "save",
    "train",
    "verify",
]

__version__: str = _polycap.__version__

PathLike = Union[str, "os.PathLike[str]"]
Values = Union[float, Sequence[float], np.ndarray]


def _values(x: Values) -> List[float]:
    """A scalar or a sequence as a list of floats (one value means: the same for all)."""
    return [float(v) for v in np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()]


def _opt_values(x: Optional[Values]) -> Optional[List[float]]:
    return None if x is None else _values(x)


@dataclass(frozen=True)
class Capacity:
    """Capacities of one embedding matrix W (D × N), spec (C1), (C5), (C6).

    Attributes:
        capacity: Cᵢ = (Wᵢ·Wᵢ)² / Σⱼ (Wᵢ·Wⱼ)² per feature (0 for a zero column), shape (N,).
        sq_norm: ‖Wᵢ‖² per feature, shape (N,).
        total_capacity: ΣC, between 1 and rank W for W ≠ 0.
        rank: numerical rank of W.
        efficient: ΣC = D (within 1e-9·N) and rank W = D.
        dims: D.
        features: N.
    """

    capacity: np.ndarray
    sq_norm: np.ndarray
    total_capacity: float
    rank: int
    efficient: bool
    dims: int
    features: int


def capacity(
    W: np.ndarray, features_as_rows: bool = False
) -> Union[Capacity, List[Capacity]]:
    """Per-feature capacities of an embedding matrix (spec (C1)).

    Args:
        W: float64 (read in place) or float32 array, shape (D, N), or (instances, D, N) for a
            stack.
        features_as_rows: W is stored (N, D), one feature per row.

    Returns:
        A :class:`Capacity` for a 2-D W, a list of them (one per instance) for a 3-D W.

    Raises:
        TypeError: W is not a float array (e.g. an integer dtype).
        ValueError: W is empty, not 2-D or 3-D, or has a non-finite entry.
    """
    W = np.asarray(W)
    out = [Capacity(**d) for d in _polycap.capacity(W, features_as_rows)]
    return out if W.ndim == 3 else out[0]


@dataclass(frozen=True)
class Allocation:
    """An optimal capacity allocation of the quadratic model (spec (A7)).

    Attributes:
        capacity: Cᵢ ∈ [0, 1], shape (N,).
        sq_norm: nᵢ = ‖Wᵢ‖² of the optimum (Q13), shape (N,).
        phase: "ignored", "polysemantic" or "monosemantic" per feature.
        lam: common ratio λ = nᵢ/Cᵢ of the fractional features (A6); None when not unique.
        mu: multiplier μ = 2λ² of ΣC = D, the common marginal benefit (A4); None when not unique.
        loss: optimal loss L* = Σ Lᵢ*(Cᵢ) (Q15).
        total_capacity: ΣC (= D when the budget binds).
        dims: D (None in prescribed-λ mode).
        method: the algorithm ("sweep", "mixed", ...).
        ties: the optimum is not unique; ties were broken by lower index.
        kkt: residuals of the KKT self-test (A11): interior, full, ignored, capacity_sum,
            ratio, max_residual.
    """

    capacity: np.ndarray
    sq_norm: np.ndarray
    phase: List[str]
    lam: Optional[float]
    mu: Optional[float]
    loss: float
    total_capacity: float
    dims: Optional[int]
    method: str
    ties: bool
    kkt: Dict[str, float]


def allocate(
    importance: Values,
    dims: int,
    density: Optional[Values] = None,
    kurtosis: Optional[Values] = None,
    input: str = "uniform",
) -> Allocation:
    """The optimal capacity allocation of the quadratic model (``polycap allocate``).

    Args:
        importance: vᵢ ≥ 0 per feature (or one value for all).
        dims: embedding dimension D ≥ 1.
        density: pᵢ = 1 − Sᵢ ∈ (0, 1] per feature (or one for all); kurtosis k = Kurt[z]/p.
        kurtosis: kᵢ = E[x⁴] ≥ 1 per feature, instead of density.
        input: law of a non-zero input: uniform, gaussian, laplace, rademacher, student-t:NU.

    Raises:
        ValueError: a value outside its domain, lists of different lengths, both or neither
            of density and kurtosis.
    """
    d = _polycap.allocate(
        _values(importance), dims, _opt_values(density), _opt_values(kurtosis), input
    )
    return Allocation(**d)


@dataclass(frozen=True)
class PhaseDiagram:
    """C₁ of the varied feature (importance V, density p) with the others at importance 1.

    Attributes:
        importance: V per column, shape (W,).
        density: p per row, shape (H,).
        kurtosis: k = Kurt[z]/p per row, shape (H,).
        capacity: C₁, shape (H, W): ``capacity[row, col]`` at (density[row], importance[col]).
        boundaries: closed-form iso-capacity lines (P3)–(P5) as (V, p) points, shape (H, 2):
            "ignored" (C₁ = 0), "full" (C₁ = 1) and the contour levels; None when D ≥ N.
        first_order: the first-order line (1, p) where k ≤ 3, shape (M, 2).
        critical_point: (V, p) where the two boundaries meet, or None.
    """

    importance: np.ndarray
    density: np.ndarray
    kurtosis: np.ndarray
    capacity: np.ndarray
    boundaries: Optional[Dict[str, np.ndarray]]
    first_order: np.ndarray
    critical_point: Optional[Tuple[float, float]]


def phase_diagram(
    features: int = 6,
    dims: int = 3,
    v_range: Tuple[float, float] = (0.01, 100.0),
    p_range: Optional[Tuple[float, float]] = None,
    grid: Tuple[int, int] = (400, 400),
    input: str = "uniform",
) -> PhaseDiagram:
    """The analytic phase diagram (``polycap phase``) on a log grid of W × H points.

    Args:
        features: N ≥ 2 (feature 1 varied, features 2..N at importance 1).
        dims: D.
        v_range: (lowest, highest) importance V.
        p_range: (lowest, highest) density p (default: the CLI's).
        grid: (W, H) points along V and p.
        input: law of a non-zero input.
    """
    d = _polycap.phase_diagram(features, dims, v_range, p_range, grid, input)
    return PhaseDiagram(**d)


@dataclass(frozen=True)
class Marginal:
    """Marginal-benefit curves mᵢ(C) = 2(kᵢ−1)²vᵢ²/((kᵢ−3)C + 2)² (Q16).

    Attributes:
        capacity: the grid of C ∈ [0, 1], shape (P,).
        benefit: mᵢ(C), shape (N, P).
        optimum_benefit: mᵢ(Cᵢ*) at the optimum, shape (N,).
        threshold: the admissible multipliers (μ_low, μ_high) of (K3).
        mu: the unique μ, or None.
        allocation: the allocation on the curves.
    """

    capacity: np.ndarray
    benefit: np.ndarray
    optimum_benefit: np.ndarray
    threshold: Tuple[float, float]
    mu: Optional[float]
    allocation: Allocation


def marginal(
    importance: Values,
    dims: Optional[int] = None,
    lam: Optional[float] = None,
    density: Optional[Values] = None,
    kurtosis: Optional[Values] = None,
    input: str = "uniform",
    points: int = 101,
) -> Marginal:
    """Marginal-benefit curves and the equal-returns threshold (``polycap marginal``).

    Give the budget as ``dims`` (optimal allocation) or ``lam`` (prescribed λ, (A8)), and the
    input law as ``density`` (with ``input``) or ``kurtosis``.
    """
    d = _polycap.marginal(
        _values(importance),
        dims,
        lam,
        _opt_values(density),
        _opt_values(kurtosis),
        input,
        points,
    )
    d["allocation"] = Allocation(**d["allocation"])
    d["threshold"] = tuple(d["threshold"])
    return Marginal(**d)


@dataclass(frozen=True)
class Block:
    """One tegum factor: a maximal set of features connected by non-zero overlaps.

    Attributes:
        dims: its dimension D_b.
        features: its features (0-based columns of W).
        scale: γ_b = Σnᵢ/ΣCᵢ.
        scale_spread: relative spread of nᵢ/Cᵢ over the block.
        capacities: Cᵢ of its features (on the whole W).
        sq_norms: nᵢ of its features.
        capacity_sum: Σ Cᵢ over the block.
        efficient: Σ Cᵢ = D_b and equal singular values (C7).
    """

    dims: int
    features: List[int]
    scale: float
    scale_spread: float
    capacities: np.ndarray
    sq_norms: np.ndarray
    capacity_sum: float
    efficient: bool


@dataclass(frozen=True)
class Geometry:
    """Block structure of W (``polycap geometry``).

    Attributes:
        blocks: the blocks, ordered by their smallest feature.
        capacity: Cᵢ per feature, shape (N,).
        fractions: "p/q" per feature where Cᵢ is that close to a simple fraction, else None.
        polytopes: the polytope named by that fraction (e.g. "pentagon"), else None.
        ignored: features with ‖Wᵢ‖² ≈ 0.
        total_capacity, rank, efficient: as in :class:`Capacity`.
        tegum: the blocks span mutually orthogonal subspaces (W is their tegum product).
        max_cross_overlap: largest cosine between two blocks' column spaces.
        capacity_leak: max |Cᵢ(W) − Cᵢ(W_b)|.
        tolerance: the tolerance used.
    """

    blocks: List[Block]
    capacity: np.ndarray
    fractions: List[Optional[str]]
    polytopes: List[Optional[str]]
    ignored: List[int]
    total_capacity: float
    rank: int
    efficient: bool
    tegum: bool
    max_cross_overlap: float
    capacity_leak: float
    tolerance: float


def geometry(
    W: np.ndarray,
    tolerance: Optional[float] = None,
    trained: bool = False,
    features_as_rows: bool = False,
    max_denominator: int = 12,
    fraction_tolerance: Optional[float] = None,
) -> Union[Geometry, List[Geometry]]:
    """Blocks, scales and capacity fractions of W (one result per instance for a 3-D W).

    Args:
        W: as for :func:`capacity`.
        tolerance: cosines ≤ tolerance count as orthogonal (default 1e-9, or 1e-2 when
            ``trained``).
        trained: W comes from training: prune features shorter than √tol times the longest.
        features_as_rows: W is stored (N, D).
        max_denominator: largest q of a recognised fraction p/q.
        fraction_tolerance: largest |Cᵢ − p/q| (default: tolerance).
    """
    W = np.asarray(W)
    out = []
    for d in _polycap.geometry(
        W, tolerance, trained, features_as_rows, max_denominator, fraction_tolerance
    ):
        d["blocks"] = [Block(**b) for b in d["blocks"]]
        out.append(Geometry(**d))
    return out if W.ndim == 3 else out[0]


@dataclass(frozen=True)
class TrainResult:
    """Trained toy models, one instance per density, the best seed of each.

    Attributes:
        W: trained embeddings, shape (instances, D, N).
        b: output biases b_final, shape (instances, B) (B = N for the autoencoders, 1 for the
            quadratic models).
        capacity: Cᵢ of each W (C1), shape (instances, N).
        loss: final loss of the reported seed, shape (instances,).
        losses: loss curves, shape (instances, P), at the steps ``loss_steps`` (P,).
        seed: the reported seed of each instance.
        density, importance: the feature set of each instance, shape (instances, N).
    """

    W: np.ndarray
    b: np.ndarray
    capacity: np.ndarray
    loss: np.ndarray
    losses: np.ndarray
    loss_steps: np.ndarray
    seed: np.ndarray
    density: np.ndarray
    importance: np.ndarray


@dataclass(frozen=True)
class AbsResult:
    """Trained |x| models (Z10), one instance per density, the best seed of each.

    Attributes:
        W1: input weights, shape (instances, D, N): row r is neuron r.
        W2: output weights, shape (instances, N, D).
        b: output biases, shape (instances, N).
        capacity: Cᵢ of each W1 (C1), shape (instances, N).
        loss: evaluation loss of the reported seed, shape (instances,).
        losses: loss curves, shape (instances, P), at the steps ``loss_steps`` (P,).
        seed: the reported seed of each instance.
        responses: y′ᵢ at x = +eᵢ and at x = −eᵢ, shape (instances, N, 2).
        computed: both responses ≥ 0.5 (Z12), shape (instances, N).
        density, importance: the feature set of each instance, shape (instances, N).
    """

    W1: np.ndarray
    W2: np.ndarray
    b: np.ndarray
    capacity: np.ndarray
    loss: np.ndarray
    losses: np.ndarray
    loss_steps: np.ndarray
    seed: np.ndarray
    responses: np.ndarray
    computed: np.ndarray
    density: np.ndarray
    importance: np.ndarray


@dataclass(frozen=True)
class DatasetResult:
    """Autoencoders trained on finite sets of T points (Z14)–(Z18): one row per instance and
    data seed (instance-major), the lowest-training-loss init of each.

    Attributes:
        W: trained embeddings, shape (rows, D, N).
        H: hidden vectors of the training points H = WX, shape (rows, D, T).
        b: output biases, shape (rows, N).
        capacity: Cᵢ of each W (C1), the feature dimensionality D_f (Z18), shape (rows, N).
        d_point: the data-point dimensionality D_X of each training point (Z18), shape (rows, T).
        train_loss, test_loss: (Z16) on the training set and on fresh points, shape (rows,).
        losses: training-loss curves, shape (rows, P), at the steps ``loss_steps`` (P,).
        seed, data_seed: the init and data seed of each row.
        density, importance: the feature set of each row, shape (rows, N).
    """

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray
    capacity: np.ndarray
    d_point: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    losses: np.ndarray
    loss_steps: np.ndarray
    seed: np.ndarray
    data_seed: np.ndarray
    density: np.ndarray
    importance: np.ndarray


def train(
    model: str,
    features: int,
    dims: int,
    importance: Values = 1.0,
    density: Values = 1.0,
    *,
    instances_density: Optional[Values] = None,
    input: str = "uniform",
    seeds: int = 1,
    seed: int = 0,
    steps: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    optimizer: Optional[str] = None,
    weight_decay: float = 0.01,
    schedule: Optional[str] = None,
    eval_batch: int = 65536,
    save: Optional[PathLike] = None,
    export_synthetic: Optional[PathLike] = None,
    hidden: Optional[str] = None,
    pairs: Optional[str] = None,
    init: Optional[str] = None,
    positive_w2: bool = False,
    active: Optional[int] = None,
    dataset: Optional[int] = None,
    test_points: int = 10000,
    data_seeds: int = 1,
    data_seed: int = 0,
) -> Union[TrainResult, AbsResult, DatasetResult]:
    """Train a toy model (``polycap train``); bit-reproducible from ``seed``.

    Args:
        model: quadratic, quadratic-exact, quadratic-relu, quadratic-gelu, tms-relu, tms-gelu,
            tms-square or linear.
        features: N.
        dims: D.
        importance: vᵢ per feature or one for all.
        density: pᵢ per feature or one for all.
        instances_density: one instance per density (all features share it), instead of
            ``density``.
        input: law of the quadratic models' inputs (the autoencoders draw U[0, 1)).
        seeds: seeds per instance; the best (lowest loss) is kept.
        seed: first seed.
        steps, batch, lr: optimisation settings (None: the model's defaults).
        optimizer: adam, adamw or sgd (None: adam; adamw with ``dataset``); weight_decay for
            adamw.
        schedule: constant, cosine or warmup:N (None: the model's default).
        eval_batch: fresh samples for the evaluation loss.
        save: also write the run to this .safetensors or .npz file (as ``polycap train
            --save``: W as [instances, features, hidden], b_final, losses, settings).
        export_synthetic: also write an SAE synthetic-model folder here.
        hidden: hidden activation of tms-neuron: relu, solu or solu_ln (Z20; solu_ln needs
            D ≥ 4).
        pairs: correlated:K or anticorrelated:K (Z4)–(Z6): features (1, 2), (3, 4), … form K
            pairs; ``density`` is the per-feature density.
        init: abs only: kaiming (default), kaiming-per-model or xavier-joint (Z11).
        positive_w2: abs only: draw W₂ as |W₂| so that every output side starts alive
            (ZB12); False is ARENA's init.
        active: abs only: expected non-zero entries m of the rarest feature per step; the
            batch grows to min(max(⌈m/p_min⌉, batch), 2¹⁸) (ZB13). None: a fixed batch.
        dataset: train an autoencoder on a fixed set of this many points T (Z14), full-batch
            AdamW with warm-up and cosine (Z17); returns a :class:`DatasetResult`.
        test_points, data_seeds, data_seed: with ``dataset``: fresh points of the test loss,
            training sets per instance (best of ``seeds`` inits each), the first data seed.

    Returns:
        :class:`TrainResult`; :class:`AbsResult` for ``model="abs"`` (as ``polycap train
        --model abs``); :class:`DatasetResult` with ``dataset`` (``polycap train --dataset T``).
    """
    common = dict(
        instances_density=_opt_values(instances_density),
        seeds=seeds,
        seed=seed,
        steps=steps,
        lr=lr,
        weight_decay=weight_decay,
        schedule=schedule,
    )
    if model.strip() == "abs" or dataset is not None:
        unused = {
            "input": input != "uniform",
            "save": save is not None,
            "export_synthetic": export_synthetic is not None,
            "pairs": pairs is not None,
        }
        if dataset is not None:
            unused.update(
                hidden=hidden is not None,
                batch=batch is not None,
                init=init is not None,
                positive_w2=positive_w2,
                active=active is not None,
            )
        given = [k for k, v in unused.items() if v]
        if given:
            what = "a dataset" if dataset is not None else "abs"
            raise ValueError(f"{', '.join(given)} does not apply to {what}")
    elif init is not None:
        raise ValueError("init applies to abs only")
    elif positive_w2:
        raise ValueError("positive_w2 applies to abs only")
    elif active is not None:
        raise ValueError("active applies to abs only")
    if dataset is not None:
        d = _polycap.train_dataset(
            model,
            features,
            dims,
            dataset,
            _values(importance),
            _values(density),
            test_points=test_points,
            data_seeds=data_seeds,
            data_seed=data_seed,
            optimizer=optimizer or "adamw",
            **common,
        )
        return DatasetResult(**d)
    if model.strip() == "abs":
        d = _polycap.train_abs(
            features,
            dims,
            _values(importance),
            _values(density),
            batch=batch,
            optimizer=optimizer or "adam",
            eval_batch=eval_batch,
            hidden=hidden,
            init=init,
            positive_w2=positive_w2,
            active=active,
            **common,
        )
        return AbsResult(**d)
    d = _polycap.train(
        model,
        features,
        dims,
        _values(importance),
        _values(density),
        instances_density=_opt_values(instances_density),
        input=input,
        seeds=seeds,
        seed=seed,
        steps=steps,
        batch=batch,
        lr=lr,
        optimizer=optimizer or "adam",
        weight_decay=weight_decay,
        schedule=schedule,
        eval_batch=eval_batch,
        save=None if save is None else os.fspath(save),
        export_synthetic=None if export_synthetic is None else os.fspath(export_synthetic),
        hidden=hidden,
        pairs=pairs,
    )
    return TrainResult(**d)


def verify(
    model: str = "quadratic-exact",
    features: Optional[int] = None,
    dims: int = 3,
    importance: Optional[Values] = None,
    density: Optional[Values] = None,
    input: str = "uniform",
    grid: Tuple[int, int] = (25, 25),
    v_range: Tuple[float, float] = (0.01, 100.0),
    p_range: Tuple[float, float] = (0.001, 1.0),
    seeds: Optional[int] = None,
    seed: int = 0,
    steps: Optional[int] = None,
    tolerance: Optional[float] = None,
) -> Dict[str, Any]:
    """Theory against training (``polycap verify``), with the (T5) tolerances.

    With ``importance`` or ``density``: one point; otherwise a grid over V × p. Returns the
    report as the ``--format json`` document of the CLI, as Python objects (a point report has
    ``within``, ``reasons``, the trained and predicted capacities, ...; a grid report has
    ``points`` and ``summary``).
    """
    text = _polycap.verify_json(
        model,
        features,
        dims,
        _opt_values(importance),
        _opt_values(density),
        input,
        grid,
        v_range,
        p_range,
        seeds,
        seed,
        steps,
        tolerance,
    )
    report: Dict[str, Any] = json.loads(text)
    return report


def load(
    path: PathLike, key: Optional[str] = None, features_as_rows: bool = False
) -> np.ndarray:
    """Embedding matrices from a file, as an array (instances, D, N).

    Reads .npy, .npz (``key`` chooses a member when there are several), .safetensors,
    CSV text, polycap's own ``train`` outputs (.safetensors, .npz, JSON) and SAE
    synthetic-model folders. A 2-D array gives one instance.
    """
    return _polycap.load(os.fspath(path), key, features_as_rows)


def read(path: PathLike) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Every float array of a file by name, and its string metadata."""
    return _polycap.read(os.fspath(path))


def save(
    path: PathLike,
    arrays: Dict[str, np.ndarray],
    metadata: Optional[Dict[str, str]] = None,
) -> None:
    """Write float64 arrays (and string metadata) as .safetensors, .npz or .npy, atomically."""
    _polycap.save(
        os.fspath(path),
        {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()},
        metadata,
    )
