"""Checks for lesson 5's exercises (lessons/05_gated_cells.ipynb).

Each check calls the learner's function on sizes, weights and inputs of its own (seeded
here through helper's generators, never shown in the lesson), computes the reference itself after the answer with
PyTorch's own cells (`nn.LSTMCell`, `nn.GRUCell`) in float64, and returns
`helper.check`'s verdict, which names what is wrong (a gate order, a bias in the wrong
place) without giving the expected values away. In strict mode (the book build, the
tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import nn

import helper

__all__ = ["check_lstm_update", "check_gru_step", "check_half_life"]

F64 = torch.float64
# (n_in, n_h, batch): sizes the lesson never uses, one of them a single unit
_CELL_CASES = [(3, 5, 4), (1, 1, 1), (6, 2, 7), (2, 9, 3)]


_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


def _call(fn, name, *args):
    """fn(*args) and None, or None and a verdict saying what went wrong."""
    if fn is None or fn is Ellipsis:
        return None, helper.check(None, 0.0, name=name)  # "not answered yet"
    if not callable(fn):
        return None, _refuse(name, f"expected a function, got {type(fn).__name__}")
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, helper.check(None, 0.0, name=name)
    except Exception as exc:  # the learner's code: report it, do not crash the check
        return None, _refuse(name, f"your function raised {type(exc).__name__}: {exc}")


def _as_f64(value, name, what):
    """The answer as a float64 tensor, or a verdict explaining why it is not one."""
    try:
        if isinstance(value, torch.Tensor):
            return value.detach().to("cpu", F64), None
        return torch.as_tensor(np.asarray(value, dtype=float)), None  # float64
    except (TypeError, ValueError, RuntimeError):
        return None, _refuse(name, f"{what} must be a tensor, got {type(value).__name__}")


def _close(a, b, rtol=1e-10, atol=1e-12):
    return a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=atol)


# --- Exercise: the LSTM cell update from PyTorch's stacked pre-activations -------------

_OTHER_ORDERS = ["".join(p) for p in itertools.permutations("ifgo") if "".join(p) != "ifgo"]


def _lstm_update_reference(gates, c_prev, order="ifgo"):
    """The update for pre-activations stacked in `order` (PyTorch's is i, f, g, o)."""
    blocks = dict(zip(order, gates.chunk(4, dim=1)))
    i, f, o = (torch.sigmoid(blocks[k]) for k in "ifo")
    c = f * c_prev + i * torch.tanh(blocks["g"])
    return o * torch.tanh(c), c


def check_lstm_update(lstm_update):
    """Exercise "The LSTM cell update": `lstm_update(gates, c_prev)` -> (s_t, c_t).

    `gates` (B, 4 n_h) is x_t W_ih^T + b_ih + s_{t-1} W_hh^T + b_hh with PyTorch's
    stacked weights. The reference is `nn.LSTMCell` itself, on cells, inputs and states
    made here from a seed of the check's own.
    """
    name = "(s_t, c_t) against nn.LSTMCell"
    gen = helper.torch_gen(505)
    got_all, want_all, swapped = [], [], []
    for n_in, n_h, B in _CELL_CASES:
        helper.torch_seed(int(torch.randint(0, 2**30, (1,), generator=gen)))  # the weights
        cell = nn.LSTMCell(n_in, n_h, dtype=F64)
        x = torch.randn(B, n_in, generator=gen, dtype=F64)  # (B, n_in)
        s_prev = torch.randn(B, n_h, generator=gen, dtype=F64)  # (B, n_h)
        c_prev = 2 * torch.randn(B, n_h, generator=gen, dtype=F64)  # (B, n_h)
        with torch.no_grad():
            gates = (x @ cell.weight_ih.T + cell.bias_ih
                     + s_prev @ cell.weight_hh.T + cell.bias_hh)  # (B, 4 n_h)
        answer, failed = _call(lstm_update, name, gates.clone(), c_prev.clone())
        if failed is not None:
            return failed
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            return _refuse(name, "return the pair (s_t, c_t)")
        got = []
        for part, what in zip(answer, ("s_t", "c_t")):
            tensor, bad = _as_f64(part, name, what)
            if bad is not None:
                return bad
            got.append(tensor)
        with torch.no_grad():
            want = cell(x, (s_prev, c_prev))  # the reference, computed after the answer
        got_all += [g.flatten() for g in got]
        want_all += [w.flatten() for w in want]
        shapes_ok = all(g.shape == w.shape for g, w in zip(got, want))
        swapped.append(shapes_ok and any(
            all(_close(g, w) for g, w in zip(got, _lstm_update_reference(gates, c_prev, o)))
            for o in _OTHER_ORDERS))
    if len(got_all) == len(want_all) and all(swapped) and \
            not all(_close(g, w) for g, w in zip(got_all, want_all)):
        return _refuse(name, "the four blocks are taken in another order than PyTorch's "
                             "stacking (input, forget, candidate g, output)")
    if any(g.shape != w.shape for g, w in zip(got_all, want_all)):
        return _refuse(name, "s_t and c_t must each have the shape of c_prev, (B, n_h)")
    # float64, the same formula: equal up to rounding (~1e-16)
    return helper.check(torch.cat(got_all), torch.cat(want_all), name=name,
                        rtol=1e-10, atol=1e-12)


# --- Exercise: the GRU step from PyTorch's tensors ------------------------------------


def _gru_variant(x, s, w_ih, w_hh, b_ih, b_hh, bias_inside=True, u_on_old=True):
    """A GRU step, right (the defaults) or with one of two common slips."""
    a_r, a_z, a_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    h_r, h_z, h_n = (s @ w_hh.T + b_hh).chunk(3, dim=1)
    r, z = torch.sigmoid(a_r + h_r), torch.sigmoid(a_z + h_z)
    if not bias_inside:  # b_hn moved out of the reset product, next to b_in
        b_hn = b_hh.chunk(3)[2]
        a_n, h_n = a_n + b_hn, h_n - b_hn
    n = torch.tanh(a_n + r * h_n)
    return (1 - z) * n + z * s if u_on_old else z * n + (1 - z) * s


def check_gru_step(gru_step_torch):
    """Exercise "The GRU step": `gru_step_torch(x_t, s_prev, weight_ih, weight_hh,
    bias_ih, bias_hh)` -> s_t (B, n_h).

    The reference is `nn.GRUCell`, with its own random weights and inputs.
    """
    name = "s_t against nn.GRUCell"
    gen = helper.torch_gen(506)
    got_all, want_all = [], []
    slips = {"outside": [], "flipped": []}
    for n_in, n_h, B in _CELL_CASES:
        helper.torch_seed(int(torch.randint(0, 2**30, (1,), generator=gen)))  # the weights
        cell = nn.GRUCell(n_in, n_h, dtype=F64)
        with torch.no_grad():  # larger biases than the default: slips show clearly
            cell.bias_hh.uniform_(-1.5, 1.5, generator=gen)
        x = torch.randn(B, n_in, generator=gen, dtype=F64)  # (B, n_in)
        s_prev = torch.randn(B, n_h, generator=gen, dtype=F64).tanh()  # (B, n_h)
        tensors = [t.detach().clone() for t in
                   (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
        answer, failed = _call(gru_step_torch, name, x.clone(), s_prev.clone(), *tensors)
        if failed is not None:
            return failed
        got, bad = _as_f64(answer, name, "s_t")
        if bad is not None:
            return bad
        with torch.no_grad():
            want = cell(x, s_prev)  # the reference, computed after the answer
            args = (x, s_prev, *tensors)
            slips["outside"].append(_close(got, _gru_variant(*args, bias_inside=False)))
            slips["flipped"].append(_close(got, _gru_variant(*args, u_on_old=False)))
        got_all.append(got.flatten())
        want_all.append(want.flatten())
        if got.shape != want.shape:
            return _refuse(name, f"the shape is wrong: expected (B, n_h), got {tuple(got.shape)}")
    if all(slips["outside"]):
        return _refuse(name, "the candidate's recurrent bias (bias_hh's third block) must "
                             "sit inside the reset product: r * (s W_hn^T + b_hn)")
    if all(slips["flipped"]):
        return _refuse(name, "the update gate weighs the old state: "
                             "s_t = (1 - u) * candidate + u * s_prev")
    # float64, the same formula: equal up to rounding (~1e-16)
    return helper.check(torch.cat(got_all), torch.cat(want_all), name=name,
                        rtol=1e-10, atol=1e-12)


# --- Exercise: a forget-gate bias for a chosen half-life ------------------------------


def _cell_fraction_left(b_f: float, h: int) -> float:
    """c_h / c_0 for an nn.LSTMCell whose forget gate is pinned at sigmoid(b_f).

    All weights are zero, the input gate is shut (bias -40: i = 4e-18) and the candidate
    is tanh(0) = 0, so nothing is written and the cell path alone carries c_0 forward.
    """
    cell = nn.LSTMCell(1, 3, dtype=F64)
    n_h = 3
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih[:n_h] = -40.0  # input gate shut
        cell.bias_ih[n_h:2 * n_h] = b_f  # the forget gate, pinned
        x = torch.zeros(1, 1, dtype=F64)  # (B, n_in)
        s, c = torch.zeros(1, n_h, dtype=F64), torch.ones(1, n_h, dtype=F64)
        for _ in range(h):
            s, c = cell(x, (s, c))
    return c.mean().item()


def check_half_life(forget_bias_for_half_life):
    """Exercise "A forget gate with a half-life": `forget_bias_for_half_life(h)` -> b_f.

    For half-lives the lesson never uses, the check pins the forget gate of an
    `nn.LSTMCell` with the learner's bias and measures how much of the cell state is
    left after h steps: it must be one half.
    """
    name = "the fraction of c_0 left after h steps"
    half_lives = [1, 4, 9, 40, 333]
    got, as_gate = [], []
    for h in half_lives:
        answer, failed = _call(forget_bias_for_half_life, name, h)
        if failed is not None:
            return failed
        try:
            if isinstance(answer, torch.Tensor):
                answer = answer.detach().cpu().double()
            b_f = float(np.asarray(answer, dtype=float))  # float64: 333 steps amplify rounding
        except (TypeError, ValueError, RuntimeError):
            return _refuse(name, f"return one number (the bias), got {type(answer).__name__}")
        if not math.isfinite(b_f):
            return _refuse(name, "your bias is NaN or infinite")
        got.append(_cell_fraction_left(b_f, h))  # measured with the learner's bias
        as_gate.append(0 < b_f < 1 and abs(b_f ** h - 0.5) < 1e-9)
    if all(as_gate):
        return _refuse(name, "that is the gate's value f; the exercise asks for its bias "
                             "b_f, with f = sigmoid(b_f)")
    # the cell path alone: c_h = f^h c_0 exactly, up to rounding in float64
    return helper.check(np.array(got), np.full(len(half_lives), 0.5), name=name,
                        rtol=1e-9, atol=1e-12)
