"""Checks for lesson 8's exercises (lessons/08_seq2seq_attention*.ipynb).

Each check takes the learner's answer, runs it on data and sizes of its own (its own
seeded generator, sizes the lesson never shows), computes the reference itself after the
answer (a recursive edit distance, PyTorch's own softmax and parameter count, a beam step
by enumeration), and returns `helper.check`'s verdict, which never shows the expected
value. In strict mode (the book build, the tests) a wrong answer raises
`helper.WrongAnswer`.
"""

from __future__ import annotations

import functools
import itertools
import types

import numpy as np
import torch

import helper
from helper import check

_refuse = helper.wrong_answer  # a wrong verdict that is not about a value


def _callable(answer, arg: str):
    if not callable(answer):
        raise TypeError(f"{arg} must be the function you wrote, got {type(answer).__name__}")


def _reaches(answer, banned=(), modules=()):
    """The first banned function, or object of a banned module, that the answer can call.

    Decided by what the answer's code names resolve to, not by its text: every global
    name its code (and the code of functions it defines inside) uses is looked up in the
    answer's own globals, as are its closure's cells; a function of the learner's own that
    it reaches is followed the same way. An alias (`from helper import edit_distance as
    ed`) resolves to helper.py's function and is found; a comment or a string that
    mentions a library is not code and is not.
    """
    if any(answer is b for b in banned) or str(getattr(answer, "__module__", None)).split(".")[0] in modules:
        return answer
    stack, seen = [answer], set()
    while stack:
        fn = stack.pop()
        code = getattr(fn, "__code__", None)
        if code is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names, codes = set(), [code]
        while codes:
            c = codes.pop()
            names |= set(c.co_names)
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        found = [fn.__globals__[n] for n in names if n in fn.__globals__]
        for cell in fn.__closure__ or ():
            try:
                found.append(cell.cell_contents)
            except ValueError:          # an empty cell
                pass
        for obj in found:
            if any(obj is b for b in banned):
                return obj
            module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
            if isinstance(module, str) and module.split(".")[0] in modules:
                return obj
            if isinstance(obj, types.FunctionType):
                stack.append(obj)
    return None


def _levenshtein(a, b) -> int:
    """The definition, recursively (memoised): no table, no rows."""
    @functools.lru_cache(maxsize=None)
    def d(i, j):
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))
    return d(len(a), len(b))


def check_edit_distance(edit_distance):
    """Exercise "Edit distance": `edit_distance(a, b)` -> the Levenshtein distance.

    The check draws pairs of its own (lists of phoneme strings, tuples of numbers, text,
    empty sequences, lengths the lesson never shows) and compares with the recursive
    definition. helper.py's `edit_distance`/`edit_distances` do not answer it, under any
    name.
    """
    _callable(edit_distance, "edit_distance")
    name = "edit distances of the check's own pairs"
    if _reaches(edit_distance, (helper.edit_distance, helper.edit_distances, helper._edit_grid,
                                _levenshtein), ("helper",)) is not None:
        return _refuse(name, "write the table yourself, without helper.py's edit distance")
    gen = helper.np_rng(81)
    alphabet = ["AA", "B", "K", "S", "T", "IY", "ER"]
    pairs = [((), ()), ((), ("K",)), (("S", "T"), ()), ("FLAW", "LAWN"),
             ("INTENTION", "EXECUTION"), (("K", "AE", "T"), ("K", "AE", "T"))]
    for _ in range(40):
        a = [alphabet[i] for i in gen.integers(len(alphabet), size=gen.integers(0, 9))]
        b = [alphabet[i] for i in gen.integers(len(alphabet), size=gen.integers(0, 9))]
        pairs.append((a, b))
    pairs += [(tuple(gen.integers(3, size=11)), tuple(gen.integers(3, size=6)))]
    answers = []
    for a, b in pairs:
        try:
            got = edit_distance(a, b)
        except Exception as exc:   # a learner's bug: a verdict, not a traceback
            return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
        if got is None:
            return check(None, 0, name=name)
        answers.append(got)
    expected = [_levenshtein(tuple(a), tuple(b)) for a, b in pairs]
    return check(answers, expected, name=name, rtol=0, atol=0)


