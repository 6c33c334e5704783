"""Checks for lesson 1's exercises (lessons/01_feedforward_recap.ipynb).

Each check takes the learner's answer, computes its reference itself, after the answer,
on sizes or data of its own (a PyTorch model, autograd, FlopCounterMode), and returns
`helper.check`'s verdict, which never shows the expected value. In strict mode (the book
build, the tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helper import check, np_rng, torch_gen


# Layer sizes and batch sizes the lesson never shows: a function that only gets the
# lesson's own example right does not pass.
_MLP_CASES = [
    ([784, 128, 10], 32),  # the example in the prompt
    ([5, 7, 3, 2], 4),
    ([1, 1], 1),
    ([13, 6], 9),
    ([2, 50, 50, 1], 3),
    ([300, 1, 300], 2),
]


def check_multiplications(mlp_multiplications):
    """Exercise "Count the multiplications": `mlp_multiplications(sizes, batch)`.

    The reference is PyTorch's own count: FlopCounterMode tallies 2 FLOPs per
    multiply-add of each matrix product, so multiplications = FLOPs / 2 for an MLP
    without biases (activations cost no multiplications in this count).
    """
    from torch.utils.flop_counter import FlopCounterMode

    answers = [mlp_multiplications(list(sizes), batch) for sizes, batch in _MLP_CASES]
    if any(a is None for a in answers):
        return check(None, 0, name="multiplications")
    expected = []
    for sizes, batch in _MLP_CASES:
        layers = [nn.Linear(n, m, bias=False) for n, m in zip(sizes[:-1], sizes[1:])]
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            nn.Sequential(*layers)(torch.zeros(batch, sizes[0]))
        expected.append(counter.get_total_flops() // 2)
    return check(answers, expected, name="multiplications on several MLPs", rtol=0, atol=0)


def check_half_sse_rate(alpha_for_half_sse):
    """Exercise "Another loss convention": `alpha_for_half_sse(alpha, n_entries)`.

    On linear models Y = X W of its own sizes, one gradient step on E' = 1/2 sum (d - y)^2
    with the learner's rate must land where one step on the mean E with `alpha` lands
    (autograd computes both gradients).
    """
    gen = torch_gen(101)
    got, want = [], []
    for alpha, B, n_in, n_out in [(0.1, 5, 3, 2), (0.03, 8, 4, 1), (0.5, 3, 2, 6)]:
        rate = alpha_for_half_sse(alpha, B * n_out)
        if rate is None:
            return check(None, 0, name="W after one step")
        X = torch.randn(B, n_in, generator=gen, dtype=torch.float64)  # (B, n_in)
        D = torch.randn(B, n_out, generator=gen, dtype=torch.float64)  # (B, n_out)
        W0 = torch.randn(n_in, n_out, generator=gen, dtype=torch.float64)  # (n_in, n_out)
        for loss_fn, lr, out in ((lambda Y: 0.5 * ((D - Y) ** 2).sum(), rate, got),
                                 (lambda Y: nn.functional.mse_loss(Y, D), alpha, want)):
            W = W0.clone().requires_grad_(True)
            loss_fn(X @ W).backward()
            out.append((W - float(lr) * W.grad).detach().flatten())
    # float64, the same step computed two ways: agreement to rounding (~1e-16)
    return check(torch.cat(got), torch.cat(want), name="W after one step", rtol=1e-10, atol=1e-12)


def check_relu_grad(relu_dW1):
    """Exercise "Backpropagation through a ReLU": `relu_dW1(params, X, D)` -> dE/dW1.

    Autograd differentiates the same MLP with ReLU on data of the check's own, three
    random cases of different sizes.
    """
    rng = np_rng(202)
    got, want = [], []
    for B, n_in, n_hidden, n_out in [(5, 3, 4, 2), (7, 2, 6, 3), (4, 5, 3, 1)]:
        params = [rng.normal(size=(n_in, n_hidden)), rng.normal(size=(1, n_hidden)),
                  rng.normal(size=(n_hidden, n_out)), rng.normal(size=(1, n_out))]
        X, D = rng.normal(size=(B, n_in)), rng.normal(size=(B, n_out))
        answer = relu_dW1([p.copy() for p in params], X.copy(), D.copy())
        W1, b1, W2, b2 = (torch.tensor(p, requires_grad=True) for p in params)
        Y = torch.relu(torch.from_numpy(X) @ W1 + b1) @ W2 + b2  # (B, n_out)
        nn.MSELoss()(Y, torch.from_numpy(D)).backward()
        if answer is None or np.shape(answer) != tuple(W1.shape):
            return check(answer, W1.grad, name="dE/dW1 with ReLU")  # says what is wrong
        got.append(np.asarray(answer, dtype=float).ravel())
        want.append(W1.grad.numpy().ravel())
    # float64: NumPy and autograd sum in another order, ~1e-16 relative
    return check(np.concatenate(got), np.concatenate(want), name="dE/dW1 with ReLU",
                 rtol=1e-9, atol=1e-12)


def check_recall_weights(W_recall):
    """Exercise "A window is a short memory": `W_recall` (2, 1), the book's orientation.

    A bias-free nn.Linear holding W_recall^T reads the pairs (x_{t-1}, x_t) of a random
    sequence of the check's own; its output must be x_{t-1} at every step.
    """
    if W_recall is None or np.shape(W_recall) != (2, 1):
        return check(W_recall, np.zeros((2, 1)), name="W_recall, shape (2, 1)")
    W = torch.as_tensor(W_recall).detach().to(torch.float64)  # (2, 1)
    seq = torch.randn(50, generator=torch_gen(303), dtype=torch.float64)
    pairs = torch.stack([seq[:-1], seq[1:]], dim=1)  # (T-1, 2): rows (x_{t-1}, x_t)
    layer = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(W.T)  # PyTorch stores W transposed: (1, 2)
        recalled = layer(pairs)[:, 0]  # (T-1,)
    return check(recalled, seq[:-1], name="the previous inputs", rtol=1e-12, atol=1e-12)
