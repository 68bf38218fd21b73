"""Type stub of the extension module polycap._polycap (marshalling only; see polycap)."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

__version__: str

def capacity(w: np.ndarray, features_as_rows: bool = False) -> List[Dict[str, Any]]: ...
def allocate(
    importance: List[float],
    dims: int,
    density: Optional[List[float]] = None,
    kurtosis: Optional[List[float]] = None,
    input: str = "uniform",
) -> Dict[str, Any]: ...
def phase_diagram(
    features: int = 6,
    dims: int = 3,
    v_range: Tuple[float, float] = (0.01, 100.0),
    p_range: Optional[Tuple[float, float]] = None,
    grid: Tuple[int, int] = (400, 400),
    input: str = "uniform",
) -> Dict[str, Any]: ...
def marginal(
    importance: List[float],
    dims: Optional[int] = None,
    lam: Optional[float] = None,
    density: Optional[List[float]] = None,
    kurtosis: Optional[List[float]] = None,
    input: str = "uniform",
    points: int = 101,
) -> Dict[str, Any]: ...
def geometry(
    w: np.ndarray,
    tolerance: Optional[float] = None,
    trained: bool = False,
    features_as_rows: bool = False,
    max_denominator: int = 12,
    fraction_tolerance: Optional[float] = None,
) -> List[Dict[str, Any]]: ...
def train(
    model: str,
    features: int,
    dims: int,
    importance: List[float] = ...,
    density: List[float] = ...,
    *,
    instances_density: Optional[List[float]] = None,
    input: str = "uniform",
    seeds: int = 1,
    seed: int = 0,
    steps: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    optimizer: str = "adam",
    weight_decay: float = 0.01,
    schedule: Optional[str] = None,
    eval_batch: int = 65536,
    save: Optional[str] = None,
    export_synthetic: Optional[str] = None,
    hidden: Optional[str] = None,
    pairs: Optional[str] = None,
) -> Dict[str, Any]: ...
def train_abs(
    features: int,
    dims: int,
    importance: List[float] = ...,
    density: List[float] = ...,
    *,
    instances_density: Optional[List[float]] = None,
    seeds: int = 1,
    seed: int = 0,
    steps: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    optimizer: str = "adam",
    weight_decay: float = 0.01,
    schedule: Optional[str] = None,
    eval_batch: int = 65536,
    hidden: Optional[str] = None,
    init: Optional[str] = None,
    positive_w2: bool = False,
    active: Optional[int] = None,
) -> Dict[str, Any]: ...
def train_dataset(
    model: str,
    features: int,
    dims: int,
    points: int,
    importance: List[float] = ...,
    density: List[float] = ...,
    *,
    instances_density: Optional[List[float]] = None,
    test_points: int = 10000,
    data_seeds: int = 1,
    data_seed: int = 0,
    seeds: int = 1,
    seed: int = 0,
    steps: Optional[int] = None,
    lr: Optional[float] = None,
    optimizer: str = "adamw",
    weight_decay: float = 0.01,
    schedule: Optional[str] = None,
) -> Dict[str, Any]: ...
def verify_json(
    model: str = "quadratic-exact",
    features: Optional[int] = None,
    dims: int = 3,
    importance: Optional[List[float]] = None,
    density: Optional[List[float]] = None,
    input: str = "uniform",
    grid: Tuple[int, int] = (25, 25),
    v_range: Tuple[float, float] = (0.01, 100.0),
    p_range: Tuple[float, float] = (0.001, 1.0),
    seeds: Optional[int] = None,
    seed: int = 0,
    steps: Optional[int] = None,
    tolerance: Optional[float] = None,
) -> str: ...
def load(path: str, key: Optional[str] = None, features_as_rows: bool = False) -> np.ndarray: ...
def read(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]: ...
def save(
    path: str, arrays: Dict[str, np.ndarray], metadata: Optional[Dict[str, str]] = None
) -> None: ...
