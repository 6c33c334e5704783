"""Lesson 1's exercise checks (checks/lesson01.py): right answers pass, wrong ones fail.

Each check accepts the published solution and rejects the answers a learner could make
by copying a cell the page shows and renaming things (the forward count of the page's
cost table, the page's `2 alpha / N` for the half sum, the page's `backward` with ReLU's
derivative, the page's recall weights for x_{t-1}), besides plain wrong ones. In
friendly mode a wrong answer gets a verdict; in strict mode it raises.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from checks.lesson01 import (check_backprop_multiplications, check_per_example_rate,
                             check_relu_input_grad, check_window_weights)
from helper import WrongAnswer

# -- the published solutions -----------------------------------------------------------


def backprop_multiplications(sizes, batch):
    pairs = list(zip(sizes[:-1], sizes[1:]))
    n_first, m_first = pairs[0]
    return batch * (2 * sum(n * m for n, m in pairs) - n_first * m_first)


def alpha_for_per_example(alpha, B, n_out):
    return alpha / n_out


def relu_dX(params, X, D):
    W1, b1, W2, b2 = params
    A = X @ W1 + b1
    Y = np.maximum(A, 0) @ W2 + b2
    dY = 2 * (Y - D) / Y.size
    dA = (dY @ W2.T) * (A > 0)
    return dA @ W1.T


def window_weights(q):
    W = np.zeros((q + 1, 2))
    W[0, 0] = 1.0
    W[0, 1] -= 1.0
    W[q, 1] += 1.0
    return W


@pytest.mark.parametrize("check, answer", [
    (check_backprop_multiplications, backprop_multiplications),
    (check_per_example_rate, alpha_for_per_example),
    (check_relu_input_grad, relu_dX),
    (check_window_weights, window_weights)])
def test_check_accepts_the_solution(strict, check, answer):
    assert check(answer).ok


# -- answers made by renaming a cell the page shows ---------------------------------------

def forward_multiplications(sizes, batch):  # the page's cost table, summed: forward only
    return batch * sum(n * m for n, m in zip(sizes[:-1], sizes[1:]))


def counted_forward(sizes, batch):  # the page's FlopCounterMode cell, in a loop
    layers = [nn.Linear(n, m, bias=False) for n, m in zip(sizes[:-1], sizes[1:])]
    with FlopCounterMode(display=False) as counter:
        nn.Sequential(*layers)(torch.zeros(batch, sizes[0]))
    return counter.get_total_flops() // 2


def counted_backward(sizes, batch):  # the tool instead of the formulas
    layers = [nn.Linear(n, m, bias=False) for n, m in zip(sizes[:-1], sizes[1:])]
    out = nn.Sequential(*layers)(torch.ones(batch, sizes[0]))
    with FlopCounterMode(display=False) as counter:
        out.sum().backward()
    return counter.get_total_flops() // 2


def backward_with_the_input(sizes, batch):  # dE/dX too, which nothing needs
    return 2 * forward_multiplications(sizes, batch)


def half_sse_rate(alpha, B, n_out):  # the page's E' = N/2 E, renamed
    return 2 * alpha / (B * n_out)


def mean_rate(alpha, B, n_out):  # no rescaling at all
    return alpha


def relu_dW1(params, X, D):  # the page's backward with ReLU': dW1, not dX
    W1, b1, W2, b2 = params
    A = X @ W1 + b1
    Y = np.maximum(A, 0) @ W2 + b2
    dA = (2 * (Y - D) / Y.size @ W2.T) * (A > 0)
    return X.T @ dA


def tanh_dX(params, X, D):  # the page's backward, tanh kept, one step further
    W1, b1, W2, b2 = params
    H = np.tanh(X @ W1 + b1)
    Y = H @ W2 + b2
    dA = (2 * (Y - D) / Y.size @ W2.T) * (1 - H ** 2)
    return dA @ W1.T


def previous_input(q):  # the page's recall weights for x_{t-1}, whatever q
    return np.array([[1.0], [0.0]])


def previous_input_padded(q):  # x_{t-1} and the one-step change, whatever q
    W = np.zeros((q + 1, 2))
    W[max(q - 1, 0), 0] = 1.0
    W[q, 1], W[max(q - 1, 0), 1] = 1.0, -1.0
    return W


def reversed_window(q):  # x_t taken for the oldest input
    return window_weights(q)[::-1].copy()


WRONG = [
    (check_backprop_multiplications, forward_multiplications),
    (check_backprop_multiplications, counted_forward),
    (check_backprop_multiplications, counted_backward),
    (check_backprop_multiplications, backward_with_the_input),
    (check_backprop_multiplications, lambda sizes, batch: 0),
    (check_per_example_rate, half_sse_rate),
    (check_per_example_rate, mean_rate),
    (check_relu_input_grad, relu_dW1),
    (check_relu_input_grad, tanh_dX),
    (check_window_weights, previous_input),
    (check_window_weights, previous_input_padded),
    (check_window_weights, reversed_window),
]


@pytest.mark.parametrize("check, answer", WRONG)
def test_check_rejects_a_copied_or_wrong_answer(friendly, check, answer):
    verdict = check(answer)
    assert not verdict.ok


@pytest.mark.parametrize("check, answer", WRONG[:1] + WRONG[5:6] + WRONG[7:8] + WRONG[9:10])
def test_strict_mode_raises_on_a_renamed_answer(strict, check, answer):
    with pytest.raises(WrongAnswer):
        check(answer)


@pytest.mark.parametrize("check, answer", [
    (check_backprop_multiplications, lambda sizes, batch: None),
    (check_per_example_rate, lambda alpha, B, n_out: None),
    (check_relu_input_grad, lambda params, X, D: None),
    (check_window_weights, lambda q: None)])
def test_an_unanswered_exercise_is_not_right(friendly, check, answer):
    assert not check(answer).ok


def test_an_answer_that_raises_gets_a_verdict(friendly):
    verdict = check_relu_input_grad(lambda params, X, D: params[7])
    assert not verdict.ok and "IndexError" in verdict.message


@pytest.mark.parametrize("check", [check_backprop_multiplications, check_per_example_rate,
                                   check_relu_input_grad, check_window_weights])
def test_a_value_instead_of_a_function_names_the_argument(check):
    with pytest.raises(TypeError, match="must be the function you wrote"):
        check(np.zeros((2, 1)))

