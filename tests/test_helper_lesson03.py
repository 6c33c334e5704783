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


# --- Lesson 3, shared by its two pages ---


def test_spectral_radius_of_a_triangular_matrix_is_its_largest_diagonal_entry():
    from helper import spectral_radius

    assert spectral_radius(np.array([[0.9, 3.0], [0.0, -1.2]])) == pytest.approx(1.2, rel=1e-12)
    assert spectral_radius(torch.tensor([[0.0, 2.0], [-2.0, 0.0]])) == pytest.approx(2.0)
    assert np.isnan(spectral_radius(np.array([[np.inf, 0.0], [0.0, 1.0]])))
    with pytest.raises(ValueError, match=r"^W must be a square"):
        spectral_radius(np.zeros((2, 3)))


def test_rel_err_divides_by_the_largest_reference_entry():
    from helper import rel_err

    assert rel_err(np.array([1.0, 4.2]), np.array([1.0, 4.0])) == pytest.approx(0.05)
    with pytest.raises(ValueError, match=r"^g and g_ref"):
        rel_err(np.zeros(2), np.zeros(3))


def test_delay_batch_targets_are_the_inputs_k_steps_earlier():
    from helper import delay_batch, np_rng

    x, d = delay_batch(np_rng(0), 4, T=9, k=3)
    assert x.shape == d.shape == (4, 9, 1)
    np.testing.assert_array_equal(d[:, 3:], x[:, :-3])
    assert np.all(d[:, :3] == 0)
    with pytest.raises(ValueError, match=r"^the delay k"):
        delay_batch(np_rng(0), 2, T=3, k=3)


def test_init_params_is_seeded_and_has_unit_spectral_radius():
    from helper import init_params, spectral_radius

    p, q = init_params(4, n_h=6), init_params(4, n_h=6)
    assert {name: w.shape for name, w in p.items()} == {
        "W_x": (1, 6), "W_s": (6, 6), "b_s": (6,), "W_y": (6, 1), "b_y": (1,)}
    assert all(np.array_equal(p[name], q[name]) for name in p)  # same seed, same weights
    assert spectral_radius(p["W_s"]) == pytest.approx(1.0, rel=1e-12)


def test_loss_and_grads_matches_autograd():
    from helper import delay_batch, init_params, loss_and_grads, np_rng

    p = init_params(1, n_h=5)
    x, d = delay_batch(np_rng(2), 3, T=6, k=2)
    E, grads = loss_and_grads(p, x, d)
    t = {name: torch.tensor(w, requires_grad=True) for name, w in p.items()}
    s, ys = torch.zeros(3, 5, dtype=torch.float64), []
    for step in range(6):
        s = torch.tanh(torch.tensor(x[:, step]) @ t["W_x"] + s @ t["W_s"] + t["b_s"])
        ys.append(s @ t["W_y"] + t["b_y"])
    loss = ((torch.stack(ys, 1) - torch.tensor(d)) ** 2).mean()
    loss.backward()
    assert E == pytest.approx(loss.item(), rel=1e-12)
    for name in p:  # the same float64 sums in another order
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-10, atol=1e-14)


def test_two_layer_example_weights_are_pytorchs_transposed():
    from helper import two_layer_example

    ex = two_layer_example(seed=1)
    np.testing.assert_array_equal(ex["W_z"], ex["rnn"].weight_hh_l1.detach().numpy().T)
    np.testing.assert_array_equal(ex["W_y"], ex["head"].weight.detach().numpy().T)
    b_z = (ex["rnn"].bias_ih_l1 + ex["rnn"].bias_hh_l1).detach().numpy()
    np.testing.assert_array_equal(ex["b_z"], b_z)
    assert ex["x"].shape == (1, 2, 2) and ex["d"].shape == (1, 1)


def test_ds_dU_matches_autograd():
    from helper import ds_dU

    rng = np.random.default_rng(7)
    x_k, U, h = rng.normal(size=2), rng.normal(size=(2, 3)), rng.normal(size=3)
    s_k = np.tanh(x_k @ U + h)
    tU = torch.tensor(U, requires_grad=True)
    jac = torch.autograd.functional.jacobian(
        lambda W: torch.tanh(torch.tensor(x_k) @ W + torch.tensor(h)), tU)  # (n_h, n_in, n_h)
    np.testing.assert_allclose(ds_dU(s_k, x_k), jac.numpy(), rtol=1e-12, atol=1e-15)


# --- Lesson 3's exercise checks: a renamed visible cell fails, the solution passes ---


def _strict_verdict(check_fn, answer):
    """True if the check accepts the answer in strict mode, False if it raises."""
    import helper

    try:
        check_fn(answer)
    except helper.WrongAnswer:
        return False
    return True


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_STRICT", "1")


