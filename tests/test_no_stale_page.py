"""No stale page: a change to code a lesson imports changes the built page.

Two things kept old outputs on the website after an edit to helper.py alone: Jupyter
Book's execution cache is keyed on a notebook's code cells, and Sphinx re-reads only
the source files that changed. The book now executes the lessons it reads (MyST-NB's
`inline` mode, which also evaluates the prose's `{eval}` numbers), and the project's
extension scripts/execution_deps.py makes Sphinx re-read a notebook when a module of the
project that it imports changes. This test builds a one-page book with the project's own
execution settings and extension twice, changing only a module the page imports, and
checks that the second page shows the new value in both the output and the prose.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def project_execution_settings() -> dict:
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    sphinx = config.get("sphinx", {}).get("config", {})
    return {
        "execute": config.get("execute", {}),
        "nb_execution_mode": sphinx.get("nb_execution_mode"),
        "nb_eval_name_regex": sphinx.get("nb_eval_name_regex"),
        "local_extensions": config.get("sphinx", {}).get("local_extensions", {}),
    }


def test_the_project_does_not_use_the_code_keyed_cache():
    settings = project_execution_settings()
    assert settings["nb_execution_mode"] == "inline", settings


def test_imports_of_project_modules_are_found():
    sys.path.insert(0, str(ROOT / "scripts"))
    from execution_deps import local_modules

    code = "import numpy as np\nfrom helper import check\nfrom checks.lesson01 import x\n"
    found = {p.relative_to(ROOT).as_posix() for p in local_modules(code, ROOT)}
    assert "helper.py" in found and "checks/__init__.py" in found
    assert not any("numpy" in f for f in found)


def test_a_second_page_depends_on_what_it_imports_not_on_its_first_page():
    sys.path.insert(0, str(ROOT / "scripts"))
    from execution_deps import dependencies, notebook_code

    for second in sorted((ROOT / "lessons").glob("*_part[0-9]*.ipynb")):
        first = second.with_name(re.sub(r"_part\d+", "", second.name))
        found = dependencies(notebook_code(second), second.parent, ROOT)
        assert first.resolve() not in found, second.name  # no page runs another page
        assert (ROOT / "helper.py") in found, second.name


def _page(value_line: str) -> dict:
    md = {"cell_type": "markdown", "metadata": {}, "source": ["# Page\n\nValue: {eval}`mod.VALUE`\n"]}
    code = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": ["import mod\n", "print('printed', mod.VALUE)\n"]}
    return {"cells": [code, md], "metadata": {"kernelspec": {
        "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5}


def _build(book: Path) -> str:
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(book), "--warningiserror", "--quiet"],
                   check=True, capture_output=True, text=True, timeout=300, cwd=book)
    return (book / "_build" / "html" / "page.html").read_text("utf-8")


def test_changing_an_imported_module_changes_the_built_page(tmp_path):
    settings = project_execution_settings()
    book = tmp_path / "book"
    book.mkdir()
    assert "execution_deps" in settings["local_extensions"], settings
    config = {"title": "t", "execute": settings["execute"], "sphinx": {
        "local_extensions": {"execution_deps": str(ROOT / "scripts")}, "config": {
        "nb_execution_mode": settings["nb_execution_mode"],
        "nb_eval_name_regex": settings["nb_eval_name_regex"] or r"^.+$"}}}
    (book / "_config.yml").write_text(yaml.safe_dump(config), "utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n", "utf-8")
    (book / "page.ipynb").write_text(json.dumps(_page("")), "utf-8")
    (book / "mod.py").write_text("VALUE = 'first-value'\n", "utf-8")
    first = _build(book)
    assert "printed first-value" in first and "first-value" in first.split("Value:")[1]
    (book / "mod.py").write_text("VALUE = 'second-value'\n", "utf-8")
    shutil.rmtree(book / "__pycache__", ignore_errors=True)
    second = _build(book)
    assert "printed second-value" in second, "the code cell's output is stale"
    assert "second-value" in second.split("Value:")[1], "the prose's {eval} is stale"
