"""Sphinx extension: keep the values the book's `{eval}` roles showed, for the slides.

MyST-NB's inline mode runs each lesson in a kernel while it reads the page, and each
`{eval}` role asks that kernel for one expression's value. This extension records every
answer, in the order the page asked, into `_build/evals/<notebook stem>.json`, together
with the SHA-256 of the notebook the values came from. `scripts/slides.py` reads it, so
`make slides` after `make book` shows the website's numbers without running any lesson
again. A page Sphinx does not re-read keeps its file, which still matches its unchanged
notebook; a notebook edited after the build no longer matches, and the slides run it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from sphinx.application import Sphinx

_recorded: dict[str, list[list[str]]] = {}
_QUOTED = re.compile(r"^([\"']).*\1$")  # MyST-NB strips these quotes from an {eval}'s text


def shown_text(outputs) -> str | None:
    """The text an `{eval}` role shows for a kernel's answer (text/plain, quotes off)."""
    for output in outputs:
        text = output.data.get("text/plain") if hasattr(output, "data") else None
        if text is not None:
            if _QUOTED.match(text):
                text = text[1:-1]
            return text
    return None


def _wrap_retrieve(app: Sphinx) -> None:
    from myst_nb.ext import eval as nb_eval

    original = nb_eval.retrieve_eval_data
    if getattr(original, "_records_for_slides", False):
        return

    def retrieve(document, key):
        outputs = original(document, key)
        docname = getattr(app.env, "docname", None)
        text = shown_text(outputs)
        if docname and text is not None:
            _recorded.setdefault(docname, []).append([key, text])
        return outputs

    retrieve._records_for_slides = True
    nb_eval.retrieve_eval_data = retrieve


def _start(app: Sphinx, env, docname: str) -> None:
    _recorded.pop(docname, None)


def _write(app: Sphinx, doctree) -> None:
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    folder = Path(app.outdir).parent / "evals"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"notebook": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
              "values": _recorded.pop(docname, [])}
    (folder / f"{path.stem}.json").write_text(json.dumps(record, indent=0), encoding="utf-8")


def recorded_values(nb, path, evals_dir):
    """The {eval} values the book build showed (scripts/eval_record.py), as {id(markdown cell): {expression: text}}
    (what scripts/slides.py and scripts/student.py use); None when there is no record for this very notebook (missing,
    or the notebook changed since the build) or it lacks an expression the deck needs."""
    record_path = Path(evals_dir) / f"{Path(path).stem}.json"
    if not record_path.is_file():
        return None
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if record.get("sha256") != hashlib.sha256(Path(path).read_bytes()).hexdigest():
        return None
    queues = {}
    for expression, text in record.get("values", []):
        queues.setdefault(expression, []).append(text)
    values = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for expression in re.findall(r"\{eval\}`([^`]*)`", cell.source):
            queue = queues.get(expression)
            if not queue:
                return None
            # The k-th time the lesson shows an expression, the k-th value the build recorded.
            values.setdefault(id(cell), {})[expression] = queue.pop(0)
    return values



def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _wrap_retrieve)
    app.connect("env-before-read-docs", lambda app, env, docnames: [_start(app, env, d) for d in docnames])
    app.connect("doctree-read", _write)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
