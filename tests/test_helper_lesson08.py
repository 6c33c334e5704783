"""Lesson 8's exercise checks (checks/lesson08.py): right answers pass, wrong ones fail;
helper.py's lesson 8 section does what the pages say; the recorded long run is not stale.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import helper
from checks.lesson08 import (check_attention_params, check_beam_step, check_edit_distance,
                             check_masked_softmax)

ROOT = Path(__file__).resolve().parent.parent


# -- right answers ---------------------------------------------------------------------

def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i]
        for j in range(1, len(b) + 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])))
        prev = row
    return prev[-1]


def masked_softmax_np(scores, lengths):
    real = np.arange(scores.shape[-1])[None] < np.asarray(lengths)[:, None]
    z = np.where(real[:, None], scores, -np.inf)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def beam_step_one(scores, log_p, width):
    total = (np.asarray(scores)[:, None] + log_p).ravel()
    best = np.argsort(-total)[:width]
    return total[best], best // log_p.shape[1], best % log_p.shape[1]


def attention_params(n_e, n_enc, n_dec, n_phones):
    return 2 * n_enc * n_dec + (n_dec + 2 * n_enc) * n_dec + n_dec


def row_softmax(z):
    # a helper of the learner's own, from np.exp (a comment may say torch.softmax)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def masked_softmax_with_own_helper(scores, lengths):   # review 08, finding 6
    """Like torch's softmax, but in NumPy."""
    def pad_to_minus_inf(s, n):
        return np.where(np.arange(s.shape[-1]) < n, s, -np.inf)
    return np.stack([row_softmax(pad_to_minus_inf(s, n)) for s, n in zip(scores, lengths)])


def masked_softmax_in_a_loop(scores, lengths):
    out = np.zeros_like(scores)
    for b, n in enumerate(lengths):
        real = scores[b, :, :n]
        w = np.exp(real - real.max(axis=1)[:, None])
        out[b, :, :n] = w / w.sum(axis=1)[:, None]
    return out


def edit_distance_full_table(a, b):        # the whole table, not one row
    D = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    D[:, 0], D[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            D[i, j] = min(D[i - 1, j] + 1, D[i, j - 1] + 1, D[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    return int(D[-1, -1])


@pytest.mark.parametrize("check, answer", [
    (check_edit_distance, edit_distance), (check_masked_softmax, masked_softmax_np),
    (check_beam_step, beam_step_one), (check_attention_params, attention_params),
    (check_masked_softmax, masked_softmax_with_own_helper),
    (check_masked_softmax, masked_softmax_in_a_loop),
    (check_edit_distance, edit_distance_full_table)])
def test_check_accepts_a_right_answer(strict, check, answer):
    assert check(answer).ok


# -- wrong answers ---------------------------------------------------------------------

def substitution_costs_two(a, b):          # insert + delete: another distance
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i]
        for j in range(1, len(b) + 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + 2 * (a[i - 1] != b[j - 1])))
        prev = row
    return prev[-1]


def rows_start_at_zero(a, b):              # forgets D[i, 0] = i
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [0]
        for j in range(1, len(b) + 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])))
        prev = row
    return prev[-1]


def hamming_plus_length(a, b):             # position by position
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def helper_edit_distance(a, b):
    return helper.edit_distances([tuple(a)], [tuple(b)])[0]


_ed, _bs, _sm = helper.edit_distance, helper.beam_step, torch.softmax   # aliases, as
# `from helper import edit_distance as _ed` would make them


def helper_edit_distance_aliased(a, b):    # review 08, finding 7
    return _ed(a, b)


def torch_softmax_aliased(scores, lengths):
    s = torch.as_tensor(scores)
    mask = torch.arange(s.shape[-1])[None] < torch.as_tensor(lengths)[:, None]
    return _sm(s.masked_fill(~mask[:, None], float("-inf")), -1).numpy()


def softmax_without_max(scores, lengths):  # overflows on large scores
    real = np.arange(scores.shape[-1])[None] < np.asarray(lengths)[:, None]
    e = np.exp(np.where(real[:, None], scores, -np.inf))
    return e / e.sum(-1, keepdims=True)


def max_over_padding_too(scores, lengths):  # the padding's garbage is the max
    real = np.arange(scores.shape[-1])[None] < np.asarray(lengths)[:, None]
    e = np.exp(scores - scores.max(-1, keepdims=True)) * real[:, None]
    return e / e.sum(-1, keepdims=True)


