"""What the hub's configuration, `hubctl.py` and the tests share: where things live, the
accounts (Unix users in a students' or a teachers' group), the course copied into a
student's home, the nbgrader exchange and each teacher's nbgrader course.

Everything a hub keeps lives in one state folder (RNN_HUB_DIR, default /srv/rnn-hub):

    private/ (mode 700, root only)                the hub's database and cookie key, the
                                                  proxy's and hubctl's API tokens, the pid
                                                  files and logs of the hub and the proxy
    course/                                       the student edition, copied into each home
    exchange/                                     nbgrader's exchange (release, submit, feedback)
    etc/student/, etc/teacher/                    the Jupyter config a student's / teacher's
                                                  server reads (JUPYTER_CONFIG_PATH)
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

HUB = Path(__file__).resolve().parent
ROOT = HUB.parent
COURSE_ID = "rnn"
COURSE_FOLDER = "rnn-course"  # the student edition in a student's home
GRADING_FOLDER = "rnn-grading"  # the nbgrader course in a teacher's home


def env(name, default):
    return os.environ.get(name, default)


def seconds(name: str, default: int, minimum: int = 0) -> int:
    """A whole number of seconds from the environment; a wrong one stops with its name."""
    value = env(name, str(default))
    try:
        n = int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number of seconds") from None
    if n < minimum:
        raise SystemExit(f"{name}={value!r} must be at least {minimum}")
    return n


def cull_settings() -> tuple[int, int]:
    """(idle timeout, seconds between checks) of the idle culler: RNN_HUB_CULL_TIMEOUT
    (default 3600; 0 turns the culler off) and RNN_HUB_CULL_EVERY (default 300)."""
    return seconds("RNN_HUB_CULL_TIMEOUT", 3600), seconds("RNN_HUB_CULL_EVERY", 300, minimum=1)


def state_dir() -> Path:
    return Path(env("RNN_HUB_DIR", "/srv/rnn-hub"))


def students_group() -> str:
    return env("RNN_HUB_STUDENTS", "rnn-students")


def teachers_group() -> str:
    return env("RNN_HUB_TEACHERS", "rnn-teachers")


def python_env() -> Path:
    """The environment the hub and every single-user server run in: the course's .venv
    (requirements.txt pins jupyterhub), or RNN_HUB_ENV."""
    return Path(env("RNN_HUB_ENV", str(Path(sys.prefix))))


def proxy_command() -> str:
    """configurable-http-proxy: the course's npm packages (package.json pins it), or
    RNN_HUB_PROXY, or the one on PATH."""
    explicit = os.environ.get("RNN_HUB_PROXY")
    if explicit:
        return explicit
    local = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    found = shutil.which("configurable-http-proxy")
    if not found:
        raise SystemExit("configurable-http-proxy not found: run `npm ci` (package.json pins it) "
                         "or set RNN_HUB_PROXY")
    return found


def proxy_args() -> list[str]:
    """configurable-http-proxy as the hub expects it (jupyterhub_config.py's ports)."""
    hub = f"http://127.0.0.1:{env('RNN_HUB_API_PORT', '8081')}"
    return [proxy_command(), "--ip", env("RNN_HUB_IP", "0.0.0.0"), "--port", env("RNN_HUB_PORT", "8000"),
            "--api-ip", "127.0.0.1", "--api-port", env("RNN_HUB_PROXY_PORT", "8001"),
            "--default-target", hub, "--error-target", f"{hub}/hub/error", "--log-level", "warn"]


def exchange_dir() -> Path:
    return state_dir() / "exchange"


def config_dir(role: str) -> Path:
    return state_dir() / "etc" / role


def course_edition() -> Path:
    return state_dir() / "course"


def private_dir() -> Path:
    """Root's part of the state folder (mode 700): nothing in it is for the students."""
    path = state_dir() / "private"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def secret_file(name: str) -> Path:
    """A root-only secret in the state folder, made on first use."""
    path = private_dir() / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    os.chmod(path, 0o600)
    return path


def secret(name: str) -> str:
    return secret_file(name).read_text().strip()


# -- accounts ----------------------------------------------------------------------------

def require_root(what="this"):
    if os.geteuid() != 0:
        raise SystemExit(f"{what} needs root: a hub with real accounts creates Unix users and "
                         "starts each student's server as that user (run it with sudo)")


def ensure_group(name: str) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        subprocess.run(["groupadd", name], check=True)


def members(group: str) -> list[str]:
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return []
    primary = [p.pw_name for p in pwd.getpwall() if p.pw_gid == g.gr_gid]
    return sorted(set(g.gr_mem) | set(primary))


def add_user(name: str, group: str, password: str | None = None, home_base: str | None = None) -> str:
    """Create the Unix account `name` in `group` with a private home (mode 700) and a
    password (a random one when none is given); return the password. An existing
    account is added to the group and gets the new password."""
    require_root("adding an account")
    ensure_group(group)
    password = password or secrets.token_urlsafe(9)
    try:
        pwd.getpwnam(name)
    except KeyError:
        cmd = ["useradd", "--create-home", "--shell", "/bin/bash", "--user-group"]
        if home_base:
            cmd += ["--base-dir", home_base]
        subprocess.run(cmd + [name], check=True)
    subprocess.run(["usermod", "--append", "--groups", group, name], check=True)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return password


def stop_processes_of(name: str) -> None:
    """Kill what still runs as the account `name` (its server, kernels), each by its pid."""
    import psutil

    uid = pwd.getpwnam(name).pw_uid
    for proc in psutil.process_iter(["uids"]):
        if proc.info["uids"] and proc.info["uids"].real == uid:
            try:
                proc.kill()
            except psutil.Error:
                pass


def hub_services_left(api_port: str | int, name: str = "idle-culler") -> list[int]:
    """The pids of the hub's managed service `name` (the idle culler) that still talk to the
    hub API on `api_port`: found by the environment the hub gave them. A hub that is killed,
    or stopped before its own cleanup ends, leaves them running, and a hub started next
    would add one more each time."""
    found = []
    want_name = f"JUPYTERHUB_SERVICE_NAME={name}".encode()
    want_url = f":{api_port}/hub/api".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if want_name in environ and any(v.startswith(b"JUPYTERHUB_API_URL=") and want_url in v for v in environ):
            found.append(int(entry.name))
    return found


def stop_hub_services(api_port: str | int, timeout: float = 5.0) -> list[int]:
    """Stop what hub_services_left finds (TERM, then KILL after `timeout`); returns the pids."""
    import signal
    import time

    pids = hub_services_left(api_port)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (not reaped yet) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def remove_user(name: str) -> None:
    require_root("removing an account")
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    stop_processes_of(name)
    subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    try:
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], check=False, capture_output=True)
    except KeyError:
        pass


