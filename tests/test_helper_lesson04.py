"""Unit tests for what lesson 4 added to helper.py: `detach_state`."""

import doctest

import pytest
import torch
from torch import nn

import helper
from helper import detach_state


def test_detach_state_cuts_a_tensor_from_its_graph_without_copying():
    rnn = nn.RNN(1, 3, 2, batch_first=True)
    _, h = rnn(torch.randn(1, 5, 1))             # (layers, batch, hidden)
    cut = detach_state(h)
    assert h.requires_grad and not cut.requires_grad
    assert cut.grad_fn is None
    assert cut.data_ptr() == h.data_ptr()         # same storage: no copy
    torch.testing.assert_close(cut, h.detach(), rtol=0, atol=0)


def test_detach_state_cuts_both_parts_of_an_lstm_state():
    lstm = nn.LSTM(1, 3, batch_first=True)
    _, (h, c) = lstm(torch.randn(2, 4, 1))
    cut = detach_state((h, c))
    assert isinstance(cut, tuple) and len(cut) == 2
    for before, after in zip((h, c), cut):
        assert before.requires_grad and not after.requires_grad
        assert after.data_ptr() == before.data_ptr()


def test_detach_state_lets_the_next_chunk_backpropagate():
    lstm = nn.LSTM(1, 3, batch_first=True)
    out, state = lstm(torch.randn(1, 4, 1))
    out.sum().backward()                          # frees chunk 1's graph
    out, _ = lstm(torch.randn(1, 4, 1), detach_state(state))
    out.sum().backward()                          # would fail without the cut


@pytest.mark.parametrize("bad, words", [
    (None, "got NoneType"),
    ([torch.zeros(1), torch.zeros(1)], "got list"),
    ((torch.zeros(1),), "tuple of 1"),
    ((torch.zeros(1), None), "tuple of 2 (Tensor, NoneType)"),
    (3.0, "got float"),
])
def test_detach_state_names_the_argument_for_wrong_input(bad, words):
    with pytest.raises(TypeError, match="hidden must be a tensor") as err:
        detach_state(bad)
    assert words in str(err.value)


def test_detach_state_docstring_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(helper.detach_state, "detach_state", globs=dict(vars(helper))):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


# --- Lesson 4's shared section: the data, the model and the two loops ---

import numpy as np

from helper import (make_waves, make_windows, new_forecaster, np_rng, seed_loss,
                    stack_seeds, train_batches, train_stream, unstack_seeds)


def test_make_waves_draws_clean_waves_plus_noise_of_the_given_size():
    noisy, clean, P, R = make_waves(50, np_rng(0), length=80, noise=0.1)
    assert noisy.shape == clean.shape == (50, 80) and P.shape == R.shape == (50, 1)
    assert np.all((20 <= P) & (P <= 50)) and np.all(np.abs(clean) <= R + 1e-12)
    assert 0.08 < np.std(noisy - clean) < 0.12


def test_make_windows_cuts_every_window_of_every_series():
    x = torch.arange(2 * 6, dtype=torch.float32).reshape(2, 6, 1)
    w = make_windows(x, 4)                         # 3 windows per series
    assert w.shape == (6, 4, 1)
    torch.testing.assert_close(w[4, :, 0], torch.tensor([7.0, 8.0, 9.0, 10.0]))


def test_seed_loss_is_the_sum_of_the_seeds_mse():
    y, d = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    want = sum(nn.functional.mse_loss(y[..., s], d[..., s]) for s in range(2))
    torch.testing.assert_close(seed_loss(y, d), want)


