"""Tests for lesson 5's section of helper.py and its exercise checks (checks/lesson05.py).

Lesson 5 puts in helper.py what both its pages use: the from-scratch cells (checked
against PyTorch's in float64), the marked-sign task, its model and the training of
several seeds (and learning rates) as one model. It also adds three checks, and a check
is only worth having if it can fail, so each is tested here with a right answer, with
the slips a learner is likely to make (a wrong gate order, the GRU's candidate bias
outside the reset product, the gate's value instead of its bias), and with answers that
are not answers at all.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import helper
from torch import nn
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


# --- lesson 5's section of helper.py ---------------------------------------------------


def test_lstm_step_matches_nn_lstm_in_float64():
    helper.torch_seed(0)
    lstm = nn.LSTM(3, 4, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, generator=helper.torch_gen(1), dtype=torch.float64)
    out, _ = lstm(x)
    zero = torch.zeros(2, 4, dtype=torch.float64)
    states = helper.run_cell(helper.lstm_step, helper.lstm_params(lstm), x, (zero, zero))
    torch.testing.assert_close(torch.stack([s for s, c in states], 1), out.detach(),
                               rtol=1e-12, atol=1e-14)


def test_gru_step_matches_nn_gru_in_float64():
    helper.torch_seed(0)
    gru = nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, generator=helper.torch_gen(1), dtype=torch.float64)
    out, _ = gru(x)
    states = helper.run_cell(helper.gru_step, helper.gru_params(gru), x,
                             torch.zeros(2, 4, dtype=torch.float64))
    torch.testing.assert_close(torch.stack(states, 1), out.detach(), rtol=1e-12, atol=1e-14)


def test_marked_sign_batch_marks_one_step_with_its_sign():
    x, d, lag = helper.marked_sign_batch(50, 12, helper.torch_gen(0))
    assert x.shape == (50, 12, 2) and d.shape == (50,) and lag.shape == (50, 12)
    assert torch.equal(x[:, :, 1].sum(1), torch.ones(50))  # one marker per sequence
    marked = x[:, :, 0][lag == 0]  # the value at the mark: the sign
    assert torch.equal(marked, 2 * d - 1)
    first = helper.marked_sign_batch(5, 7, helper.torch_gen(0), first=True)[2]
    assert torch.equal(first[:, 0], torch.zeros(5, dtype=torch.long))


def test_memory_net_sets_the_lstm_forget_bias_and_refuses_it_elsewhere():
    net = helper.memory_net(nn.LSTM, forget_bias=1.0)
    b = net.rnn.bias_ih_l0 + net.rnn.bias_hh_l0
    assert torch.equal(b[8:16].detach(), torch.ones(8))
    with pytest.raises(ValueError, match="nn.LSTM"):
        helper.memory_net(nn.GRU, forget_bias=1.0)


def test_train_memory_with_one_rate_per_seed_trains_each_net_at_its_rate():
    both = helper.train_memory(nn.RNN, [0, 0], 8, lr=[0.01, 0.03], steps=20, batch=8)
    alone = [helper.train_memory(nn.RNN, [0, 1], 8, lr=lr, steps=20, batch=8).nets[0]
             for lr in (0.01, 0.03)]
    for net, ref in zip(both.nets, alone):  # Adam's step scales with its rate
        for p, q in zip(net.parameters(), ref.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_train_memory_last_only_scores_only_the_last_step():
    runs = helper.train_memory(nn.LSTM, [3, 4], 6, last_only=True, first=True, steps=1,
                               batch=16)
    for k, (s, start) in enumerate(zip([3, 4], runs.starts)):
        x, d, lag = helper.marked_sign_batch(16, 6, helper.torch_gen(s), first=True)
        want = helper.memory_loss(start, x, d, lag, last_only=True)  # the first batch
        assert math.isclose(runs.losses[0, k], want, rel_tol=1e-5)
        assert not math.isclose(want, helper.memory_loss(start, x, d, lag), rel_tol=1e-3)
