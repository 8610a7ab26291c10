"""Logistic regression trained by gradient descent, with s2s_ad gradients.

The parameters live in a dict, {"w": array, "b": float}; ``value_and_grad``
returns the loss and a gradient dict with the same keys and shapes, from one
forward and one reverse sweep.  The loss calls a helper function (``predict``):
s2s_ad transforms that one too.

Run it:  python examples/logistic_regression.py
"""

import numpy as np

from s2s_ad import value_and_grad


def predict(params, X):
    """Probability of class 1 for each row of X."""
    z = X @ params["w"] + params["b"]
    return 1.0 / (1.0 + np.exp(-z))


def loss(params, X, y):
    """Mean cross-entropy of the predictions against labels y in {0, 1}."""
    p = predict(params, X)
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def make_data(n=200, seed=0):
    """Two noisy classes separated by the line 2 x0 - x1 + 0.5 = 0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X @ [2.0, -1.0] + 0.5 + 0.5 * rng.normal(size=n) > 0).astype(float)
    return X, y


def finite_difference_check(params, X, y, eps=1e-6):
    """Largest gap between s2s_ad's gradient and central differences."""
    _, g = value_and_grad(loss)(params, X, y)
    gap = 0.0
    for key, value in params.items():
        flat = np.array(value, dtype=float).reshape(-1)
        for i in range(flat.size):
            up, down = flat.copy(), flat.copy()
            up[i] += eps
            down[i] -= eps
            shape = np.shape(value)
            f_up = loss({**params, key: up.reshape(shape)}, X, y)
            f_down = loss({**params, key: down.reshape(shape)}, X, y)
            numeric = (f_up - f_down) / (2 * eps)
            gap = max(gap, abs(np.reshape(g[key], -1)[i] - numeric))
    return gap


def main():
    X, y = make_data()
    params = {"w": np.zeros(2), "b": 0.0}
    loss_and_gradient = value_and_grad(loss, wrt="params")

    gap = finite_difference_check(params, X, y)
    print(f"gradient check: max |s2s_ad - finite differences| = {gap:.1e}")
    print()

    learning_rate = 1.0
    for step in range(201):
        value, g = loss_and_gradient(params, X, y)
        if step % 40 == 0:
            print(f"step {step:3d}   loss {value:.4f}")
        params = {key: params[key] - learning_rate * g[key] for key in params}

    accuracy = np.mean((predict(params, X) > 0.5) == (y > 0.5))
    w0, w1 = params["w"]
    print()
    print(f"learned w = ({w0:.2f}, {w1:.2f}), b = {params['b']:.2f}")
    print(f"training accuracy {accuracy:.1%}")
    return 0 if gap < 1e-6 and accuracy > 0.85 else 1


if __name__ == "__main__":
    raise SystemExit(main())
