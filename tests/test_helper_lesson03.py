"""Unit tests for helper.py's lesson-3 section: rnn_backward (BPTT) against autograd."""

import numpy as np
import pytest
import torch

from helper import rnn_backward, rnn_forward


def torch_reference(x, W_x, W_s, b_s, s_0, dE_dS):
    """The same layer in torch, float64; loss = sum_t <dE_dS[t], s_t>, so its direct
    gradient w.r.t. s_t is dE_dS[t], and autograd adds the paths through later states."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
               for a in (W_x, W_s, b_s, s_0)]
    tW_x, tW_s, tb_s, ts_0 = tensors
    tx = torch.tensor(x, dtype=torch.float64)
    s, loss = ts_0, 0.0
    for t in range(x.shape[-2]):
        s = torch.tanh(tx[..., t, :] @ tW_x + s @ tW_s + tb_s)
        loss = loss + (s * torch.tensor(dE_dS[..., t, :])).sum()
    loss.backward()
    return {name: t.grad.numpy() for name, t in zip(("W_x", "W_s", "b_s", "s_0"), tensors)}


def random_case(rng, lead=(), T=7, n_in=3, n_h=5):
    x = rng.normal(size=lead + (T, n_in))
    W_x = rng.normal(size=(n_in, n_h)) * 0.6
    W_s = rng.normal(size=(n_h, n_h)) * 0.5
    b_s = rng.normal(size=n_h) * 0.2
    s_0 = rng.normal(size=lead + (n_h,)) * 0.3
    dE_dS = rng.normal(size=lead + (T, n_h))
    return x, W_x, W_s, b_s, s_0, dE_dS


@pytest.mark.parametrize("lead", [(), (4,)], ids=["one sequence", "batch of 4"])
def test_rnn_backward_matches_autograd(lead):
    rng = np.random.default_rng(3)
    x, W_x, W_s, b_s, s_0, dE_dS = random_case(rng, lead)
    S = rnn_forward(x, W_x, W_s, b_s, s_0)
    got = rnn_backward(x, S, W_s, dE_dS, s_0_grad=True)
    want = torch_reference(x, W_x, W_s, b_s, s_0, dE_dS)
    assert set(got) == {"W_x", "W_s", "b_s", "s_0"}
    for name in want:
        assert got[name].shape == want[name].shape, name
        # Same float64 sums in a different order: agreement to ~1e-15 relative.
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-13, err_msg=name)


def test_rnn_backward_batch_is_the_sum_over_sequences():
    rng = np.random.default_rng(4)
    x, W_x, W_s, b_s, s_0, dE_dS = random_case(rng, (3,), T=4)
    S = rnn_forward(x, W_x, W_s, b_s, s_0)
    batch = rnn_backward(x, S, W_s, dE_dS)
    assert set(batch) == {"W_x", "W_s", "b_s"}  # no "s_0" unless asked for
    for name in batch:
        total = sum(rnn_backward(x[i], S[i], W_s, dE_dS[i])[name] for i in range(3))
        np.testing.assert_allclose(batch[name], total, rtol=1e-12, atol=1e-14)


def test_rnn_backward_zero_upstream_gives_zero_gradients():
    rng = np.random.default_rng(5)
    x, W_x, W_s, b_s, s_0, dE_dS = random_case(rng, T=3)
    S = rnn_forward(x, W_x, W_s, b_s, s_0)
    grads = rnn_backward(x, S, W_s, np.zeros_like(dE_dS), s_0_grad=True)
    assert all(np.all(g == 0) for g in grads.values())  # exact: 0 times anything is 0


def test_rnn_backward_wrong_shapes_name_the_argument():
    rng = np.random.default_rng(6)
    x, W_x, W_s, b_s, s_0, dE_dS = random_case(rng, T=4)
    S = rnn_forward(x, W_x, W_s, b_s)
    with pytest.raises(ValueError, match=r"^x must"):
        rnn_backward(x[0], S, W_s, dE_dS)
    with pytest.raises(ValueError, match=r"^S must"):
        rnn_backward(x, S[1:], W_s, dE_dS)  # states without s_0
    with pytest.raises(ValueError, match=r"^W_s must"):
        rnn_backward(x, S, W_s[:, :2], dE_dS)
    with pytest.raises(ValueError, match=r"^dE_dS must"):
        rnn_backward(x, S, W_s, np.zeros((5, 5)))  # T + 1 rows instead of T
    with pytest.raises(ValueError, match=r"^S must"):
        rnn_backward(np.stack([x, x]), S, W_s, dE_dS)  # a batch of x, one sequence of S
    with pytest.raises(TypeError, match=r"^s_0_grad must"):
        rnn_backward(x, S, W_s, dE_dS, s_0_grad="yes")
