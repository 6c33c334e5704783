"""Unit tests for helper.py's lesson-1 section (numerical_grad), owned with lessons 1-2."""

import numpy as np
import pytest
import torch

from helper import numerical_grad


def test_numerical_grad_matches_the_derivative_of_a_known_function():
    w = np.array([[0.3, -1.2], [2.0, 0.5]])
    got = numerical_grad(lambda v: float(np.sum(np.sin(v) * v)), w)
    want = np.cos(w) * w + np.sin(w)  # d/dv (v sin v)
    assert got.shape == w.shape and got.dtype == np.float64
    # central differences, eps = 1e-6: truncation ~eps^2, rounding ~1e-16 / eps
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)


def test_numerical_grad_leaves_w_unchanged_and_hands_f_a_copy():
    w = np.array([1.0, 2.0, 3.0])
    before = w.copy()
    seen = []
    numerical_grad(lambda v: seen.append(v is w) or float(v.sum()), w)
    assert np.array_equal(w, before)  # exact: w is never written
    assert not any(seen)


def test_numerical_grad_of_a_linear_function_is_its_coefficients():
    c = np.array([2.0, -3.0, 0.5])
    got = numerical_grad(lambda v: float(v @ c), np.zeros(3), eps=1e-3)
    # linear: no truncation error, only rounding of (f(+) - f(-)) / 2eps
    np.testing.assert_allclose(got, c, rtol=1e-12, atol=0)


def test_numerical_grad_accepts_lists_and_scalars():
    np.testing.assert_allclose(numerical_grad(lambda v: float(np.sum(v ** 2)), [1, 2]),
                               [2.0, 4.0], rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda v: float(v ** 3), 2.0), 12.0, rtol=1e-8)


def test_numerical_grad_on_a_tensor_matches_autograd_and_keeps_dtype():
    w = torch.tensor([[0.2, -0.7, 1.1]], dtype=torch.float64)
    got = numerical_grad(lambda v: torch.tanh(v).pow(2).sum(), w)
    w_ag = w.clone().requires_grad_(True)
    torch.tanh(w_ag).pow(2).sum().backward()
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
    torch.testing.assert_close(got, w_ag.grad, rtol=0, atol=1e-8)
    assert not w.requires_grad


@pytest.mark.parametrize("f, w, eps, error, word", [
    ("not a function", np.zeros(2), 1e-6, TypeError, "f must"),
    (lambda v: v, np.zeros(2), 1e-6, TypeError, "f must return one number"),
    (lambda v: "x", np.zeros(2), 1e-6, TypeError, "f must return one number"),
    (lambda v: 0.0, np.zeros(2), 0.0, ValueError, "eps"),
    (lambda v: 0.0, np.zeros(2), float("nan"), ValueError, "eps"),
    (lambda v: 0.0, np.array(["a", "b"]), 1e-6, TypeError, "w must"),
    (lambda v: 0.0, torch.tensor([1, 2]), 1e-6, TypeError, "w must"),
])
def test_numerical_grad_wrong_input_names_the_argument(f, w, eps, error, word):
    with pytest.raises(error, match=word):
        numerical_grad(f, w, eps=eps)


# -- Lesson 2's exercise checks (checks/lesson02.py): the published solutions pass, and
# an answer made by renaming a cell the page shows fails (WrongAnswer in strict mode).

import math  # noqa: E402

import helper  # noqa: E402
from checks.lesson02 import (DELAYED_SUM_ATOL, DELAYED_SUM_X_MAX,  # noqa: E402
                             check_delayed_sum, check_fooling_pairs,
                             check_inputs_from_states, check_largest_hidden,
                             check_param_count, check_parity_step)


def _n_params(n_in, n_h, n_out, num_layers):
    first = n_h * n_in + n_h * n_h + 2 * n_h
    return first + (num_layers - 1) * (2 * n_h * n_h + 2 * n_h) + n_h * n_out + n_out


def _largest_n_h(n_in, n_out, num_layers, budget):
    a, b = 2 * num_layers - 1, n_in + n_out + 2 * num_layers
    n_h = max(int((-b + math.sqrt(b * b + 4 * a * (budget - n_out))) / (2 * a)), 1)
    while _n_params(n_in, n_h + 1, n_out, num_layers) <= budget:
        n_h += 1
    while _n_params(n_in, n_h, n_out, num_layers) > budget:
        n_h -= 1
    return n_h


def _inputs_from_states(s, w_x, w_s):
    s_prev = np.concatenate([[0.0], s[:-1]])
    return (np.arctanh(s) - w_s * s_prev) / w_x


