#!/usr/bin/env python3
"""The 25 000-model 2 -> 1 sweep of the public replication, in JAX on the CPU, for timing.

Models: x' = ReLU(W^T W x + b), W: n x m per model (rows = features, as the notebook),
x_i = U[0,1) with probability p else 0, loss = mean over batch and features of
I_i (x_i - x'_i)^2 per model. Grid: 50 relative importances r in [0.1, 10] (importance of
the last feature; the others 1) x 50 densities p in [0.01, 1] x 10 seeds = 25 000 models.
Optimiser: AdamW lr 1e-3, weight decay 0.01 (PyTorch's default), batch 1024, Xavier-normal W,
b = 0. Vectorised as the replication does: one model's loss, jax.vmap over all models, one
jitted step for the whole population.

A full 5000-step run takes hours on 2 CPU cores, so --steps times a shorter run after a
JIT warm-up; every step costs the same, so model-steps/s is the comparable number.
Prints JSON. A timing baseline for polycap's lane engine; not part of the library.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-features", type=int, default=2)
    ap.add_argument("--d-hidden", type=int, default=1)
    ap.add_argument("--grid", type=int, nargs=2, default=[50, 50])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.threads > 0:
        cpus = sorted(os.sched_getaffinity(0))[: args.threads]
        os.sched_setaffinity(0, set(cpus))

    import jax
    import jax.numpy as jnp
    import optax

    n, m, bsz = args.n_features, args.d_hidden, args.batch
    nr, npd = args.grid
    r = jnp.exp(jnp.linspace(math.log(0.1), math.log(10.0), nr))
    p = jnp.exp(jnp.linspace(math.log(0.01), math.log(1.0), npd))
    pp, rr = jnp.meshgrid(p, r, indexing="ij")
    rr = jnp.repeat(rr.reshape(-1), args.seeds)
    pp = jnp.repeat(pp.reshape(-1), args.seeds)
    models = rr.shape[0]
    imp = jnp.ones((models, n)).at[:, -1].set(rr)
    prob = jnp.broadcast_to(pp[:, None], (models, n))

    key = jax.random.PRNGKey(args.seed)
    key, kw = jax.random.split(key)
    std = math.sqrt(2.0 / (n + m))
    params = {
        "W": jax.random.normal(kw, (models, n, m), dtype=jnp.float32) * std,
        "b": jnp.zeros((models, n), dtype=jnp.float32),
    }
    opt = optax.adamw(args.lr, weight_decay=args.weight_decay)
    state = opt.init(params)

    def one_loss(prm, k, imp_i, prob_i):
        k1, k2 = jax.random.split(k)
        mag = jax.random.uniform(k1, (bsz, n))
        x = mag * (jax.random.uniform(k2, (bsz, n)) < prob_i)
        h = x @ prm["W"]
        out = jax.nn.relu(h @ prm["W"].T + prm["b"])
        return jnp.mean(imp_i * (x - out) ** 2)

    def total(prm, keys):
        return jnp.sum(jax.vmap(one_loss)(prm, keys, imp, prob))

    @jax.jit
    def step(prm, st, k):
        k, ks = jax.random.split(k)
        keys = jax.random.split(ks, models)
        loss, g = jax.value_and_grad(total)(prm, keys)
        upd, st = opt.update(g, st, prm)
        return optax.apply_updates(prm, upd), st, k, loss

    for _ in range(args.warmup):
        params, state, key, loss = step(params, state, key)
    jax.block_until_ready(params)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        params, state, key, loss = step(params, state, key)
    jax.block_until_ready(params)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "benchmark": "tiny-jax", "jax": jax.__version__, "models": models,
        "features": n, "dims": m, "batch": bsz, "steps_timed": args.steps,
        "wall_seconds": wall, "model_steps_per_second": models * args.steps / wall,
        "extrapolated_5000_steps_seconds": wall / args.steps * 5000,
        "mean_batch_loss": float(loss) / models,
    }, indent=2))


if __name__ == "__main__":
    main()
