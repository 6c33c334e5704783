"""The checks of lesson 3's exercises (Backpropagation through time).

Each check takes the learner's answer (and what the exercise hands them), computes the
reference itself, after the answer and out of the learner's sight (its own seeded
problems where it can, PyTorch autograd or NumPy's eigenvalues otherwise), and returns
`helper.check`'s verdict. Nothing here prints or returns the expected value.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helper import Verdict, check, np_rng, torch_gen

__all__ = ["check_bias_gradient", "check_decay_scale", "check_paths_to_V",
           "check_truncated"]


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


def _torch_pre_activations(x, W_x, W_s, b_s, W_y, b_y, d, s_0):
    """The tanh RNN in torch (float64) from the state s_0: E = the mean over steps of
    E_t, and a_1 ... a_T."""
    a_all, s_all, s = [], [], s_0
    for x_t in x:
        a_t = x_t @ W_x + s @ W_s + b_s
        a_t.retain_grad()  # keep dE/da_t = delta_t
        s = torch.tanh(a_t)
        a_all.append(a_t)
        s_all.append(s)
    y = torch.stack(s_all) @ W_y + b_y  # (T, n_out)
    return ((y - d) ** 2).mean(), a_all


def check_bias_gradient(grad_fn) -> Verdict:
    """Exercise 'The gradients of the state bias and the first state':
    grad_fn(delta, W_s) -> (dE/db_s, dE/ds_0), each (n_h,).

    On problems of its own, with a nonzero first state s_0, the check computes
    delta_t = dE/da_t, dE/db_s and dE/ds_0 with autograd, hands delta (T, n_h) and W_s to
    the learner's function and compares both parts.
    """
    name = "dE/db_s and dE/ds_0"
    if (bad := _not_a_function(grad_fn, name)) is not None:
        return bad
    gen = np_rng(301)  # the check's own problems (moved by the seed offset)
    verdict = None
    for T, n_in, n_h, n_out in ((5, 2, 3, 1), (9, 3, 6, 2)):
        arrays = [gen.normal(0, 0.7, size=shape) for shape in
                  ((T, n_in), (n_in, n_h), (n_h, n_h), (n_h,), (n_h, n_out), (n_out,),
                   (T, n_out), (n_h,))]
        x, W_x, W_s, b_s, W_y, b_y, d, s_0 = (torch.tensor(a) for a in arrays)
        b_s.requires_grad_(True)
        s_0.requires_grad_(True)
        E, a_all = _torch_pre_activations(x, W_x, W_s, b_s, W_y, b_y, d, s_0)
        E.backward()
        delta = np.stack([a.grad.numpy() for a in a_all])  # (T, n_h)
        got, failed = _call(grad_fn, name, delta.copy(), W_s.detach().numpy().copy())
        if failed is not None:
            return failed
        try:
            got_b, got_s0 = got
        except (TypeError, ValueError):
            return check(f"a {type(got).__name__}", "a pair (dE/db_s, dE/ds_0)", name=name)
        verdict = _verdict(got_b, b_s.grad.numpy(), "dE/db_s", rtol=1e-10)
        if verdict:
            verdict = _verdict(got_s0, s_0.grad.numpy(), "dE/ds_0", rtol=1e-10)
        if not verdict:
            return verdict
    return check(True, True, name=name)  # both parts right on every problem


def _spectral_radius(M):
    return float(np.max(np.abs(np.linalg.eigvals(M))))


def check_decay_scale(decay_scale) -> Verdict:
    """Exercise 'A scale for a chosen decay': decay_scale(M, n) -> the scale gamma at
    which the products (gamma M^T)^q fall, in the long run, by a factor of ten every n
    steps (n = inf: neither grow nor shrink exponentially), for M with rho(M) > 0. On
    matrices the learner has not seen, among them non-normal ones (where 1 / ||M||_2 is
    far from the answer) and a Jordan block (not diagonalizable), and for several n."""
    name = "decay scale"
    if (bad := _not_a_function(decay_scale, name)) is not None:
        return bad
    gen = np_rng(302)  # the check's own problems (moved by the seed offset)
    matrices = [gen.normal(size=(n, n)) for n in (3, 8, 20)]
    matrices.append(np.array([[0.5, 4.0], [0.0, 0.25]]))  # non-normal: rho 0.5, ||M||_2 > 4
    matrices.append(np.triu(gen.normal(size=(6, 6))) + 3 * np.eye(6, k=1))
    matrices.append(np.array([[0.5, 0.5], [0.0, 0.5]]))  # a Jordan block: rho 0.5
    got, want = [], []
    for M in matrices:
        for n in (7.0, 30.0, np.inf):
            value, failed = _call(decay_scale, name, M.copy(), n)
            if failed is not None:
                return failed
            try:
                got.append(float(np.asarray(value).reshape(())))
            except (TypeError, ValueError):
                return check(f"a {type(value).__name__}", "one number", name=name)
            # ||(gamma M)^q||^(1/q) -> gamma rho(M) (Gelfand), which must be 10^(-1/n)
            want.append(np.exp(-np.log(10) / n) / _spectral_radius(M))
    return _verdict(np.array(got), np.array(want), name, rtol=1e-9)


def _truncated_reference(x, d, p, q):
    """dE_T/dW_s and dE_T/dW_x (book orientation) when backprop keeps only the last q
    steps: s_{T-q} detached. An nn.RNN with the weights of p; E_T the last step's mean
    squared error."""
    n_in, n_h = p["W_x"].shape
    rnn = nn.RNN(n_in, n_h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(p["W_x"].T))
        rnn.weight_hh_l0.copy_(torch.tensor(p["W_s"].T))
        rnn.bias_ih_l0.copy_(torch.tensor(np.reshape(p["b_s"], -1)))
        rnn.bias_hh_l0.zero_()
    xt = torch.tensor(x)[None]  # (1, T, n_in)
    T = xt.shape[1]
    h = torch.zeros(1, 1, n_h, dtype=torch.float64)
    if q < T:
        _, h = rnn(xt[:, : T - q])  # the state s_{T-q}
    out, _ = rnn(xt[:, T - q :], h.detach())  # the last q steps only
    y_T = out[0, -1] @ torch.tensor(p["W_y"]) + torch.tensor(np.reshape(p["b_y"], -1))
    E_T = ((y_T - torch.tensor(d[-1])) ** 2).mean()
    g_hh, g_ih = torch.autograd.grad(E_T, (rnn.weight_hh_l0, rnn.weight_ih_l0))
    return {"W_s": g_hh.T.numpy(), "W_x": g_ih.T.numpy()}


def check_truncated(grad_trunc) -> Verdict:
    """Exercise 'Truncation to q steps': grad_trunc(x, d, p, q) -> {"W_s": ..., "W_x": ...},
    dE_T/dW_s and dE_T/dW_x with only the last q steps kept, on problems of the check's own
    and for several q (the truncated gradients from detach() and autograd)."""
    name = "dE_T/dW, last q steps"
    if (bad := _not_a_function(grad_trunc, name)) is not None:
        return bad
    gen = np_rng(303)  # the check's own problems (moved by the seed offset)
    verdict = None
    for T, n_in, n_h, n_out in ((4, 1, 3, 1), (7, 2, 5, 3)):
        p = {"W_x": gen.normal(0, 0.8, (n_in, n_h)), "W_s": gen.normal(0, 0.6, (n_h, n_h)),
             "b_s": gen.normal(0, 0.2, n_h), "W_y": gen.normal(0, 0.8, (n_h, n_out)),
             "b_y": gen.normal(0, 0.2, n_out)}
        x, d = gen.normal(size=(T, n_in)), gen.normal(size=(T, n_out))
        for q in range(1, T + 1):  # every q: 1 ... T (T - 1 drops only W_x's first term)
            got, failed = _call(grad_trunc, name, x.copy(), d.copy(),
                                {k: v.copy() for k, v in p.items()}, q)
            if failed is not None:
                return failed
            want = _truncated_reference(x, d, p, q)
            try:
                pair = [got[key] for key in ("W_s", "W_x")]
            except (TypeError, KeyError, IndexError):
                return check(f"a {type(got).__name__}", 'a dict with "W_s" and "W_x"',
                             name=name)
            for key, value in zip(("W_s", "W_x"), pair):
                verdict = _verdict(value, want[key], f"dE_T/d{key}, last q steps",
                                   rtol=1e-9)
                if not verdict:
                    return verdict
    return check(True, True, name=name)  # W_s and W_x right for every problem and q


def _two_layer_problem(gen, n_in, n_h, n_out):
    """A random two-layer tanh RNN (book orientation, float64 torch tensors), two input
    steps and the target of the second."""
    shapes = {"U": (n_in, n_h), "W_s": (n_h, n_h), "V": (n_h, n_h), "W_z": (n_h, n_h),
              "b_s": (n_h,), "b_z": (n_h,), "W_y": (n_h, n_out), "b_y": (n_out,)}
    w = {k: 0.7 * torch.randn(shape, generator=gen, dtype=torch.float64)
         for k, shape in shapes.items()}
    x = torch.randn(2, n_in, generator=gen, dtype=torch.float64)  # steps t and t + 1
    d = torch.randn(n_out, generator=gen, dtype=torch.float64)  # the target of t + 1
    return w, x, d


def check_paths_to_V(grad_V) -> Verdict:
    """Exercise 'The paths to V': grad_V(w, x, d) -> dE_{t+1}/dV (book orientation) of a
    two-layer tanh RNN started at step t, for networks of the check's own (other sizes
    than the page's), against autograd."""
    name = "dE_{t+1}/dV"
    if (bad := _not_a_function(grad_V, name)) is not None:
        return bad
    gen = torch_gen(304)  # the check's own networks (moved by the seed offset)
    verdict = None
    for n_in, n_h, n_out in ((3, 4, 2), (2, 5, 1)):
        w, x, d = _two_layer_problem(gen, n_in, n_h, n_out)
        V = w["V"].clone().requires_grad_(True)
        s = torch.tanh(x[0] @ w["U"] + w["b_s"])  # s_{t-1} = z_{t-1} = 0
        z = torch.tanh(s @ V + w["b_z"])
        s = torch.tanh(x[1] @ w["U"] + s @ w["W_s"] + w["b_s"])
        z = torch.tanh(s @ V + z @ w["W_z"] + w["b_z"])
        E = ((z @ w["W_y"] + w["b_y"] - d) ** 2).mean()
        (want,) = torch.autograd.grad(E, V)
        got, failed = _call(grad_V, name, {k: v.numpy().copy() for k, v in w.items()},
                            x.numpy().copy(), d.numpy().copy())
        if failed is not None:
            return failed
        verdict = _verdict(got, want.numpy(), name, rtol=1e-9)
        if not verdict:
            return verdict
    return verdict
