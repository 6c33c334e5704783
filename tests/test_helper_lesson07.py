"""Lesson 7's exercise checks (checks/lesson07.py): right answers pass, wrong ones fail.

Each check accepts a correct answer, rejects the wrong answers a learner is likely to
give (a verdict in friendly mode, `WrongAnswer` in strict mode), and names the argument
when it is given something that is not a function. The last tests cover what lesson 7
shares between its two pages in helper.py (the data, the split, the batches, the model).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.nn.utils.rnn import PackedSequence

import helper
from checks.lesson07 import (check_lstm_count, check_mean_over_time, check_pack_by_hand,
                             check_word_mean_loss)



def _encode(word):
    return torch.tensor([ord(c) - ord("A") + 1 for c in word])


# -- right answers ---------------------------------------------------------------------

def word_mean_loss(logits, targets, lengths):
    lengths = torch.as_tensor(lengths)
    per_step = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    mask = torch.arange(targets.shape[1])[None] < lengths[:, None]
    return ((per_step * mask).sum(1) / lengths).mean()


def pack_by_hand(words):
    codes = [_encode(w) for w in words]
    data, sizes = [], []
    for t in range(len(codes[0])):
        running = [c for c in codes if len(c) > t]
        data += [c[t] for c in running]
        sizes.append(len(running))
    return PackedSequence(torch.stack(data), torch.tensor(sizes))


def mean_over_time(outputs, lengths):
    lengths = torch.as_tensor(lengths)
    mask = (torch.arange(outputs.shape[1])[None] < lengths[:, None]).unsqueeze(-1)
    return (outputs * mask).sum(1) / lengths[:, None]


def lstm_count(n_in, n_h, num_layers, bidirectional, proj_size):
    dirs, r = 1 + bidirectional, proj_size or n_h      # r: the size of h_t
    total = 0
    for layer in range(num_layers):
        n_read = n_in if layer == 0 else dirs * r
        total += dirs * (4 * n_h * (n_read + r) + 8 * n_h + (proj_size > 0) * r * n_h)
    return total


@pytest.mark.parametrize("check, answer", [
    (check_word_mean_loss, word_mean_loss), (check_pack_by_hand, pack_by_hand),
    (check_mean_over_time, mean_over_time), (check_lstm_count, lstm_count)])
def test_check_accepts_a_right_answer(strict, check, answer):
    assert check(answer).ok


# -- wrong answers ---------------------------------------------------------------------

def unmasked_loss(logits, targets, lengths):  # the padding counted too
    return F.cross_entropy(logits.transpose(1, 2), targets)


def page_masked_loss(logits, targets, lengths):
    # the first page's masked-loss cell with its names changed: every step weighs the same
    E_bt = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    steps = torch.arange(targets.shape[1])
    mask = steps[None] < torch.as_tensor(lengths)[:, None]
    return (E_bt * mask).sum() / mask.sum()


def page_ignore_index(logits, targets, lengths):  # the page's other way, PAD = 0
    return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0)


def mean_over_sequences_of_sums_over_t(logits, targets, lengths):  # divides by T
    per_step = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    mask = torch.arange(targets.shape[1])[None] < torch.as_tensor(lengths)[:, None]
    return ((per_step * mask).sum(1) / targets.shape[1]).mean()


def per_word_losses(logits, targets, lengths):  # the means, not their mean
    return torch.stack([F.cross_entropy(logits[b, :n], targets[b, :n])
                        for b, n in enumerate(lengths)])


def pack_word_by_word(words):  # concatenated, not step by step
    return PackedSequence(torch.cat([_encode(w) for w in words]),
                          torch.tensor([len(words)] * len(words[0])))


def pack_with_torch(words):
    from torch.nn.utils.rnn import pack_sequence
    return pack_sequence([_encode(w) for w in words])


def mean_over_all_steps(outputs, lengths):  # divides by T, keeps the padding
    return outputs.mean(dim=1)


def count_one_direction(n_in, n_h, num_layers, bidirectional, proj_size):
    return lstm_count(n_in, n_h, num_layers, False, proj_size)   # ignores the flag


def count_without_projection(n_in, n_h, num_layers, bidirectional, proj_size):
    return lstm_count(n_in, n_h, num_layers, bidirectional, 0)   # proj_size ignored


def count_projection_weight_only(n_in, n_h, num_layers, bidirectional, proj_size):
    # adds W_hr but still reads n_h numbers back: the recurrent weight is (4 n_h, n_h)
    dirs, extra = 1 + bidirectional, 0
    if proj_size:
        extra = num_layers * dirs * (proj_size * n_h + 4 * n_h * (n_h - proj_size))
        extra += (num_layers - 1) * dirs * 4 * n_h * dirs * (n_h - proj_size)
    return lstm_count(n_in, n_h, num_layers, bidirectional, proj_size) + extra


def count_later_layers_read_one_direction(n_in, n_h, num_layers, bidirectional, proj_size):
    # a later layer reads r numbers, not both directions' 2 r
    dirs, r = 1 + bidirectional, proj_size or n_h
    total = lstm_count(n_in, n_h, 1, bidirectional, proj_size)
    per_later = 4 * n_h * (r + r) + 8 * n_h + (proj_size > 0) * r * n_h
    return total + (num_layers - 1) * dirs * per_later


def count_from_the_page(n_in, n_h, num_layers, bidirectional, proj_size):
    # the first page's two-layer GRU count with its names changed, any depth
    layer_1 = 2 * 3 * (n_in * n_h + n_h * n_h + 2 * n_h)
    layer_2 = 2 * 3 * (2 * n_h * n_h + n_h * n_h + 2 * n_h)
    return layer_1 + (num_layers - 1) * layer_2


def count_from_the_page_with_four_blocks(n_in, n_h, num_layers, bidirectional, proj_size):
    # the page's formula with 4 blocks for 3: right only for a bidirectional LSTM, no projection
    layer_1 = 2 * 4 * (n_in * n_h + n_h * n_h + 2 * n_h)
    layer_2 = 2 * 4 * (2 * n_h * n_h + n_h * n_h + 2 * n_h)
    return layer_1 + (num_layers - 1) * layer_2


def count_by_building(n_in, n_h, num_layers, bidirectional, proj_size):
    return sum(p.numel() for p in torch.nn.LSTM(n_in, n_h, num_layers, bidirectional=bidirectional,
                                                proj_size=proj_size).parameters())


def mean_like_the_masked_loss(outputs, lengths):
    # the page's masked mean with its names changed: one number, not one row per sequence
    mask = torch.arange(outputs.shape[1])[None] < torch.as_tensor(lengths)[:, None]
    return (outputs * mask[..., None]).sum() / mask.sum()


@pytest.mark.parametrize("check, answer", [
    (check_word_mean_loss, unmasked_loss), (check_word_mean_loss, page_masked_loss),
    (check_word_mean_loss, page_ignore_index),
    (check_word_mean_loss, mean_over_sequences_of_sums_over_t),
    (check_word_mean_loss, per_word_losses),
    (check_word_mean_loss, lambda *args: torch.tensor(0.0)),
    (check_pack_by_hand, pack_word_by_word), (check_pack_by_hand, pack_with_torch),
    (check_mean_over_time, mean_over_all_steps),
    (check_mean_over_time, lambda outputs, lengths: torch.zeros(outputs.shape[0], 1)),
    (check_mean_over_time, mean_like_the_masked_loss),
    (check_lstm_count, count_one_direction), (check_lstm_count, count_by_building),
    (check_lstm_count, count_without_projection),
    (check_lstm_count, count_projection_weight_only),
    (check_lstm_count, count_later_layers_read_one_direction),
    (check_lstm_count, count_from_the_page),
    (check_lstm_count, count_from_the_page_with_four_blocks)])
def test_check_rejects_a_wrong_answer(friendly, check, answer):
    assert not check(answer).ok


@pytest.mark.parametrize("check, renamed, solution", [
    (check_word_mean_loss, page_masked_loss, word_mean_loss),
    (check_lstm_count, count_from_the_page, lstm_count),
    (check_lstm_count, count_from_the_page_with_four_blocks, lstm_count),
    (check_mean_over_time, mean_like_the_masked_loss, mean_over_time)])
def test_a_renamed_visible_cell_fails_and_the_solution_passes(friendly, check, renamed,
                                                              solution):
    # issue 21: no exercise is answered by copying a cell of the page with its names changed
    assert not check(renamed).ok
    assert check(solution).ok


def test_strict_mode_raises_on_a_wrong_answer(strict):
    with pytest.raises(helper.WrongAnswer):
        check_word_mean_loss(unmasked_loss)


def test_an_unanswered_exercise_is_not_right(friendly):
    assert not check_lstm_count(lambda n_in, n_h, num_layers, bidirectional, proj_size: None).ok
    assert not check_word_mean_loss(lambda logits, targets, lengths: None).ok


def test_an_answer_that_raises_gets_a_verdict(friendly):
    def broken(outputs, lengths):
        raise NotImplementedError()
    verdict = check_mean_over_time(broken)
    assert not verdict.ok and "NotImplementedError" in verdict.message


@pytest.mark.parametrize("check, arg", [
    (check_word_mean_loss, "word_mean_loss"), (check_pack_by_hand, "pack_by_hand"),
    (check_mean_over_time, "mean_over_time"), (check_lstm_count, "lstm_count")])
def test_a_value_instead_of_a_function_names_the_argument(check, arg):
    with pytest.raises(TypeError, match=arg):
        check(42)


# -- helper.py's lesson 7 section --------------------------------------------------------

def test_syllable_words_drops_what_the_lesson_says():
    cmu = {"MAKE": ["M EY1 K"], "FIRE": ["F AY1 ER0", "F AY1 R"], "A.": ["EY1"],
           "BUSINESS": ["B IH1 Z N AH0 S", "B IH1 Z N IH0 S"], "ZYX": ["Z IH1"] * 1}
    data = helper.syllable_words(cmu, max_syl=1)
    assert data.words == ["MAKE", "ZYX"] and data.ambiguous == ["FIRE"]
    assert data.too_long == ["BUSINESS"] and data.n_not_plain == 1
    assert data.n_syl.tolist() == [1, 1] and data.index == {"MAKE": 0, "ZYX": 1}


def test_syllable_split_is_a_partition_that_moves_with_the_seed():
    a, b = helper.syllable_split(1000, 300, seed=0), helper.syllable_split(1000, 300, seed=1)
    parts = [a.test, a.val, a.pool]
    assert sorted(set().union(*map(set, parts))) == list(range(1000))
    assert sum(map(len, parts)) == 1000 and list(a.train) == list(a.pool[:300])
    assert list(a.test) != list(b.test)


def test_rule_drops_a_silent_final_e_only():
    assert [helper.rule_syllables(w) for w in ["make", "the", "syllable", "rhythm"]] == [1, 1, 2, 1]


def test_word_batches_cover_every_word_once_and_bucketing_sorts_within_pools():
    lengths = np.arange(1000) % 17 + 1
    idx = np.arange(0, 1000, 2)
    for bucketed in (False, True):
        batches = helper.make_word_batches(idx, lengths, helper.np_rng(3), bucketed=bucketed,
                                           size=10, pool=5)
        assert sorted(np.concatenate(batches).tolist()) == idx.tolist()
    spread = np.mean([np.ptp(lengths[b]) for b in batches])   # bucketed: similar lengths
    assert spread < 4


def test_packed_syllable_net_answers_the_same_alone_and_in_a_batch():
    words = ["MAKE", "SYLLABLE", "IS"]
    batch = helper.WordTensors(words, [1, 3, 1])
    net = helper.new_syllable_net(0, n_h=5).double()
    x, lengths, y = batch(np.arange(3))
    assert x.shape == (3, 8) and y.tolist() == [0, 2, 0]
    together = net(x, lengths)
    alone = torch.cat([net(*batch(np.array([i]))[:2]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-12, atol=1e-12)   # float64
    careless = helper.new_syllable_net(0, n_h=5, careless=True).double()
    assert not torch.allclose(careless(x, lengths)[0], careless(*batch(np.array([0]))[:2])[0])
