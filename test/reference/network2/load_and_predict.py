"""network2.py's load() and Network.feedforward, transcribed from the book (Nielsen, "Neural Networks and Deep
Learning", src/network2.py) to Python 3, used as an independent reader of `nabla export --format json`.

Usage: load_and_predict.py NETWORK_JSON ROWS_CSV
Prints one line per CSV row (x1,...,xn, no label): the argmax of the output, then every output activation.
"""
import json
import sys

import numpy as np


class QuadraticCost(object):
    """Only the class name matters to load(), which looks the cost up by name."""


class CrossEntropyCost(object):
    """Only the class name matters to load(), which looks the cost up by name."""


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class Network(object):
    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.default_weight_initializer()
        self.cost = cost

    def default_weight_initializer(self):
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x) / np.sqrt(x) for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if ``a`` is input."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a


def load(filename):
    """Load a neural network from the file ``filename``.  Returns an instance of Network."""
    f = open(filename, "r")
    data = json.load(f)
    f.close()
    cost = getattr(sys.modules[__name__], data["cost"])
    net = Network(data["sizes"], cost=cost)
    net.weights = [np.array(w) for w in data["weights"]]
    net.biases = [np.array(b) for b in data["biases"]]
    return net


def main():
    net = load(sys.argv[1])
    n_in, n_out = net.sizes[0], net.sizes[-1]
    out_lines = []
    with open(sys.argv[2]) as rows:
        for line in rows:
            if not line.strip():
                continue
            # As mnist_loader shapes an input: a column vector of n_in values.
            x = np.reshape(np.array([float(v) for v in line.split(",")]), (n_in, 1))
            a = net.feedforward(x)
            # With row-vector biases, feedforward would broadcast to (n_out, n_out): the file's layout is checked here.
            if a.shape != (n_out, 1):
                sys.exit("feedforward gave shape %s, expected (%d, 1): biases must be column vectors" % (a.shape, n_out))
            out_lines.append(" ".join([str(int(np.argmax(a)))] + [repr(float(v)) for v in a[:, 0]]))
    sys.stdout.write("\n".join(out_lines) + "\n")


if __name__ == "__main__":
    main()
