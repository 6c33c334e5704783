"""Checks for lesson 6's exercises (lessons/06_char_language_model_part2.ipynb).

Each check takes the learner's answer (a function), runs it on sizes and data of its
own, computes the reference itself after the answer (plain-Python counting, autograd,
`helper.rnn_forward` run over the whole text again), and returns `helper.check`'s
verdict, which never shows the expected value. In strict mode (the book build, the
tests) a wrong answer raises `helper.WrongAnswer`.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import torch
from torch import nn

import helper
from helper import check


_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


# -- Exercise "Sample from lesson 3's network" ------------------------------------------


def _tiny_params(seed, K=6, n_h=5, scale=1.5):
    """A seeded one-hot tanh RNN with a softmax head: the min-char-rnn design."""
    gen = helper.np_rng(seed)
    return {"W_x": scale * gen.standard_normal((K, n_h)),
            "W_s": scale * gen.standard_normal((n_h, n_h)) / np.sqrt(n_h),
            "b_s": 0.3 * gen.standard_normal(n_h),
            "W_y": 2.0 * gen.standard_normal((n_h, K)),
            "b_y": 0.3 * gen.standard_normal(K)}


def _greedy_by_rerun(p, s_0, first_id, n):
    """The greedy continuation, each step recomputed from s_0 over the whole text so far.

    Independent of any sampling loop: no state is carried from one step to the next.
    Also returns the smallest gap between the best and the second-best logit.
    """
    K = p["W_x"].shape[0]
    ids, gaps = [first_id], []
    for _ in range(n):
        S = helper.rnn_forward(np.eye(K)[ids], p["W_x"], p["W_s"], p["b_s"], s_0)
        logits = S[-1] @ p["W_y"] + p["b_y"]  # (K,): after the last character
        top2 = np.sort(logits)[-2:]
        gaps.append(top2[1] - top2[0])
        ids.append(int(np.argmax(logits)))
    return ids[1:], min(gaps)


def _greedy_network(n, tau):
    """A tiny network of the check's own, its state s_0 and its greedy text of n ids from id 2.

    The first of the check's seeds (from 29 on, moved by the course's seed offset) whose
    network has no near tie (a gap g between the two best logits leaves the runner-up a
    probability below exp(-g / tau), asked below 1e-15) and whose greedy text depends on
    the state, not on the last id alone (so a sampler that forgets the state fails).
    """
    for seed in range(29, 29 + 500):
        p = _tiny_params(seed)
        s_0 = np.zeros(p["W_s"].shape[0])
        want, gap = _greedy_by_rerun(p, s_0, 2, n)
        ids, stateless = 2, []          # each step from s_0, reading the last id only
        for _ in range(n):
            s = np.tanh(np.eye(p["W_x"].shape[0])[ids] @ p["W_x"] + s_0 @ p["W_s"] + p["b_s"])
            ids = int(np.argmax(s @ p["W_y"] + p["b_y"]))
            stateless.append(ids)
        if gap / tau > 35 and stateless != want:
            return p, s_0, want
    raise RuntimeError("the check found no tiny network without a near tie")


def _run_sampler(sample, p, s_0, first_id, n, temperature, seed, name):
    """Call the learner's sampler; a list of n ids, or a verdict that says what is wrong."""
    try:
        out = sample(p, s_0.copy(), first_id, n, temperature, helper.np_rng(seed))
    except Exception as exc:  # the learner's code raised: say so, do not crash the check
        return None, _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
    try:
        out = [int(i) for i in out]
    except (TypeError, ValueError):
        return None, _refuse(name, "return a list of character ids (whole numbers)")
    K = p["W_x"].shape[0]
    if len(out) != n:
        return None, _refuse(name, f"asked for {n} characters, got {len(out)}")
    if not all(0 <= i < K for i in out):
        return None, _refuse(name, f"every id must be between 0 and K - 1 = {K - 1}")
    return out, None


def check_sampler(sample):
    """Exercise "Sample from lesson 3's network": `sample(p, s_0, first_id, n, temperature, rng)`.

    Three tests on tiny networks of its own: (1) at a temperature near 0 the sampler must
    give the greedy text, which the check recomputes by re-running `rnn_forward` over
    the whole text at each step (so the state must be carried right); (2) in a network
    whose state never changes (W_x = W_s = 0) every step draws from one distribution,
    softmax(logits / temperature): the frequencies of a long sample must match it at two
    temperatures, within 5 standard errors; (3) the same rng seed gives the same text.
    """
    name = "your sampler"
    if not callable(sample):
        return _refuse(name, f"sample must be your function sample_numpy, got "
                             f"{type(sample).__name__}")
    # (1) near-greedy on a network whose state matters
    n_greedy, tau_small = 40, 0.01
    p, s_0, want = _greedy_network(n_greedy, tau_small)
    got, bad = _run_sampler(sample, p, s_0, 2, n_greedy, tau_small, 0, name)
    if bad is not None:
        return bad
    if got != want:
        first = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        return _refuse(name, f"at a temperature near 0 the text must be the greedy one (the "
                             f"likeliest character at every step); it differs from character "
                             f"{first} on: is the state carried from one step to the next, "
                             f"the drawn character fed back one-hot, and are the logits "
                             f"divided by the temperature?")
    # (2) frequencies where every step has the same distribution
    K, n_h = 5, 4
    gen = helper.np_rng(23)
    p_const = {"W_x": np.zeros((K, n_h)), "W_s": np.zeros((n_h, n_h)),
               "b_s": gen.standard_normal(n_h), "W_y": gen.standard_normal((n_h, K)),
               "b_y": gen.standard_normal(K)}
    logits = np.tanh(p_const["b_s"]) @ p_const["W_y"] + p_const["b_y"]  # (K,): fixed
    n_long = 4000
    for temperature in (0.7, 2.0):
        got, bad = _run_sampler(sample, p_const, np.zeros(n_h), 0, n_long, temperature, 5, name)
        if bad is not None:
            return bad
        q = np.exp((logits - logits.max()) / temperature)
        q /= q.sum()
        freq = np.bincount(got, minlength=K) / n_long
        se = np.sqrt(q * (1 - q) / n_long)
        if np.any(np.abs(freq - q) > 5 * se + 1e-12):
            return _refuse(name, f"at temperature {temperature} the characters' frequencies "
                                 f"do not match softmax(logits / temperature) (divide the logits "
                                 f"by the temperature, then take the softmax)")
    # (3) reproducible with the same seed, different with another
    a, bad = _run_sampler(sample, p, s_0, 1, 30, 1.0, 7, name)
    if bad is not None:
        return bad
    b, _ = _run_sampler(sample, p, s_0, 1, 30, 1.0, 7, name)
    c, _ = _run_sampler(sample, p, s_0, 1, 30, 1.0, 8, name)
    if a != b:
        return _refuse(name, "the same rng seed must give the same text: draw with `rng`")
    if a == c:
        return _refuse(name, "two rng seeds gave the same text: draw with `rng`")
    return check(True, True, name=name)


