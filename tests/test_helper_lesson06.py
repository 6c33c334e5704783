"""Lesson 6: its shared code in helper.py and its exercise checks (checks/lesson06.py).

Both pages of lesson 6 use helper.py's lesson 6 section (the split, the vocabulary, the
model, the streams, the training loop, generation); the tests below run each piece on
tiny data. The checks accept a correct answer, reject the wrong answers a learner is
likely to give (a verdict in friendly mode, `WrongAnswer` in strict mode), and say so
when they are given something that is not a function.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import helper
from checks.lesson06 import check_embedding_grad, check_ngram, check_sampler



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


def ngram_bpc(train_ids, eval_ids, K, beta, n):
    """Add-beta n-gram of any order with a dict of counts (not the solution's bincount)."""
    from collections import Counter
    grams = Counter(tuple(train_ids[i:i + n]) for i in range(len(train_ids) - n + 1))
    ctx = Counter(tuple(train_ids[i:i + n - 1]) for i in range(len(train_ids) - n + 1))
    return float(np.mean([-np.log2((grams[tuple(eval_ids[i - n + 1:i + 1])] + beta)
                                   / (ctx[tuple(eval_ids[i - n + 1:i])] + beta * K))
                          for i in range(n - 1, len(eval_ids))]))


def trigram_bpc(train_ids, eval_ids, K, beta, n=3):
    """The old exercise's answer: a trigram whatever n is asked."""
    counts = np.bincount((train_ids[:-2] * K + train_ids[1:-1]) * K + train_ids[2:],
                         minlength=K ** 3).reshape(K, K, K)
    p3 = (counts + beta) / (counts.sum(2, keepdims=True) + beta * K)
    return float(-np.log2(p3[eval_ids[:-2], eval_ids[1:-1], eval_ids[2:]]).mean())


def bigram_bpc(train_ids, eval_ids, K, beta, n=2):
    """The first page's bigram cell, renamed into a function: n = 2 whatever n is asked."""
    counts = np.zeros((K, K))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1)
    p2 = (counts + beta) / (counts.sum(1, keepdims=True) + beta * K)
    return float(-np.log2(p2[eval_ids[:-1], eval_ids[1:]]).mean())


# -- helper.py's lesson 6 section ------------------------------------------------------

def test_whole_chapters_are_held_out():
    assert [helper.moby_dick_split(n) for n in
            ("chapter_10", "chapter_11", "chapter_1", "chapter_21", "extracts")] == \
        ["val", "test", "train", "test", "train"]


def test_the_vocabulary_maps_rare_characters_to_unknown():
    vocab = helper.CharVocab("aaabbc", min_count=2)
    assert vocab.itos[1:] == ["a", "b"] and len(vocab) == 3
    assert vocab.encode("abcz").tolist() == [1, 2, 0, 0]
    assert vocab.decode(vocab.encode("ab")) == "ab"


def test_each_stream_continues_in_the_next_batch():
    streams = helper.make_streams(torch.arange(20), 2)            # (2, 10)
    x0, d0 = helper.chunk(streams, 0, 3)
    x1, _ = helper.chunk(streams, 1, 3)
    assert torch.equal(d0[:, -1], x1[:, 0])                        # row b goes on
    assert torch.equal(d0, streams[:, 1:4])                        # targets one later


def _tiny_model(seed, n_h=8, K=5):
    helper.torch_seed(seed)
    return helper.char_model_class()(K, n_emb=4, n_h=n_h)


def test_training_lowers_the_loss_on_a_repeated_text():
    streams = helper.make_streams(torch.tensor([0, 1, 2, 3, 4] * 40), 4)   # (4, 50)
    history = helper.train_chars(_tiny_model(0), streams, steps=60, T=8, lr=0.03)
    assert len(history["bpc"]) == 60
    assert np.mean(history["bpc"][-5:]) < 0.5 * np.mean(history["bpc"][:5])


def test_stacked_seeds_train_like_separate_models():
    streams = helper.make_streams(torch.tensor([0, 1, 2, 3, 4, 1, 3] * 20), 4)
    single = [_tiny_model(s) for s in (1, 2)]
    big = helper.stack_seeds([_tiny_model(s) for s in (1, 2)])
    for net in single:
        helper.train_chars(net, streams, steps=5, T=6, lr=0.01)
    helper.train_chars(big, streams, steps=5, T=6, lr=0.01)
    x, d = helper.chunk(streams, 0, 6)
    bits = helper.char_bits(big, x, d)
    assert len(bits) == 2
    for net, b in zip(single, bits):
        assert abs(helper.char_bits(net, x, d) - b) < 1e-4          # float32 sums


