"""JupyterLab (`make lab`): the lessons are normalized (scripts/normalize_notebooks.py), their
links work in Lab and on the website, and in a real JupyterLab the solutions are hidden until
clicked, the exercises are numbered like the website's, and nothing loads from outside.

The browser test starts JupyterLab on 127.0.0.1 (no token, its own settings, runtime and
workspace folders in a temporary directory) on a normalized copy of one lesson, and drives
Debian's Chromium with Playwright; every request that does not go to that server is
aborted and recorded. Without Chromium it skips (it fails in CI: tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from _shared import LESSONS, ROOT
from _shared import load_script as _load_script


normalize = _load_script("normalize_notebooks")
student = _load_script("student")


def lab_root() -> Path:
    """The folder `make lab-source` serves (the lessons' sources): the Makefile's `jupyter
    lab` line names it, or sets `--ServerApp.root_dir`."""
    recipe = re.search(r"^lab-source:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    line = next((l for l in recipe.group(1).splitlines() if "jupyter lab" in l), "") if recipe else ""
    root = re.search(r"root_dir[= ]\"?([^\s\"]+)", line)
    if root:
        return (ROOT / root.group(1).replace("$(CURDIR)", ".")).resolve()
    folder = re.search(r"jupyter lab\s+(?:--\S+\s+)*([^\s-][^\s]*)", line)
    return (ROOT / folder.group(1)).resolve() if folder else ROOT


def toc_files(root=ROOT) -> set[str]:
    """The documents of the website (_toc.yml's `file:` and `root:` entries, no extension)."""
    toc = root / "_toc.yml"
    text = toc.read_text() if toc.exists() else ""
    return set(re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", text, re.M))


# -- the lessons are normalized -------------------------------------------------------------

def test_lessons_are_normalized():
    """`python scripts/normalize_notebooks.py` has been run on every lesson: solutions
    hidden in Lab, Lab's kernelspec, nbgrader's metadata, Lab's exercise numbering."""
    assert normalize.main(["--check", *map(str, LESSONS)]) == 0, \
        "run `python scripts/normalize_notebooks.py` (the lessons are listed above)"


def test_normalize_is_idempotent_and_hides_every_solution_cell():
    nb = nbformat.read(LESSONS[0], 4)
    once = normalize.normalize(nbformat.from_dict(nb), 1)
    twice = normalize.normalize(nbformat.from_dict(once), 1)
    assert once == twice
    assert once.metadata.kernelspec == normalize.KERNELSPEC
    for _, span in normalize.solution_spans(once):
        for i in span:
            cell = once.cells[i]
            assert cell.metadata["jupyter"] == normalize.HIDDEN, cell.source[:60]
            if cell.cell_type == "markdown" and "{solution-" not in cell.source:
                assert cell.source.startswith("\n")  # the collapsed bar shows nothing of it
    answers = [c for c in once.cells if "BEGIN SOLUTION" in c.source]
    assert answers and all(c.metadata["nbgrader"]["solution"] for c in answers)
    assert once.cells[0].source.startswith("---\nnumbering:")
    assert "remove-cell" in once.cells[0].metadata["tags"]


def test_check_mode_reports_a_stale_notebook(tmp_path, capsys):
    stale = tmp_path / LESSONS[0].name
    nb = nbformat.read(LESSONS[0], 4)
    nb.metadata.kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, stale)
    assert normalize.main(["--check", str(stale)]) == 1
    assert stale.name in capsys.readouterr().err
    assert normalize.main([str(stale)]) == 0
    assert normalize.main(["--check", str(stale)]) == 0


def test_every_lab_extension_is_compatible_with_this_jupyterlab():
    """`jupyter labextension list` marks no extension "not compatible" (jupyterlab-myst is
    built against @jupyter/ydoc 3, which JupyterLab 4.6 no longer ships)."""
    done = subprocess.run([sys.executable, "-m", "jupyterlab.labextensions", "list"],
                          capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert "jupyterlab-myst" in text
    assert "not compatible" not in text and not re.search(r"enabled\s+X", text), text


# -- links between pages work in Lab and on the website ----------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")
DOC_ROLE = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`")


def lesson_links(path):
    """[(target, text of the link)] of a lesson's markdown cells, code excluded."""
    links = []
    for cell in nbformat.read(path, 4).cells:
        if cell.cell_type != "markdown":
            continue
        text = re.sub(r"^(`{3,}|~{3,})(?!\{).*?^\1", "", cell.source, flags=re.S | re.M)
        for match in DOC_ROLE.finditer(text):
            links.append(("{doc}" + match.group(1), match.group(0)))
        text = re.sub(r"\{[\w:-]+\}`[^`]*`", "", text)  # roles
        text = re.sub(r"`[^`\n]*`", "", text)  # inline code
        for match in LINK.finditer(text):
            links.append((match.group(1) or match.group(2), match.group(0)))
    return links


def broken_links(path, lab=None, root=ROOT):
    """What is wrong with each link of a lesson, as messages."""
    lab = lab or lab_root()
    problems = []
    for target, shown in lesson_links(path):
        if target.startswith("{doc}"):
            problems.append(f"{shown}: a {{doc}} role is a website-only link (JupyterLab shows "
                            f"no link): write a markdown link to the .ipynb/.md file instead")
            continue
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # https://..., mailto:, an anchor on the same page
        file_part = target.split("#", 1)[0]
        resolved = (path.parent / file_part).resolve()
        if not resolved.exists():
            problems.append(f"{shown}: {file_part} does not exist")
            continue
        if lab != resolved and lab not in resolved.parents:
            problems.append(f"{shown}: {file_part} is outside the folder `make lab` serves "
                            f"({lab.relative_to(root) if lab != root else '.'}), so Lab cannot open it")
        if resolved.suffix in (".ipynb", ".md"):
            doc = resolved.relative_to(root).with_suffix("").as_posix()
            if doc not in toc_files(root):
                problems.append(f"{shown}: {doc} is not a page of the website (_toc.yml)")
    return problems


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_link_works_in_lab_and_on_the_website(path):
    problems = broken_links(path)
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_the_link_checker_finds_broken_links(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "notation.md").write_text("# Notation")
    shutil.copy(LESSONS[0], lessons / LESSONS[0].name)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        f"[ok]({LESSONS[0].name}) [gone](99_missing.ipynb) [out](../book/notation.md) "
        "[web](https://example.org) {doc}`Lesson 3 <03_x>` `[code](not_a_link.ipynb)`")])
    path = lessons / "50_probe.ipynb"
    nbformat.write(nb, path)
    problems = broken_links(path, lab=lessons, root=tmp_path)
    text = "\n".join(problems)
    assert "99_missing.ipynb does not exist" in text
    assert "../book/notation.md is outside the folder" in text
    assert "{doc} role" in text
    assert "not_a_link" not in text and "example.org" not in text
    assert f"[ok]({LESSONS[0].name}): " in text  # exists, inside Lab, but not in this toc
    assert len(problems) == 5  # the notation page: outside Lab and not in the toc


