"""Time each lesson in a fresh kernel, and a clean and a cached book build.

Run it with `make bench`. It prints a table (lesson, wall seconds, peak memory of
the kernel, the number of claims it checks), against the budgets (a page under 20 s in
a fresh kernel, a clean `make book` under 150 s, a cached one under 10 s), the figures each lesson reaches (the text output of its cells tagged
`bench`: lesson 6's validation bits per character, lesson 7's accuracy), then the time of `make book` in a fresh copy of the repository with no
build folder (clean: every lesson executed) and right after it (cached: nothing to
re-execute). The virtual environment is reused; installing it is not timed.

    python scripts/bench.py [--skip-book] [lessons/01_feedforward_recap.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_while(proc: subprocess.Popen, interval: float = 0.05) -> tuple[list[int], threading.Thread]:
    """Sample the summed memory of a process's children (the kernel) until it ends.

    Returns a one-element list that holds the peak in bytes, and the sampling thread.
    """
    peak = [0]

    def sample():
        try:
            parent = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while proc.poll() is None:
            try:
                procs = [parent] + parent.children(recursive=True)
                kernel = sum(p.memory_info().rss for p in procs[1:])  # the kernel(s) only
                peak[0] = max(peak[0], kernel)
            except psutil.Error:
                pass
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return peak, thread


def bench_figures(executed: Path) -> list[str]:
    """The text printed by the cells tagged `bench` of an executed notebook."""
    import json

    lines = []
    for cell in json.loads(executed.read_text("utf-8"))["cells"]:
        if "bench" in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                text = output.get("text") or output.get("data", {}).get("text/plain", "")
                lines += "".join(text).strip().splitlines()
    return lines


# Execute a notebook as the book build does (nbclient; no Output-widget playing, see
# scripts/site_fixes.py) and save it: python -c RUNNER lesson.ipynb executed.ipynb
RUNNER = """
import sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
sys.path.insert(0, {scripts!r})
from site_fixes import no_output_widgets
source, target = map(Path, sys.argv[1:3])
nb = nbformat.read(source, 4)
client = NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={{"metadata": {{"path": str(source.parent)}}}})
no_output_widgets(client)
client.execute()
nbformat.write(nb, target)
""".format(scripts=str(ROOT / "scripts"))


PAGE_BUDGET, CLEAN_BUDGET, CACHED_BUDGET = 20.0, 150.0, 10.0  # seconds, on 2 cores


def over(seconds: float, budget: float) -> str:
    return f"  OVER the {budget:.0f} s budget" if seconds > budget else ""


def claim_count(executed: Path) -> int:
    """How many claims the executed page recorded (its evidence table)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from claims import claims_in_html
    import json

    count = 0
    for cell in json.loads(executed.read_text("utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            count += len(claims_in_html("".join(output.get("data", {}).get("text/html", ""))))
    return count


def run_lesson(path: Path) -> tuple[float, float, list[str], int]:
    """Execute a notebook in a fresh kernel: (wall seconds, peak kernel MiB, figures, claims)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", RUNNER, str(path), str(Path(tmp) / path.name)]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=path.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak, thread = peak_rss_while(proc)
        _, err = proc.communicate()
        wall = time.perf_counter() - start
        thread.join()
        if proc.returncode:
            raise SystemExit(f"{path.name} failed:\n{err.decode()[-2000:]}")
        figures = bench_figures(Path(tmp) / path.name)
        claims = claim_count(Path(tmp) / path.name)
    return wall, peak[0] / 2**20, figures, claims


def time_book() -> tuple[float, float]:
    """`make book` in a clean copy of the repository, then again (cached)."""
    venv = ROOT / ".venv"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "book"
        ignore = shutil.ignore_patterns(".venv", "_build", "node_modules", ".git", "__pycache__")
        shutil.copytree(ROOT, copy, ignore=ignore)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(["make", "book", f"VENV={venv}"], cwd=copy, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times.append(time.perf_counter() - start)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", type=Path, help="notebooks (default: lessons/*.ipynb)")
    parser.add_argument("--skip-book", action="store_true", help="do not time the book build")
    args = parser.parse_args()
    lessons = [p.resolve() for p in args.lessons] or sorted((ROOT / "lessons").glob("*.ipynb"))

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"{'lesson':<36} {'wall s':>8} {'peak MiB':>9} {'claims':>7}")
    total, figures = 0.0, []
    for path in lessons:
        wall, mib, lines, claims = run_lesson(path)
        total += wall
        figures += [f"  {path.stem[:2]}: {line}" for line in lines]
        print(f"{path.stem:<36} {wall:8.1f} {mib:9.0f} {claims:7d}{over(wall, PAGE_BUDGET)}",
              flush=True)
    print(f"{'all lessons':<36} {total:8.1f}")
    if figures:
        print("figures the lessons reach (cells tagged `bench`):")
        print("\n".join(figures))
    if not args.skip_book:
        clean, cached = time_book()
        print(f"{'make book (clean)':<36} {clean:8.1f}{over(clean, CLEAN_BUDGET)}")
        print(f"{'make book (nothing changed)':<36} {cached:8.1f}{over(cached, CACHED_BUDGET)}")


if __name__ == "__main__":
    main()