def test_generate_draws_rows_in_parallel_and_greedy_repeats():
    vocab = helper.CharVocab("abcde" * 10, min_count=1)
    model = _tiny_model(3, K=len(vocab))
    texts = helper.generate(model, vocab, ["ab", "cd", "ea"], 12, 1.0, helper.torch_gen(0))
    assert len(texts) == 3 and all(len(t) == 12 for t in texts)
    assert helper.generate(model, vocab, "cd", 12, 0) == helper.generate(model, vocab, "cd", 12, 0)
    assert helper.generate(model, vocab, ["cd"], 12, 0) == [helper.generate(model, vocab, "cd", 12, 0)]
    with pytest.raises(ValueError, match="one length"):
        helper.generate(model, vocab, ["ab", "abc"], 3)


# -- right answers pass ----------------------------------------------------------------

def test_the_lessons_sampler_passes(strict):
    assert check_sampler(_sampler())


def test_an_ngram_of_any_order_passes(strict):
    assert check_ngram(ngram_bpc)


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
    lambda tr, ev, K, b, n: ngram_bpc(tr, ev, K, b, n) * np.log(2),   # nats, not bits
    lambda tr, ev, K, b, n: ngram_bpc(tr, ev, K, 1.0, n),             # beta ignored
    lambda tr, ev, K, b, n: ngram_bpc(tr, ev, K, b, n + 1),           # n characters back
    bigram_bpc,              # the first page's bigram cell, renamed: the copy fails
    trigram_bpc,             # the old exercise's answer, a fixed order
    lambda tr, ev, K, b, n: helper.witten_bell_bpc(tr, ev, K, n)[n],  # the page's n-grams
], ids=["nats", "beta-ignored", "one-too-far", "renamed-bigram", "fixed-trigram",
        "witten-bell"])
def test_a_wrong_ngram_gets_a_verdict(friendly, wrong):
    assert not check_ngram(wrong)


def test_autograd_through_an_embedding_is_refused(friendly):
    def by_autograd(ids, G, K):       # the page's nn.Embedding and backward(), reused
        emb = torch.nn.Embedding(K, G.shape[1]).double()
        (emb(ids) * G).sum().backward()
        return emb.weight.grad
    verdict = check_embedding_grad(by_autograd)
    assert not verdict and "autograd" in verdict.message


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
        check_ngram(bigram_bpc)


@pytest.mark.parametrize("check", [check_sampler, check_ngram, check_embedding_grad])
def test_a_value_instead_of_a_function_is_named(friendly, check):
    verdict = check(3.5)
    assert not verdict and "your function" in verdict.message and "float" in verdict.message


def _witten_bell_reference(train, evaluate, K, max_order):
    """Interpolated Witten-Bell in plain Python: dicts of tuples, one position at a time."""
    from collections import Counter, defaultdict
    after = defaultdict(Counter)             # context tuple -> Counter of next ids
    for n in range(1, max_order):
        for i in range(n, len(train)):
            after[tuple(train[i - n:i])][train[i]] += 1
    unigram = Counter(train)

    def prob(e, h):
        if not h:
            return (unigram[e] + 1) / (len(train) + K)
        lower = prob(e, h[1:])
        followers = after.get(h)
        if not followers:
            return lower
        c_h, n_h = sum(followers.values()), len(followers)
        return (followers[e] + n_h * lower) / (c_h + n_h)

    return {n: -np.mean([np.log2(prob(evaluate[i], tuple(evaluate[i - n + 1:i])))
                         for i in range(max_order - 1, len(evaluate))])
            for n in range(1, max_order + 1)}


def test_witten_bell_matches_plain_python_counts():
    gen = helper.np_rng(5)
    K = 6
    base = [0, 1, 2, 3, 1, 2, 4, 0]
    train = np.array(base * 5 + gen.integers(0, 5, 200).tolist() + base)   # 5: unseen
    evaluate = np.array(gen.integers(0, K, 60).tolist() + base)
    got = helper.witten_bell_bpc(train, evaluate, K, 4)
    want = _witten_bell_reference(train.tolist(), evaluate.tolist(), K, 4)
    assert got.keys() == want.keys()
    for n in want:
        assert got[n] == pytest.approx(want[n], rel=1e-12)
