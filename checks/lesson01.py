"""Checks for lesson 1's exercises (lessons/01_feedforward_recap.ipynb).

Each check takes the learner's function, calls it on sizes or data of its own (its own
seeded generator, shapes the lesson never shows), computes its reference itself, after
the answer and another way (PyTorch's FlopCounterMode, autograd, a loss written out in
torch), and returns `helper.check`'s verdict, which never shows the expected value. In
strict mode (the book build, the tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import helper
from helper import check, np_rng, torch_gen

# Layer sizes and batch sizes the lesson never shows, and the prompt's example. The
# one-layer MLPs alone would not tell a forward count from a backward one: the list must
# hold deeper ones.
_MLP_CASES = [
    ([784, 128, 10], 32),  # the example in the prompt
    ([5, 7, 3, 2], 4),
    ([1, 1], 1),
    ([13, 6], 9),
    ([2, 50, 50, 1], 3),
    ([300, 1, 300], 2),
]

_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


def _callable(answer, arg: str):
    if not callable(answer):
        raise TypeError(f"{arg} must be the function you wrote, got {type(answer).__name__}")


def _call(answer, name, *args):
    """(the learner's result, None), or (None, a verdict) when it raised or built a model."""
    try:
        with helper.refuse_to_build():
            return answer(*args), None
    except helper.BuiltAModel as exc:
        return None, _refuse(name, f"count from the sizes, without building a model ({exc})")
    except Exception as exc:  # a learner's bug: a verdict, not a traceback
        return None, _refuse(name, f"your function raised {type(exc).__name__}: {exc}")


def check_backprop_multiplications(backprop_multiplications):
    """Exercise "Count the multiplications of backpropagation":
    `backprop_multiplications(sizes, batch)`.

    The reference is PyTorch's own count of one backward pass through a bias-free MLP
    (tanh between the layers) whose input needs no gradient: FlopCounterMode tallies
    2 FLOPs per multiply-add of each matrix product and nothing for elementwise work,
    so multiplications = FLOPs / 2.
    """
    from torch.utils.flop_counter import FlopCounterMode

    _callable(backprop_multiplications, "backprop_multiplications")
    name = "backpropagation's multiplications on several MLPs"
    if "FlopCounter" in helper.answer_source(backprop_multiplications):
        return _refuse(name, "count from the backward formulas, without FlopCounterMode")
    answers = []
    for sizes, batch in _MLP_CASES:
        answer, refused = _call(backprop_multiplications, name, list(sizes), batch)
        if refused is not None:
            return refused
        if answer is None:
            return check(None, 0, name=name)
        answers.append(answer)
    expected = []
    for sizes, batch in _MLP_CASES:
        layers = []
        for n, m in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n, m, bias=False), nn.Tanh()]
        out = nn.Sequential(*layers[:-1])(torch.full((batch, sizes[0]), 0.5))  # (batch, out)
        with FlopCounterMode(display=False) as counter:
            out.sum().backward()
        expected.append(counter.get_total_flops() // 2)
    return check(answers, expected, name=name, rtol=0, atol=0)


def check_per_example_rate(alpha_for_per_example):
    """Exercise "Another loss convention, the same step":
    `alpha_for_per_example(alpha, B, n_out)`.

    On linear models Y = X W of its own sizes, one gradient step on
    E_B = 1/B sum_b ||d_b - y_b||^2 with the learner's rate must land where one step on
    the mean E with `alpha` lands (autograd computes both gradients).
    """
    _callable(alpha_for_per_example, "alpha_for_per_example")
    name = "W after one step"
    gen = torch_gen(101)
    got, want = [], []
    for alpha, B, n_in, n_out in [(0.1, 5, 3, 2), (0.03, 8, 4, 1), (0.5, 3, 2, 6),
                                  (0.2, 1, 3, 4)]:
        rate, refused = _call(alpha_for_per_example, name, alpha, B, n_out)
        if refused is not None:
            return refused
        if rate is None:
            return check(None, 0, name=name)
        X = torch.randn(B, n_in, generator=gen, dtype=torch.float64)  # (B, n_in)
        D = torch.randn(B, n_out, generator=gen, dtype=torch.float64)  # (B, n_out)
        W0 = torch.randn(n_in, n_out, generator=gen, dtype=torch.float64)  # (n_in, n_out)
        for loss_fn, lr, out in ((lambda Y: ((D - Y) ** 2).sum(dim=1).mean(), rate, got),
                                 (lambda Y: nn.functional.mse_loss(Y, D), alpha, want)):
            W = W0.clone().requires_grad_(True)
            loss_fn(X @ W).backward()
            out.append((W - float(lr) * W.grad).detach().flatten())
    # float64, the same step computed two ways: agreement to rounding (~1e-16)
    return check(torch.cat(got), torch.cat(want), name=name, rtol=1e-10, atol=1e-12)


def check_relu_input_grad(relu_dX):
    """Exercise "Backpropagation through a ReLU, back to the input": `relu_dX(params, X, D)`.

    Autograd differentiates the same MLP with ReLU, with respect to X, on data of the
    check's own: three random cases of sizes the lesson never uses.
    """
    _callable(relu_dX, "relu_dX")
    name = "dE/dX with ReLU"
    rng = np_rng(202)
    got, want = [], []
    for B, n_in, n_h, n_out in [(5, 3, 4, 2), (7, 2, 6, 3), (4, 5, 3, 1)]:
        params = [rng.normal(size=(n_in, n_h)), rng.normal(size=(1, n_h)),
                  rng.normal(size=(n_h, n_out)), rng.normal(size=(1, n_out))]
        X, D = rng.normal(size=(B, n_in)), rng.normal(size=(B, n_out))
        answer, refused = _call(relu_dX, name, [p.copy() for p in params], X.copy(), D.copy())
        if refused is not None:
            return refused
        X_t = torch.tensor(X, requires_grad=True)  # (B, n_in)
        W1, b1, W2, b2 = (torch.from_numpy(p) for p in params)
        Y = torch.relu(X_t @ W1 + b1) @ W2 + b2  # (B, n_out)
        nn.MSELoss()(Y, torch.from_numpy(D)).backward()
        if answer is None or np.shape(answer) != tuple(X_t.shape):
            return check(answer, X_t.grad, name=name)  # says what is wrong
        got.append(np.asarray(answer, dtype=float).ravel())
        want.append(X_t.grad.numpy().ravel())
    # float64: NumPy and autograd sum in another order, ~1e-16 relative
    return check(np.concatenate(got), np.concatenate(want), name=name, rtol=1e-9, atol=1e-12)


def check_window_weights(window_weights):
    """Exercise "A window is a short memory": `window_weights(q)` -> (q + 1, 2).

    For several window lengths, a bias-free nn.Linear holding W^T reads the windows
    (x_{t-q}, ..., x_t) of a random sequence of the check's own (cut by `unfold`); its
    two outputs must be x_{t-q} and x_t - x_{t-q} at every step.
    """
    _callable(window_weights, "window_weights")
    name = "the window layer's outputs"
    seq = torch.randn(40, generator=torch_gen(303), dtype=torch.float64)  # (L,)
    got, want = [], []
    for q in (1, 0, 2, 5):
        W, refused = _call(window_weights, name, q)
        if refused is not None:
            return refused
        if W is None or np.shape(W) != (q + 1, 2):
            return check(W, np.zeros((q + 1, 2)), name=f"window_weights({q}), shape (q + 1, 2)")
        windows = seq.unfold(0, q + 1, 1)  # (L - q, q + 1): rows (x_{t-q}, ..., x_t)
        layer = nn.Linear(q + 1, 2, bias=False).double()
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(np.asarray(W, dtype=float)).T)  # (2, q + 1)
            got.append(layer(windows))  # (L - q, 2)
        want.append(torch.stack([seq[:len(seq) - q], seq[q:] - seq[:len(seq) - q]], dim=1))
    # float64, a sum of at most two nonzero products per output: rounding only
    return check(torch.cat(got), torch.cat(want), name=name, rtol=1e-12, atol=1e-12)
