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


# (n_in, n_out, num_layers, budget): budgets from a few hundred weights to tens of
# quadrillions, far too large to build. The first is the notes' model's 361 (its n_h = 10
# fits exactly). The last five sit at a model's exact count, or one parameter either side
# of it, at n_h of 54_321_098, 87_654_321 and 99_999_989: there a float's square root
# rounds to the wrong whole number (a bare int(root) is one unit off on each of the first
# three; the root written as 2c / (b + sqrt(...)) on the last two), so only an answer
# that corrects the float to the exact whole number passes
_BUDGETS = [(1, 1, 2, 361), (3, 5, 2, 1_000), (7, 2, 3, 12_345), (16, 10, 1, 50_000),
            (2, 3, 5, 999_999), (50, 7, 2, 10**10), (1_000, 1, 12, 3 * 10**12),
            (4, 4, 1, 10**15 + 7),
            (8, 4, 3, 14_753_909_417_407_787),  # the count at n_h = 54_321_098, - 1
            (5, 3, 2, 23_049_841_021_764_977),  # the count at n_h = 87_654_321, - 1
            (2, 6, 2, 29_999_994_600_000_236),  # the count at n_h = 99_999_989, - 1
            (1, 1, 1, 9_999_998_200_000_078),   # the count at n_h = 99_999_989
            (3, 2, 1, 9_999_998_500_000_047)]   # the count at n_h = 99_999_989, + 1


def check_largest_hidden(largest_n_h):
    """Exercise "Count before you build", second part: `largest_n_h(n_in, n_out,
    num_layers, budget)`, the largest hidden size n_h whose model (the lesson's RNN
    class: nn.RNN and a linear head) has at most `budget` parameters.

    The learner's function runs where building any nn.Module raises; the reference then
    counts models built on PyTorch's meta device at the answer and at one unit more:
    the first must fit the budget and the second must not.
    """
    try:
        with refuse_to_build():
            answers = [largest_n_h(*case) for case in _BUDGETS]
    except BuiltAModel as built:
        return wrong_answer("largest n_h", f"your function builds a model ({built}); "
                                           "find n_h from the sizes and the budget alone")
    if any(a is None for a in answers):
        return check(None, 0, name="largest n_h")
    if not all(isinstance(a, (int, np.integer)) and a >= 1 for a in answers):
        return wrong_answer("largest n_h", "return a whole number of units, at least 1")
    fits, next_fits = [], []
    for (n_in, n_out, num_layers, budget), n_h in zip(_BUDGETS, answers):
        fits.append(_count_by_building(n_in, int(n_h), n_out, num_layers) <= budget)
        next_fits.append(_count_by_building(n_in, int(n_h) + 1, n_out, num_layers)
                         <= budget)
    if not all(fits):
        return wrong_answer("largest n_h", "on some budgets your n_h has more parameters "
                                           "than the budget allows")
    if any(next_fits):
        return wrong_answer("largest n_h", "on some budgets one more unit would still "
                                           "fit: your n_h is not the largest")
    return check(True, True, name="largest n_h on several budgets")


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


def check_inputs_from_states(inputs_from_states):
    """Exercise "Three steps by hand", second part: `inputs_from_states(s, w_x, w_s)`
    must give back the inputs x_1 ... x_T of a one-unit layer (b_s = 0) from its states
    s_1 ... s_T, a NumPy array of shape (T,). The check runs nn.RNN in float64 on
    sequences and weights of its own (negative ones too), then hands the learner the
    states alone."""
    gen = np_rng(303)
    got, want = [], []
    for w_x, w_s in ((0.7, -1.3), (-2.0, 0.5), (1.5, 0.9), (0.3, 2.5)):
        x = gen.uniform(-1, 1, size=40)                       # (T,)
        one_unit = nn.RNN(1, 1, batch_first=True, dtype=torch.float64)
        with torch.no_grad():
            one_unit.weight_ih_l0.fill_(w_x)                  # W_x^T
            one_unit.weight_hh_l0.fill_(w_s)                  # W_s^T
            one_unit.bias_ih_l0.zero_()
            one_unit.bias_hh_l0.zero_()
            s = one_unit(torch.from_numpy(x)[None, :, None])[0].flatten().numpy()
        answer = inputs_from_states(s.copy(), w_x, w_s)
        if answer is None:
            return check(None, 0, name="inputs from states")
        if np.shape(answer) != x.shape:
            return check(answer, x, name="inputs from states")  # names the shape
        got.append(np.asarray(answer, dtype=float))
        want.append(x)
    # artanh amplifies rounding by 1 / (1 - s^2) < 1e3 here: ~1e-13; 1e-8 leaves room
    return check(np.concatenate(got), np.concatenate(want), name="inputs from states",
                 rtol=0, atol=1e-8)


# lags the check asks for: none is the lesson's delay alone, and the last needs 8 units
_LAGS = [(1, 2), (0,), (3,), (0, 2, 5), (7, 1)]
# what the exercise states: the output within DELAYED_SUM_ATOL of the sum, in float64,
# for every input sequence whose entries lie within +-DELAYED_SUM_X_MAX
DELAYED_SUM_ATOL, DELAYED_SUM_X_MAX = 1e-3, 2.0


