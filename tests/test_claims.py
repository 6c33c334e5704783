"""Claims with their evidence: `helper.claim`, `helper.evidence`, scripts/claims.py, and
the rules every lesson follows so that its claims hold on every machine and seed."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import helper
from _shared import LESSONS, ROOT, load_script

claims_script = load_script("claims")


@pytest.fixture(autouse=True)
def fresh_page(monkeypatch):
    monkeypatch.delenv(helper.SEED_ENV, raising=False)
    monkeypatch.delenv(helper.CLAIMS_ENV, raising=False)
    helper.CLAIMS.clear()
    yield
    helper.CLAIMS.clear()


# --- seeds -------------------------------------------------------------------------

def test_seeds_are_moved_by_the_offset(monkeypatch):
    first = helper.np_rng(3).normal(size=4)
    monkeypatch.setenv(helper.SEED_ENV, "1000")
    assert helper.seeded(3) == 1003
    assert not np.allclose(helper.np_rng(3).normal(size=4), first)
    np.testing.assert_array_equal(helper.np_rng(3).normal(size=4),
                                  np.random.default_rng(1003).normal(size=4))


def test_torch_generators_and_global_seed_are_moved(monkeypatch):
    import torch

    monkeypatch.setenv(helper.SEED_ENV, "7")
    a = torch.rand(3, generator=helper.torch_gen(1))
    assert torch.equal(a, torch.rand(3, generator=torch.Generator().manual_seed(8)))
    helper.torch_seed(2)
    b = torch.rand(3)
    torch.manual_seed(9)
    assert torch.equal(b, torch.rand(3))


def test_a_bad_offset_names_the_variable(monkeypatch):
    monkeypatch.setenv(helper.SEED_ENV, "ten")
    with pytest.raises(ValueError, match=helper.SEED_ENV):
        helper.seeded(0)


def test_seed_everything_turns_tf32_off_and_starts_a_page():
    import torch

    torch.backends.cudnn.allow_tf32 = True
    helper.claim("a count", 3, ">", 2)
    helper.seed_everything(0)
    assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert helper.CLAIMS == []


# --- claim ---------------------------------------------------------------------------

def test_a_claim_records_mean_spread_and_margin():
    c = helper.claim("accuracy above 0.9", [0.95, 0.97, 0.96, 0.98, 0.94], ">", 0.9)
    assert c.n == 5 and math.isclose(c.mean, 0.96)
    assert math.isclose(c.sd, np.std([0.95, 0.97, 0.96, 0.98, 0.94], ddof=1))
    assert math.isclose(c.margin, 0.06) and c.margin_se > 3
    assert helper.CLAIMS == [c]


def test_a_claim_inside_three_standard_errors_fails():
    with pytest.raises(helper.ClaimFailed, match="standard errors"):
        helper.claim("barely above", [0.5, 0.7, 0.4, 0.8, 0.6], ">", 0.5)
    assert helper.CLAIMS == []


def test_a_claim_on_the_wrong_side_fails_with_its_numbers():
    with pytest.raises(helper.ClaimFailed, match=r"measured 3.*claimed < 2"):
        helper.claim("small", 3.0, "<", 2)


def test_a_claim_over_too_few_seeds_is_refused():
    with pytest.raises(ValueError, match="five or more"):
        helper.claim("three seeds", [1.0, 1.1, 0.9], ">", 0)


def test_a_claim_with_a_nan_fails():
    with pytest.raises(helper.ClaimFailed, match="not finite"):
        helper.claim("finite", [1.0, float("nan"), 1, 1, 1], ">", 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(what="", values=1, op=">", threshold=0), "what"),
    (dict(what="x", values=1, op="=>", threshold=0), "op"),
    (dict(what="x", values=[], op=">", threshold=0), "at least one"),
    (dict(what="x", values="a", op=">", threshold=0), "values"),
    (dict(what="x", values=1, op=">", threshold=float("inf")), "threshold"),
])
def test_wrong_arguments_get_a_clear_error(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        helper.claim(**kwargs)


def test_running_a_claim_again_replaces_it():
    helper.claim("the same", 1.0, ">", 0)
    helper.claim("the same", 2.0, ">", 0)
    assert [c.mean for c in helper.CLAIMS] == [2.0]


# --- evidence --------------------------------------------------------------------------

def test_evidence_is_a_folded_table_with_the_claims_as_json(tmp_path, monkeypatch):
    helper.claim("a < b", [1, 1.1, 0.9, 1, 1], "<", 2, over="seeds")
    helper.claim("exact </script> count", 4, ">=", 4)
    monkeypatch.setenv(helper.CLAIMS_ENV, str(tmp_path))
    table = helper.evidence("01_page")
    page = table._repr_html_()
    assert page.startswith('<details class="rnn-claims">') and "<table>" in page
    assert page.count("</script>") == 1  # the claim's own text cannot close the block
    found = claims_script.claims_in_html(page)
    assert [c["what"] for c in found] == ["a < b", "exact </script> count"]
    assert found[1]["margin"] == 0 and found[0]["n"] == 5
    written = json.loads((tmp_path / "01_page.json").read_text())
    assert written == found


def test_evidence_without_claims_says_so():
    with pytest.raises(ValueError, match="no claim"):
        helper.evidence("01_page")


# --- comparing runs --------------------------------------------------------------------

def _run(**margins):
    return {("p", what): {"page": "p", "what": what, "margin": m} for what, m in margins.items()}


def test_compare_names_a_claim_whose_margin_halved():
    problems = claims_script.compare(_run(a=1.0, b=0.2), {"seed-1000": _run(a=0.6, b=0.09)})
    assert len(problems) == 1 and "seed-1000" in problems[0] and "'b'" in problems[0]


def test_compare_names_a_missing_claim_and_a_new_one():
    problems = claims_script.compare(_run(a=1.0), {"vectorfree": _run(c=1.0)})
    assert any("'a' was not checked" in p for p in problems)
    assert any("'c' is not in the reference" in p for p in problems)


def test_compare_command_fails_on_a_shrunk_margin(tmp_path, capsys):
    for name, margin in (("native", 1.0), ("other", 0.3)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "p.json").write_text(json.dumps(
            [{"page": "p", "what": "w", "margin": margin}]))
    assert claims_script.main(["compare", str(tmp_path / "native"), str(tmp_path / "other")]) == 1
    assert "under 50%" in capsys.readouterr().err


# --- the lessons follow the rules ------------------------------------------------------

def _code(nb):
    return [("".join(c["source"]), c) for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_takes_every_seed_from_helper(path):
    nb = json.loads(path.read_text("utf-8"))
    direct = re.compile(r"default_rng\(|manual_seed\(|np\.random\.seed\(|random\.seed\(")
    for source, _ in _code(nb):
        for line in source.splitlines():
            assert not direct.search(line), f"{path.name}: seed it through helper: {line.strip()}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_page_runs_another_page(path):
    for source, _ in _code(json.loads(path.read_text("utf-8"))):
        assert "%run" not in source, f"{path.name} runs another notebook"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_page_ends_with_its_evidence_table(path):
    cells = json.loads(path.read_text("utf-8"))["cells"]
    last = cells[-1]
    assert last["cell_type"] == "code", f"{path.name}: the last cell must show the evidence"
    assert "".join(last["source"]).strip() == f'evidence("{path.stem}")', path.name
    assert "remove-input" in last["metadata"].get("tags", []), path.name
    assert any("rnn-claims" in "".join(o.get("data", {}).get("text/html", ""))
               for o in last.get("outputs", [])), f"{path.name}: saved without its table"


def test_checks_take_their_seeds_from_helper():
    direct = re.compile(r"default_rng\(|manual_seed\(|np\.random\.seed\(")
    for path in sorted((ROOT / "checks").glob("*.py")):
        for line in path.read_text("utf-8").splitlines():
            assert not direct.search(line), f"{path.name}: {line.strip()}"


def test_the_built_book_lists_every_pages_claims(site_dir):
    claims = json.loads((site_dir / "claims.json").read_text("utf-8"))
    pages = {c["page"] for c in claims}
    assert pages == {p.stem for p in LESSONS}
    for c in claims:  # each as the evidence table shows it, on its side with room
        assert c["margin"] >= 0 and (c["n"] == 1 or c["margin_se"] is None or c["margin_se"] >= 3), c


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_a_cell_whose_output_is_compared_shows_no_claim(path):
    # nbval compares these cells' outputs in every run; a claim's numbers move with the seed
    for source, cell in _code(json.loads(path.read_text("utf-8"))):
        if "nbval-check-output" in cell["metadata"].get("tags", []):
            shown = json.dumps(cell.get("outputs", []), ensure_ascii=False)
            assert "; margin " not in shown, f"{path.name}: a compared cell shows a claim: {source[:80]}"
