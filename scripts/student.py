"""Write the student edition of the lessons: no solutions, no outputs, ready to hand out.

    python scripts/student.py                      # every lesson -> _build/student/
    python scripts/student.py --out DIR lessons/02_rnn_state_and_memory.ipynb

A lesson marks its solutions the way nbgrader does (CONTRIBUTING.md, "Exercises and
solutions"): markdown cells tagged `solution`, and in the exercise's code cell the answer
lines between `### BEGIN SOLUTION` and `### END SOLUTION`. The student edition

- drops every cell tagged `solution` (nbconvert's TagRemovePreprocessor),
- replaces each marked region by `# YOUR CODE HERE` / `raise NotImplementedError()`,
  exactly as nbgrader's ClearSolutions does (`ClearSolutions` below), and keeps the
  `check(...)` line after it, so a student's notebook runs up to its first unanswered
  exercise and `check` gives a verdict once they answer,
- clears every output and execution count (ClearOutputPreprocessor) and the notebook
  metadata but the kernel (ClearMetadataPreprocessor), which drops the saved widget
  state and the execution timings.

helper.py is copied next to the notebooks, since every lesson imports it.

We do not depend on nbgrader: it pulls in a database, a JupyterLab extension and a web
server to do, for this job, what the forty lines of `ClearSolutions` below do. The
notebooks stay nbgrader-compatible (see book/teachers_guide.md).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,
    ClearOutputPreprocessor,
    Preprocessor,
    TagRemovePreprocessor,
)
from traitlets import Unicode

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOLUTION_TAG = "solution"
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's delimiters (matched inside a line)
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's Python code stub
TEXT_STUB = "YOUR ANSWER HERE"  # nbgrader's text stub


class ClearSolutions(Preprocessor):
    """Replace each BEGIN/END SOLUTION region by a stub, as nbgrader's ClearSolutions does.

    Every line from the one holding `BEGIN SOLUTION` to the one holding `END SOLUTION`
    goes; the stub takes its place, indented like the BEGIN line. A region with no
    END, or a region inside a region, is an error (as in nbgrader). Unlike nbgrader we
    do not ask for nbgrader's cell metadata: the markers alone mark a solution.
    """

    code_stub = Unicode(CODE_STUB).tag(config=True)
    text_stub = Unicode(TEXT_STUB).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type not in ("code", "markdown") or BEGIN not in cell.source:
            return cell, resources
        stub = (self.code_stub if cell.cell_type == "code" else self.text_stub).split("\n")
        lines, inside = [], False
        for line in cell.source.split("\n"):
            if BEGIN in line:
                if inside:
                    raise ValueError(f"cell {index}: nested BEGIN SOLUTION")
                inside = True
                indent = re.match(r"\s*", line).group(0)
                lines += [indent + s for s in stub]
            elif END in line:
                inside = False
            elif not inside:
                lines.append(line)
        if inside:
            raise ValueError(f"cell {index}: BEGIN SOLUTION without END SOLUTION")
        cell.source = "\n".join(lines)
        return cell, resources


def check_solutions_are_marked(nb, name="notebook"):
    """Raise ValueError where a solution would leak into the student edition.

    Between a `{solution-start}` cell and its `{solution-end}` cell, every markdown cell
    must be tagged `solution` and every code cell must be tagged or hold the markers;
    the two directive cells themselves must be tagged.
    """
    inside = False
    for i, cell in enumerate(nb.cells):
        tagged = SOLUTION_TAG in cell.metadata.get("tags", [])
        source = cell.source
        opens, closes = "{solution-start}" in source, "{solution-end}" in source
        where = f"{name}, cell {i} ({source.strip()[:40]!r})"
        if (opens or closes) and not tagged:
            raise ValueError(f"{where}: a solution-start/-end cell must be tagged 'solution'")
        if opens:
            inside = True
        if inside and not tagged:
            if cell.cell_type == "markdown":
                raise ValueError(f"{where}: a markdown cell inside a solution must be tagged 'solution'")
            if cell.cell_type == "code" and BEGIN not in source:
                raise ValueError(f"{where}: a solution's code cell needs ### BEGIN/END SOLUTION markers")
        if closes:
            inside = False
    if inside:
        raise ValueError(f"{name}: a {{solution-start}} has no {{solution-end}}")


def student_notebook(nb, name="notebook"):
    """Return the student edition of a notebook (a new NotebookNode)."""
    check_solutions_are_marked(nb, name)
    nb = nbformat.from_dict(nb)  # a copy: the preprocessors work in place
    resources = {}
    for pre in (
        TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}),
        ClearSolutions(),
        ClearOutputPreprocessor(),
        # Keep what a student's Jupyter needs (the kernel) and the cells' tags and slide
        # types; drop the widget state, execution timings and the website's captions.
        ClearMetadataPreprocessor(
            preserve_nb_metadata_mask={"kernelspec", "language_info"},
            preserve_cell_metadata_mask={"tags", "slideshow"},
        ),
    ):
        pre.enabled = True
        nb, resources = pre.preprocess(nb, resources)
    return nb


def build(notebooks, out_dir):
    """Write the student edition of `notebooks` (paths) into `out_dir`; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        student = student_notebook(nb, path.name)
        nbformat.validate(student)
        target = out_dir / path.name
        nbformat.write(student, target)
        written.append(target)
    shutil.copy2(ROOT / "helper.py", out_dir / "helper.py")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(LESSONS.glob("*.ipynb"))
    for path in build(notebooks, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
