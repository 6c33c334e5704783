"""Checks for lesson 4's exercises (lessons/04_training_rnns_in_pytorch.ipynb).

Each check takes the learner's answer (a number-producing function, or a piece of a
training loop written as a function), runs it on sizes and data of its own, computes the
reference itself after the answer (PyTorch's own parameter count, a reference loop
written here, a closed form), and returns `helper.check`'s verdict, which never shows
the expected value. In strict mode (the book build, the tests) a wrong answer raises
`helper.WrongAnswer`.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

import helper
from helper import check

# Sizes the lesson never shows (it counts nn.GRU(1, 10, 2) in the open).
_GRU_CASES = [(3, 7, 1), (2, 5, 3), (4, 16, 2), (1, 1, 1), (6, 2, 4)]


_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


class _Forecaster(nn.Module):
    """The lesson's model, written again: a recurrent layer and a linear head per step."""

    def __init__(self, cell, n_h, n_layers=1):
        super().__init__()
        self.rnn = cell(1, n_h, n_layers, batch_first=True)
        self.fc = nn.Linear(n_h, 1)

    def forward(self, x, hidden=None):
        out, hidden = self.rnn(x, hidden)  # (batch, seq_len, n_h)
        return self.fc(out), hidden  # (batch, seq_len, 1)


def _series(gen, batch, length):
    """Noisy sine waves of random period and phase: (batch, length + 1, 1) float32."""
    t = torch.arange(length + 1, dtype=torch.float32)
    period = 15 + 20 * torch.rand(batch, 1, generator=gen)
    phase = 6.3 * torch.rand(batch, 1, generator=gen)
    wave = torch.sin(2 * torch.pi * t / period + phase)
    return (wave + 0.05 * torch.randn(wave.shape, generator=gen)).unsqueeze(-1)


def check_gru_count(gru_param_count):
    """Exercise "Count a GRU's parameters": `gru_param_count(n_in, n_h, n_layers)`.

    The reference is PyTorch's own count on GRUs of sizes the lesson never shows; an
    answer that builds a GRU (or any model) to count does not answer the exercise.
    """
    name = "parameters of nn.GRU on several sizes"
    source = helper.answer_source(gru_param_count)
    if any(word in source for word in ("GRU(", "RNN(", "LSTM(", "parameters(", "summary(")):
        return _refuse(name, "count from the sizes alone, without building a GRU")
    try:  # a recurrent layer built while counting raises BuiltAModel
        with helper.refuse_to_build(nn.RNNBase):
            answers = [gru_param_count(*case) for case in _GRU_CASES]
    except helper.BuiltAModel:
        return _refuse(name, "count from the sizes alone, without building a GRU")
    if any(a is None for a in answers):
        return check(None, 0, name=name)
    expected = [sum(p.numel() for p in nn.GRU(*case).parameters()) for case in _GRU_CASES]
    return check(answers, expected, name=name, rtol=0, atol=0)


def _reference_step(model, optimizer, x, d, max_norm, warm):
    optimizer.zero_grad()
    y, _ = model(x)  # (batch, seq_len, 1)
    scored_y, scored_d = y[:, warm:], d[:, warm:]  # the targets after the warm-up
    loss = ((scored_y - scored_d) ** 2).sum() / scored_d.numel()
    loss.backward()
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    scale = min(1.0, max_norm / (float(norm) + 1e-6))  # clip_grad_norm_'s rule
    for p in model.parameters():
        p.grad.mul_(scale)
    optimizer.step()
    return loss.item()


def check_train_step(train_step):
    """Exercise "One training step, scored after the warm-up":
    `train_step(model, optimizer, x, d, max_norm, warm)`.

    Two copies of one seeded model train for a few steps on the check's own windows, with
    a warm-up of its own: one with the learner's step, one with the reference step written
    here (the loss over the targets after the first `warm` steps, clipped by hand, not
    with clip_grad_norm_). The losses and the final weights must agree. `max_norm` is
    small enough that the reference clips every step, so a step without clipping (or
    without zeroing the gradients) drifts off; a loss over every step (the lesson's
    loops) gives other losses.
    """
    name = "losses of five steps and the weights after them"
    gen = helper.torch_gen(404)
    x_all = _series(gen, 8, 24)  # (8, 25, 1)
    x, d = x_all[:, :-1], x_all[:, 1:]  # (8, 24, 1) inputs and next-step targets
    warm = 9  # the check's own warm-up: the lesson's WARM is 40
    helper.torch_seed(405)
    mine = _Forecaster(nn.RNN, 6)
    ref = copy.deepcopy(mine)
    opt_mine = torch.optim.Adam(mine.parameters(), lr=0.01)
    opt_ref = torch.optim.Adam(ref.parameters(), lr=0.01)
    max_norm = 0.05
    got, want = [], []
    for _ in range(5):
        loss = train_step(mine, opt_mine, x, d, max_norm, warm)
        if loss is None:
            return check(None, 0, name=name)
        got.append(float(loss))
    for _ in range(5):
        want.append(_reference_step(ref, opt_ref, x, d, max_norm, warm))
    got += [p.detach().flatten() for p in mine.parameters()]
    want += [p.detach().flatten() for p in ref.parameters()]
    got = torch.cat([torch.as_tensor(g, dtype=torch.float32).flatten() for g in got])
    want = torch.cat([torch.as_tensor(w, dtype=torch.float32).flatten() for w in want])
    # float32, the same quantities summed in another order: equal up to rounding
    # (~1e-7 relative); Adam's divisions keep the weights within about 1e-5
    return check(got, want, name=name, rtol=1e-4, atol=1e-6)


def _cut(hidden):
    """The reference's cut: a GRU's state is one tensor, an LSTM's the pair (h, c)."""
    if isinstance(hidden, tuple):
        return tuple(part.detach() for part in hidden)
    return hidden.detach()