def chown_tree(path: Path, user: str) -> None:
    p = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, p.pw_uid, p.pw_gid)
        for f in files:
            os.chown(os.path.join(root, f), p.pw_uid, p.pw_gid, follow_symlinks=False)


def copy_missing(src: Path, dest: Path, user: str) -> int:
    """Copy every file of src that dest lacks (a student's edited notebook is never
    overwritten); the copies belong to `user`. Returns how many files were copied."""
    p = pwd.getpwnam(user)
    copied = 0
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        target = dest / rel
        if not target.exists():
            target.mkdir(parents=True)
            os.chown(target, p.pw_uid, p.pw_gid)
        for f in files:
            if not (target / f).exists():
                shutil.copy2(Path(root) / f, target / f)
                os.chown(target / f, p.pw_uid, p.pw_gid)
                copied += 1
    return copied


# -- the course, the exchange, the servers' config ------------------------------------------

def readable_by_others(path: Path) -> bool:
    """Can an account other than root reach and read `path` (every folder above it +x)?"""
    path = path.resolve()
    for parent in [*reversed(path.parents), path]:
        mode = parent.stat().st_mode
        if parent.is_dir() and not mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def course_python() -> str:
    """The course's authoring environment (make book's .venv), which runs scripts/student.py
    (it reads the built book's numbers with Sphinx); the hub's environment need not have it."""
    return env("RNN_COURSE_PYTHON", str(ROOT / ".venv" / "bin" / "python"))


