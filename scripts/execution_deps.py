"""Sphinx extension: a lesson is executed again when code it imports changes.

Sphinx re-reads (and MyST-NB re-executes) only the source files that changed since the
last build, so after an edit to helper.py alone `make book` kept every lesson's old
outputs. This extension records, for every notebook, a dependency on each module of the
project it imports (`helper.py`, `checks/lesson03.py`, ...), found by reading the
notebook's import lines; Sphinx then re-reads a notebook whenever one of those files is
newer than the last build. (No page runs another page: a lesson's second page imports
what it shares with its first page from helper.py.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sphinx.application import Sphinx

IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)


def local_modules(code: str, root: Path) -> set[Path]:
    """The project's files that `code` imports (modules and packages under root)."""
    found = set()
    for match in IMPORT.finditer(code):
        parts = (match.group(1) or match.group(2)).split(".")
        for depth in range(1, len(parts) + 1):
            base = root.joinpath(*parts[:depth])
            for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                if candidate.is_file():
                    found.add(candidate)
    return found


def notebook_code(path: Path) -> str:
    """The code cells of the notebook at `path`, joined."""
    cells = json.loads(path.read_text("utf-8"))["cells"]
    return "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")


def dependencies(code: str, folder: Path, root: Path) -> set[Path]:
    """The project's files that `code` (of a notebook in `folder`) needs: the modules it
    imports (helper.py, checks/...)."""
    return set(local_modules(code, root))


def _note_imports(app: Sphinx, docname: str, source: list) -> None:
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    try:
        cells = json.loads(source[0])["cells"]
    except (ValueError, KeyError, TypeError):
        return
    code = "\n".join("".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    for module in sorted(dependencies(code, path.parent, Path(app.srcdir))):
        app.env.note_dependency(str(module))


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _note_imports)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
