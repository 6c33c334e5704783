"""Binder (repo2docker) reads binder/: the packages at the course's pins with PyTorch's CPU
build, Python 3.11, and binder/postBuild, which installs the data sets from
package-lock.json and puts the repository on the Python path. repo2docker's own reading
of the folder is checked (its Dockerfile, without Docker), and postBuild is run in a fresh
virtual environment with binder/requirements.txt installed, after which a lesson runs from
lessons/ as on Binder. What this machine cannot test: a real mybinder.org build (no Docker,
no network beyond the package registries) and PyTorch's own CPU index (pip finds the same
CPU wheel locally here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _shared import pins

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def test_binder_pins_are_the_course_s_pins_with_pytorch_s_cpu_build():
    binder, course = pins(BINDER / "requirements.txt"), pins(ROOT / "requirements.txt")
    assert binder.pop("torch") == course["torch"] + "+cpu"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in (BINDER / "requirements.txt").read_text()
    assert binder and all(course.get(name) == version for name, version in binder.items()), \
        {n: (v, course.get(n)) for n, v in binder.items() if course.get(n) != v}
    for needed in ("ipykernel", "ipywidgets", "jupyterlab", "jupyterlab-myst", "matplotlib", "numpy"):
        assert needed in binder, f"binder/requirements.txt lacks {needed}"


def test_repo2docker_reads_the_binder_folder():
    """repo2docker's Dockerfile for the repository (--no-build: no Docker needed)."""
    run = subprocess.run([str(Path(sys.executable).with_name("repo2docker")), "--no-build", "--debug",
                          "--user-id", "1000", "--user-name", "jovyan", str(ROOT)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    dockerfile = run.stdout + run.stderr
    assert "python=3.11" in dockerfile or "python-3.11" in dockerfile
    assert re.search(r'pip install --no-cache-dir -r "binder/requirements.txt"', dockerfile), dockerfile[-3000:]
    assert "RUN ./binder/postBuild" in dockerfile
    assert '-r "requirements.txt"' not in dockerfile, "the top-level requirements.txt (GBs of CUDA) would be installed"


def test_postbuild_in_a_fresh_environment_then_a_lesson_runs(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # PyTorch's CPU index is out of reach here: the same wheel (2.13.0+cpu) is found locally
    local = tmp_path / "requirements.txt"
    local.write_text("\n".join(line for line in (BINDER / "requirements.txt").read_text().splitlines()
                               if not line.startswith("--")) + "\n")
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(local)],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    # the repository as Binder gets it: the files git keeps (not node_modules, not .venv)
    repo = tmp_path / "repo"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNN_COURSE_STRICT", "RNN_COURSE_NODE_MODULES", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    post = subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)
    assert post.returncode == 0, post.stdout[-2000:] + post.stderr[-3000:]
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import helper, checks.lesson07; print(len(helper.load_cmudict()), "
                            "len(helper.load_moby_dick()), helper.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert probe.stdout.split()[2] == str(repo / "helper.py")
    lesson = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                             "--ExecutePreprocessor.timeout=300", "--output", str(tmp_path / "ran.ipynb"),
                             "01_feedforward_recap.ipynb"], cwd=repo / "lessons", env=env,
                            capture_output=True, text=True, timeout=900)
    assert lesson.returncode == 0, lesson.stderr[-3000:]
