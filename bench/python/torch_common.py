"""The seed's network in PyTorch: Linear + Sigmoid layers, quadratic cost, plain SGD with lr = η.

Loss per process = ½·Σ‖a − y‖² / m_local, so the gradient is the seed's (1/m)·Σ nabla and SGD(lr=η) applies the
seed's w ← w − (η/m)·Σ nabla_w. Under DDP the ranks' gradients are averaged, which with equal halves is the same.
"""
import os

# One intra-op thread everywhere, set before torch loads its thread pools.
for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'):
    os.environ.setdefault(_var, '1')

import torch  # noqa: E402


def build(sizes, dtype, seed):
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        linear = torch.nn.Linear(n_in, n_out)
        torch.nn.init.normal_(linear.weight, 0.0, 1.0)
        torch.nn.init.normal_(linear.bias, 0.0, 1.0)
        layers += [linear, torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers).to(dtype)


def make_step(model, optimizer, xs, ys):
    """A closure that trains on mini-batch t % len(xs) and advances t."""
    state = {'t': 0}

    def step():
        t = state['t'] % len(xs)
        state['t'] += 1
        x, y = xs[t], ys[t]
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss = 0.5 * ((out - y) ** 2).sum() / x.shape[0]
        loss.backward()
        optimizer.step()

    return step


def torch_info():
    import re
    config = torch.__config__.show()
    blas = re.search(r'BLAS_INFO=([^,\s]+)', config)
    return {'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'interop_threads': torch.get_num_interop_threads(), 'blasInfo': blas.group(1) if blas else None}
