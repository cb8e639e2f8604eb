"""Peer (c): PyTorch CPU, one process, one thread, autograd, the seed's net, quadratic cost, SGD(lr=η)."""
import torch_common  # noqa: F401  (sets thread env vars before torch loads)
import numpy as np
import torch

from common import blas_info, emit, load_data, parse_args, run_timed
from torch_common import build, make_step, torch_info


def main():
    args = parse_args(__doc__)
    torch.set_num_threads(1)
    dtype = {'float32': torch.float32, 'float64': torch.float64}[args.dtype]
    x, y = load_data(args, np.dtype(args.dtype).type)
    m = args.batch
    n_batches = len(x) // m
    xs = [torch.from_numpy(x[k * m:(k + 1) * m].copy()) for k in range(n_batches)]
    ys = [torch.from_numpy(y[k * m:(k + 1) * m].copy()) for k in range(n_batches)]
    model = build(args.sizes, dtype, args.seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.eta)
    step = make_step(model, optimizer, xs, ys)
    steps, elapsed = run_timed(step, m, args.warmup, args.seconds)
    emit({'impl': 'pytorch 1 proc', 'dtype': args.dtype, 'sizes': args.sizes, 'batch': m, 'steps': steps,
          'seconds': elapsed, 'samplesPerSecond': steps * m / elapsed, 'torchInfo': torch_info(), 'blas': blas_info()})


if __name__ == '__main__':
    main()