def _register(lags, kappa):
    n_h = max(lags) + 1
    W_x = np.zeros((1, n_h))
    W_x[0, 0] = kappa
    W_y = np.zeros((n_h, 1))
    W_y[list(lags), 0] = 1 / kappa
    return W_x, np.eye(n_h, k=1), W_y


def _delayed_sum_weights(lags, tol=1e-3, x_max=2.0):  # the page's solution
    return _register(lags, 0.5 * np.sqrt(3 * tol / (x_max**3 * sum(j + 1 for j in lags))))


def _parity_step(x_t, s_prev):
    return s_prev != (x_t == 1)


def _parity_pair(window):
    return np.r_[0, window], np.r_[1, window]


def _seen_pair(window):
    return None if np.any(window) else (np.r_[0, window], np.r_[1, window])


def test_the_published_solutions_pass(strict):
    assert check_param_count(_n_params)
    assert check_largest_hidden(_largest_n_h)
    assert check_inputs_from_states(_inputs_from_states)
    assert check_delayed_sum(_delayed_sum_weights)
    assert check_parity_step(_parity_step)
    assert check_fooling_pairs(_parity_pair, _seen_pair)


def test_the_pages_two_layer_count_renamed_fails(strict):
    # the page's cell: layer0 + layer1 + head, with rnn_layer_params; two layers only
    def rnn_layer_params(n_in, n_h):
        return n_h * n_in + n_h * n_h + n_h + n_h

    def n_params(n_in, n_h, n_out, num_layers):
        return rnn_layer_params(n_in, n_h) + rnn_layer_params(n_h, n_h) + n_h * n_out + n_out

    with pytest.raises(helper.WrongAnswer):
        check_param_count(n_params)


def test_a_count_or_a_near_miss_is_not_the_largest_hidden_size(strict):
    with pytest.raises(helper.WrongAnswer, match="budget"):  # the forward count, renamed
        check_largest_hidden(lambda n_in, n_out, L, budget: _n_params(n_in, 10, n_out, L))
    with pytest.raises(helper.WrongAnswer, match="more parameters"):  # one unit too many
        check_largest_hidden(lambda *case: _largest_n_h(*case) + 1)
    with pytest.raises(helper.WrongAnswer, match="not the largest"):  # one unit too few
        check_largest_hidden(lambda *case: _largest_n_h(*case) - 1)
    with pytest.raises(helper.WrongAnswer, match="not the largest"):  # the notes' n_h = 10
        check_largest_hidden(lambda *case: 10)

    def by_building(n_in, n_out, num_layers, budget):
        n_h = 1
        while sum(p.numel() for p in torch.nn.RNN(n_in, n_h + 1, num_layers).parameters()) \
                + (n_h + 1) * n_out + n_out <= budget:
            n_h += 1
        return n_h

    with pytest.raises(helper.WrongAnswer, match="builds a model"):
        check_largest_hidden(by_building)


def test_the_pages_forward_recurrence_does_not_undo_the_layer(strict):
    def forward_renamed(s, w_x, w_s):  # the page's cell: s_t = tanh(x_t W_x + s_t-1 W_s)
        return helper.rnn_forward(s[:, None], [[w_x]], [[w_s]], [0.0])[1:, 0]

    with pytest.raises(helper.WrongAnswer):
        check_inputs_from_states(forward_renamed)
    with pytest.raises(helper.WrongAnswer):  # undoes tanh and W_x, forgets the loop
        check_inputs_from_states(lambda s, w_x, w_s: np.arctanh(s) / w_x)


def test_the_pages_shift_register_renamed_is_not_a_delayed_sum(strict):
    def register(lags):  # the page's k = 3 register, lags ignored
        W_x = np.zeros((1, 4))
        W_x[0, 0] = 1e-3
        W_y = np.zeros((4, 1))
        W_y[3, 0] = 1e3
        return W_x, np.eye(4, k=1), W_y

    with pytest.raises(helper.WrongAnswer):
        check_delayed_sum(register)
    with pytest.raises(helper.WrongAnswer):  # the old exercise's answer, lags 1 and 2 only
        check_delayed_sum(lambda lags: _delayed_sum_weights((1, 2)))


def test_the_pages_latch_step_is_not_parity(strict):
    with pytest.raises(helper.WrongAnswer):  # the page's "has a 1 appeared?": max(x, s)
        check_parity_step(lambda x_t, s_prev: bool(max(x_t, s_prev)))


def test_the_statements_numbers_are_the_checks():
    # the exercise states 10^-3 and inputs in [-2, 2] in its prompt
    assert DELAYED_SUM_ATOL == 1e-3 and DELAYED_SUM_X_MAX == 2.0


