"""
An independent cross-check of Nabla's improved network: the book's network2.py (Nielsen, "Neural Networks and
Deep Learning", chapter 3) — QuadraticCost, CrossEntropyCost, and update_mini_batch with L2 regularisation —
transcribed to Python 3 with numpy, float64, column vectors, one sample at a time. It shares no code with Nabla;
the CSV reader and model writer are the seed transcription's (../seed/network.py).

    python3 network2.py --init model.json --csv train.csv --epochs E --batch M --eta X --lmbda L \
        --cost cross-entropy|quadratic --out final.json

trains WITHOUT shuffling (consecutive mini-batches in file order) and writes the final model like network.py does.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'seed'))
from network import Network as SeedNetwork, load_csv, model_json, sigmoid, sigmoid_prime  # noqa: E402


class QuadraticCost(object):

    @staticmethod
    def fn(a, y):
        return 0.5*np.linalg.norm(a-y)**2

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer."""
        return (a-y) * sigmoid_prime(z)


class CrossEntropyCost(object):

    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y*np.log(a)-(1-y)*np.log(1-a)))

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer. Note that the parameter ``z`` is not used by the method."""
        return (a-y)


class Network(SeedNetwork):

    def __init__(self, sizes, biases, weights, cost):
        """network2's constructor, with the parameters from a model file instead of default_weight_initializer."""
        SeedNetwork.__init__(self, sizes, biases, weights)
        self.cost = cost

    def SGD_no_shuffle(self, training_data, epochs, mini_batch_size, eta, lmbda):
        """network2's SGD loop without random.shuffle and without monitoring."""
        n = len(training_data)
        for j in range(epochs):
            mini_batches = [training_data[k:k+mini_batch_size] for k in range(0, n, mini_batch_size)]
            for mini_batch in mini_batches:
                self.update_mini_batch(mini_batch, eta, lmbda, len(training_data))

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        """network2's update: gradient descent with L2 regularisation (weight decay by 1-eta*(lmbda/n))."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb+dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw+dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [(1-eta*(lmbda/n))*w-(eta/len(mini_batch))*nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b-(eta/len(mini_batch))*nb
                       for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        """network2's backprop: as the seed's, but the output error comes from the cost."""
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation)+b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (self.cost).delta(zs[-1], activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(z)
            delta = np.dot(self.weights[-l+1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l-1].transpose())
        return (nabla_b, nabla_w)


def main():
    parser = argparse.ArgumentParser(description='network2 (float64, per sample), trained without shuffling.')
    parser.add_argument('--init', required=True, help='model file to start from')
    parser.add_argument('--csv', required=True, help='training rows label,x1,...,xn')
    parser.add_argument('--epochs', type=int, required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--eta', type=float, required=True)
    parser.add_argument('--lmbda', type=float, required=True)
    parser.add_argument('--cost', choices=['quadratic', 'cross-entropy'], required=True)
    parser.add_argument('--out', required=True, help='where to write the final model')
    args = parser.parse_args()
    with open(args.init) as f:
        model = json.load(f)
    cost = CrossEntropyCost if args.cost == 'cross-entropy' else QuadraticCost
    net = Network(model['sizes'], model['biases'], model['weights'], cost)
    training_data = load_csv(args.csv, net.sizes[0], net.sizes[-1])
    net.SGD_no_shuffle(training_data, args.epochs, args.batch, args.eta, args.lmbda)
    with open(args.out, 'w') as f:
        json.dump(model_json(net), f)


if __name__ == '__main__':
    main()
