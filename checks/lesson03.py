"""The checks of lesson 3's exercises (Backpropagation through time).

Each check takes the learner's answer (and what the exercise hands them), computes the
reference itself, after the answer and out of the learner's sight (its own seeded
problems where it can, PyTorch autograd or NumPy's eigenvalues otherwise), and returns
`helper.check`'s verdict. Nothing here prints or returns the expected value.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from helper import Verdict, check, np_rng

__all__ = ["check_bias_gradient", "check_critical_scale", "check_cut_path",
           "check_truncated_k1"]


def _not_a_function(answer, name) -> Verdict | None:
    """A verdict (raising in strict mode, as helper.check does) unless answer is callable."""
    if answer is None or answer is Ellipsis:
        return check(None, 0.0, name=name)  # "not answered yet"
    if not callable(answer):
        return check(f"a {type(answer).__name__}", "a function", name=name)
    return None


def _call(fn, name, *args):
    """fn(*args), or a verdict that says it failed (never the expected value)."""
    try:
        return fn(*args), None
    except Exception as exc:  # the learner's code: report it, as a wrong answer
        return None, check(f"{type(exc).__name__}: {exc}", "a function that runs", name=name)


def _verdict(got, want, name, rtol, atol=1e-12):
    return check(got, want, name=name, rtol=rtol, atol=atol)


def _torch_pre_activations(x, W_x, W_s, b_s, W_y, b_y, d):
    """The tanh RNN in torch (float64): E = the mean over steps of E_t, and a_1 ... a_T."""
    a_all, s_all, s = [], [], torch.zeros(W_s.shape[0], dtype=torch.float64)
    for x_t in x:
        a_t = x_t @ W_x + s @ W_s + b_s
        a_t.retain_grad()  # keep dE/da_t = delta_t
        s = torch.tanh(a_t)
        a_all.append(a_t)
        s_all.append(s)
    y = torch.stack(s_all) @ W_y + b_y  # (T, n_out)
    return ((y - d) ** 2).mean(), a_all


def check_bias_gradient(grad_b_s_fn) -> Verdict:
    """Exercise 'The gradient of the state bias': grad_b_s_fn(delta) -> dE/db_s, (n_h,).

    On two problems of its own, the check computes delta_t = dE/da_t and dE/db_s with
    autograd, hands delta (T, n_h) to the learner's function and compares.
    """
    name = "dE/db_s"
    if (bad := _not_a_function(grad_b_s_fn, name)) is not None:
        return bad
    gen = np_rng(301)  # the check's own problems (moved by the seed offset)
    for T, n_in, n_h, n_out in ((5, 2, 3, 1), (9, 3, 6, 2)):
        arrays = [gen.normal(0, 0.7, size=shape) for shape in
                  ((T, n_in), (n_in, n_h), (n_h, n_h), (n_h,), (n_h, n_out), (n_out,), (T, n_out))]
        x, W_x, W_s, b_s, W_y, b_y, d = (torch.tensor(a) for a in arrays)
        b_s.requires_grad_(True)
        E, a_all = _torch_pre_activations(x, W_x, W_s, b_s, W_y, b_y, d)
        E.backward()
        delta = np.stack([a.grad.numpy() for a in a_all])  # (T, n_h)
        got, failed = _call(grad_b_s_fn, name, delta.copy())
        if failed is not None:
            return failed
        verdict = _verdict(got, b_s.grad.numpy(), name, rtol=1e-10)
        if not verdict:
            return verdict
    return verdict


def _spectral_radius(M):
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def check_critical_scale(critical_scale) -> Verdict:
    """Exercise 'Where gradients stop vanishing': critical_scale(M) -> the scale gamma at
    which (gamma M^T)^k neither grows nor shrinks exponentially (M with rho(M) > 0), on
    matrices the learner has not seen, among them non-normal ones, where 1 / ||M||_2 is far
    from the answer, and a Jordan block (not diagonalizable: there the norm at 1 / rho
    still grows, like k)."""
    name = "critical scale"
    if (bad := _not_a_function(critical_scale, name)) is not None:
        return bad
    gen = np_rng(302)  # the check's own problems (moved by the seed offset)
    matrices = [gen.normal(size=(n, n)) for n in (3, 8, 20)]
    matrices.append(np.array([[0.5, 4.0], [0.0, 0.25]]))  # non-normal: rho 0.5, ||M||_2 > 4
    matrices.append(np.triu(gen.normal(size=(6, 6))) + 3 * np.eye(6, k=1))
    matrices.append(np.array([[0.5, 0.5], [0.0, 0.5]]))  # a Jordan block: rho 0.5
    got, want = [], []
    for M in matrices:
        value, failed = _call(critical_scale, name, M.copy())
        if failed is not None:
            return failed
        try:
            got.append(float(np.asarray(value).reshape(())))
        except (TypeError, ValueError):
            return check(f"a {type(value).__name__}", "one number", name=name)
        want.append(1.0 / _spectral_radius(M))
    return _verdict(np.array(got), np.array(want), name, rtol=1e-9)


def _truncated_reference(x, d, p):
    """dE_T/dW_s (book orientation) when backprop keeps only the last step: s_{T-1}
    detached. An nn.RNN with the weights of p; E_T the last step's mean squared error."""
    n_in, n_h = p["W_x"].shape
    rnn = nn.RNN(n_in, n_h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(p["W_x"].T))
        rnn.weight_hh_l0.copy_(torch.tensor(p["W_s"].T))
        rnn.bias_ih_l0.copy_(torch.tensor(np.reshape(p["b_s"], -1)))
        rnn.bias_hh_l0.zero_()
    xt = torch.tensor(x)[None]  # (1, T, n_in)
    _, h = rnn(xt[:, :-1])  # the state s_{T-1}
    out, _ = rnn(xt[:, -1:], h.detach())  # the last step only
    y_T = out[0, -1] @ torch.tensor(p["W_y"]) + torch.tensor(np.reshape(p["b_y"], -1))
    E_T = ((y_T - torch.tensor(d[-1])) ** 2).mean()
    return torch.autograd.grad(E_T, rnn.weight_hh_l0)[0].T.numpy()


