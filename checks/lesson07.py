"""Checks for lesson 7's exercises (lessons/07_variable_length_sequences_part3.ipynb).

Each check takes the learner's function, runs it on data and sizes of its own (its own
seeded generator, lengths the lesson never shows, noise on the padding), computes the
reference itself after the answer (each sequence alone with no padding, PyTorch's own
`pack_sequence`, PyTorch's own parameter count), and returns `helper.check`'s verdict,
which never shows the expected value. In strict mode (the book build, the tests) a wrong
answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations


import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence, pack_sequence

import helper
from helper import check

# LSTMs of sizes the lesson never shows (it counts a two-layer bidirectional GRU with 16
# inputs and 32 units in the open): (n_in, n_h, num_layers, bidirectional, proj_size)
_LSTM_CASES = [(3, 5, 1, False, 0), (3, 5, 1, True, 0), (12, 20, 2, True, 0),
               (4, 7, 3, False, 0), (4, 7, 1, False, 3), (6, 9, 2, True, 4),
               (10, 8, 3, True, 2), (1, 1, 1, True, 0), (5, 6, 4, False, 5)]
# Words of its own, longest first, with ties (the lesson packs MAKE, SYLLABLE, IS).
_PACK_WORDS = [["RECURRENT", "NETWORKS", "PACKING", "READ", "WORD", "A"],
               ["QUEUE"], ["ZEBRA", "APPLE", "BY"]]


_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


def _callable(answer, arg: str):
    if not callable(answer):
        raise TypeError(f"{arg} must be the function you wrote, got {type(answer).__name__}")


def _padded_batch(gen, lengths, n_classes):
    """Random logits (B, T, C) and targets (B, T); the padding holds real classes."""
    B, T = len(lengths), max(lengths)
    logits = torch.randn(B, T, n_classes, generator=gen, dtype=torch.float64)
    targets = torch.randint(n_classes, (B, T), generator=gen)  # garbage on the padding too
    return logits, targets


def check_word_mean_loss(word_mean_loss):
    """Exercise "A loss in which every word weighs the same":
    `word_mean_loss(logits, targets, lengths)`.

    The reference cuts each sequence of the check's own random batches to its own length,
    takes its mean cross-entropy alone, and averages those means over the sequences. The
    lengths differ within each batch, so the page's masked mean (every step weighing the
    same) gives another number and fails.
    """
    _callable(word_mean_loss, "word_mean_loss")
    name = "loss with every sequence weighing the same, on batches of the check's own"
    gen = helper.torch_gen(7)  # the check's own data, moved with the seed offset
    answers, expected = [], []
    for lengths, n_classes in [([5, 2, 7, 1], 4), ([3, 6, 3], 6), ([9, 1], 3), ([4, 4], 5)]:
        logits, targets = _padded_batch(gen, lengths, n_classes)
        try:
            answer = word_mean_loss(logits.clone(), targets.clone(), torch.tensor(lengths))
        except Exception as exc:  # a learner's bug: a verdict, not a traceback
            return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
        if answer is None:
            return check(None, 0.0, name=name)
        if torch.as_tensor(answer).numel() != 1:
            return _refuse(name, "return one number (a 0-d tensor), the mean over the batch")
        answers.append(float(answer))
        per_word = [F.cross_entropy(logits[b, :n], targets[b, :n]) for b, n in enumerate(lengths)]
        expected.append(torch.stack(per_word).mean().item())
    return check(answers, expected, name=name, rtol=1e-5, atol=1e-8)


def check_pack_by_hand(pack_by_hand):
    """Exercise "Pack a batch by hand": `pack_by_hand(words)` -> PackedSequence.

    The reference packs the check's own words (longest first) with `pack_sequence`.
    """
    _callable(pack_by_hand, "pack_by_hand")
    name = "packed batch of the check's own words"
    source = helper.answer_source(pack_by_hand)
    if "pack_sequence" in source or "pack_padded_sequence" in source:
        return _refuse(name, "build data and batch_sizes yourself, without PyTorch's packing")
    for words in _PACK_WORDS:
        try:
            answer = pack_by_hand(list(words))
        except Exception as exc:
            return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
        if answer is None:
            return check(None, 0, name=name)
        if not isinstance(answer, PackedSequence):
            return _refuse(name, f"return a PackedSequence, got {type(answer).__name__}")
        codes = [torch.tensor([ord(c) - ord("A") + 1 for c in w]) for w in words]
        reference = pack_sequence(codes, enforce_sorted=True)
        for part in ("batch_sizes", "data"):
            got, want = getattr(answer, part), getattr(reference, part)
            if got.shape != want.shape:
                return _refuse(name, f"{part} has shape {tuple(got.shape)}, expected "
                                     f"{tuple(want.shape)} for {len(words)} words")
            if not torch.equal(got.cpu().long(), want):
                return _refuse(name, f"{part} holds the wrong values (step by step: the t-th "
                                     f"letter of every word longer than t)")
    return check(True, True, name=name)


def check_mean_over_time(mean_over_time):
    """Exercise "Pooling over time": `mean_over_time(outputs, lengths)` -> (B, n).

    The reference averages each sequence alone over its own steps; the padding holds
    noise, so neither the padding nor a division by T passes.
    """
    _callable(mean_over_time, "mean_over_time")
    name = "means over each sequence's own steps"
    gen = helper.torch_gen(11)
    answers, expected = [], []
    for lengths, n in [([4, 1, 6], 3), ([2, 2], 5), ([7, 3, 5, 1], 2)]:
        outputs = torch.randn(len(lengths), max(lengths), n, generator=gen,
                              dtype=torch.float64)
        try:
            answer = mean_over_time(outputs.clone(), torch.tensor(lengths))
        except Exception as exc:
            return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
        if answer is None:
            return check(None, 0.0, name=name)
        answers.append(torch.as_tensor(answer, dtype=torch.float64).detach().cpu())
        expected.append(torch.stack([outputs[b, :k].mean(dim=0) for b, k in enumerate(lengths)]))
    for got, want in zip(answers, expected):
        if got.shape != want.shape:
            return _refuse(name, f"the shape is wrong: expected (batch, features) = "
                                 f"{tuple(want.shape)}, got {tuple(got.shape)}")
    got = torch.cat([a.flatten() for a in answers])
    want = torch.cat([e.flatten() for e in expected])
    return check(got, want, name=name, rtol=1e-6, atol=1e-9)


def check_lstm_count(lstm_count):
    """Exercise "The parameters of any LSTM layer":
    `lstm_count(n_in, n_h, num_layers, bidirectional, proj_size)`.

    The reference is PyTorch's own count on LSTMs of sizes the lesson never shows (one
    and two directions, one to four layers, with and without a projection); an answer
    that builds a layer to count does not answer the exercise. The first page's
    bidirectional GRU formula, renamed, fails: an LSTM has four blocks.
    """
    _callable(lstm_count, "lstm_count")
    name = "parameters of LSTMs of several sizes, directions and projections"
    source = helper.answer_source(lstm_count)
    if any(word in source for word in ("GRU(", "RNN(", "LSTM(", "parameters(", "summary(")):
        return _refuse(name, "count from the sizes alone, without building an LSTM")
    try:
        answers = [lstm_count(*case) for case in _LSTM_CASES]
    except Exception as exc:
        return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
    if any(a is None for a in answers):
        return check(None, 0, name=name)
    expected = [sum(p.numel() for p in nn.LSTM(n_in, n_h, layers, bidirectional=bi,
                                               proj_size=proj).parameters())
                for n_in, n_h, layers, bi, proj in _LSTM_CASES]
    return check(answers, expected, name=name, rtol=0, atol=0)
