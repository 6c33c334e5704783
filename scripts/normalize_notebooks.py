"""Give every lesson notebook the metadata JupyterLab and nbgrader read; `--check` only checks.

    python scripts/normalize_notebooks.py            # rewrite lessons/*.ipynb in place
    python scripts/normalize_notebooks.py --check    # exit 1 (and say which) if one is not normalized
    python scripts/normalize_notebooks.py lessons/03_backprop_through_time.ipynb

Idempotent: a second run changes nothing. It changes metadata, and nothing of what a
cell computes or shows, so the lessons need not be re-executed afterwards.

1. Solutions hidden in JupyterLab, as on the website. Lab 4 honours the standard cell
   metadata `"jupyter": {"source_hidden": true, "outputs_hidden": true}`: the cell is
   drawn collapsed (a thin bar with "..."), and a click on the bar at its left shows it.
   It is set on every cell of a solution: the cells tagged `solution` (the
   `{solution-start}`/`{solution-end}` cells and the explanations) and every cell between a
   `{solution-start}` and its `{solution-end}` (the answer's code cell). The figure code
   the website folds (`hide-input`) gets `source_hidden` only, so its figure shows. Any
   other cell loses these two keys (so the metadata says exactly what the tags say).
   Lab labels a collapsed cell with its source's first line, so a hidden explanation
   (a markdown cell of a solution, not its `{solution-start}`/`{solution-end}`) gets a
   blank first line: the bar shows "...", not the start of the answer. Markdown ignores it.
2. The kernelspec JupyterLab writes when it saves (`Python 3 (ipykernel)`), so opening a
   lesson in `make lab` does not mark it modified.
3. nbgrader's cell metadata on each exercise's answer cell (the code cell holding
   `### BEGIN SOLUTION`): an "autograded answer" (`solution: true`) whose `grade_id` is the
   exercise's label (`ex-01-count`). nbgrader's own ClearSolutions then finds the answers
   with its default settings; `scripts/student.py --nbgrader` adds the graded test cells
   (the answer cell's `check(...)` lines, split off into a cell of their own) when it
   writes an nbgrader course (see book/teachers_guide.md).
4. A first markdown cell holding MyST front matter
   `numbering: {enumerator: "N.%s"}`, so jupyterlab-myst numbers exercises and figures
   "Exercise 1.1" like the website. jupyterlab-myst reads front matter only from the first
   cell, and the website (MyST-NB) does not read it there, so the cell is tagged
   `remove-cell` (dropped from the website and the slides) and skipped on slides; Lab
   draws it as an empty line. `--no-lab-numbering` leaves it out.
5. Before the first code cell, a cell that checks what the lesson imports is there
   (helper.py and checks/ beside it, and the packages) and, when something is missing,
   stops with one line that says what and how to get it (the lesson's kit), instead of
   a traceback: a lesson downloaded alone, or opened in Colab. It is tagged `remove-cell`
   (not on the website, not on the slides) and folded in JupyterLab.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
HIDDEN = {"source_hidden": True, "outputs_hidden": True}
SOLUTION_TAG = "solution"
BEGIN = "BEGIN SOLUTION"
NUMBERING_MARK = "numbering:"
NBGRADER_SCHEMA = 3


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def solution_spans(nb):
    """[(label, [cell indices])] for each `{solution-start} label` ... `{solution-end}`."""
    spans, current = [], None
    for i, cell in enumerate(nb["cells"]):
        source = cell["source"]
        start = re.search(r"\{solution-start\}[ \t]*(\S*)", source)
        if start:
            current = (start.group(1), [])
            spans.append(current)
        if current is not None:
            current[1].append(i)
        if "{solution-end}" in source:
            current = None
    return spans


def exercise_number(path):
    """The lesson's number from its file name (`03_backprop...` -> 3), or None."""
    match = re.match(r"(\d+)_", Path(path).name)
    return int(match.group(1)) if match else None


def numbering_cell(number):
    source = f'---\n{NUMBERING_MARK}\n  enumerator: "{number}.%s"\n---'
    return nbformat.v4.new_markdown_cell(source, metadata={
        "slideshow": {"slide_type": "skip"}, "tags": ["remove-cell"]})


def _is_numbering_cell(cell):
    return cell["cell_type"] == "markdown" and cell["source"].startswith("---\n") \
        and NUMBERING_MARK in cell["source"]