def softmax_without_mask(scores, lengths):
    e = np.exp(scores - scores.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def page_cell_renamed(scores, lengths):
    # the second page's cell (masked_fill, softmax) with its names changed, on a mask
    s = torch.as_tensor(scores)
    mask = torch.arange(s.shape[-1])[None] < torch.as_tensor(lengths)[:, None]
    return s.masked_fill(~mask[:, None], float("-inf")).softmax(-1).numpy()


def best_symbol_per_prefix(scores, log_p, width):   # one extension per prefix
    total = np.asarray(scores)[:, None] + log_p
    sym = total.argmax(1)
    best = total.max(1)
    order = np.argsort(-best)[:width]
    return best[order], order, sym[order]


def ignores_prefix_scores(scores, log_p, width):
    flat = log_p.ravel()
    best = np.argsort(-flat)[:width]
    return flat[best], best // log_p.shape[1], best % log_p.shape[1]


def calls_helper_aliased(scores, log_p, width):
    s, p, v = _bs(torch.as_tensor(log_p)[None], torch.as_tensor(scores)[None], width)
    return s[0].numpy(), p[0].numpy(), v[0].numpy()


def worst_first(scores, log_p, width):
    s, p, v = beam_step_one(scores, log_p, width)
    return s[::-1], p[::-1], v[::-1]


def calls_helper(scores, log_p, width):
    s, p, v = helper.beam_step(torch.as_tensor(log_p)[None], torch.as_tensor(scores)[None], width)
    return s[0].numpy(), p[0].numpy(), v[0].numpy()


def one_direction(n_e, n_enc, n_dec, n_phones):
    return n_enc * n_dec + (n_dec + n_enc) * n_dec + n_dec


def without_bias(n_e, n_enc, n_dec, n_phones):
    return 2 * n_enc * n_dec + (n_dec + 2 * n_enc) * n_dec


def score_with_bias(n_e, n_enc, n_dec, n_phones):
    return attention_params(n_e, n_enc, n_dec, n_phones) + n_dec


def count_by_building(n_e, n_enc, n_dec, n_phones):
    S = helper.seq2seq_class()
    n = lambda m: sum(p.numel() for p in m.parameters())
    return n(S(n_e, n_enc, n_dec, True, n_phones)) - n(S(n_e, n_enc, n_dec, False, n_phones))


@pytest.mark.parametrize("check, answer", [
    (check_edit_distance, substitution_costs_two), (check_edit_distance, rows_start_at_zero),
    (check_edit_distance, hamming_plus_length), (check_edit_distance, helper_edit_distance),
    (check_edit_distance, helper.edit_distance), (check_edit_distance, helper_edit_distance_aliased),
    (check_masked_softmax, torch_softmax_aliased), (check_masked_softmax, page_cell_renamed),
    (check_beam_step, calls_helper_aliased),
    (check_masked_softmax, softmax_without_max), (check_masked_softmax, max_over_padding_too),
    (check_masked_softmax, softmax_without_mask),
    (check_beam_step, best_symbol_per_prefix), (check_beam_step, ignores_prefix_scores),
    (check_beam_step, worst_first), (check_beam_step, calls_helper),
    (check_attention_params, one_direction), (check_attention_params, without_bias),
    (check_attention_params, score_with_bias), (check_attention_params, count_by_building)])
def test_check_rejects_a_wrong_answer(friendly, check, answer):
    assert not check(answer).ok


def test_a_renamed_visible_cell_fails_and_the_solution_passes(friendly):
    # issue 21: the second page's masked softmax cell (torch), renamed, does not answer the
    # NumPy exercise; the solution, which takes the maximum over the real letters, does
    assert not check_masked_softmax(page_cell_renamed).ok
    assert check_masked_softmax(masked_softmax_np).ok


def test_strict_mode_raises_on_a_wrong_answer(strict):
    with pytest.raises(helper.WrongAnswer):
        check_edit_distance(substitution_costs_two)


def test_an_unanswered_exercise_is_not_right(friendly):
    assert not check_edit_distance(lambda a, b: None).ok
    assert not check_attention_params(lambda *sizes: None).ok


STUB = helper.STOP_MESSAGE   # what the student edition's answer cell raises


def test_the_student_stub_stops_with_not_answered():
    def stub(a, b):
        raise NotImplementedError(STUB)
    with pytest.raises(helper.NotAnswered):
        check_edit_distance(stub)


@pytest.mark.parametrize("check, arg", [
    (check_edit_distance, "edit_distance"), (check_masked_softmax, "masked_softmax_np"),
    (check_beam_step, "beam_step_one"), (check_attention_params, "attention_params")])
def test_a_value_instead_of_a_function_names_the_argument(check, arg):
    with pytest.raises(TypeError, match=arg):
        check(42)


# -- helper.py's lesson 8 section --------------------------------------------------------

def test_g2p_data_splits_by_word_and_strips_stress():
    cmu = {"CAT": ["K AE1 T"], "DOG": ["D AO1 G"], "BOX": ["B AA1 K S"], "A": ["AH0"],
           "X-RAY": ["EH1 K S R EY2"], "QUEUE": ["K Y UW1"]}
    d = helper.g2p_data(cmu, n_test=1)
    assert d.words == ["BOX", "CAT", "DOG", "QUEUE"]          # 2+ letters, A-Z only
    assert d.phones[0] == ("B", "AA", "K", "S")
    assert not set(d.train) & set(d.test) and len(d.train) + len(d.test) == 4


def test_vectorised_edit_distances_match_the_definition():
    gen = np.random.default_rng(0)  # a fixed test case: no lesson's claim
    A = [tuple(gen.integers(4, size=gen.integers(0, 9))) for _ in range(400)]
    B = [tuple(gen.integers(4, size=gen.integers(0, 9))) for _ in range(400)]
    assert helper.edit_distances(A, B).tolist() == [helper.edit_distance(a, b) for a, b in zip(A, B)]
    H = np.array([[1, 2, 3], [3, 3, 3]]); R = np.array([[1, 2], [3, 1], [2, 2]])
    grid = helper._edit_grid(H, R)
    assert grid.tolist() == [[helper.edit_distance(h, r) for r in R.tolist()] for h in H.tolist()]


def test_per_and_wer():
    per, wer = helper.per_wer([("A", "B"), ("C",)], [("A", "B"), ("D", "E")])
    assert per == pytest.approx(2 / 4) and wer == 0.5


def _tiny():
    cmu = {w: [" ".join(p)] for w, p in
           {"CAT": "K AE1 T".split(), "CATS": "K AE1 T S".split(), "BAT": "B AE1 T".split(),
            "BOX": "B AA1 K S".split(), "TAX": "T AE1 K S".split(), "TAB": "T AE1 B".split()}.items()}
    return helper.g2p_data(cmu, n_test=1, seed=0)


def test_nearest_spelling_takes_the_closest_training_word_with_the_same_first_letter():
    d = _tiny()
    idx = np.array([d.words.index("CATS")])
    pool = np.array([d.words.index(w) for w in ["CAT", "BAT", "TAX", "TAB"]])
    assert helper.nearest_spelling(d, idx, pool) == [("K", "AE", "T")]
    pool = np.array([d.words.index(w) for w in ["BAT", "TAX"]])   # no C word: nothing
    assert helper.nearest_spelling(d, idx, pool) == [()]


def test_masked_softmax_gives_the_padding_exactly_zero():
    scores = torch.tensor([[[1.0, 2.0, 50.0]]])
    w = helper.masked_softmax(scores, torch.tensor([[[True, True, False]]]))
    assert w[0, 0, 2] == 0 and torch.isclose(w.sum(), torch.tensor(1.0))


def test_the_model_answers_the_same_alone_and_in_a_batch():
    d = _tiny()
    t = helper.G2PTensors(d)
    m = helper.new_seq2seq(0, n_e=4, n_enc=5, n_dec=6, n_phones=t.n_phones).double()
    idx = np.arange(len(d.words))
    together = helper.transcribe(m, t, idx)
    alone = [helper.transcribe(m, t, np.array([k]))[0] for k in idx]
    assert together == alone


def test_beam_of_width_one_is_greedy_and_beam_step_is_the_best_extensions():
    d = _tiny()
    t = helper.G2PTensors(d)
    m = helper.new_seq2seq(1, n_e=4, n_enc=5, n_dec=6, n_phones=t.n_phones)
    idx = np.arange(len(d.words))
    assert helper.transcribe(m, t, idx, beam=1) == helper.transcribe(m, t, idx)
    log_p = torch.log_softmax(torch.randn(1, 2, 5, generator=torch.Generator().manual_seed(0)), -1)
    scores = torch.tensor([[-0.5, -1.0]])
    s, parent, sym = helper.beam_step(log_p, scores, 3)
    total = (scores[0, :, None] + log_p[0]).ravel()
    torch.testing.assert_close(s[0], total.sort(descending=True).values[:3])
    torch.testing.assert_close(s[0], scores[0, parent[0]] + log_p[0, parent[0], sym[0]])


def test_scheduled_sampling_keeps_every_true_input_at_probability_one():
    d = _tiny()
    t = helper.G2PTensors(d)
    m = helper.new_seq2seq(0, n_e=4, n_enc=5, n_dec=6, n_phones=t.n_phones)
    batch = t.batch(np.arange(len(d.words)))
    assert torch.equal(helper.sampled_inputs(m, batch, 1.0, helper.torch_gen(0)), batch[2])
    mixed = helper.sampled_inputs(m, batch, 0.0, helper.torch_gen(0))
    assert torch.equal(mixed[:, 0], batch[2][:, 0])                 # the start symbol stays
    assert torch.equal(mixed == 0, batch[2] == 0)                   # the padding stays


# -- the recorded runs -------------------------------------------------------------------

def _script():
    spec = importlib.util.spec_from_file_location("lesson08_long_run",
                                                  ROOT / "scripts" / "lesson08_long_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted((ROOT / "results").glob("lesson08_*.json")),
                         ids=lambda p: p.name)
def test_a_recorded_run_was_made_by_the_code_as_it_is(path):
    record = json.loads(path.read_text())
    for key in ("date", "device", "command", "seed_offset", "code_sha256", "runs"):
        assert key in record, f"{path.name} lacks {key}"
    assert record["code_sha256"] == _script().code_hash(), (
        f"{path.name} was recorded with other code (helper.py's lesson 8 section or "
        f"scripts/lesson08_long_run.py changed since): run `{record['command']}` again")


def test_the_bench_record_exists():
    assert (ROOT / "results" / "lesson08_bench.json").exists()


def test_the_code_hash_changes_when_the_section_changes(monkeypatch):
    script = _script()
    before = script.code_hash()
    real = script.helper_section
    monkeypatch.setattr(script, "helper_section", lambda: real() + "\n# an edit")
    assert script.code_hash() != before
