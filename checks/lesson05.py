"""Checks for lesson 5's exercises (lessons/05_gated_cells_part2.ipynb).

Each check calls the learner's function on sizes, weights and inputs of its own (seeded
here through helper's generators, never shown in the lesson), computes the reference
itself after the answer, another way than the exercise asks (PyTorch's `nn.LSTMCell`
with the peepholes folded into its bias, a NumPy loop over units, a pinned
`nn.LSTMCell`) in float64, and returns `helper.check`'s verdict, which names what is
wrong (the peepholes left out, PyTorch's GRU where the original is asked, the gate's
value instead of its bias) without giving the expected values away. In strict mode (the
book build, the tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

import helper

__all__ = ["check_lstm_peephole", "check_gru_original", "check_half_life"]

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


# --- Exercise: an LSTM update with peepholes (Gers and Schmidhuber, 2000) -------------


def _peephole_reference(cell, x, s_prev, c_prev, p_i, p_f, p_o):
    """The peephole step computed another way: nn.LSTMCell itself, one sequence at a
    time, with the peephole terms folded into its bias (they are constants for one
    sequence): first c_{t-1} p_i and c_{t-1} p_f into the i and f blocks, which gives
    c_t; then c_t p_o into the o block, which gives s_t."""
    n_h = cell.hidden_size
    s_out, c_out = [], []
    for b in range(len(x)):
        one = copy.deepcopy(cell)
        with torch.no_grad():
            one.bias_ih[:n_h] += c_prev[b] * p_i  # input gate reads c_{t-1}
            one.bias_ih[n_h:2 * n_h] += c_prev[b] * p_f  # forget gate reads c_{t-1}
            _, c_t = one(x[b:b + 1], (s_prev[b:b + 1], c_prev[b:b + 1]))  # (1, n_h)
            one.bias_ih[3 * n_h:] += c_t[0] * p_o  # output gate reads the new c_t
            s_t, _ = one(x[b:b + 1], (s_prev[b:b + 1], c_prev[b:b + 1]))
        s_out.append(s_t)
        c_out.append(c_t)
    return torch.cat(s_out), torch.cat(c_out)  # (B, n_h) each


def _peephole_slip(gates, c_prev, p_i, p_f, p_o, slip):
    """Two likely slips: the peepholes left out (nn.LSTM's update, as the lesson's
    cells compute it), or the output gate reading the old c_{t-1} instead of c_t."""
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
    if slip == "none":
        p_i, p_f, p_o = 0 * p_i, 0 * p_f, 0 * p_o
    c_t = torch.sigmoid(a_f + c_prev * p_f) * c_prev + torch.sigmoid(a_i + c_prev * p_i) * torch.tanh(a_g)
    seen = c_prev if slip == "old" else c_t
    return torch.sigmoid(a_o + seen * p_o) * torch.tanh(c_t), c_t


def check_lstm_peephole(lstm_update_peephole):
    """Exercise "An LSTM update with peepholes":
    `lstm_update_peephole(gates, c_prev, p_i, p_f, p_o)` -> (s_t, c_t).

    `gates` (B, 4 n_h) is x_t W_ih^T + b_ih + s_{t-1} W_hh^T + b_hh with PyTorch's
    stacked weights (blocks i, f, g, o); p_i, p_f, p_o (n_h,) are the peephole weights.
    The reference is `nn.LSTMCell` with the peephole terms folded into its bias, one
    sequence at a time, on cells, inputs, states and peepholes made here from a seed of
    the check's own (never shown in the lesson).
    """
    name = "(s_t, c_t) of the peephole LSTM"
    gen = helper.torch_gen(505)
    got_all, want_all = [], []
    slips = {"none": [], "old": [], "order": []}
    for n_in, n_h, B in _CELL_CASES:
        helper.torch_seed(int(torch.randint(0, 2**30, (1,), generator=gen)))  # the weights
        cell = nn.LSTMCell(n_in, n_h, dtype=F64)
        x = torch.randn(B, n_in, generator=gen, dtype=F64)  # (B, n_in)
        s_prev = torch.randn(B, n_h, generator=gen, dtype=F64).tanh()  # (B, n_h)
        c_prev = 2 * torch.randn(B, n_h, generator=gen, dtype=F64)  # (B, n_h)
        peep = [torch.randn(n_h, generator=gen, dtype=F64) for _ in "ifo"]  # (n_h,) each
        with torch.no_grad():
            gates = (x @ cell.weight_ih.T + cell.bias_ih
                     + s_prev @ cell.weight_hh.T + cell.bias_hh)  # (B, 4 n_h)
        answer, failed = _call(lstm_update_peephole, name, gates.clone(), c_prev.clone(),
                               *(p.clone() for p in peep))
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
        if any(g.shape != c_prev.shape for g in got):
            return _refuse(name, "s_t and c_t must each have the shape of c_prev, (B, n_h)")
        want = _peephole_reference(cell, x, s_prev, c_prev, *peep)  # after the answer
        for slip in ("none", "old"):
            made = _peephole_slip(gates, c_prev, *peep, slip)
            slips[slip].append(all(_close(g, w) for g, w in zip(got, made)))
        order = [torch.cat([gates.chunk(4, dim=1)[j] for j in perm], 1)
                 for perm in ((0, 1, 3, 2), (1, 0, 2, 3))]  # i f o g; f i g o
        slips["order"].append(any(
            all(_close(g, w) for g, w in zip(got, _peephole_slip(o, c_prev, *peep, "")))
            for o in order))
        got_all += [g.flatten() for g in got]
        want_all += [w.flatten() for w in want]
    if all(slips["none"]):
        return _refuse(name, "your gates do not read the cell state: that is nn.LSTM's "
                             "update, without the peepholes p_i, p_f, p_o")
    if all(slips["old"]):
        return _refuse(name, "the output gate peeps at the new cell state c_t, "
                             "not at c_{t-1}")
    if all(slips["order"]):
        return _refuse(name, "the four blocks are taken in another order than PyTorch's "
                             "stacking (input, forget, candidate g, output)")
    # float64, the same formula computed two ways: equal up to rounding (~1e-16)
    return helper.check(torch.cat(got_all), torch.cat(want_all), name=name,
                        rtol=1e-10, atol=1e-12)


# --- Exercise: the original GRU (Cho et al., 2014), from PyTorch's tensors -------------


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _gru_original_reference(x, s, w_ih, w_hh, b_ih, b_hh):
    """The original GRU step computed another way: NumPy, one sequence and one unit at a
    time, with PyTorch's blocks r, z, n read by their row ranges."""
    x, s, w_ih, w_hh, b_ih, b_hh = (t.numpy() for t in (x, s, w_ih, w_hh, b_ih, b_hh))
    n_h = s.shape[1]
    out = np.empty_like(s)
    for b in range(len(x)):
        r = np.array([_sigmoid(w_ih[j] @ x[b] + b_ih[j] + w_hh[j] @ s[b] + b_hh[j])
                      for j in range(n_h)])  # rows 0 ... n_h - 1: the reset gate
        for j in range(n_h):
            u = _sigmoid(w_ih[n_h + j] @ x[b] + b_ih[n_h + j]
                         + w_hh[n_h + j] @ s[b] + b_hh[n_h + j])  # update gate
            n = np.tanh(w_ih[2 * n_h + j] @ x[b] + b_ih[2 * n_h + j]
                        + w_hh[2 * n_h + j] @ (r * s[b]) + b_hh[2 * n_h + j])  # reset first
            out[b, j] = (1 - u) * n + u * s[b, j]
    return torch.from_numpy(out)


