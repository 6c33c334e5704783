"""Checks for lesson 2's exercises (lessons/02_rnn_state_and_memory.ipynb).

Each check takes the learner's answer, computes its reference itself, after the answer,
with sizes or data of its own (PyTorch's nn.RNN, sequences the lesson never shows), and
returns `helper.check`'s verdict, which never shows the expected value. In strict mode
(the book build, the tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helper import (BuiltAModel, check, np_rng, refuse_to_build, rnn_forward,
                    wrong_answer)


# (n_in, n_h, n_out, num_layers): none is the lesson's model or the prompt's; the last
# two are far too large to build (tens of billions of weights), so only a count works.
_SIZES = [(3, 20, 5, 2), (1, 1, 1, 1), (7, 4, 2, 3), (16, 64, 10, 1), (2, 9, 3, 5),
          (50, 100_000, 7, 2), (1_000, 30_000, 1, 12)]


def _count_by_building(n_in, n_h, n_out, num_layers):
    # The lesson's RNN class is nn.RNN + nn.Linear; on the meta device PyTorch makes
    # the tensors' shapes without their storage, so even huge models count instantly.
    rnn = nn.RNN(n_in, n_h, num_layers, batch_first=True, device="meta")
    head = nn.Linear(n_h, n_out, device="meta")
    return sum(p.numel() for p in [*rnn.parameters(), *head.parameters()])


def check_param_count(n_params):
    """Exercise "Count before you build": `n_params(n_in, n_h, n_out, num_layers)`.

    The learner's function runs first, where building any nn.Module raises (the
    exercise asks for a count from the sizes alone); then the reference builds the
    models on PyTorch's meta device and counts their parameters.
    """
    try:
        with refuse_to_build():
            answers = [n_params(*sizes) for sizes in _SIZES]
    except BuiltAModel as built:
        return wrong_answer("parameters", f"your function builds a model ({built}); "
                                          "count from the sizes alone")
    if any(a is None for a in answers):
        return check(None, 0, name="parameters")
    expected = [_count_by_building(*sizes) for sizes in _SIZES]
    return check(answers, expected, name="parameters on several sizes", rtol=0, atol=0)


def check_three_steps(s_by_hand):
    """Exercise "Three steps by hand": s_1, s_2, s_3 for W_x = 0.5, W_s = 0.8, b_s = 0
    and x = (1, 0, 0). The reference is PyTorch's nn.RNN, given those weights, in float64.
    """
    if s_by_hand is None:
        return check(None, 0, name="s_1, s_2, s_3")
    one_unit = nn.RNN(input_size=1, hidden_size=1, batch_first=True, dtype=torch.float64)
    x = torch.tensor([[[1.0], [0.0], [0.0]]], dtype=torch.float64)  # (1, 3, 1)
    with torch.no_grad():
        one_unit.weight_ih_l0.fill_(0.5)  # W_x^T
        one_unit.weight_hh_l0.fill_(0.8)  # W_s^T
        one_unit.bias_ih_l0.zero_()
        one_unit.bias_hh_l0.zero_()
        s_torch = one_unit(x)[0].flatten()  # (3,)
    # float64, three tanh steps: agreement to ~1e-16; 1e-12 allows another libm
    return check(s_by_hand, s_torch, name="s_1, s_2, s_3", rtol=1e-12, atol=1e-12)


def check_delayed_sum(W_x_sum, W_s_sum, W_y_sum):
    """Exercise "A delayed sum": weights of a three-unit layer (biases zero) whose
    output y_t = s_t W_y is x_{t-1} + x_{t-2}, checked from t = 3 on a random sequence of
    the check's own (helper.rnn_forward runs the layer)."""
    if any(w is None for w in (W_x_sum, W_s_sum, W_y_sum)):
        return check(None, 0, name="x_{t-1} + x_{t-2}")
    for name, w, shape in (("W_x_sum", W_x_sum, (1, 3)), ("W_s_sum", W_s_sum, (3, 3)),
                           ("W_y_sum", W_y_sum, (3, 1))):
        if np.shape(w) != shape:
            return check(w, np.zeros(shape), name=name)  # the verdict names the shape
    # (T, 1); inputs within +-2, so that a copy scaled by the lesson's gamma = 1e-3 errs
    # by at most ~2 gamma^2 |x|^3 ~ 2e-5, well inside the tolerance below, for any seed
    x = np_rng(404).uniform(-2, 2, size=(500, 1))
    S = rnn_forward(x, W_x_sum, W_s_sum, np.zeros(3))  # (T + 1, 3): s_0 first
    y = (S[1:] @ np.asarray(W_y_sum, dtype=float))[:, 0]  # (T,): y_1 ... y_T
    want = x[1:-1, 0] + x[:-2, 0]  # x_{t-1} + x_{t-2} for t = 3 ... T
    # tanh(a) = a - a^3/3 + ...: a copy scaled down to ~1e-3 errs by ~1e-6 relative
    return check(y[2:], want, name="x_{t-1} + x_{t-2}", rtol=0, atol=1e-4)


def check_parity_step(parity_step):
    """Exercise "Parity": `parity_step(x_t, s_prev)`, with s_0 = False, must make s_t the
    parity (True odd, False even) of the number of ones among x_1 ... x_t, on long random
    0/1 streams of the check's own (and a stream of zeros, and one of ones)."""
    rng = np_rng(505)
    streams = [rng.integers(0, 2, size=3000) for _ in range(3)]
    streams += [np.zeros(200, dtype=int), np.ones(201, dtype=int),
                (rng.random(3000) < 0.01).astype(int)]  # rare ones, far apart
    got, want = [], []
    for stream in streams:
        s = False  # s_0: no ones yet, an even number
        for x_t in stream:
            s = parity_step(int(x_t), s)
            if s is None:
                return check(None, 0, name="parity")
            got.append(s)
        want.extend(np.cumsum(stream) % 2 == 1)  # the definition, from all of x_1 ... x_t
    return check(got, want, name="parity at every step", rtol=0, atol=1e-9)