@pytest.mark.parametrize("loop, extra", [(train_stream, {}), (train_batches, {"batch": 4})])
def test_a_stack_trains_like_its_seeds_trained_apart(loop, extra):
    x = torch.randn(3, 13, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    data = (x[:, :-1], x[:, 1:])
    kw = dict(T=5, lr=0.05, max_norm=0.1, warm=2, every=3, **extra)
    apart = [new_forecaster(seed=s, n_h=3).double() for s in range(2)]
    big = stack_seeds(apart)
    h_apart = [loop(m, data, data, 6, [s], **kw) for s, m in enumerate(apart)]
    h_big = loop(big, data, data, 6, range(2), **kw)
    for s, (m, back) in enumerate(zip(apart, unstack_seeds(big))):
        for p, q in zip(m.parameters(), back.parameters()):
            torch.testing.assert_close(q, p)
        np.testing.assert_allclose(h_big["test_mse"][:, s], h_apart[s]["test_mse"][:, 0],
                                   rtol=1e-9)


# --- Lesson 4's exercises: a copy of a visible cell fails, the solution passes ---
#
# Each "copied" answer below is what a learner gets by renaming what the lesson's pages
# show (a cell, or helper code the page prints with show_code); the check must refuse
# it. Each "solution" is the published one.

from helper import WrongAnswer, clipped_step, detach_state
from checks import lesson04


def _gru_copied(n_in, n_h, n_layers):       # page 1's RNN count (one input, two layers)
    layer0 = n_h * 1 + n_h * n_h + n_h + n_h
    layer1 = n_h * n_h + n_h * n_h + n_h + n_h
    return 3 * (layer0 + layer1)


def _gru_solution(n_in, n_h, n_layers):
    first = n_in * n_h + n_h * n_h + 2 * n_h
    later = n_h * n_h + n_h * n_h + 2 * n_h
    return 3 * (first + (n_layers - 1) * later)


def _step_copied(model, optimizer, x, d, max_norm, warm):   # clipped_step, every target
    y, _ = model(x)
    loss = nn.functional.mse_loss(y, d)
    clipped_step(model, optimizer, loss, max_norm)
    return loss.item()


def _step_solution(model, optimizer, x, d, max_norm, warm):
    optimizer.zero_grad()
    y, _ = model(x)
    loss = nn.functional.mse_loss(y[:, warm:], d[:, warm:])
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


def _step_with_helper(model, optimizer, x, d, max_norm, warm):   # helper, scored loss
    y, _ = model(x)
    loss = nn.functional.mse_loss(y[:, warm:], d[:, warm:])
    clipped_step(model, optimizer, loss, max_norm)
    return loss.item()


def _pass_copied(model, optimizer, x, d, T):   # train_stream's inner loop, renamed
    losses, hidden = [], None
    for i in range(0, x.shape[1], T):
        y, hidden = model(x[:, i:i + T], hidden)
        hidden = detach_state(hidden)
        loss = nn.functional.mse_loss(y, d[:, i:i + T])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _pass_pair_only(model, optimizer, x, d, T):   # cuts an LSTM's pair, nothing else
    losses, hidden = [], None
    for i in range(0, x.shape[1], T):
        y, hidden = model(x[:, i:i + T], hidden)
        hidden = tuple(part.detach() for part in hidden)
        loss = nn.functional.mse_loss(y, d[:, i:i + T])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _pass_solution(model, optimizer, x, d, T):
    losses, hidden = [], None
    for i in range(0, x.shape[1], T):
        y, hidden = model(x[:, i:i + T], hidden)
        if isinstance(hidden, tuple):
            hidden = tuple(part.detach() for part in hidden)
        else:
            hidden = hidden.detach()
        loss = nn.functional.mse_loss(y, d[:, i:i + T])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _naive_copied(R, P, F, nu):   # page 1's one-step formula, renamed
    return 2 * R**2 * np.sin(np.pi / P) ** 2 + 2 * nu**2


def _naive_last_value_h(R, P, F, nu):   # page 1's derivation with omega F: last value
    return 2 * R**2 * np.sin(np.pi * F / P) ** 2 + 2 * nu**2


def _naive_noise_slip(R, P, F, nu):   # the right clean part, the noise's 2 nu^2 kept
    half = np.cos(np.pi / P)
    return R**2 / 2 * (1 + half**2 - 2 * half * np.cos(2 * np.pi * (F + 0.5) / P)) + 2 * nu**2


def _naive_solution(R, P, F, nu):
    half = np.cos(np.pi / P)
    return R**2 / 2 * (1 + half**2 - 2 * half * np.cos(2 * np.pi * (F + 0.5) / P)) + 1.5 * nu**2


def _naive_other_form(R, P, F, nu):   # the same MSE written another way: |e^{iwF} - (1 + e^{-iw})/2|^2
    w = 2 * np.pi / P
    return R**2 / 2 * abs(np.exp(1j * w * F) - (1 + np.exp(-1j * w)) / 2) ** 2 + 1.5 * nu**2


def test_the_naive_check_accepts_another_correct_form(strict):
    assert lesson04.check_naive_formula(_naive_other_form).ok


def _input_copied(values, device):   # page 1's as_tensor, its body renamed
    a = np.asarray(values, dtype=np.float32)
    return torch.tensor(a, device=device).reshape(len(a), -1, 1)


def _input_solution(values, device):
    chunk = torch.tensor(values, dtype=torch.float32, device=device)
    return chunk.reshape(1, -1, 1)


_EXERCISES = [  # check, copied answer(s), solution
    (lesson04.check_gru_count, [_gru_copied], _gru_solution),
    (lesson04.check_train_step, [_step_copied], _step_solution),
    (lesson04.check_stream_pass, [_pass_copied, _pass_pair_only], _pass_solution),
    (lesson04.check_naive_formula, [_naive_copied, _naive_last_value_h, _naive_noise_slip],
     _naive_solution),
    (lesson04.check_input_tensor, [_input_copied], _input_solution),
]


def _run(check_fn, answer):
    if check_fn is lesson04.check_input_tensor:
        return check_fn(answer, "cpu")
    return check_fn(answer)


@pytest.mark.parametrize("check_fn, copied", [(c, a) for c, answers, _ in _EXERCISES
                                              for a in answers],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_a_copied_visible_cell_fails_the_check(strict, check_fn, copied):
    with pytest.raises(WrongAnswer):
        _run(check_fn, copied)


@pytest.mark.parametrize("check_fn, solution", [(c, s) for c, _, s in _EXERCISES],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_the_published_solution_passes_the_check(strict, check_fn, solution):
    assert _run(check_fn, solution).ok


def test_the_scored_step_may_use_helpers_clipped_step(strict):
    # the thinking is the slice of the scored targets; reusing the helper's step is fine
    assert lesson04.check_train_step(_step_with_helper).ok
