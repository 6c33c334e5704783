"""book/terms.yml: each term the book teaches points at the section that teaches it, and
the built search index ranks that section first (scripts/teaches.py)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("teaches", ROOT / "scripts" / "teaches.py")
teaches = importlib.util.module_from_spec(spec)
spec.loader.exec_module(teaches)
TERMS = teaches.load_terms(ROOT)


def headings(page: str) -> set[str]:
    source = ROOT / f"{page}.ipynb"
    text = source.read_text(encoding="utf-8") if source.suffix else ""
    cells = json.loads(text)["cells"]
    found = set()
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                match = re.match(r"#+\s+(.*)", line)
                if match:
                    # as Sphinx shows it: code spans and $math$ keep their text only
                    found.add(" ".join(re.sub(r"[`$]", "", match.group(1)).split()))
    return found


def test_every_lesson_teaches_some_term():
    pages = {page for page, _ in TERMS.values()}
    lessons = {f"lessons/{p.stem}" for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")}
    first_pages = {p for p in lessons if not re.search(r"_part\d+$", p)}
    assert first_pages <= pages, f"lessons that teach no term: {sorted(first_pages - pages)}"
    assert pages <= lessons, f"terms on pages that do not exist: {sorted(pages - lessons)}"


@pytest.mark.parametrize("term", sorted(TERMS))
def test_the_term_points_at_a_section_of_its_page(term):
    page, heading = TERMS[term]
    assert heading in headings(page), f"{term!r}: {page} has no heading {heading!r}"


def test_the_built_site_maps_each_term_to_its_section():
    """_static/course_terms.js (the search's scorer reads it) names, for every term, its
    page and the id of a section that exists on that page."""
    script = (ROOT / "_build" / "html" / "_static" / teaches.SCRIPT).read_text(encoding="utf-8")
    table = json.loads(script[script.index("=") + 1: script.rindex(";")])
    for term, (page, _) in TERMS.items():
        assert term.lower() in table, f"{term!r} is not in {teaches.SCRIPT} (run make book)"
        docname, anchor = table[term.lower()]
        assert docname == page, f"{term!r} points at {docname}, not {page}"
        html = (ROOT / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8")
        assert f'id="{anchor}"' in html, f"{term!r}: {page}.html has no section #{anchor}"


def test_the_terms_script_is_lower_case_and_sorted():
    script = teaches.terms_script({"b": {"GRU": "the-gru-cell"}, "a": {"forget gate": "x"}})
    table = json.loads(script[script.index("=") + 1: script.rindex(";")])
    assert table == {"gru": ["b", "the-gru-cell"], "forget gate": ["a", "x"]}
