"""
An independent cross-check of Nabla: the seed's Network class (Nielsen, "Neural Networks and Deep Learning",
network.py), transcribed to Python 3 with numpy, float64, column vectors of shape (n, 1), one sample at a time,
exactly as the seed computes it. It shares no code with Nabla.

    python3 network.py --init model.json --csv train.csv --epochs E --batch M --eta X --out final.json

trains WITHOUT shuffling (mini-batches are consecutive rows in file order, the last one may be shorter) and
writes the final model as {"sizes":[...], "biases":[[...]...], "weights":[[[row]...]...]} (weights[l] has
sizes[l+1] rows of sizes[l] numbers). json.dump writes Python floats with repr, which round-trips exactly.
CSV rows are `label,x1,...,xn`; the label becomes a one-hot (sizes[-1], 1) target.
"""
import argparse
import json

import numpy as np


class Network(object):

    def __init__(self, sizes, biases, weights):
        """Unlike the seed, the parameters come from a model file instead of np.random.randn."""
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.array(b, dtype=np.float64).reshape(y, 1) for b, y in zip(biases, sizes[1:])]
        self.weights = [np.array(w, dtype=np.float64).reshape(y, x)
                        for w, x, y in zip(weights, sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if "a" is input."""
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a)+b)
        return a

    def SGD_no_shuffle(self, training_data, epochs, mini_batch_size, eta):
        """The seed's SGD loop without random.shuffle: consecutive mini-batches in input order."""
        n = len(training_data)
        for j in range(epochs):
            mini_batches = [
                training_data[k:k+mini_batch_size]
                for k in range(0, n, mini_batch_size)]
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, eta)

    def update_mini_batch(self, mini_batch, eta):
        """Update the network's weights and biases by applying
        gradient descent using backpropagation to a single mini batch.
        The "mini_batch" is a list of tuples "(x, y)", and "eta"
        is the learning rate."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb+dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw+dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w-(eta/len(mini_batch))*nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b-(eta/len(mini_batch))*nb
                       for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        """Return a tuple "(nabla_b, nabla_w)" representing the
        gradient for the cost function C_x. "nabla_b" and
        "nabla_w" are layer-by-layer lists of numpy arrays, similar
        to "self.biases" and "self.weights"."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        # feedforward
        activation = x
        activations = [x]  # list to store all the activations, layer by layer
        zs = []  # list to store all the z vectors, layer by layer
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation)+b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        # backward pass
        delta = self.cost_derivative(activations[-1], y) * \
            sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l+1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l-1].transpose())
        return (nabla_b, nabla_w)

    def cost_derivative(self, output_activations, y):
        """Return the vector of partial derivatives \\partial C_x /
        \\partial a for the output activations."""
        return (output_activations-y)


def sigmoid(z):
    """The sigmoid function."""
    return 1.0/(1.0+np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid function."""
    return sigmoid(z)*(1-sigmoid(z))


def load_csv(path, n_in, n_out):
    """Rows `label,x1,...,xn` as the seed's (x, y) pairs: x of shape (n_in, 1), y one-hot of shape (n_out, 1)."""
    data = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(',')
            if len(fields) != n_in + 1:
                raise SystemExit('%s:%d: expected %d fields, got %d' % (path, number, n_in + 1, len(fields)))
            label = int(fields[0])
            x = np.array([float(v) for v in fields[1:]], dtype=np.float64).reshape(n_in, 1)
            y = np.zeros((n_out, 1))
            y[label] = 1.0
            data.append((x, y))
    return data


def model_json(net):
    return {
        'sizes': list(net.sizes),
        'biases': [[float(v) for v in b[:, 0]] for b in net.biases],
        'weights': [[[float(v) for v in row] for row in w] for w in net.weights],
    }


def main():
    parser = argparse.ArgumentParser(description='The seed network (float64, per sample), trained without shuffling.')
    parser.add_argument('--init', required=True, help='model file to start from')
    parser.add_argument('--csv', required=True, help='training rows label,x1,...,xn')
    parser.add_argument('--epochs', type=int, required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--eta', type=float, required=True)
    parser.add_argument('--out', required=True, help='where to write the final model')
    args = parser.parse_args()
    with open(args.init) as f:
        model = json.load(f)
    net = Network(model['sizes'], model['biases'], model['weights'])
    training_data = load_csv(args.csv, net.sizes[0], net.sizes[-1])
    net.SGD_no_shuffle(training_data, args.epochs, args.batch, args.eta)
    with open(args.out, 'w') as f:
        json.dump(model_json(net), f)


if __name__ == '__main__':
    main()