def check_masked_softmax(masked_softmax_np):
    """Exercise "A masked softmax that survives large scores":
    `masked_softmax_np(scores, lengths)` -> weights of the same shape.

    Written in NumPy from np.exp: an answer whose code reaches PyTorch, SciPy or helper.py
    (the second page's torch cell renamed, a library's softmax under another name) does
    not answer it; a comment that names them does not matter. The check's own scores are up to a thousand in size (np.exp overflows without the
    row's maximum subtracted) and its padding holds larger garbage (a maximum taken over
    the padding too makes every real weight underflow). The reference is PyTorch's
    softmax in float64 on the real letters of each word alone.
    """
    _callable(masked_softmax_np, "masked_softmax_np")
    name = "masked softmax of the check's own scores"
    if _reaches(masked_softmax_np, (helper.masked_softmax,), ("torch", "scipy", "helper")) is not None:
        return _refuse(name, "write it in NumPy from np.exp, without a library's softmax")
    gen = helper.np_rng(83)
    answers, expected = [], []
    for B, T_d, T_x in [(3, 2, 7), (2, 4, 5), (4, 1, 9)]:
        lengths = gen.integers(1, T_x + 1, size=B)
        lengths[0] = T_x                                     # one word without padding
        scores = gen.uniform(-1000, 1000, size=(B, T_d, T_x))
        pad = np.arange(T_x)[None, :] >= lengths[:, None]    # (B, T_x)
        scores[np.broadcast_to(pad[:, None, :], scores.shape)] = 1e6   # garbage
        try:
            with np.errstate(all="ignore"):
                got = masked_softmax_np(scores.copy(), lengths.copy())
        except Exception as exc:
            return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
        if got is None:
            return check(None, 0.0, name=name)
        got = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        if got.shape != scores.shape:
            return _refuse(name, f"the shape is wrong: expected (B, T_d, T_x) = "
                                 f"{scores.shape}, got {got.shape}")
        ref = np.zeros_like(scores)
        for b, n in enumerate(lengths):
            ref[b, :, :n] = torch.softmax(torch.from_numpy(scores[b, :, :n]), -1).numpy()
        answers.append(got.ravel())
        expected.append(ref.ravel())
    return check(np.concatenate(answers), np.concatenate(expected), name=name,
                 rtol=1e-9, atol=1e-12)


def check_beam_step(beam_step_one):
    """Exercise "One step of beam search": `beam_step_one(scores, log_p, width)` ->
    (scores, parents, symbols), best first.

    The reference enumerates every (prefix, symbol) pair of the check's own log-probabilities
    (with empty slots at -inf) and sorts them; the learner's step must not call helper.py's,
    under any name.
    """
    _callable(beam_step_one, "beam_step_one")
    name = "beam step on the check's own log-probabilities"
    if _reaches(beam_step_one, (helper.beam_step, helper.beam_decode), ("helper",)) is not None:
        return _refuse(name, "write the step yourself, without helper.py's beam_step")
    gen = helper.np_rng(84)
    got_all, want_all = [], []
    for k, V, width, dead in [(3, 5, 3, 0), (4, 6, 4, 1), (2, 7, 5, 0), (1, 4, 3, 0), (5, 3, 2, 2)]:
        scores = -gen.exponential(2.0, size=k)
        scores[k - dead:] = -np.inf                          # empty slots
        log_p = np.log(gen.dirichlet(np.ones(V), size=k))    # rows sum to one
        try:
            out = beam_step_one(scores.copy(), log_p.copy(), width)
            new, parent, symbol = (np.asarray(a.detach().cpu() if hasattr(a, "detach") else a)
                                   for a in out)
        except Exception as exc:
            return _refuse(name, f"your function raised or returned something else "
                                 f"than three arrays ({type(exc).__name__}: {exc})")
        cands = sorted(((scores[i] + log_p[i, v], i, v)
                        for i, v in itertools.product(range(k), range(V))), reverse=True)[:width]
        if new.shape != (width,) or parent.shape != (width,) or symbol.shape != (width,):
            return _refuse(name, f"return three arrays of length width = {width}")
        if not np.allclose(new, [c[0] for c in cands], rtol=1e-9, atol=1e-12):
            return _refuse(name, "the scores are wrong (every extension of every prefix "
                                 "competes; best first)")
        got_all += [parent.astype(int), symbol.astype(int)]
        want_all += [np.array([c[1] for c in cands]), np.array([c[2] for c in cands])]
    return check(np.concatenate(got_all), np.concatenate(want_all), name=name, rtol=0, atol=0)


_ATT_SIZES = [(8, 5, 7, 11), (16, 32, 64, 42), (3, 9, 4, 6), (12, 1, 2, 30)]


def check_attention_params(attention_params):
    """Exercise "The parameters attention adds": `attention_params(n_e, n_enc, n_dec,
    n_phones)` -> an integer.

    The reference counts PyTorch's parameters of the lesson's model with and without
    attention at sizes of its own; an answer that builds a model does not count.
    """
    _callable(attention_params, "attention_params")
    name = "parameters attention adds, at sizes of the check's own"
    try:
        with helper.refuse_to_build():
            answers = [attention_params(*sizes) for sizes in _ATT_SIZES]
    except helper.BuiltAModel as built:
        return _refuse(name, f"count from the sizes alone, without building a {built}")
    except Exception as exc:
        return _refuse(name, f"your function raised {type(exc).__name__}: {exc}")
    if any(a is None for a in answers):
        return check(None, 0, name=name)
    Seq2Seq = helper.seq2seq_class()
    count = lambda m: sum(p.numel() for p in m.parameters())
    expected = [count(Seq2Seq(n_e, n_enc, n_dec, True, V)) - count(Seq2Seq(n_e, n_enc, n_dec, False, V))
                for n_e, n_enc, n_dec, V in _ATT_SIZES]
    return check(answers, expected, name=name, rtol=0, atol=0)
