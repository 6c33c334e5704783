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


def _reference_step(model, optimizer, x, d, max_norm):
    optimizer.zero_grad()
    y, _ = model(x)
    loss = nn.functional.mse_loss(y, d)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


def check_train_step(train_step):
    """Exercise "One training step, clipped": `train_step(model, optimizer, x, d, max_norm)`.

    Two copies of one seeded model train for a few steps on the check's own windows: one
    with the learner's step, one with the reference step written here. The losses and
    the final weights must agree. `max_norm` is small enough that the reference clips
    every step, so a step without clipping (or without zeroing the gradients) drifts off.
    """
    name = "losses of five steps and the weights after them"
    gen = helper.torch_gen(404)
    x_all = _series(gen, 8, 24)  # (8, 25, 1)
    x, d = x_all[:, :-1], x_all[:, 1:]  # (8, 24, 1) inputs and next-step targets
    helper.torch_seed(405)
    mine = _Forecaster(nn.RNN, 6)
    ref = copy.deepcopy(mine)
    opt_mine = torch.optim.Adam(mine.parameters(), lr=0.01)
    opt_ref = torch.optim.Adam(ref.parameters(), lr=0.01)
    max_norm = 0.05
    got, want = [], []
    for _ in range(5):
        loss = train_step(mine, opt_mine, x, d, max_norm)
        if loss is None:
            return check(None, 0, name=name)
        got.append(float(loss))
    for _ in range(5):
        want.append(_reference_step(ref, opt_ref, x, d, max_norm))
    got += [p.detach().flatten() for p in mine.parameters()]
    want += [p.detach().flatten() for p in ref.parameters()]
    got = torch.cat([torch.as_tensor(g, dtype=torch.float32).flatten() for g in got])
    want = torch.cat([torch.as_tensor(w, dtype=torch.float32).flatten() for w in want])
    # the same float32 operations in the same order: equal up to rounding (~1e-7)
    return check(got, want, name=name, rtol=1e-4, atol=1e-6)


def check_stream_pass(stream_pass):
    """Exercise "Carry the state of an LSTM": `stream_pass(model, optimizer, x, d, T)`.

    The learner's pass trains an LSTM (its state is the pair (h, c)) over one series of
    the check's own, in chunks of T steps with the last one shorter, carrying the state
    and cutting its graph; a reference pass written here does the same on a copy. The
    losses per chunk must agree: a pass that starts every chunk from zeros, or skips a
    chunk, gives other losses; one that does not cut the graph makes autograd refuse.
    """
    name = "losses of the chunks of one LSTM pass"
    gen = helper.torch_gen(406)
    s = _series(gen, 1, 70)  # (1, 71, 1)
    x, d, T = s[:, :-1], s[:, 1:], 16  # 70 inputs: chunks of 16, 16, 16, 16, 6
    helper.torch_seed(407)
    mine = _Forecaster(nn.LSTM, 5)
    ref = copy.deepcopy(mine)
    opt_mine = torch.optim.Adam(mine.parameters(), lr=0.02)
    opt_ref = torch.optim.Adam(ref.parameters(), lr=0.02)
    try:
        got = stream_pass(mine, opt_mine, x, d, T)
    except RuntimeError as err:
        if "second time" in str(err):
            return _refuse(name, "autograd refused to go back into an earlier chunk's "
                                 "graph: cut the state between chunks")
        raise
    if got is None:
        return check(None, 0, name=name)
    want, hidden = [], None
    for i in range(0, x.shape[1], T):
        y, hidden = ref(x[:, i:i + T], hidden)
        hidden = tuple(h.detach() for h in hidden)  # (h, c), cut from the graph
        loss = nn.functional.mse_loss(y, d[:, i:i + T])
        opt_ref.zero_grad()
        loss.backward()
        opt_ref.step()
        want.append(loss.item())
    got = [float(v) for v in got]
    # float32, the same operations in the same order: equal up to rounding
    return check(got, want, name=name, rtol=1e-4, atol=1e-7)


def check_naive_mse(naive_mse):
    """Exercise "The naive forecast at horizon h": `naive_mse(S, h)`.

    On clean sines of the check's own (amplitude A, period P, L - h a whole number of
    periods) the naive forecast's MSE has a closed form, 2 A^2 sin^2(pi h / P) averaged
    over the series.
    """
    name = "naive MSE at several horizons"
    rng = helper.np_rng(408)
    P, n_periods = 24, 5
    got, want = [], []
    for h in (1, 6, 12, 17):
        L = n_periods * P + h
        t = np.arange(L)
        A = rng.uniform(0.5, 2.0, size=(6, 1))
        S = A * np.sin(2 * np.pi * t / P + rng.uniform(0, 2 * np.pi, size=(6, 1)))
        answer = naive_mse(S.copy(), h)
        if answer is None:
            return check(None, 0, name=name)
        got.append(float(answer))
        want.append(float(np.mean(2 * A[:, 0] ** 2 * np.sin(np.pi * h / P) ** 2)))
    # float64 sums over whole periods: the closed form holds to rounding (~1e-15)
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
