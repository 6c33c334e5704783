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
