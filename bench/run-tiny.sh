#!/usr/bin/env bash
# The 25 000-model 2 -> 1 sweep, one after the other: polycap's lane engine (full 5000 steps),
# then the JAX vmap reference (a shorter timed run; every step costs the same).
# Usage: bench/run-tiny.sh [JAX_STEPS]   (default 100). Creates the JAX virtualenv on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${TINY_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/polycap-tiny-bench-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import jax, optax' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet jax optax
fi
polycap="${POLYCAP:-$here/../target/release/polycap}"
"$polycap" bench tiny --format json
"$venv/bin/python" "$here/tiny_jax.py" --steps "${1:-100}"