def check_delayed_sum(delayed_sum_weights):
    """Exercise "A delayed sum": `delayed_sum_weights(lags)` returns (W_x, W_s, W_y),
    shapes (1, n_h), (n_h, n_h), (n_h, 1), of a layer (biases zero) whose output
    y_t = s_t W_y is the sum of x_{t-j} over j in lags, checked once every lag has
    passed, to within DELAYED_SUM_ATOL (float64) on sequences of the check's own with
    entries within +-DELAYED_SUM_X_MAX (helper.rnn_forward runs the layer): random ones,
    and long runs of +-DELAYED_SUM_X_MAX, where tanh bends a shift register's copies
    most. Any weights that meet the statement pass, whatever their scale."""
    gen = np_rng(404)
    x_max = DELAYED_SUM_X_MAX
    for lags in _LAGS:
        weights = delayed_sum_weights(lags)
        if weights is None or any(w is None for w in weights):
            return check(None, 0, name="delayed sum")
        W_x, W_s, W_y = (np.asarray(w, dtype=float) for w in weights)
        n_h = W_s.shape[0] if W_s.ndim == 2 else 0
        for name, w, shape in (("W_x", W_x, (1, n_h)), ("W_s", W_s, (n_h, n_h)),
                               ("W_y", W_y, (n_h, 1))):
            if w.shape != shape:
                return check(w, np.zeros(shape), name=f"{name} for lags {lags}")
        runs = np.repeat(gen.choice([-x_max, x_max], size=12), 25)  # (300,): runs of +-2
        for x in (gen.uniform(-x_max, x_max, size=300), runs):
            x = x[:, None]                                          # (T, 1)
            y = (rnn_forward(x, W_x, W_s, np.zeros(n_h))[1:] @ W_y)[:, 0]  # (T,): y_1 ...
            first = max(lags)                    # 0-based index of the first full sum
            want = sum(x[first - j:len(x) - j, 0] for j in lags)  # sum of x_{t-j}
            name = f"delayed sum for lags {lags}"
            err = np.abs(y[first:] - want)
            if np.all(np.isfinite(y)) and err.max() > DELAYED_SUM_ATOL \
                    and np.all(err <= 0.05 * np.abs(want) + DELAYED_SUM_ATOL):
                # close but not within the stated tolerance: say so, not "a factor"
                return wrong_answer(name, f"off by up to {err.max():.1e}, more than "
                                          f"the {DELAYED_SUM_ATOL:g} the exercise allows "
                                          f"on inputs within ±{x_max:g}")
            verdict = check(y[first:], want, name=name, rtol=0, atol=DELAYED_SUM_ATOL)
            if not verdict:
                return verdict
    return check(True, True, name="delayed sums for several sets of lags")


def check_parity_step(parity_step):
    """Exercise "Parity": `parity_step(x_t, s_prev)`, the step of s_t = step(x_t, s_{t-1})
    with s_0 = False, must make s_t the parity (True odd, False even) of the number of
    ones among x_1 ... x_t, on long random 0/1 streams of the check's own (and a stream
    of zeros, and one of ones)."""
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


def _fooling_pair_fault(pair, window, answer):
    # What is wrong with `pair` as two streams of length w + 1 that end in `window` and
    # get different answers at their last step; None when nothing is.
    w = len(window)
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        return "return two streams (a tuple of two arrays)"
    streams = [np.asarray(s) for s in pair]
    if any(s.shape != (w + 1,) for s in streams):
        return "each stream must have w + 1 inputs for a window of width w"
    if any(not np.isin(s, (0, 1)).all() for s in streams):
        return "the inputs must be 0 or 1"
    if any(not np.array_equal(s[1:], window) for s in streams):
        return "both streams must end in the given window (their last w inputs)"
    if answer(streams[0]) == answer(streams[1]):
        return "your two streams get the same answer, so they do not fool the window"
    return None


def check_fooling_pairs(parity_pair, seen_pair):
    """Exercise "Parity", second part: for a window (the last w inputs, 0/1, shape (w,)),
    `parity_pair(window)` returns two streams of length w + 1 that end in that window and
    have different parities; `seen_pair(window)` does the same for "has a 1 appeared?",
    or returns None where no such pair exists (a window holding a 1). Windows of the
    check's own: random ones of several widths, all zeros, all ones."""
    rng = np_rng(606)
    windows = [rng.integers(0, 2, size=w) for w in (1, 2, 3, 5, 8, 13, 21)]
    windows += [np.zeros(w, dtype=int) for w in (1, 4, 9)] + [np.ones(3, dtype=int)]
    parity = lambda s: int(np.sum(s)) % 2   # noqa: E731: the answer at the last step
    seen = lambda s: bool(np.any(s))        # noqa: E731
    for window in windows:
        fault = _fooling_pair_fault(parity_pair(window.copy()), window, parity)
        if fault:
            return wrong_answer("parity pair", f"for a window of width {len(window)}: "
                                               f"{fault}")
        pair = seen_pair(window.copy())
        if window.any():
            if pair is not None:
                return wrong_answer("seen pair", "for a window that holds a 1, no two "
                                                 "streams differ in their answer: "
                                                 "return None there")
        elif pair is None:
            return wrong_answer("seen pair", "a window of zeros can be fooled: return "
                                             "a pair there")
        else:
            fault = _fooling_pair_fault(pair, window, seen)
            if fault:
                return wrong_answer("seen pair", f"for a window of width {len(window)}: "
                                                 f"{fault}")
    return check(True, True, name="fooling pairs for several windows")
