"""Where the hub's environment comes from, for the Makefile (HUB_PYTHON, HUB_VENV).

    python hub/hubenv.py python   # a Python 3.11+ that every account can execute
    python hub/hubenv.py venv     # where the hub's environment goes

Every student's server runs as that student, so the Python the hub's environment is
built from, and the environment itself, must be reachable by every account. A Python
under /root (pyenv's, say) or a checkout in a private folder is not: the first falls back
to the system's /usr/bin/python3, the second to /opt/rnn-course-hub/venv.
Either can be set by hand: `make hub HUB_PYTHON=... HUB_VENV=...`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hublib import ROOT, readable_by_others  # noqa: E402

CANDIDATES = ("/usr/bin/python3", "/usr/local/bin/python3")
OUTSIDE = Path("/opt/rnn-course-hub/venv")
MIN_VERSION = (3, 11)  # hub/requirements.txt's pins (numpy 2.4, IPython 9) need 3.11


def reachable(path: Path) -> bool:
    """Can another account run or read `path` (every folder above it +x, it o+rx)?"""
    try:
        return readable_by_others(path) and bool(path.resolve().stat().st_mode & 0o001)
    except OSError:
        return False


def new_enough(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys, venv; print(sys.version_info[:2] >= %r)" % (MIN_VERSION,)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == "True"


def hub_python(preferred: str | None = None) -> str:
    """`preferred` (the course's Python) when every account can run it, else the first of
    CANDIDATES that they can; `preferred` again when none can (make hub then says why)."""
    for python in ([preferred] if preferred else []) + list(CANDIDATES):
        path = Path(python) if os.sep in python else None
        if path is None:
            import shutil

            found = shutil.which(python)
            path = Path(found) if found else None
        if path is not None and reachable(path) and new_enough(str(path)):
            return str(path)
    return preferred or CANDIDATES[0]


def hub_venv(root: Path = ROOT) -> str:
    """.venv-hub in the checkout when every account can reach the checkout, else OUTSIDE."""
    try:
        inside = readable_by_others(root)
    except OSError:
        inside = False
    return ".venv-hub" if inside else str(OUTSIDE)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "python":
        print(hub_python(sys.argv[2] if len(sys.argv) > 2 else None))
    elif what == "venv":
        print(hub_venv())
    else:
        raise SystemExit("usage: python hub/hubenv.py python [PREFERRED] | venv")
