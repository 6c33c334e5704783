"""Sphinx extension: the section that teaches a term comes first in the search.

Sphinx's search ranks a page by the words it contains, so "forget gate" found lesson 3,
which mentions it, before lesson 5, which teaches it. book/terms.yml names, for each term
the book teaches, the page and the heading of the section that teaches it. This extension
adds a main index entry for the term at that section: Sphinx's search puts an index entry
above every full-text match, and the book's index (genindex.html) lists the terms. A term
whose page or heading is not found is a build warning, which `make book` (-W) turns into
an error, so the list cannot go stale without anyone noticing.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
TERMS = "book/terms.yml"


def load_terms(srcdir) -> dict[str, tuple[str, str]]:
    """{term: (docname, heading)} from book/terms.yml."""
    path = Path(srcdir) / TERMS
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = {}
    for term, where in raw.items():
        if not (isinstance(where, list) and len(where) == 2):
            raise ValueError(f"{TERMS}: {term!r} must be [page, heading], got {where!r}")
        terms[str(term)] = (str(where[0]), str(where[1]))
    return terms


def _section_titled(doctree, heading):
    for section in doctree.findall(nodes.section):
        title = section.next_node(nodes.title)
        if title is not None and " ".join(title.astext().split()) == heading and section["ids"]:
            return section
    return None


def _add_entries(app: Sphinx, doctree) -> None:
    docname = app.env.docname
    for term, (page, heading) in app.env.course_terms.items():
        if page != docname:
            continue
        section = _section_titled(doctree, heading)
        if section is None:
            logger.warning(f"{TERMS}: {term!r}: no section titled {heading!r} in {page}",
                           location=docname)
            continue
        entry = addnodes.index(entries=[("single", term, section["ids"][0], "main", None)])
        section.insert(1, entry)  # after the title


def _load(app: Sphinx, env, docnames) -> None:
    env.course_terms = load_terms(app.srcdir)
    pages = {page for page, _ in env.course_terms.values()}
    for page in sorted(pages - set(env.found_docs)):
        logger.warning(f"{TERMS}: no page {page!r}")


def _outdated(app, env, added, changed, removed):
    """Pages that teach a term are read again when book/terms.yml is newer than the build."""
    path = Path(app.srcdir) / TERMS
    stamp = getattr(env, "course_terms_mtime", None)
    now = path.stat().st_mtime
    env.course_terms_mtime = now
    if stamp is None or stamp == now:
        return []
    return sorted({page for page, _ in load_terms(app.srcdir).values()} & set(env.found_docs))


def setup(app: Sphinx) -> dict:
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _load)
    app.connect("doctree-read", _add_entries)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