def test_bias_check_rejects_the_renamed_W_x_line_and_accepts_the_solution(strict):
    from checks.lesson03 import check_bias_gradient

    def solution(delta, W_s):
        return delta.sum(axis=0), delta[0] @ W_s.T

    def renamed(delta, W_s):  # bptt's W_x line with x_t -> 1, and delta_1 as dE/ds_0
        return np.ones(len(delta)) @ delta, delta[0]

    def last_step(delta, W_s):  # the sweep's last from_later, but at the wrong end
        return delta.sum(axis=0), delta[-1] @ W_s.T

    assert _strict_verdict(check_bias_gradient, solution)
    assert not _strict_verdict(check_bias_gradient, renamed)
    assert not _strict_verdict(check_bias_gradient, last_step)
    assert not _strict_verdict(check_bias_gradient, lambda delta: delta.sum(axis=0))  # old


def test_decay_scale_check_rejects_the_pages_rescale_and_accepts_the_solution(strict):
    from checks.lesson03 import check_decay_scale
    from helper import spectral_radius

    def solution(M, n):
        return 10 ** (-1 / n) / np.max(np.abs(np.linalg.eigvals(M)))

    assert _strict_verdict(check_decay_scale, solution)
    # the page's G /= spectral_radius(G), renamed: right only for n = inf
    assert not _strict_verdict(check_decay_scale, lambda M, n: 1 / spectral_radius(M))
    assert not _strict_verdict(  # the bound's scale
        check_decay_scale, lambda M, n: 10 ** (-1 / n) / np.linalg.norm(M, 2))


def _bptt_E_T(x, d, p, q):
    """dE_T/dW_s and dE_T/dW_x backpropagated through the last q steps (the solution)."""
    from helper import rnn_forward

    S = rnn_forward(x, p["W_x"], p["W_s"], p["b_s"])  # (T+1, n_h)
    T = len(x)
    y_T = S[T] @ p["W_y"] + p["b_y"]
    g = 2 * (y_T - d[-1]) / len(y_T) @ p["W_y"].T  # dE_T/ds_T
    grads = {"W_s": np.zeros_like(p["W_s"]), "W_x": np.zeros_like(p["W_x"])}
    for k in range(T, T - q, -1):
        delta_k = g * (1 - S[k] ** 2)
        grads["W_s"] += np.outer(S[k - 1], delta_k)
        grads["W_x"] += np.outer(x[k - 1], delta_k)
        g = delta_k @ p["W_s"].T
    return grads


def test_truncated_check_rejects_one_step_and_full_answers_and_accepts_the_solution(strict):
    from checks.lesson03 import check_truncated

    assert _strict_verdict(check_truncated, _bptt_E_T)
    # last page's one-step answer (q ignored), and the full sweep (q ignored)
    assert not _strict_verdict(check_truncated, lambda x, d, p, q: _bptt_E_T(x, d, p, 1))
    assert not _strict_verdict(check_truncated,
                               lambda x, d, p, q: _bptt_E_T(x, d, p, len(x)))
    # q = T - 1 taken for the full sweep (W_s's first use multiplies s_0 = 0, W_x's not)
    assert not _strict_verdict(
        check_truncated,
        lambda x, d, p, q: _bptt_E_T(x, d, p, len(x) if q == len(x) - 1 else q))


def _forward_two(w, x):
    s_t = np.tanh(x[0] @ w["U"] + w["b_s"])
    z_t = np.tanh(s_t @ w["V"] + w["b_z"])
    s_t1 = np.tanh(x[1] @ w["U"] + s_t @ w["W_s"] + w["b_s"])
    z_t1 = np.tanh(s_t1 @ w["V"] + z_t @ w["W_z"] + w["b_z"])
    return s_t, z_t, s_t1, z_t1


def test_paths_to_V_check_rejects_the_renamed_three_paths_and_accepts_the_solution(strict):
    from checks.lesson03 import check_paths_to_V
    from helper import ds_dU

    def solution(w, x, d):
        s_t, z_t, s_t1, z_t1 = _forward_two(w, x)
        g_z1 = 2 * (z_t1 @ w["W_y"] + w["b_y"] - d) / len(d) @ w["W_y"].T
        direct = np.einsum("p,pij->ij", g_z1, ds_dU(z_t1, s_t1))
        via_W_z = np.einsum("p,pij->ij", g_z1 @ np.diag(1 - z_t1**2) @ w["W_z"].T,
                            ds_dU(z_t, s_t))
        return direct + via_W_z

    def renamed(w, x, d):  # the page's A + B + C with d+s/dU renamed to d+z/dV
        s_t, z_t, s_t1, z_t1 = _forward_two(w, x)
        g_z1 = 2 * (z_t1 @ w["W_y"] + w["b_y"] - d) / len(d) @ w["W_y"].T
        ds1_ds0 = np.diag(1 - s_t1**2) @ w["W_s"].T
        dz1_ds1 = np.diag(1 - z_t1**2) @ w["V"].T
        A = np.einsum("p,pij->ij", g_z1, ds_dU(z_t1, s_t1))
        B = np.einsum("p,pij->ij", g_z1 @ dz1_ds1 @ ds1_ds0, ds_dU(z_t, s_t))
        C = np.einsum("p,pij->ij", g_z1 @ np.diag(1 - z_t1**2) @ w["W_z"].T,
                      ds_dU(z_t, s_t))
        return A + B + C

    assert _strict_verdict(check_paths_to_V, solution)
    assert not _strict_verdict(check_paths_to_V, renamed)
