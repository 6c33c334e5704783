"""The student edition (`make student`, scripts/student.py): no solution leaks, no outputs,
every exercise keeps its prompt and its check, and each notebook runs up to its first
unanswered exercise. The edition is built here into a temporary folder."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
STUB = "raise NotImplementedError()"


def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


student = _load_script("student")


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    """The student edition of every lesson, built by the script."""
    out = tmp_path_factory.mktemp("student")
    student.build(LESSONS, out)
    return out


@pytest.fixture(scope="module")
def edition(out_dir):
    """{lesson file name: (source notebook, student notebook)}."""
    return {p.name: (nbformat.read(p, 4), nbformat.read(out_dir / p.name, 4)) for p in LESSONS}


def is_solution_cell(cell):
    return "solution" in cell.metadata.get("tags", [])


def solution_lines(nb):
    """Lines a student must not see: between the markers, and in `solution` cells,
    less the lines that also appear outside the solutions (a blank line, `plt.show()`)."""
    hidden, shown = set(), set()
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            text = line.strip()
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


# -- the sources follow CONTRIBUTING.md's exercise format ---------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_has_at_least_three_exercises_each_with_a_hidden_solution(path):
    nb = nbformat.read(path, 4)
    labels = exercise_labels(nb)
    assert len(labels) >= 3, f"{path.name}: {len(labels)} exercises, CONTRIBUTING.md asks for 3 or more"
    openers = [c.source for c in nb.cells if "{solution-start}" in c.source and is_solution_cell(c)]
    for label in labels:
        assert any(re.search(rf"\{{solution-start\}} *{re.escape(label)}\b", s) for s in openers), \
            f"{path.name}: exercise {label} has no `solution`-tagged {{solution-start}} {label}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_answer_cell_is_checked(path):
    nb = nbformat.read(path, 4)
    answers = [c for c in nb.cells if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    assert len(answers) >= len(exercise_labels(nb)), f"{path.name}: an exercise has no marked answer cell"
    for cell in answers:
        after = cell.source.split("END SOLUTION", 1)[1]
        assert "check(" in after, f"{path.name}: no check(...) after the answer in\n{cell.source}"


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

def test_every_lesson_has_a_student_notebook_and_the_helper(out_dir):
    assert sorted(p.name for p in out_dir.glob("*.ipynb")) == [p.name for p in LESSONS]
    assert (out_dir / "helper.py").read_text() == (ROOT / "helper.py").read_text()


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_no_solution_text_leaks(edition, name):
    source, handout = edition[name]
    text = "\n".join(c.source for c in handout.cells)
    leaked = sorted(line for line in solution_lines(source) if line in text)
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
    assert exercise_labels(handout) == exercise_labels(source)
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
    assert cell.source == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\ncheck(f(1), 2)")


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


# -- a handed-out notebook runs up to its first exercise (slow: runs each lesson) -----------

@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_student_notebook_runs_to_its_first_exercise_and_blank_answers_never_pass(out_dir, name):
    """The first error is the NotImplementedError of the first exercise; then, answering
    nothing (the stub removed), no exercise's check says correct."""
    handout = nbformat.read(out_dir / name, 4)
    client = NotebookClient(handout, timeout=300, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(out_dir)}})
    first_exercise = next((i for i, c in enumerate(handout.cells) if STUB in c.source), None)
    assert first_exercise is not None, f"{name}: no exercise in the student edition"
    with client.setup_kernel():
        for index, cell in enumerate(handout.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if index < first_exercise:
                assert not errors, f"{name}, cell {index} fails before the first exercise: " \
                                   f"{errors[0].ename}: {errors[0].evalue}\n{cell.source}"
            elif index == first_exercise:
                assert [e.ename for e in errors] == ["NotImplementedError"], f"{name}: {cell.source}"
            if STUB in cell.source:  # now a student who runs the cell without answering
                cell.source = cell.source.replace(STUB, "pass")
                client.execute_cell(cell, index)
                shown = " ".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.outputs)
                assert ": correct" not in shown, f"{name}: a blank answer passes its check:\n{cell.source}"