# -- JupyterLab in a browser -----------------------------------------------------------------

LAB_SETTINGS = {
    # every cell in the DOM (Lab 4 otherwise renders only the cells near the viewport)
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news or update check: nothing to fetch from outside
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_lesson():
    """The lesson the browser test opens: the first with an exercise."""
    return next(p for p in LESSONS if "{solution-start}" in p.read_text(encoding="utf-8"))


@contextlib.contextmanager
def running_lab(home, served, *extra):
    """JupyterLab on 127.0.0.1 serving `served` (its settings, runtime and workspaces in
    `home`); yields its URL."""
    for rel, settings in LAB_SETTINGS.items():
        target = home / "settings" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               RNN_COURSE_STRICT="")
    port = _free_port()
    log = (home / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={served}",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *extra],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "api/status", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (home / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, browser):
    """JupyterLab on 127.0.0.1 serving a normalized copy of one lesson; yields (url, dir)."""
    home = tmp_path_factory.mktemp("lab")
    served = home / "lessons"
    served.mkdir()
    lesson = lab_lesson()
    nb = normalize.normalize(nbformat.read(lesson, 4), normalize.exercise_number(lesson))
    nbformat.write(nb, served / lesson.name)
    with running_lab(home, served) as url:
        yield url, lesson, nb


@contextlib.contextmanager
def lab_notebook(browser, url, name, n_cells):
    """Notebook `name` open in JupyterLab at `url`, every one of its `n_cells` cells in the
    page; every request that does not go to that server is aborted and recorded. Yields
    (page, problems)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems = {"external": [], "console": []}

    def route(route):
        if route.request.url.startswith((url, "data:", "blob:")):
            route.continue_()
        else:
            problems["external"].append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems["console"].append(msg.text))
    page.on("pageerror", lambda exc: problems["console"].append(f"uncaught: {exc}"))
    page.goto(url + f"lab/tree/{name}", wait_until="load")
    cells = page.locator(".jp-Notebook .jp-Cell")
    deadline = time.monotonic() + 90
    while cells.count() < n_cells and time.monotonic() < deadline:
        time.sleep(0.5)
    assert cells.count() == n_cells, "JupyterLab did not show every cell of the lesson"
    try:
        yield page, problems
    finally:
        context.close()


@pytest.fixture(scope="module")
def lab_page(browser, lab_server):
    """The lesson open in JupyterLab, every cell rendered; yields (page, nb, problems)."""
    url, lesson, nb = lab_server
    with lab_notebook(browser, url, lesson.name, len(nb.cells)) as (page, problems):
        if normalize.exercise_number(lesson) is not None:  # jupyterlab-myst has drawn the exercises
            page.get_by_text(re.compile(r"Exercise \d+\.1\b")).first.wait_for(timeout=60_000)
        yield page, nb, problems


def test_lab_hides_every_solution_cell(lab_page):
    page, nb, _ = lab_page
    cells = page.locator(".jp-Notebook .jp-Cell")
    hidden = [i for i, c in enumerate(nb.cells) if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden
    for i in hidden:
        cell = cells.nth(i)
        assert cell.locator(".jp-InputPlaceholder").count() == 1, f"cell {i} is not collapsed"
        assert cell.locator(".jp-InputArea").count() == 0, f"cell {i} shows its source"
        placeholder = cell.locator(".jp-InputPlaceholder").inner_text()
        for line in nb.cells[i].source.splitlines()[1:]:  # only the first line may show
            assert len(line.strip()) < 12 or line.strip() not in placeholder, f"cell {i}: {line}"
    for i, c in enumerate(nb.cells):
        if c.metadata.get("jupyter", {}).get("outputs_hidden") and c.get("outputs"):
            assert cells.nth(i).locator(".jp-OutputPlaceholder").count() == 1
    body = page.locator(".jp-Notebook").inner_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION"):
        assert marker not in body.replace("### BEGIN SOLUTION", "")  # the bar may show this line
    assert "Start of Solution" not in body  # jupyterlab-myst's box for {solution-start}


def test_lab_numbers_exercises_like_the_website(lab_page):
    page, nb, _ = lab_page
    number = normalize.exercise_number(lab_lesson())
    count = sum(1 for c in nb.cells if c.cell_type == "markdown" and "```{exercise}" in c.source)
    text = page.locator(".jp-Notebook").inner_text()
    for k in range(1, count + 1):
        assert f"Exercise {number}.{k}" in text


def test_a_click_shows_a_hidden_solution(lab_page):
    page, nb, _ = lab_page
    i = next(i for i, c in enumerate(nb.cells) if "BEGIN SOLUTION" in c.source)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(i)
    cell.locator(".jp-InputPlaceholder").click()
    cell.locator(".jp-InputArea").wait_for(timeout=10_000)
    assert "BEGIN SOLUTION" in cell.locator(".jp-InputArea").inner_text()


def test_lab_loads_nothing_from_outside_and_logs_no_error(lab_page):
    page, _, problems = lab_page
    page.wait_for_timeout(1000)
    assert not problems["external"], f"JupyterLab requested: {problems['external']}"
    assert not problems["console"], f"console errors: {problems['console']}"


# -- the learner's JupyterLab (`make lab`): the student edition with solutions/ -------------

SCREENS = ROOT / "_build" / "screens"  # what the learner saw, kept for a look


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory, browser):
    """`make lab`'s folder for the first lesson with exercises, open in JupyterLab with every
    cell rendered; yields (page, notebook, problems)."""
    home = tmp_path_factory.mktemp("learner")
    served = home / "lab"
    lesson = lab_lesson()
    student.build([lesson], served, solutions=True)
    nb = nbformat.read(served / lesson.name, 4)
    with running_lab(home, served, "--LabApp.expose_app_in_browser=True") as url, \
            lab_notebook(browser, url, lesson.name, len(nb.cells)) as (page, problems):
        page.locator(".jp-MarkdownCell :is(.myst, .jp-RenderedMarkdown)").get_by_text(
            re.compile(r"Exercise \d+\.1:")).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # the other markdown cells render too
        yield page, nb, problems


def _exercise_cells(nb):
    """(statement cell, answer cell) indexes of each exercise of a student-edition notebook."""
    statements = [i for i, c in enumerate(nb.cells)
                  if c.cell_type == "markdown" and re.search(r"^\*\*Exercise \d+\.\d+", c.source, re.M)]
    answers = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and student.STOP_LINE in c.source]
    assert statements and len(statements) == len(answers)
    return list(zip(statements, answers))


def test_the_learner_sees_each_exercise_as_an_exercise(learner_lab):
    """Its statement (numbered as on the website, no MyST shown raw), where the worked
    solution is, and an open answer cell with the stub and the check."""
    page, nb, problems = learner_lab
    cells = page.locator(".jp-Notebook .jp-Cell")
    for k, (statement, answer) in enumerate(_exercise_cells(nb), 1):
        shown = cells.nth(statement).locator(":is(.myst, .jp-RenderedMarkdown)").first.inner_text()
        assert re.search(rf"Exercise \d+\.{k}:", shown), shown[:200]
        assert "Stuck?" in shown
        link = cells.nth(statement).locator("a", has_text="solutions/")
        assert link.count() == 1
        answer_cell = cells.nth(answer)
        assert answer_cell.locator(".jp-InputPlaceholder").count() == 0, f"exercise {k}: answer cell folded"
        code = answer_cell.locator(".jp-InputArea").inner_text()
        assert "# YOUR CODE HERE" in code and "check_" in code
    body = "\n".join(page.locator(".jp-MarkdownCell :is(.myst, .jp-RenderedMarkdown)").all_inner_texts()
                     + page.locator(".jp-InputArea").all_inner_texts())
    for raw in ("```{", "{solution", ":label:", "{eval}", "BEGIN SOLUTION", "numbering:"):
        assert raw not in body, f"{raw!r} shows in JupyterLab"
    SCREENS.mkdir(parents=True, exist_ok=True)
    statement, answer = _exercise_cells(nb)[0]
    cells.nth(statement).scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "learner-lab-exercise.png"))
    assert not problems["external"], problems["external"]


def test_run_all_stops_at_the_first_exercise_with_one_line(learner_lab):
    page, nb, problems = learner_lab
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    statement, answer = _exercise_cells(nb)[0]
    cell = page.locator(".jp-Notebook .jp-Cell").nth(answer)
    error = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    error.first.wait_for(timeout=180_000)
    text = error.first.inner_text().strip()
    assert "not answered yet" in text and len(text.splitlines()) == 1, text
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "learner-lab-stop.png"))
    # Run All stopped there: the next exercise's cell has not run
    if len(_exercise_cells(nb)) > 1:
        later = page.locator(".jp-Notebook .jp-Cell").nth(_exercise_cells(nb)[1][1])
        assert later.locator(".jp-OutputArea-output").count() == 0