KIT_CHECK_MARK = "# Opened on its own?"
KIT_CHECK = KIT_CHECK_MARK + """ Then say in one line what is missing, and how to get it.
import importlib.util as _util
_missing = [_name for _name in ("helper", "checks", "numpy", "torch", "matplotlib", "ipywidgets")
            if _util.find_spec(_name) is None]
if _missing:
    class MissingKit(Exception):
        def _render_traceback_(self):  # IPython shows this instead of a traceback
            return [str(self)]
    _what = ", ".join({"helper": "helper.py", "checks": "checks/"}.get(_name, _name) for _name in _missing)
    raise MissingKit(f"Missing here: {_what}. Run this lesson from its kit: download it (the download button on the "
                     "lesson's web page, 'Lesson kit (.zip)'), unzip it, install what its "
                     "README.md says, and open the notebook from the kit's folder.")
del _util, _missing"""


def kit_check_cell():
    return nbformat.v4.new_code_cell(KIT_CHECK, metadata={
        "slideshow": {"slide_type": "skip"}, "tags": ["remove-cell"],
        "jupyter": {"source_hidden": True}})


def _is_kit_check(cell):
    return cell["cell_type"] == "code" and cell["source"].startswith(KIT_CHECK_MARK)


def normalize(nb, number=None, lab_numbering=True, kit_check=True):
    """Normalize `nb` (a NotebookNode) in place and return it."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    if kit_check:
        wanted = kit_check_cell()
        found = [i for i, cell in enumerate(nb.cells) if _is_kit_check(cell)]
        if found:  # the cell already there (its id kept), brought up to date
            kept = nb.cells[found[0]]
            kept.source = wanted.source
            kept.metadata.update(wanted.metadata)
            wanted = kept
        for i in reversed(found):
            del nb.cells[i]
        first_code = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells))
        nb.cells.insert(first_code, wanted)
    if lab_numbering and number is not None:
        wanted = numbering_cell(number)
        if nb.cells and _is_numbering_cell(nb.cells[0]):
            nb.cells[0].source = wanted.source
            nb.cells[0].metadata.update(wanted.metadata)
        else:
            nb.cells.insert(0, wanted)
    hidden, answers = set(), {}
    for label, indices in solution_spans(nb):
        hidden.update(indices)
        for i in indices:
            if nb.cells[i].cell_type == "code" and BEGIN in nb.cells[i].source:
                answers[i] = label
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG in _tags(cell):
            hidden.add(i)
    for i, cell in enumerate(nb.cells):
        jupyter = dict(cell.metadata.get("jupyter", {}))
        for key in HIDDEN:
            jupyter.pop(key, None)
        if i in hidden:
            jupyter.update(HIDDEN)
            if cell.cell_type == "markdown" and not re.search(r"\{solution-(start|end)\}", cell.source) \
                    and not cell.source.startswith("\n"):
                cell.source = "\n" + cell.source  # the collapsed bar shows an empty first line
        elif "hide-input" in _tags(cell) or _is_kit_check(cell):
            jupyter["source_hidden"] = True
        if jupyter:
            cell.metadata["jupyter"] = jupyter
        else:
            cell.metadata.pop("jupyter", None)
        if i in answers:
            grader = dict(cell.metadata.get("nbgrader", {}))
            grader.update({"grade": False, "grade_id": answers[i] or f"answer-{i}", "locked": False,
                           "schema_version": NBGRADER_SCHEMA, "solution": True, "task": False})
            grader.pop("points", None)
            cell.metadata["nbgrader"] = grader
        elif cell.metadata.get("nbgrader", {}).get("solution") and BEGIN not in cell.source:
            cell.metadata.pop("nbgrader")  # a former answer cell
    return nb


def _plain(node):
    return nbformat.from_dict(node)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook is not normalized")
    parser.add_argument("--no-lab-numbering", dest="lab_numbering", action="store_false",
                        help="no first cell making jupyterlab-myst number 'Exercise N.k'")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks or sorted(LESSONS.glob("*.ipynb")):
        before = nbformat.read(path, as_version=4)
        after = normalize(_plain(before), exercise_number(path), args.lab_numbering)
        if after == before:
            continue
        stale.append(path)
        if not args.check:
            nbformat.validate(after)
            nbformat.write(after, path)
            print(f"normalized {path}")
    if args.check and stale:
        print("not normalized (run `python scripts/normalize_notebooks.py`):", file=sys.stderr)
        for path in stale:
            print(f"  {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