def check_truncated_k1(grad_W_s_k1) -> Verdict:
    """Exercise 'Truncation k = 1': grad_W_s_k1(x, d, p) -> dE_T/dW_s with only the last
    step kept, on problems of the check's own (the truncated gradient from autograd)."""
    name = "dE_T/dW_s, last step only"
    if (bad := _not_a_function(grad_W_s_k1, name)) is not None:
        return bad
    gen = np_rng(303)  # the check's own problems (moved by the seed offset)
    verdict = None
    for T, n_in, n_h, n_out in ((4, 1, 3, 1), (7, 2, 5, 3)):
        p = {"W_x": gen.normal(0, 0.8, (n_in, n_h)), "W_s": gen.normal(0, 0.6, (n_h, n_h)),
             "b_s": gen.normal(0, 0.2, n_h), "W_y": gen.normal(0, 0.8, (n_h, n_out)),
             "b_y": gen.normal(0, 0.2, n_out)}
        x, d = gen.normal(size=(T, n_in)), gen.normal(size=(T, n_out))
        got, failed = _call(grad_W_s_k1, name, x.copy(), d.copy(),
                            {k: v.copy() for k, v in p.items()})
        if failed is not None:
            return failed
        verdict = _verdict(got, _truncated_reference(x, d, p), name, rtol=1e-9)
        if not verdict:
            return verdict
    return verdict


def check_cut_path(dU_no_Ws, rnn2, head2, x2, d2) -> Verdict:
    """Exercise 'Cutting one path': dE_{t+1}/dU (book orientation) of a copy of rnn2 whose
    first-layer recurrent weights are zero, against autograd on such a copy."""
    cut = copy.deepcopy(rnn2)
    with torch.no_grad():
        cut.weight_hh_l0.zero_()
    E = nn.MSELoss()(head2(cut(x2)[0][:, -1]), d2)
    want = torch.autograd.grad(E, cut.weight_ih_l0)[0].T.numpy()
    return _verdict(dU_no_Ws, want, "dE/dU with W_s = 0", rtol=1e-9)
