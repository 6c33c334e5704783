"""Sphinx extension: the section that teaches a term comes first in the search.

Sphinx's search ranks a page by the words it contains, so "forget gate" found lesson 3,
which mentions it, before lesson 5, which teaches it. book/terms.yml names, for each term
the book teaches, the page and the heading of the section that teaches it. This extension

- finds that section while Sphinx reads the page, and keeps its anchor in the build's
  environment (so an incremental build keeps every page's terms);
- writes them, once the build ends, to `_static/course_terms.js` (`COURSE_TERMS`), which
  every page loads; book/_static/course.js gives Sphinx's search a scorer that puts the
  page and section that teach the query's term above every other result;
- adds a main index entry for each term at its section, so the book's index
  (genindex.html) lists them.

A term whose page or heading is not found is a build warning, which `make book` (-W)
turns into an error, so the list cannot go stale without anyone noticing.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)
TERMS = "book/terms.yml"
SCRIPT = "course_terms.js"


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


def _anchors(env) -> dict:
    if not hasattr(env, "course_term_anchors"):
        env.course_term_anchors = {}  # {docname: {term: section id}}, kept between builds
    return env.course_term_anchors


def _purge(app, env, docname) -> None:
    _anchors(env).pop(docname, None)


def _add_entries(app: Sphinx, doctree) -> None:
    docname = app.env.docname
    found = {}
    for term, (page, heading) in load_terms(app.srcdir).items():
        if page != docname:
            continue
        section = _section_titled(doctree, heading)
        if section is None:
            logger.warning(f"{TERMS}: {term!r}: no section titled {heading!r} in {page}",
                           location=docname)
            continue
        found[term] = section["ids"][0]
        entry = addnodes.index(entries=[("single", term, section["ids"][0], "main", None)])
        section.insert(1, entry)  # after the title
    if found:
        _anchors(app.env)[docname] = found


def _check_pages(app: Sphinx, env, docnames) -> None:
    pages = {page for page, _ in load_terms(app.srcdir).values()}
    for page in sorted(pages - set(env.found_docs)):
        logger.warning(f"{TERMS}: no page {page!r}")


def _outdated(app, env, added, changed, removed):
    """The pages that teach a term are read again when book/terms.yml changes."""
    now = (Path(app.srcdir) / TERMS).stat().st_mtime
    before = getattr(env, "course_terms_mtime", None)
    env.course_terms_mtime = now
    if before is None or before == now:
        return []
    return sorted({page for page, _ in load_terms(app.srcdir).values()} & set(env.found_docs))


def terms_script(anchors: dict) -> str:
    """The JavaScript that maps each term (lower case) to [page, section id]."""
    table = {term.lower(): [docname, anchor]
             for docname, terms in sorted(anchors.items()) for term, anchor in sorted(terms.items())}
    return "var COURSE_TERMS = " + json.dumps(table, indent=0, sort_keys=True) + ";\n"


def _write_script(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / SCRIPT).write_text(terms_script(_anchors(app.env)), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _check_pages)
    app.connect("env-purge-doc", _purge)
    app.connect("doctree-read", _add_entries)
    app.connect("build-finished", _write_script)
    app.add_js_file(SCRIPT, priority=400)  # before course.js, which reads it
    return {"version": "1.1", "parallel_read_safe": False, "parallel_write_safe": True}
