"""Peer (a): the seed's own update_mini_batch, per-sample backprop with column vectors, numpy float64.

Mini-batches are consecutive slices of the exported data, cycled; samples/s counts trained samples.
"""
import numpy as np

from common import blas_info, emit, load_data, parse_args, run_timed


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    """The seed's Network, as printed in the book (xrange → range), minus the parts not on the training path."""

    def __init__(self, sizes, rng):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)

    def cost_derivative(self, output_activations, y):
        return output_activations - y


def main():
    args = parse_args(__doc__)
    x, y = load_data(args, np.float64)
    # The seed's data format: a list of (x, y) column vectors.
    data = [(x[i].reshape(-1, 1).copy(), y[i].reshape(-1, 1).copy()) for i in range(len(x))]
    batches = [data[k:k + args.batch] for k in range(0, len(data) - args.batch + 1, args.batch)]
    net = Network(args.sizes, np.random.default_rng(args.seed))
    state = {'t': 0}

    def step():
        net.update_mini_batch(batches[state['t'] % len(batches)], args.eta)
        state['t'] += 1

    steps, elapsed = run_timed(step, args.batch, args.warmup, args.seconds)
    emit({'impl': 'seed per-sample numpy', 'dtype': 'float64', 'sizes': args.sizes, 'batch': args.batch,
          'steps': steps, 'seconds': elapsed, 'samplesPerSecond': steps * args.batch / elapsed, 'blas': blas_info()})


if __name__ == '__main__':
    main()