def _gru_flipped(x, s, w_ih, w_hh, b_ih, b_hh):
    """The original GRU step with the update gate's two sides swapped (a likely slip)."""
    a_r, a_z, a_n = (x @ w_ih.T + b_ih).chunk(3, dim=1)
    (w_r, w_z, w_n), (b_r, b_z, b_n) = w_hh.chunk(3), b_hh.chunk(3)
    r, z = torch.sigmoid(a_r + s @ w_r.T + b_r), torch.sigmoid(a_z + s @ w_z.T + b_z)
    n = torch.tanh(a_n + (r * s) @ w_n.T + b_n)
    return z * n + (1 - z) * s


def check_gru_original(gru_step_original):
    """Exercise "The original GRU": `gru_step_original(x_t, s_prev, weight_ih,
    weight_hh, bias_ih, bias_hh)` -> s_t (B, n_h), with the reset gate applied to
    s_{t-1} before W_hn: tanh(x W_in^T + b_in + (r * s_{t-1}) W_hn^T + b_hn).

    The reference is written here in NumPy, unit by unit, on weights (an `nn.GRUCell`'s
    own) and inputs made from a seed of the check's own.
    """
    name = "s_t of the original GRU"
    gen = helper.torch_gen(506)
    got_all, want_all = [], []
    slips = {"pytorch": [], "flipped": []}
    for n_in, n_h, B in _CELL_CASES:
        helper.torch_seed(int(torch.randint(0, 2**30, (1,), generator=gen)))  # the weights
        cell = nn.GRUCell(n_in, n_h, dtype=F64)
        with torch.no_grad():  # larger weights than the default: slips show clearly
            cell.weight_hh.uniform_(-1.5, 1.5, generator=gen)
            cell.bias_hh.uniform_(-1.5, 1.5, generator=gen)
        x = torch.randn(B, n_in, generator=gen, dtype=F64)  # (B, n_in)
        s_prev = torch.randn(B, n_h, generator=gen, dtype=F64).tanh()  # (B, n_h)
        tensors = [t.detach().clone() for t in
                   (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
        answer, failed = _call(gru_step_original, name, x.clone(), s_prev.clone(), *tensors)
        if failed is not None:
            return failed
        got, bad = _as_f64(answer, name, "s_t")
        if bad is not None:
            return bad
        if got.shape != s_prev.shape:
            return _refuse(name, f"the shape is wrong: expected (B, n_h), got {tuple(got.shape)}")
        want = _gru_original_reference(x, s_prev, *tensors)  # after the answer
        with torch.no_grad():
            args = (x, s_prev, *tensors)
            slips["pytorch"].append(_close(got, cell(x, s_prev)))
            slips["flipped"].append(_close(got, _gru_flipped(*args)))
        got_all.append(got.flatten())
        want_all.append(want.flatten())
    if all(slips["pytorch"]):
        return _refuse(name, "that is PyTorch's GRU, where r multiplies s_{t-1} W_hn^T + "
                             "b_hn; here the reset gate scales s_{t-1} before W_hn")
    if all(slips["flipped"]):
        return _refuse(name, "the update gate weighs the old state: "
                             "s_t = (1 - u) * candidate + u * s_prev")
    # float64, the same formula computed two ways: equal up to rounding (~1e-16)
    return helper.check(torch.cat(got_all), torch.cat(want_all), name=name,
                        rtol=1e-10, atol=1e-12)


# --- Exercise: a forget-gate bias for a chosen half-life ------------------------------


def _cell_fraction_left(b_f: float, q: int) -> float:
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
        for _ in range(q):
            s, c = cell(x, (s, c))
    return c.mean().item()


def check_half_life(forget_bias_for_half_life):
    """Exercise "A forget gate with a half-life": `forget_bias_for_half_life(q)` -> b_f.

    For half-lives the lesson never uses, the check pins the forget gate of an
    `nn.LSTMCell` with the learner's bias and measures how much of the cell state is
    left after q steps: it must be one half.
    """
    name = "the fraction of c_0 left after q steps"
    half_lives = [1, 4, 9, 40, 333]
    got, as_gate = [], []
    for q in half_lives:
        answer, failed = _call(forget_bias_for_half_life, name, q)
        if failed is not None:
            return failed
        try:
            if isinstance(answer, torch.Tensor):
                answer = answer.detach().cpu().double()
            b_f = float(np.asarray(answer, dtype=float))  # the learner's value, as float64
        except (TypeError, ValueError, RuntimeError):
            return _refuse(name, f"return one number (the bias), got {type(answer).__name__}")
        if not math.isfinite(b_f):
            return _refuse(name, "your bias is NaN or infinite")
        got.append(_cell_fraction_left(b_f, q))  # measured with the learner's bias
        as_gate.append(0 < b_f < 1 and abs(b_f ** q - 0.5) < 1e-4)
    if all(as_gate):
        return _refuse(name, "that is the gate's value f; the exercise asks for its bias "
                             "b_f, with f = sigmoid(b_f)")
    # the cell path alone: c_q = f^q c_0, measured in float64. A bias computed in float32
    # is right too: f's rounding (half an ulp, 3e-8) grows q-fold over q steps, to about
    # 1e-5 relative at q = 333, so the tolerance is 1e-4 (the statement says so); the
    # slips are far outside it (tau = q for the half-life leaves e^-1, 26 % below a half)
    return helper.check(np.array(got), np.full(len(half_lives), 0.5), name=name,
                        rtol=1e-4, atol=0)
