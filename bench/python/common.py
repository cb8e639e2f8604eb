"""Shared helpers for the peer benchmarks: arguments, the exported training data, BLAS introspection, timing.

Every peer script prints exactly one JSON line on stdout (its result); diagnostics go to stderr.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np


def parse_args(description, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--sizes', default='784,30,10', help='layer sizes, e.g. 784,30,10')
    p.add_argument('--batch', type=int, default=10, help='mini-batch size m (global, for DDP)')
    p.add_argument('--eta', type=float, default=3.0, help='learning rate')
    p.add_argument('--seconds', type=float, default=5.0, help='measured time budget after the warm-up')
    p.add_argument('--warmup', type=float, default=1.0, help='warm-up seconds (not measured)')
    p.add_argument('--data', default='', help='directory with x.u16, labels.u16, meta.json exported by bench/run.ts; '
                                              'empty: random inputs in [0,1]')
    p.add_argument('--dtype', default='float64', choices=['float64', 'float32'])
    p.add_argument('--seed', type=int, default=1)
    if extra:
        extra(p)
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(',')]
    return args


def load_data(args, dtype):
    """(x [n, inputs], y one-hot [n, outputs]) in `dtype`: the bundled MNIST rows exported by the Node bench."""
    n_in, n_out = args.sizes[0], args.sizes[-1]
    if args.data:
        with open(os.path.join(args.data, 'meta.json')) as f:
            meta = json.load(f)
        n = meta['count']
        assert meta['inputSize'] == n_in, f"data has {meta['inputSize']} inputs, sizes start with {n_in}"
        x = np.fromfile(os.path.join(args.data, 'x.u16'), dtype='<u2').reshape(n, n_in).astype(dtype) / dtype(meta['xDivisor'])
        labels = np.fromfile(os.path.join(args.data, 'labels.u16'), dtype='<u2').astype(np.int64)
    else:
        rng = np.random.default_rng(args.seed)
        n = 8000
        x = rng.random((n, n_in)).astype(dtype)
        labels = rng.integers(0, n_out, n)
    y = np.zeros((n, n_out), dtype=dtype)
    y[np.arange(n), labels % n_out] = 1
    return np.ascontiguousarray(x, dtype=dtype), y


def blas_info():
    """Which BLAS library numpy (and anything else in this process) runs, and with which core kernel.

    threadpoolctl when installed; otherwise asks every loaded OpenBLAS directly (the same calls threadpoolctl makes).
    """
    try:
        import threadpoolctl  # noqa: F401
        infos = threadpoolctl.threadpool_info()
        return [{'source': 'threadpoolctl', 'api': i.get('internal_api'), 'lib': i.get('filepath'),
                 'version': i.get('version'), 'threads': i.get('num_threads'), 'core': i.get('architecture')}
                for i in infos]
    except ImportError:
        pass
    found = []
    seen = set()
    configs = set()
    with open('/proc/self/maps') as maps:
        paths = [line.split()[-1] for line in maps if 'blas' in line.lower() and line.split()[-1].startswith('/')]
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        entry = {'source': 'ctypes', 'lib': real}
        for prefix, suffix in (('', ''), ('scipy_', '64_'), ('', '64_')):
            core = getattr(lib, f'{prefix}openblas_get_corename{suffix}', None)
            if core is None:
                continue
            core.restype = ctypes.c_char_p
            entry['core'] = core().decode()
            cfg = getattr(lib, f'{prefix}openblas_get_config{suffix}', None)
            if cfg is not None:
                cfg.restype = ctypes.c_char_p
                entry['config'] = cfg().decode()
            threads = getattr(lib, f'{prefix}openblas_get_num_threads{suffix}', None)
            if threads is not None:
                threads.restype = ctypes.c_int
                entry['threads'] = threads()
            break
        if 'core' in entry and (entry['core'], entry.get('config')) not in configs:
            configs.add((entry['core'], entry.get('config')))
            found.append(entry)
    return found


def env_info():
    keys = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']
    return {k: os.environ.get(k) for k in keys}


def run_timed(step, samples_per_step, warmup_s, seconds):
    """Calls step() for warmup_s (unmeasured), then for `seconds`; returns (steps, elapsed) of the measured part."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < warmup_s:
        step()
    steps = 0
    t0 = time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return steps, elapsed


def emit(result):
    result.setdefault('python', sys.version.split()[0])
    result.setdefault('numpy', np.__version__)
    result.setdefault('env', env_info())
    print(json.dumps(result), flush=True)