def check_stream_pass(stream_pass):
    """Exercise "Carry the state, whatever the cell": `stream_pass(model, optimizer, x, d, T)`.

    The learner's pass, written without helper's `detach_state`, trains a GRU (its state
    is one tensor) and an LSTM (its state is the pair (h, c)) over one series of the
    check's own, in chunks of T steps with the last one shorter, carrying the state and
    cutting its graph; a reference pass written here does the same on copies. The
    losses per chunk must agree: a pass that starts every chunk from zeros, or skips a
    chunk, gives other losses; one that does not cut the graph makes autograd refuse;
    one that cuts only a pair (or only a tensor) fails on the other cell.
    """
    name = "losses of the chunks of one GRU pass and one LSTM pass"
    if "detach_state" in helper.answer_source(stream_pass):
        return _refuse(name, "cut the state yourself, without helper's detach_state")
    gen = helper.torch_gen(406)
    s = _series(gen, 1, 70)  # (1, 71, 1)
    x, d, T = s[:, :-1], s[:, 1:], 16  # 70 inputs: chunks of 16, 16, 16, 16, 6
    got, want = [], []
    for seed, cell in ((407, nn.GRU), (410, nn.LSTM)):
        helper.torch_seed(seed)
        mine = _Forecaster(cell, 5)
        ref = copy.deepcopy(mine)
        opt_mine = torch.optim.Adam(mine.parameters(), lr=0.02)
        opt_ref = torch.optim.Adam(ref.parameters(), lr=0.02)
        try:
            losses = stream_pass(mine, opt_mine, x, d, T)
        except RuntimeError as err:
            if "second time" in str(err):
                return _refuse(name, "autograd refused to go back into an earlier chunk's "
                                     f"graph ({cell.__name__}): cut the state between chunks")
            raise
        except (TypeError, AttributeError) as err:
            return _refuse(name, f"the pass failed on an {cell.__name__} ({type(err).__name__}):"
                                 " a GRU's state is one tensor, an LSTM's a pair")
        if losses is None:
            return check(None, 0, name=name)
        got += [float(v) for v in losses]
        hidden = None
        for i in range(0, x.shape[1], T):
            y, hidden = ref(x[:, i:i + T], hidden)
            hidden = _cut(hidden)
            loss = nn.functional.mse_loss(y, d[:, i:i + T])
            opt_ref.zero_grad()
            loss.backward()
            opt_ref.step()
            want.append(loss.item())
    if len(got) != len(want):
        return _refuse(name, f"expected one loss per chunk, {len(want)} in all over the two "
                             f"passes; got {len(got)}")
    # float32, the same operations in the same order: equal up to rounding
    return check(got, want, name=name, rtol=1e-4, atol=1e-7)


def check_naive_formula(mean2_mse_formula):
    """Exercise "The two-value naive forecast F steps ahead": `mean2_mse_formula(R, P,
    F, nu)`.

    The learner's closed form for the expected MSE of the forecast (x_t + x_{t-1}) / 2 of
    x_{t+F}, on a sine of amplitude R and period P with noise of standard deviation nu,
    against the check's own measurement: the clean waves' squared errors averaged over
    whole periods (the check's own periods, amplitudes, phases and horizons), plus the
    noise's part computed from the error's weights on the three noise values (1, -1/2,
    -1/2: the sum of their squares times nu^2). The first page's last-value formula,
    at one step or at F steps, is far off (its noise part alone is 2 nu^2).
    """
    name = "the two-value naive forecast's MSE at several horizons"
    rng = helper.np_rng(408)
    noise_weights = np.array([1.0, -0.5, -0.5])  # x_{t+F}, x_t, x_{t-1} in the error
    got, want = [], []
    for P, F, nu in ((24, 1, 0.0), (24, 6, 0.1), (17, 5, 0.05), (30, 30, 0.2),
                     (13, 20, 0.0), (9, 1, 0.3)):
        R = float(rng.uniform(0.5, 2.0))
        n_periods = 6
        t = np.arange(n_periods * P + F + 1)
        wave = R * np.sin(2 * np.pi * t / P + rng.uniform(0, 2 * np.pi))
        answer = mean2_mse_formula(R, P, F, nu)
        if answer is None:
            return check(None, 0, name=name)
        got.append(float(answer))
        forecast = (wave[1:-F] + wave[:-F - 1]) / 2  # (x_t + x_{t-1}) / 2, whole periods
        errors = wave[F + 1:] - forecast  # x_{t+F} - forecast
        want.append(float(np.mean(errors ** 2)) + nu ** 2 * float(np.sum(noise_weights ** 2)))
    # float64 sums over whole periods: the closed form holds to rounding (~1e-15);
    # rtol 1e-9 accepts float64 formulas written any way, and float32 is not asked for
    return check(got, want, name=name, rtol=1e-9, atol=1e-12)


def check_input_tensor(to_input, device):
    """Exercise "The shape the notes' loop needs": `to_input(values, device)`.

    The learner's function turns a 1-D array of the check's own (a length the lesson
    never uses) into the model's input; the reference is built here with torch.tensor.
    The answer must be float32 on `device`, shaped (1, seq_len, 1).
    """
    name = "one chunk as the model's input"
    source = helper.answer_source(to_input)
    if "as_tensor(" in source:
        return _refuse(name, "build it without the lesson's as_tensor")
    values = helper.np_rng(409).normal(size=23)  # float64, as NumPy makes them
    answer = to_input(values.copy(), device)
    expected = torch.tensor(values, dtype=torch.float32).reshape(1, -1, 1)
    return check(answer, expected, name=name, rtol=1e-6, atol=1e-7,
                 dtype=torch.float32, device=device)
