"""Peer (b): the seed's update_mini_batch in batched matrix form (samples as rows), numpy, one BLAS thread.

The same maths as Nabla's worker: a^l = σ(a^(l−1)·wᵀ + b); δ^L = (a^L − y)⊙a^L(1−a^L); Σnabla_b = Σ_rows δ;
Σnabla_w = δᵀ·a^(l−1); δ^(l−1) = (δ·w)⊙a^(l−1)(1−a^(l−1)); then w −= (η/m)·Σnabla_w, b −= (η/m)·Σnabla_b.
"""
import numpy as np

from common import blas_info, emit, load_data, parse_args, run_timed


def main():
    args = parse_args(__doc__)
    dtype = np.dtype(args.dtype).type
    x, y = load_data(args, dtype)
    rng = np.random.default_rng(args.seed)
    sizes, m = args.sizes, args.batch
    weights = [rng.standard_normal((o, i)).astype(dtype) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal(o).astype(dtype) for o in sizes[1:]]
    n_batches = len(x) // m
    xb = [x[k * m:(k + 1) * m] for k in range(n_batches)]
    yb = [y[k * m:(k + 1) * m] for k in range(n_batches)]
    rate = dtype(args.eta / m)
    one = dtype(1)
    state = {'t': 0}

    def step():
        t = state['t'] % n_batches
        state['t'] += 1
        acts = [xb[t]]
        for w, b in zip(weights, biases):
            z = acts[-1] @ w.T
            z += b
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += one
            np.reciprocal(z, out=z)
            acts.append(z)
        a = acts[-1]
        delta = (a - yb[t]) * a * (one - a)
        for l in range(len(weights) - 1, -1, -1):
            a_prev = acts[l]
            nabla_b = delta.sum(axis=0)
            nabla_w = delta.T @ a_prev
            if l > 0:
                delta = (delta @ weights[l]) * a_prev * (one - a_prev)
            weights[l] -= rate * nabla_w
            biases[l] -= rate * nabla_b

    steps, elapsed = run_timed(step, m, args.warmup, args.seconds)
    emit({'impl': 'numpy batched', 'dtype': args.dtype, 'sizes': sizes, 'batch': m,
          'steps': steps, 'seconds': elapsed, 'samplesPerSecond': steps * m / elapsed, 'blas': blas_info()})


if __name__ == '__main__':
    main()