# -- Exercise "An n-gram baseline of any order" ----------------------------------------


def _ngram_reference(train, evaluate, K, beta, n):
    """Plain-Python counting: mean -log2 p(e | the n - 1 before) with add-beta smoothing,
    over every character of `evaluate` from position n - 1 on."""
    grams = Counter(tuple(train[i:i + n]) for i in range(len(train) - n + 1))
    contexts = Counter(tuple(train[i:i + n - 1]) for i in range(len(train) - n + 1))
    bits = [-math.log2((grams[tuple(evaluate[i - n + 1:i + 1])] + beta)
                       / (contexts[tuple(evaluate[i - n + 1:i])] + beta * K))
            for i in range(n - 1, len(evaluate))]
    return sum(bits) / len(bits)


def check_ngram(ngram_bpc):
    """Exercise "An n-gram baseline of any order": `ngram_bpc(train_ids, eval_ids, K, beta, n)`.

    The check makes texts of its own (a repetitive one and a random one, with ids that
    never occur in training), calls the answer with NumPy int arrays for the orders
    n = 1 ... 4 and two smoothings, and compares with counts made in plain Python. The
    page's bigram (n = 2 only), a fixed trigram, or the Witten-Bell smoothing of
    `helper.witten_bell_bpc` give other numbers.
    """
    name = "n-gram bits per character"
    if not callable(ngram_bpc):
        return _refuse(name, f"ngram_bpc must be your function, got "
                             f"{type(ngram_bpc).__name__}")
    gen = helper.np_rng(31)
    K = 7
    base = np.array([0, 1, 2, 3, 1, 2, 4, 0, 2, 1])
    train = np.concatenate([base, gen.integers(0, 5, 300), base, base])  # ids 5, 6 unseen
    evaluate = np.concatenate([gen.integers(0, K, 80), base])
    answers, wanted, wrong = [], [], []
    for n in (1, 2, 3, 4):
        for beta in (1.0, 0.1):
            try:
                value = float(ngram_bpc(train.copy(), evaluate.copy(), K, beta, n))
            except Exception as exc:
                return _refuse(name, f"with n = {n} your function raised "
                                     f"{type(exc).__name__}: {exc}")
            want = _ngram_reference(train.tolist(), evaluate.tolist(), K, beta, n)
            answers.append(value)
            wanted.append(want)
            if not math.isclose(value, want, rel_tol=1e-9, abs_tol=1e-12):
                wrong.append(n)
    right = sorted({1, 2, 3, 4} - set(wrong))
    if wrong and right:
        return _refuse(name, f"right for n = {', '.join(map(str, right))} but not for "
                             f"n = {', '.join(map(str, sorted(set(wrong))))}: does your "
                             f"context hold the n - 1 characters before each one, and "
                             f"does the smoothing use beta?")
    return check(answers, wanted, name=name, rtol=1e-9, atol=1e-12)


# -- Exercise "The gradient of an embedding" ---------------------------------------------


def check_embedding_grad(embedding_grad):
    """Exercise "The gradient of an embedding": `embedding_grad(ids, G, K)`.

    `G` holds dE/d(row) for each looked-up row; the reference is autograd through
    `nn.Embedding` on ids of its own, with repeated ids and ids never looked up. The
    answer is called with autograd switched off (the exercise asks for the gradient
    without it), so an answer that runs `backward()` through an embedding fails.
    """
    name = "dE/dW of the embedding"
    if not callable(embedding_grad):
        return _refuse(name, f"embedding_grad must be your function, got "
                             f"{type(embedding_grad).__name__}")
    gen = helper.torch_gen(41)
    K, n_emb = 9, 4
    ids = torch.tensor([3, 1, 3, 7, 1, 3, 0])  # 3 three times, 1 twice; 2, 4, 5, 6, 8 never
    G = torch.randn(len(ids), n_emb, generator=gen, dtype=torch.float64)  # (N, n_emb)
    try:
        with torch.no_grad():           # without autograd, as the exercise asks
            answer = embedding_grad(ids.clone(), G.clone(), K)
    except Exception as exc:
        return _refuse(name, f"your function raised {type(exc).__name__}: {exc} (it runs "
                             f"with autograd off: compute the gradient yourself)")
    emb = nn.Embedding(K, n_emb).double()
    (emb(ids) * G).sum().backward()  # dE/d(row i) = G[i]
    return check(answer, emb.weight.grad, name=name, rtol=1e-12, atol=1e-12)
