"""Peer (b): the seed's update_mini_batch in batched matrix form (samples as rows), numpy, --threads BLAS threads (1).

The same maths as Nabla's worker: a^l = σ(a^(l−1)·wᵀ + b); δ^L = (a^L − y)⊙a^L(1−a^L); Σnabla_b = Σ_rows δ;
Σnabla_w = δᵀ·a^(l−1); δ^(l−1) = (δ·w)⊙a^(l−1)(1−a^(l−1)); then w −= (η/m)·Σnabla_w, b −= (η/m)·Σnabla_b.
"""
import os
import sys


def _threads_argument(argv):
    """The value of --threads N / --threads=N, read before argparse: it must be known before numpy loads."""
    for i, arg in enumerate(argv):
        if arg == '--threads' and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith('--threads='):
            return arg.split('=', 1)[1]
    return None


# OpenBLAS reads its thread count once, when `import numpy` loads it: --threads must reach the environment first.
# (bench/peers.ts sets the same variables in the child's environment; this makes the script right on its own too.)
_THREADS = _threads_argument(sys.argv[1:])
if _THREADS is not None:
    for _var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[_var] = _THREADS

import numpy as np  # noqa: E402

from common import blas_info, emit, load_data, parse_args, run_timed  # noqa: E402


def _add_threads(parser):
    parser.add_argument('--threads', type=int, default=1,
                        help='BLAS threads (OPENBLAS_NUM_THREADS, applied before numpy loads); default 1')


def main():
    args = parse_args(__doc__, _add_threads)
    if args.threads < 1:
        sys.exit(f'--threads must be at least 1, got {args.threads}')
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

    blas = blas_info()
    reported = {b.get('threads') for b in blas if b.get('threads') is not None}
    if reported and reported != {args.threads}:
        print(f'numpy_batched: asked for {args.threads} BLAS thread(s), OpenBLAS reports {sorted(reported)}', file=sys.stderr)
    steps, elapsed = run_timed(step, m, args.warmup, args.seconds)
    emit({'impl': 'numpy batched', 'dtype': args.dtype, 'sizes': sizes, 'batch': m, 'threads': args.threads,
          'steps': steps, 'seconds': elapsed, 'samplesPerSecond': steps * m / elapsed, 'blas': blas})


if __name__ == '__main__':
    main()
