"""Peer (a): the seed's own update_mini_batch, per-sample backprop with column vectors, numpy float64.

Mini-batches are consecutive slices of the exported data, cycled; samples/s counts trained samples.
"""
import os
import sys

import numpy as np

from common import blas_info, emit, load_data, parse_args, run_timed

# The seed's Network, transcribed once for the tests (test/reference/seed/network.py); the bench times the same code.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'reference', 'seed'))
from network import Network  # noqa: E402


def main():
    args = parse_args(__doc__)
    x, y = load_data(args, np.float64)
    # The seed's data format: a list of (x, y) column vectors.
    data = [(x[i].reshape(-1, 1).copy(), y[i].reshape(-1, 1).copy()) for i in range(len(x))]
    batches = [data[k:k + args.batch] for k in range(0, len(data) - args.batch + 1, args.batch)]
    rng = np.random.default_rng(args.seed)
    net = Network(args.sizes, [rng.standard_normal(y) for y in args.sizes[1:]],
                  [rng.standard_normal((y, x)) for x, y in zip(args.sizes[:-1], args.sizes[1:])])
    state = {'t': 0}

    def step():
        net.update_mini_batch(batches[state['t'] % len(batches)], args.eta)
        state['t'] += 1

    steps, elapsed = run_timed(step, args.batch, args.warmup, args.seconds)
    emit({'impl': 'seed per-sample numpy', 'dtype': 'float64', 'sizes': args.sizes, 'batch': args.batch,
          'steps': steps, 'seconds': elapsed, 'samplesPerSecond': steps * args.batch / elapsed, 'blas': blas_info()})


if __name__ == '__main__':
    main()
