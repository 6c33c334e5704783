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
    first_pages = {p for p in lessons if not p.endswith("_part2")}
    assert first_pages <= pages, f"lessons that teach no term: {sorted(first_pages - pages)}"
    assert pages <= lessons, f"terms on pages that do not exist: {sorted(pages - lessons)}"


@pytest.mark.parametrize("term", sorted(TERMS))
def test_the_term_points_at_a_section_of_its_page(term):
    page, heading = TERMS[term]
    assert heading in headings(page), f"{term!r}: {page} has no heading {heading!r}"


def test_the_search_index_puts_each_term_at_its_section():
    index = (ROOT / "_build" / "html" / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(index[index.index("(") + 1: index.rindex(")")])
    entries = data["indexentries"]
    for term, (page, _) in TERMS.items():
        found = entries.get(term.lower())
        assert found, f"{term!r} is not in the search index (run make book)"
        docs = {data["docnames"][file] for file, _, main in found if main}
        assert page in docs, f"{term!r} points at {docs}, not {page}"