def test_the_budgets_sit_where_a_float_root_slips():
    # the last five budgets: a model's exact count at n_h = 54_321_098, 87_654_321 and
    # 99_999_989, or one parameter either side of it
    from checks.lesson02 import _BUDGETS
    tail = [(8, 4, 3, 54_321_098, -1), (5, 3, 2, 87_654_321, -1), (2, 6, 2, 99_999_989, -1),
            (1, 1, 1, 99_999_989, 0), (3, 2, 1, 99_999_989, 1)]
    assert _BUDGETS[-5:] == [(n_in, n_out, L, _n_params(n_in, n_h, n_out, L) + d)
                             for n_in, n_out, L, n_h, d in tail]


@pytest.mark.parametrize("root", ["math", "numpy", "power", "stable"])
def test_a_float_root_without_the_exact_step_fails(strict, root):
    def bare(n_in, n_out, num_layers, budget):  # the solution without its while loops
        a, b, c = 2 * num_layers - 1, n_in + n_out + 2 * num_layers, budget - n_out
        disc = {"math": lambda: math.sqrt(b * b + 4 * a * c),
                "numpy": lambda: float(np.sqrt(b**2 + 4 * a * c)),
                "power": lambda: (b * b + 4 * a * c) ** 0.5,
                "stable": lambda: math.sqrt(b * b + 4 * a * c)}[root]()
        n_h = 2 * c / (b + disc) if root == "stable" else (-b + disc) / (2 * a)
        return max(int(n_h), 1)

    with pytest.raises(helper.WrongAnswer, match="largest n_h"):
        check_largest_hidden(bare)


def test_an_exact_integer_root_passes(strict):
    def by_isqrt(n_in, n_out, num_layers, budget):  # another correct answer: no float
        a, b, c = 2 * num_layers - 1, n_in + n_out + 2 * num_layers, budget - n_out
        n_h = (math.isqrt(b * b + 4 * a * c) - b) // (2 * a)
        while _n_params(n_in, n_h + 1, n_out, num_layers) <= budget:
            n_h += 1
        while _n_params(n_in, n_h, n_out, num_layers) > budget:
            n_h -= 1
        return n_h

    assert check_largest_hidden(by_isqrt)


@pytest.mark.parametrize("kappa", [1e-3, 3e-3, 1e-6])
def test_a_register_of_any_small_enough_scale_passes(strict, kappa):
    # within 10^-3 on inputs in [-2, 2]: kappa <= sqrt(3e-3 / (8 * 10)) ~ 6e-3 for (7, 1)
    assert check_delayed_sum(lambda lags: _register(lags, kappa))


def test_a_register_of_another_construction_passes(strict):
    # no shift register's 1 / kappa: scale unit j by its own factor, undo it in W_y
    def graded(lags):
        n_h = max(lags) + 1
        W_x = np.zeros((1, n_h))
        W_x[0, 0] = 1e-4
        W_s = np.diag(np.full(n_h - 1, 2.0), k=1)  # each move doubles the copy
        W_y = np.zeros((n_h, 1))
        for j in lags:
            W_y[j, 0] = 1 / (1e-4 * 2.0**j)
        return W_x, W_s, W_y

    assert check_delayed_sum(graded)


def test_a_register_too_coarse_for_the_stated_accuracy_fails_and_says_so(strict):
    # kappa = 0.01: tanh takes up to 2.7e-3 off the sum for lags (7, 1), over 10^-3
    with pytest.raises(helper.WrongAnswer, match="more than the 0.001"):
        check_delayed_sum(lambda lags: _register(lags, 1e-2))


def test_the_pages_no_one_pair_is_not_every_fooling_pair(strict):
    def once_never(window):  # the page's pair: a 1 at step 1, or none, then zeros
        w = len(window)
        return np.r_[1, np.zeros(w, dtype=int)], np.zeros(w + 1, dtype=int)

    with pytest.raises(helper.WrongAnswer, match="end in the given window"):
        check_fooling_pairs(once_never, once_never)
    with pytest.raises(helper.WrongAnswer, match="seen pair"):  # parity's pair for "seen"
        check_fooling_pairs(_parity_pair, _parity_pair)
    with pytest.raises(helper.WrongAnswer, match="parity pair"):  # "seen"'s, for parity
        check_fooling_pairs(_seen_pair, _seen_pair)
    with pytest.raises(helper.WrongAnswer, match="w \\+ 1"):  # a longer pair
        check_fooling_pairs(lambda w: (np.r_[0, 0, w], np.r_[1, 0, w]), _seen_pair)
    with pytest.raises(helper.WrongAnswer, match="same answer"):  # no flip in front
        check_fooling_pairs(lambda w: (np.r_[0, w], np.r_[0, w]), _seen_pair)
