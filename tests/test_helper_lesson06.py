"""Lesson 6's exercise checks (checks/lesson06.py): right answers pass, wrong ones fail.

Lesson 6 adds nothing to helper.py (no other lesson needs its code), so these tests
cover its checks: each accepts a correct answer, rejects the wrong answers a learner is
likely to give (a verdict in friendly mode, `WrongAnswer` in strict mode), and says so
when it is given something that is not a function.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import helper
from checks.lesson06 import check_embedding_grad, check_sampler, check_trigram



def _softmax(logits):
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _sampler(carry=True, divide=True, greedy=False, own_rng=True):
    """The lesson's sampling loop, or one of the mistakes a learner makes."""
    def sample(p, s_0, first_id, n, temperature, rng):
        K = p["W_x"].shape[0]
        s, j, out = s_0, first_id, []
        for _ in range(n):
            prev = s if carry else s_0
            s = np.tanh(np.eye(K)[j] @ p["W_x"] + prev @ p["W_s"] + p["b_s"])
            logits = s @ p["W_y"] + p["b_y"]
            if greedy:
                j = int(np.argmax(logits))
            else:
                q = _softmax(logits / temperature if divide else logits * temperature)
                j = int((rng if own_rng else np.random).choice(K, p=q))
            out.append(j)
        return out
    return sample


def trigram_bpc(train_ids, eval_ids, K, alpha):
    counts = np.bincount((train_ids[:-2] * K + train_ids[1:-1]) * K + train_ids[2:],
                         minlength=K ** 3).reshape(K, K, K)
    p3 = (counts + alpha) / (counts.sum(2, keepdims=True) + alpha * K)
    return float(-np.log2(p3[eval_ids[:-2], eval_ids[1:-1], eval_ids[2:]]).mean())


def bigram_bpc(train_ids, eval_ids, K, alpha):
    counts = np.zeros((K, K))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1)
    p2 = (counts + alpha) / (counts.sum(1, keepdims=True) + alpha * K)
    return float(-np.log2(p2[eval_ids[:-1], eval_ids[1:]]).mean())


# -- right answers pass ----------------------------------------------------------------

def test_the_lessons_sampler_passes(strict):
    assert check_sampler(_sampler())


def test_a_trigram_passes(strict):
    assert check_trigram(trigram_bpc)


@pytest.mark.parametrize("grad", [
    lambda ids, G, K: torch.zeros(K, G.shape[1], dtype=G.dtype).index_add_(0, ids, G),
    lambda ids, G, K: F.one_hot(ids, K).to(G.dtype).T @ G,
], ids=["index_add", "one_hot"])
def test_both_embedding_gradients_pass(strict, grad):
    assert check_embedding_grad(grad)


# -- wrong answers fail ----------------------------------------------------------------

@pytest.mark.parametrize("wrong", [
    _sampler(carry=False), _sampler(divide=False), _sampler(greedy=True),
    _sampler(own_rng=False), lambda *args: None,
], ids=["state-not-carried", "times-temperature", "always-greedy", "global-rng", "none"])
def test_a_wrong_sampler_gets_a_verdict(friendly, wrong):
    verdict = check_sampler(wrong)
    assert not verdict and verdict.message.startswith("your sampler")


@pytest.mark.parametrize("wrong", [
    lambda tr, ev, K, a: trigram_bpc(tr, ev, K, a) * np.log(2),   # nats, not bits
    lambda tr, ev, K, a: trigram_bpc(tr, ev, K, 1.0),             # alpha ignored
    bigram_bpc,
], ids=["nats", "alpha-ignored", "bigram"])
def test_a_wrong_trigram_gets_a_verdict(friendly, wrong):
    assert not check_trigram(wrong)


def test_assigning_rows_loses_repeated_ids(friendly):
    def assign(ids, G, K):
        grad = torch.zeros(K, G.shape[1], dtype=G.dtype)
        grad[ids] = G            # a repeated id keeps only one of its rows
        return grad
    assert not check_embedding_grad(assign)


def test_a_wrong_answer_raises_in_strict_mode(strict):
    with pytest.raises(helper.WrongAnswer):
        check_sampler(_sampler(divide=False))
    with pytest.raises(helper.WrongAnswer):
        check_trigram(bigram_bpc)


@pytest.mark.parametrize("check", [check_sampler, check_trigram, check_embedding_grad])
def test_a_value_instead_of_a_function_is_named(friendly, check):
    verdict = check(3.5)
    assert not verdict and "your function" in verdict.message and "float" in verdict.message
