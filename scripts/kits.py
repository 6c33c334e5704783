"""Write one downloadable kit per lesson into the built website (`make book` runs this).

    python scripts/kits.py                 # -> _build/html/_kits/<first page's name>.zip
    python scripts/kits.py --out DIR

A kit is what a learner needs to run one lesson on their own machine, with Python and pip
alone: the lesson's pages as the learner's edition (scripts/student.py: plain Markdown
with the book's numbers, open answer cells, the worked solutions in `solutions/`),
helper.py, the lesson's check module, the data sets its pages read (with their licences),
the notation, a requirements.txt and a README. Each lesson page's download button offers
its kit (scripts/site_fixes.py adds the entry), so the archive's name is the lesson's
first page's, and it unpacks into a folder of that name.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
KITS = "_kits"  # the folder of the website that holds them (site_fixes links to it)


def _student():
    spec = importlib.util.spec_from_file_location("student", Path(__file__).resolve().parent / "student.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lessons(folder=LESSONS) -> dict:
    """{first page's stem: [its pages]}: a lesson is the notebooks that share its number."""
    pages = {}
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        pages.setdefault(path.name[:2], []).append(path)
    return {group[0].stem: group for group in pages.values()}


def kit_name(pagename: str) -> str | None:
    """The kit's file name for a page of the website ("lessons/05_gated_cells_part2" ->
    "05_gated_cells.zip"), or None for a page that is not a lesson."""
    match = re.fullmatch(r"lessons/(\d\d)_[\w-]+", pagename)
    if not match:
        return None
    first = next((stem for stem in lessons() if stem.startswith(match.group(1) + "_")), None)
    return f"{first}.zip" if first else None


def lesson_title(path) -> str:
    import nbformat

    for cell in nbformat.read(path, as_version=4).cells:
        heading = re.search(r"^# (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if heading:
            return f"lesson {int(Path(path).name[:2])}, {heading.group(1).strip()}"
    return f"lesson {int(Path(path).name[:2])}"


def write_kits(out_dir, folder=LESSONS) -> list:
    """One zip per lesson in out_dir; return their paths."""
    student = _student()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, pages in lessons(folder).items():
        with tempfile.TemporaryDirectory() as tmp:
            kit = Path(tmp) / stem
            student.build(pages, kit, solutions=True, kit=lesson_title(pages[0]))
            archive = out_dir / f"{stem}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                for path in sorted(kit.rglob("*")):
                    if path.is_file():
                        zf.write(path, path.relative_to(kit.parent).as_posix())
            written.append(archive)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "html" / KITS)
    args = parser.parse_args(argv)
    for path in write_kits(args.out):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
