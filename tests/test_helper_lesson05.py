"""Tests for lesson 5's exercise checks (checks/lesson05.py).

Lesson 5 adds nothing to helper.py: its cells and its memory task are used by no other
lesson. What it does add are three checks, and a check is only worth having if it can
fail, so each is tested here with a right answer, with the slips a learner is likely to
make (a wrong gate order, the GRU's candidate bias outside the reset product, the gate's
value instead of its bias), and with answers that are not answers at all.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import helper
from checks.lesson05 import check_gru_step, check_half_life, check_lstm_update


@pytest.fixture(autouse=True)
def friendly(monkeypatch):
    """Verdicts instead of exceptions, as a learner running `make lab` gets them."""
    monkeypatch.setenv(helper.STRICT_ENV, "0")


# --- the LSTM cell update ---------------------------------------------------------------


def lstm_update(gates, c_prev, order="ifgo"):
    blocks = dict(zip(order, gates.chunk(4, dim=1)))
    c_t = torch.sigmoid(blocks["f"]) * c_prev + torch.sigmoid(blocks["i"]) * torch.tanh(blocks["g"])
    return torch.sigmoid(blocks["o"]) * torch.tanh(c_t), c_t


def test_lstm_update_check_accepts_the_right_update():
    assert check_lstm_update(lstm_update)


def test_lstm_update_check_accepts_numpy_arrays():
    def as_numpy(gates, c_prev):
        return tuple(t.numpy() for t in lstm_update(gates, c_prev))
    assert check_lstm_update(as_numpy)


@pytest.mark.parametrize("order", ["ifog", "igfo", "fiog", "oifg"])
def test_lstm_update_check_names_a_wrong_gate_order(order):
    verdict = check_lstm_update(lambda g, c: lstm_update(g, c, order))
    assert not verdict and "order" in verdict.message


def test_lstm_update_check_rejects_swapped_outputs():
    verdict = check_lstm_update(lambda g, c: lstm_update(g, c)[::-1])
    assert not verdict


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda g, c: (_ for _ in ()).throw(NotImplementedError()), "not answered"),
    (lambda g, c: 1 / 0, "raised ZeroDivisionError"),
    (lambda g, c: c, "pair"),
    (42, "expected a function"),
])
def test_lstm_update_check_explains_non_answers(answer, words):
    verdict = check_lstm_update(answer)
    assert not verdict and words in verdict.message


def test_lstm_update_check_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv(helper.STRICT_ENV, "1")
    with pytest.raises(helper.WrongAnswer):
        check_lstm_update(lambda g, c: lstm_update(g, c, "ifog"))


# --- the GRU step -----------------------------------------------------------------------


def gru_step(x, s, w_ih, w_hh, b_ih, b_hh, bias_inside=True, flip=False):
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (s @ w_hh.T + b_hh).chunk(3, dim=1)
    if not bias_inside:  # b_hn moved next to b_in, outside the reset product
        b_hn = b_hh.chunk(3)[2]
        x_n, h_n = x_n + b_hn, h_n - b_hn
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return z * n + (1 - z) * s if flip else (1 - z) * n + z * s


def test_gru_step_check_accepts_the_right_step():
    assert check_gru_step(gru_step)


def test_gru_step_check_names_the_bias_outside_the_reset():
    verdict = check_gru_step(lambda *a: gru_step(*a, bias_inside=False))
    assert not verdict and "inside the reset product" in verdict.message


def test_gru_step_check_names_a_flipped_update_gate():
    verdict = check_gru_step(lambda *a: gru_step(*a, flip=True))
    assert not verdict and "weighs the old state" in verdict.message


def test_gru_step_check_rejects_a_wrong_block_order():
    def order_znr(x, s, w_ih, w_hh, b_ih, b_hh):
        perm = lambda t: torch.cat([t.chunk(3)[i] for i in (1, 0, 2)])  # read r as z
        return gru_step(x, s, perm(w_ih), perm(w_hh), perm(b_ih), perm(b_hh))
    assert not check_gru_step(order_znr)


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda *a: "s_t", "must be a tensor"),
    (lambda x, s, *rest: s[:, :1], "shape"),
])
def test_gru_step_check_explains_non_answers(answer, words):
    verdict = check_gru_step(answer)
    assert not verdict and words in verdict.message


# --- the forget bias for a half-life ----------------------------------------------------


def test_half_life_check_accepts_the_right_bias():
    assert check_half_life(lambda h: -math.log(2 ** (1 / h) - 1))


def test_half_life_check_accepts_a_tensor_or_numpy_number():
    assert check_half_life(lambda h: torch.tensor(-math.log(2 ** (1 / h) - 1), dtype=torch.float64))
    assert check_half_life(lambda h: np.float64(-math.log(2 ** (1 / h) - 1)))


def test_half_life_check_names_the_gate_value_given_for_the_bias():
    verdict = check_half_life(lambda h: 0.5 ** (1 / h))
    assert not verdict and "b_f" in verdict.message


@pytest.mark.parametrize("answer", [
    lambda h: 0.0,  # right for h = 1 only
    lambda h: 1.0,  # the practical rule, not this exercise
    lambda h: math.log(h - 0.5),  # a near miss
])
def test_half_life_check_rejects_wrong_biases(answer):
    assert not check_half_life(answer)


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda h: float("nan"), "NaN"),
    (lambda h: "big", "one number"),
])
def test_half_life_check_explains_non_answers(answer, words):
    verdict = check_half_life(answer)
    assert not verdict and words in verdict.message
