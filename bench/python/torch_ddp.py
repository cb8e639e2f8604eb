"""Peer (d): PyTorch DistributedDataParallel, gloo on 127.0.0.1, N processes × 1 thread.

Each global mini-batch of m samples is split across the ranks (m/N each); DDP averages the ranks' gradients, so
with loss = ½Σ‖a−y‖²/(m/N) per rank the update is the seed's. samples/s counts global samples. Rank 0 calibrates
the step count from the warm-up and broadcasts it, so every rank runs the same number of synchronised steps.
"""
import torch_common  # noqa: F401  (sets thread env vars before torch loads)
import os
import socket
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from common import blas_info, emit, load_data, parse_args
from torch_common import build, make_step, torch_info


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def worker(rank, args, port, queue):
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=args.procs)
    dtype = {'float32': torch.float32, 'float64': torch.float64}[args.dtype]
    x, y = load_data(args, np.dtype(args.dtype).type)
    m = args.batch
    local = m // args.procs
    n_batches = len(x) // m
    lo, hi = rank * local, (rank + 1) * local
    xs = [torch.from_numpy(x[k * m + lo:k * m + hi].copy()) for k in range(n_batches)]
    ys = [torch.from_numpy(y[k * m + lo:k * m + hi].copy()) for k in range(n_batches)]
    model = torch.nn.parallel.DistributedDataParallel(build(args.sizes, dtype, args.seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.eta)
    step = make_step(model, optimizer, xs, ys)

    # Warm-up: rank 0 decides when it is over and how many steps fill the measured budget.
    warm = 0
    t0 = time.perf_counter()
    while True:
        step()
        warm += 1
        flag = torch.tensor([1 if (rank == 0 and time.perf_counter() - t0 >= args.warmup and warm >= 5) else 0])
        dist.broadcast(flag, 0)
        if flag.item():
            break
    per_step = (time.perf_counter() - t0) / warm
    count = torch.tensor([max(10, int(args.seconds / per_step))])
    dist.broadcast(count, 0)
    steps = int(count.item())
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    elapsed = time.perf_counter() - t0
    if rank == 0:
        queue.put({'steps': steps, 'seconds': elapsed, 'torchInfo': torch_info(), 'blas': blas_info()})
    dist.destroy_process_group()


def main():
    args = parse_args(__doc__, lambda p: p.add_argument('--procs', type=int, default=2))
    if args.batch % args.procs != 0:
        raise SystemExit(f'--batch {args.batch} must divide evenly across {args.procs} processes')
    os.environ.setdefault('GLOO_SOCKET_IFNAME', 'lo')  # loopback only
    ctx = mp.get_context('spawn')
    queue = ctx.SimpleQueue()
    mp.spawn(worker, args=(args, free_port(), queue), nprocs=args.procs, join=True)
    r = queue.get()
    emit({'impl': f'pytorch DDP gloo {args.procs}x1', 'dtype': args.dtype, 'sizes': args.sizes, 'batch': args.batch,
          'procs': args.procs, 'steps': r['steps'], 'seconds': r['seconds'],
          'samplesPerSecond': r['steps'] * args.batch / r['seconds'], 'torchInfo': r['torchInfo'], 'blas': r['blas']})


if __name__ == '__main__':
    main()