def run_student_script(*args) -> None:
    cmd = [course_python(), str(ROOT / "scripts" / "student.py"), *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def student_edition(notebooks=None, refresh=False) -> Path:
    """The student edition in the state folder, made once: a copy of `make student`'s
    _build/student (RNN_HUB_EDITION), or scripts/student.py run on `notebooks`."""
    out = course_edition()
    if out.exists() and not refresh:
        return out
    if out.exists():
        shutil.rmtree(out)
    if notebooks:
        run_student_script("--out", out, *notebooks)
    else:
        edition = Path(env("RNN_HUB_EDITION", str(ROOT / "_build" / "student")))
        if not (edition / "helper.py").exists():
            raise SystemExit(f"no student edition in {edition}: run `make student` first")
        shutil.copytree(edition, out)
    for root, dirs, files in os.walk(out):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return out


STUDENT_NBGRADER = """\
# nbgrader for a student's server on the course's hub (written by hub/hublib.py)
c = get_config()  # noqa: F821
c.Exchange.root = {exchange!r}
c.CourseDirectory.course_id = {course!r}
"""

TEACHER_NBGRADER = STUDENT_NBGRADER

STUDENT_SERVER = """\
# A student's server: nbgrader's assignment list (fetch, submit, feedback), no formgrader.
c = get_config()  # noqa: F821
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
}
"""

# JupyterLab's nbgrader plugins: the course's environment turns them all off for a
# learner's `make lab`; on the hub a student gets the assignment list, a teacher all.
STUDENT_LAB = {"disabledExtensions": {
    "@jupyter/nbgrader": False,
    "@jupyter/nbgrader:formgrader": True,
    "@jupyter/nbgrader:create-assignment": True,
    "@jupyter/nbgrader:course-list": True,
}}
TEACHER_LAB = {"disabledExtensions": {"@jupyter/nbgrader": False}}

TEACHER_HOME_CONFIG = """\
# This teacher's nbgrader course (written by hub/hubctl.py add-teacher): the formgrader
# and nbgrader's commands grade the course in ~/{folder}, with its own settings.
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
load_subconfig("nbgrader_config.py", path={root!r})  # noqa: F821
"""


def prepare(notebooks=None, refresh_course=False) -> None:
    """Make the state folder, the exchange, the servers' config and the student edition."""
    import json

    require_root("the hub")
    state = state_dir()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)  # the config and the course are read by every server
    private_dir()
    for name in ("jupyterhub_cookie_secret", "proxy-token", "hubctl-token"):
        secret_file(name)
    ensure_group(students_group())
    ensure_group(teachers_group())
    ex = exchange_dir()
    ex.mkdir(exist_ok=True)
    os.chmod(ex, 0o1777)  # as nbgrader asks (world-writable), sticky: no one removes another's
    for role, lab in (("student", STUDENT_LAB), ("teacher", TEACHER_LAB)):
        d = config_dir(role)
        (d / "labconfig").mkdir(parents=True, exist_ok=True)
        (d / "nbgrader_config.py").write_text(
            STUDENT_NBGRADER.format(exchange=str(ex), course=COURSE_ID))
        (d / "labconfig" / "page_config.json").write_text(json.dumps(lab, indent=1))
        if role == "student":
            (d / "jupyter_server_config.py").write_text(STUDENT_SERVER)
        for root, dirs, files in os.walk(state / "etc"):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    student_edition(notebooks, refresh=refresh_course)
    for what in (python_env() / "bin" / "python", course_edition()):
        if not readable_by_others(what):
            raise SystemExit(f"{what} is not readable by other accounts: the students' servers "
                             "run as their own users. Put the course (and its .venv) where "
                             "everyone can read it, e.g. /opt/rnn-course, or make each folder "
                             "above it world-executable (chmod o+x).")


def teacher_course(name: str, notebooks=None) -> Path:
    """The teacher's nbgrader course in their home (scripts/student.py --nbgrader), and the
    ~/.jupyter/nbgrader_config.py that points the formgrader at it. Made once."""
    home = Path(pwd.getpwnam(name).pw_dir)
    course = home / GRADING_FOLDER
    if not course.exists():
        run_student_script("--nbgrader", course, *(notebooks or []))
    jupyter = home / ".jupyter"
    jupyter.mkdir(exist_ok=True)
    (jupyter / "nbgrader_config.py").write_text(
        TEACHER_HOME_CONFIG.format(root=str(course), folder=GRADING_FOLDER))
    chown_tree(course, name)
    chown_tree(jupyter, name)
    return course
