"""Tests for lesson 5's section of helper.py and its exercise checks (checks/lesson05.py).

Lesson 5 puts in helper.py what both its pages use: the from-scratch cells (checked
against PyTorch's in float64), the marked-sign task, its model and the training of
several seeds (and learning rates) as one model. It also adds three checks, and a check
is only worth having if it can fail, so each is tested here with a right answer, with
the slips a learner is likely to make (the peepholes left out, the output gate peeping
at c_{t-1}, PyTorch's GRU where the original is asked, the gate's value instead of its
bias), with the answer a learner gets by renaming what the pages show (their cells,
their time constant), and with answers that are not answers at all.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import helper
from torch import nn
from checks.lesson05 import check_gru_original, check_half_life, check_lstm_peephole


@pytest.fixture(autouse=True)
def friendly(monkeypatch):
    """Verdicts instead of exceptions, as a learner running `make lab` gets them."""
    monkeypatch.setenv(helper.STRICT_ENV, "0")


# --- the LSTM update with peepholes ------------------------------------------------------


def peephole_update(gates, c_prev, p_i, p_f, p_o, order="ifgo"):
    blocks = dict(zip(order, gates.chunk(4, dim=1)))
    f_t = torch.sigmoid(blocks["f"] + c_prev * p_f)
    i_t = torch.sigmoid(blocks["i"] + c_prev * p_i)
    c_t = f_t * c_prev + i_t * torch.tanh(blocks["g"])
    return torch.sigmoid(blocks["o"] + c_t * p_o) * torch.tanh(c_t), c_t


def plain_update(gates, c_prev, *peepholes):
    """The rename: the page's cell (lstm_step, gates_of) on PyTorch's stacked blocks."""
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c_t), c_t


def test_peephole_check_accepts_the_right_update():
    assert check_lstm_peephole(peephole_update)


def test_peephole_check_accepts_numpy_arrays():
    def as_numpy(*args):
        return tuple(t.numpy() for t in peephole_update(*args))
    assert check_lstm_peephole(as_numpy)


def test_peephole_check_rejects_the_pages_update_without_peepholes():
    verdict = check_lstm_peephole(plain_update)
    assert not verdict and "peepholes" in verdict.message


def test_peephole_check_rejects_the_pages_lstm_step_renamed():
    def via_lstm_step(gates, c_prev, *peepholes):  # lstm_step on the stacked blocks
        n_h = c_prev.shape[1]
        eye, zero = torch.eye(n_h, dtype=gates.dtype), torch.zeros(n_h, dtype=gates.dtype)
        p = {}
        for j, g in enumerate("ifco"):  # the identity picks block j out of `gates`
            p["W_x" + g] = torch.zeros(4 * n_h, n_h, dtype=gates.dtype)
            p["W_x" + g][j * n_h:(j + 1) * n_h] = eye
            p["W_s" + g], p["b_" + g] = torch.zeros(n_h, n_h, dtype=gates.dtype), zero
        return helper.lstm_step(gates, (torch.zeros_like(c_prev), c_prev), p)
    torch.testing.assert_close(  # it is the page's cell ...
        via_lstm_step(torch.ones(2, 8, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64))[1],
        plain_update(torch.ones(2, 8, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64))[1])
    assert not check_lstm_peephole(via_lstm_step)  # ... and it fails


def test_peephole_check_names_the_output_gate_reading_the_old_cell_state():
    def old(gates, c_prev, p_i, p_f, p_o):
        a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
        c_t = (torch.sigmoid(a_f + c_prev * p_f) * c_prev
               + torch.sigmoid(a_i + c_prev * p_i) * torch.tanh(a_g))
        return torch.sigmoid(a_o + c_prev * p_o) * torch.tanh(c_t), c_t
    verdict = check_lstm_peephole(old)
    assert not verdict and "new cell state" in verdict.message


@pytest.mark.parametrize("order", ["ifog", "figo"])
def test_peephole_check_names_a_wrong_gate_order(order):
    verdict = check_lstm_peephole(lambda *a: peephole_update(*a, order=order))
    assert not verdict and "order" in verdict.message


def test_peephole_check_rejects_swapped_outputs():
    assert not check_lstm_peephole(lambda *a: peephole_update(*a)[::-1])


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda *a: (_ for _ in ()).throw(NotImplementedError()), "not answered"),
    (lambda *a: 1 / 0, "raised ZeroDivisionError"),
    (lambda g, c, *p: c, "pair"),
    (42, "expected a function"),
])
def test_peephole_check_explains_non_answers(answer, words):
    verdict = check_lstm_peephole(answer)
    assert not verdict and words in verdict.message


def test_peephole_check_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv(helper.STRICT_ENV, "1")
    with pytest.raises(helper.WrongAnswer):
        check_lstm_peephole(plain_update)


# --- the original GRU -------------------------------------------------------------------


def gru_original(x, s, w_ih, w_hh, b_ih, b_hh, flip=False):
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    (w_r, w_z, w_n), (b_r, b_z, b_n) = w_hh.chunk(3), b_hh.chunk(3)
    r, z = torch.sigmoid(x_r + s @ w_r.T + b_r), torch.sigmoid(x_z + s @ w_z.T + b_z)
    n = torch.tanh(x_n + (r * s) @ w_n.T + b_n)  # the reset gate scales s first
    return z * n + (1 - z) * s if flip else (1 - z) * n + z * s


def pytorch_gru(x, s, w_ih, w_hh, b_ih, b_hh):
    """The rename: the page's gru_step (PyTorch's GRU), fed PyTorch's tensors."""
    layer = SimpleNamespace(weight_ih_l0=w_ih, weight_hh_l0=w_hh, bias_ih_l0=b_ih,
                            bias_hh_l0=b_hh, hidden_size=s.shape[1])
    return helper.gru_step(x, s, helper.gru_params(layer))


