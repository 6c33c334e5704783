"""What several test modules share: the lesson notebooks and the project's scripts."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def load_script(name: str):
    """Import scripts/<name>.py as a module (the scripts folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution_region(source: str):
    """(lines before, answer lines, lines after, indent of the BEGIN line) of a cell whose
    answer sits between `### BEGIN SOLUTION` and `### END SOLUTION`."""
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line)
    end = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
    return lines[:begin], lines[begin + 1:end], lines[end + 1:], re.match(r"\s*", lines[begin]).group(0)


def pins(path) -> dict:
    """{normalized name: version} of a requirements file's `name==version` lines."""
    found = {}
    for line in Path(path).read_text().splitlines():
        name, _, version = line.strip().partition("==")
        if version and not name.startswith(("#", "-")):
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found
