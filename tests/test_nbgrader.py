"""nbgrader, a whole round on one lesson: `scripts/student.py --nbgrader` writes the course,
`nbgrader generate_assignment` releases the student version, and `nbgrader autograde`
grades two submissions: every answer right (full marks), and one answer wrong in a copy
whose `checks/` module the student rewrote to pass everything (one exercise's marks lost:
autograde puts the course's own checks back, and a wrong answer's check raises)."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed: run `make test` (requirements.txt)")
from nbgrader.api import Gradebook  # noqa: E402

from _shared import LESSONS, ROOT, solution_region
from _shared import load_script as _load_script


student = _load_script("student")


def graded_lesson():
    """The lesson graded here: the first with an exercise (lesson 1 is also the quickest)."""
    return next(p for p in LESSONS if "BEGIN SOLUTION" in p.read_text(encoding="utf-8"))


def nbgrader(course, *args):
    """Run an nbgrader command in the course folder; return its output."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # alembic
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def wrong_answer(source):
    """The answer cell's source with its answer replaced by a wrong one: 0 for every
    name it assigns (or `return 0` inside a function)."""
    before, answer, after, indent = solution_region(source)
    if indent:
        body = [indent + "return 0"]
    else:
        names = []
        for node in ast.parse("\n".join(answer)).body:
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            for target in targets:
                names += [n.id for n in ast.walk(target or ast.Pass()) if isinstance(n, ast.Name)]
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.append(node.name)
        body = [f"{name} = 0" for name in dict.fromkeys(names)] or ["pass"]
    return "\n".join(before + body + after)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course after generate_assignment and autograde; yields (folder, assignment, nb name)."""
    lesson = graded_lesson()
    course = tmp_path_factory.mktemp("course")
    student.nbgrader_course([lesson], course)
    assignment = f"lesson{lesson.name[:2]}"
    nbgrader(course, "generate_assignment", assignment, "--force")
    release = course / "release" / assignment
    source = nbformat.read(course / "source" / assignment / lesson.name, 4)
    answers = {c.metadata.nbgrader.grade_id: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for who in ("right", "wrong"):
        folder = course / "submitted" / who / assignment
        shutil.copytree(release, folder)
        nb = nbformat.read(folder / lesson.name, 4)
        first = True
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
                if who == "wrong" and first:
                    cell.source, first = wrong_answer(cell.source), False
        nbformat.write(nb, folder / lesson.name)
    # The wrong submission also rewrote its checks to pass everything.
    tampered = course / "submitted" / "wrong" / assignment / "checks" / f"lesson{lesson.name[:2]}.py"
    tampered.write_text(tampered.read_text() + (
        "\nimport helper as _helper\n"
        "for _name in [n for n in dir() if n.startswith('check_')]:\n"
        "    globals()[_name] = lambda *a, **k: _helper.Verdict(True, 'correct')\n"))
    nbgrader(course, "autograde", assignment, "--force")
    yield course, assignment, lesson.name


def scores(course, assignment, who):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, who)
        return submission.score, submission.max_score


def test_the_released_notebook_has_no_solution_and_the_stop_line(course):
    folder, assignment, name = course
    released = nbformat.read(folder / "release" / assignment / name, 4)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "{solution-start}", "{solution-end}"):
        assert marker not in text
    stubs = [c for c in released.cells if student.STOP_LINE in c.source]
    tests = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(stubs) == len(tests) >= 3
    assert (folder / "release" / assignment / "helper.py").exists()
    assert (folder / "release" / assignment / "checks" / f"lesson{name[:2]}.py").exists()


def test_the_released_notebook_is_plain_markdown(course):
    """No MyST directive, role or front matter shows raw in the released text: nbgrader's
    notebooks open in any Jupyter, with or without jupyterlab-myst."""
    folder, assignment, name = course
    released = nbformat.read(folder / "release" / assignment / name, 4)
    text = "\n".join(c.source for c in released.cells if c.cell_type == "markdown")
    for myst in ("```{", ":::{", "{ref}`", "{numref}`", "{eval}`", "{glue", "numbering:", ":label:"):
        assert myst not in text, f"raw MyST in the released {name}: {myst}"
    assert re.search(r"^\*\*Exercise \d+\.\d+: ", text, re.M), "the exercises keep their numbered headings"


def test_every_right_answer_gets_full_marks(course):
    folder, assignment, _ = course
    score, max_score = scores(folder, assignment, "right")
    assert max_score >= 3 and score == max_score


def test_one_wrong_answer_loses_its_marks_even_with_rewritten_checks(course):
    folder, assignment, _ = course
    score, max_score = scores(folder, assignment, "wrong")
    assert score == max_score - 1


def test_each_check_becomes_a_graded_test_cell():
    nb = student.nbgrader_notebook(nbformat.read(graded_lesson(), 4), 1)
    for i, cell in enumerate(nb.cells):
        grader = cell.metadata.get("nbgrader", {})
        if grader.get("solution"):
            assert cell.source.rstrip().endswith("### END SOLUTION")
            test = nb.cells[i + 1]
            assert test.metadata.nbgrader["grade"] and test.metadata.nbgrader["points"] == 1
            assert test.metadata.nbgrader["grade_id"] == grader["grade_id"] + "-check"
            assert "check" in test.source