def test_gru_original_check_accepts_the_right_step():
    assert check_gru_original(gru_original)


def test_gru_original_check_rejects_the_pages_gru_step_renamed():
    verdict = check_gru_original(pytorch_gru)
    assert not verdict and "PyTorch's GRU" in verdict.message


def test_gru_original_check_names_a_flipped_update_gate():
    verdict = check_gru_original(lambda *a: gru_original(*a, flip=True))
    assert not verdict and "weighs the old state" in verdict.message


def test_cell_checks_ask_for_float64_as_their_statements_say():
    # the statements say "in float64" (the inputs are float64): a float32 answer is off
    # by ~1e-7, far outside the checks' 1e-10
    def peephole_f32(gates, c_prev, *peep):
        return tuple(t.double() for t in peephole_update(gates.float(), c_prev.float(),
                                                         *(p.float() for p in peep)))
    def gru_f32(*args):
        return gru_original(*(t.float() for t in args)).double()
    assert not check_lstm_peephole(peephole_f32)
    assert not check_gru_original(gru_f32)


def test_gru_original_check_rejects_a_wrong_block_order():
    def order_znr(x, s, w_ih, w_hh, b_ih, b_hh):
        perm = lambda t: torch.cat([t.chunk(3)[i] for i in (1, 0, 2)])  # read r as z
        return gru_original(x, s, perm(w_ih), perm(w_hh), perm(b_ih), perm(b_hh))
    assert not check_gru_original(order_znr)


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda *a: "s_t", "must be a tensor"),
    (lambda x, s, *rest: s[:, :1], "shape"),
])
def test_gru_original_check_explains_non_answers(answer, words):
    verdict = check_gru_original(answer)
    assert not verdict and words in verdict.message


# --- the forget bias for a half-life ----------------------------------------------------


def test_half_life_check_accepts_the_right_bias():
    assert check_half_life(lambda q: -math.log(2 ** (1 / q) - 1))


def test_half_life_check_accepts_a_tensor_or_numpy_number():
    assert check_half_life(lambda q: torch.tensor(-math.log(2 ** (1 / q) - 1), dtype=torch.float64))
    assert check_half_life(lambda q: np.float64(-math.log(2 ** (1 / q) - 1)))


def test_half_life_check_accepts_a_float32_answer():
    # the statement allows float32: its rounding, amplified over q = 333 steps, is ~1e-5
    assert check_half_life(lambda q: torch.logit(torch.tensor(0.5 ** (1 / q))))  # float32
    assert check_half_life(lambda q: np.float32(np.log(np.float32(0.5 ** (1 / q))
                                                       / (1 - np.float32(0.5 ** (1 / q))))))


def test_half_life_check_names_the_gate_value_given_in_float32():
    verdict = check_half_life(lambda q: np.float32(0.5 ** (1 / q)))
    assert not verdict and "b_f" in verdict.message


def test_half_life_check_rejects_the_time_constant_for_the_half_life():
    # the page's visible relation, renamed: f = exp(-1/tau) with tau := q, then its bias
    def from_tau(q):
        f = math.exp(-1 / q)
        return math.log(f / (1 - f))
    assert not check_half_life(from_tau)
    assert not check_half_life(lambda q: math.log((1 - 1 / (q + 1)) * (q + 1)))  # 1/(1-f) = q+1


def test_half_life_check_names_the_gate_value_given_for_the_bias():
    verdict = check_half_life(lambda q: 0.5 ** (1 / q))
    assert not verdict and "b_f" in verdict.message


@pytest.mark.parametrize("answer", [
    lambda q: 0.0,  # right for q = 1 only
    lambda q: 1.0,  # the practical rule, not this exercise
    lambda q: math.log(q - 0.5),  # a near miss
])
def test_half_life_check_rejects_wrong_biases(answer):
    assert not check_half_life(answer)


@pytest.mark.parametrize("answer, words", [
    (None, "not answered"),
    (lambda q: float("nan"), "NaN"),
    (lambda q: "big", "one number"),
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
