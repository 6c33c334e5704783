"""Every number the code computes reaches the prose from the code.

A lesson's markdown inserts computed numbers with MyST's inline `{eval}` role (the book
build and JupyterLab both evaluate it in the lesson's kernel). This test reads the
markdown of every lesson and fails on a literal number that is neither inside `{eval}`
nor allowed: lesson, chapter, exercise and figure numbers are allowed everywhere; a
lesson's setup numbers (a chosen period, "2 layers", an exercise's given sizes) are
allowed by that lesson's own short allow-list, the notebook metadata
`prose_numbers`: {"regular expression matching the phrase": "why it may stay literal"}.
Mathematics ($...$) is not scanned: a formula's 1, 2 and t - 1 are notation, and a
computed value is never written inside one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
MAX_ALLOWED = 25  # per lesson: an allow-list longer than this is no longer short

# Numbers that name a place in the book, not a result.
ALWAYS_ALLOWED = [
    r"\b[Ll]essons? \d+(?:(?:,| and| or| to|-)\s*\d+)*",
    r"\b[Cc]hapters? \d+(?:\.\d+)?",
    r"\b[Ee]rrat(?:um|a) \d+(?:(?:,| and| to)\s*\d+)*",
    r"\b[Ee]xercises? \d+(?:\.\d+)?",
    r"\b[Ff]igures? \d+(?:\.\d+)?",
    r"\b[Ss]ection \d+(?:\.\d+)?",
    r"\b[Qq]uestions? \d+",
]

NUMBER = re.compile(r"(?<![\w.\\/-])[-−]?\d+(?:[.,]\d+)*(?:[eE][-+−]?\d+)?(?![\w])")


def strip_markup(md: str) -> str:
    """The prose a reader reads, without code, math, roles' targets, links and labels."""
    md = re.sub(r"<!--.*?-->", " ", md, flags=re.S)
    md = re.sub(r"^(`{3,}|~{3,})(?!\{).*?^\1", " ", md, flags=re.S | re.M)  # code blocks
    md = re.sub(r"^\s*:[\w-]+:.*$", " ", md, flags=re.M)  # directive options (:label: ...)
    md = re.sub(r"^(`{3,}|:{3,})\{[\w:-]+\}.*$", " ", md, flags=re.M)  # directive lines
    md = re.sub(r"\{eval\}`[^`]*`", " ", md)  # computed numbers: inserted from the code
    md = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", md)  # {ref}`...`, {numref}`...`
    md = re.sub(r"`[^`]*`", " ", md)  # inline code
    md = re.sub(r"\$\$.*?\$\$", " ", md, flags=re.S)
    md = re.sub(r"(?<!\\)\$.*?(?<!\\)\$", " ", md, flags=re.S)
    md = re.sub(r"\\\(.*?\\\)", " ", md, flags=re.S)
    md = re.sub(r"\]\([^)]*\)", "]", md)  # link targets
    md = re.sub(r"https?://\S+", " ", md)
    md = re.sub(r"^\(?[\w-]+\)=\s*$", " ", md, flags=re.M)  # (label)= targets
    return md


def literal_numbers(md: str, allowed: dict | None = None) -> list[str]:
    """The literal numbers left in a markdown text once markup and allowed phrases go."""
    text = strip_markup(md)
    for pattern in ALWAYS_ALLOWED + list((allowed or {}).keys()):
        text = re.sub(pattern, " ", text)
    text = re.sub(r"^\s*\d+\.\s", " ", text, flags=re.M)  # an ordered list's "1. "
    return NUMBER.findall(text)


def lesson_markdown(path: Path):
    nb = json.loads(path.read_text("utf-8"))
    allowed = nb.get("metadata", {}).get("prose_numbers", {})
    # A cell tagged remove-cell is not prose: the website drops it, and JupyterLab reads
    # the one scripts/normalize_notebooks.py adds as front matter (exercise numbering).
    cells = [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "markdown"
             and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    return allowed, cells


# -- the rule itself, on planted text ----------------------------------------------

def test_a_typed_number_is_found():
    assert literal_numbers("The model has 361 parameters and a test MSE of 3.0e-5.") \
        == ["361", "3.0e-5"]


def test_an_inserted_number_is_not_flagged():
    assert literal_numbers("The model has {eval}`n_params` parameters.") == []


def test_markup_numbers_are_not_flagged():
    md = ("As lesson 3 showed (Exercise 2.1, {numref}`fig-02-echo`), $s_1 = x_1 W_x$, "
          "see [the notes](https://example.org/v2) and `nn.RNN(1, 10)`.\n\n"
          "```{exercise} Count\n:label: ex-01-count\n\nHow many?\n```\n")
    assert literal_numbers(md) == []


def test_an_allow_list_entry_allows_its_phrase_only():
    allowed = {r"\bperiod of 40 steps": "P = 40 in the setup cell"}
    assert literal_numbers("A period of 40 steps; 40 chunks.", allowed) == ["40"]


# -- every lesson -------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_number_is_typed_by_hand(path):
    allowed, cells = lesson_markdown(path)
    found = [f"cell {i}: {n!r} in “…{_context(md, n)}…”"
             for i, md in cells for n in literal_numbers(md, allowed)]
    assert not found, (f"{path.name}: numbers typed by hand (insert them with {{eval}}, "
                       f"or allow a setup number in metadata.prose_numbers):\n  "
                       + "\n  ".join(found))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_allow_list_is_short_explained_and_used(path):
    allowed, cells = lesson_markdown(path)
    assert len(allowed) <= MAX_ALLOWED, f"{path.name}: {len(allowed)} allowed phrases"
    prose = "\n".join(strip_markup(md) for _, md in cells)
    for pattern, why in allowed.items():
        assert isinstance(why, str) and len(why.strip()) >= 10, \
            f"{path.name}: allowed phrase {pattern!r} needs a reason"
        assert re.search(pattern, prose), \
            f"{path.name}: allowed phrase {pattern!r} no longer appears: remove it"


def _context(md: str, number: str) -> str:
    i = md.find(number)
    return md[max(0, i - 30): i + len(number) + 30].replace("\n", " ")
