"""A throwaway hub for the tests and bench_hub.py: its own state folder, its own homes,
its own ports on 127.0.0.1, its own groups and accounts (one random prefix), all removed
by close(), which also stops every process it started, whatever happened before.

    with ThrowawayHub(lessons=[...]) as hub:
        hub.add("student", "a")       # account "<prefix>a" with a random password
        user = hub.login("a")         # a hubclient.HubUser, logged in through the form

    with ThrowawayHub(extra_env={"RNN_HUB_MEM_LIMIT": "700M"}) as hub:   # other settings

Its servers' cgroups (hub/limits.py) go in a parent of its own, rnn-hub-<prefix>, removed
by close() too.

Needs root (it creates Unix users), the hub's environment (RNN_HUB_ENV, default
.venv-hub) and configurable-http-proxy (RNN_HUB_PROXY, default node_modules/.bin).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgroups  # noqa: E402
import hublib  # noqa: E402
from hubclient import HubUser  # noqa: E402

HUBCTL = hublib.HUB / "hubctl.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env_path() -> Path:
    return Path(os.environ.get("RNN_HUB_ENV", str(hublib.ROOT / ".venv-hub")))


def missing_prerequisites() -> str | None:
    """Why a throwaway hub cannot run here, in one sentence; None when it can."""
    if os.geteuid() != 0:
        return ("the hub tests need root: they create Unix users and start each server as "
                "its user (CI runs as root)")
    env = hub_env_path()
    if not (env / "bin" / "jupyterhub").exists():
        return f"no hub environment in {env}: run `make hub-env` (or set RNN_HUB_ENV)"
    try:
        hublib.proxy_command()
    except SystemExit as e:
        return str(e)
    if not hublib.readable_by_others(env / "bin" / "python"):
        return (f"{env}/bin/python (its base Python: {(env / 'bin' / 'python').resolve()}) is not "
                "executable by other accounts, so students' servers cannot start: build the hub "
                "environment with a Python every account can run (HUB_PYTHON=/usr/bin/python3.11) "
                "in a folder every account can reach")
    return None


def add_args(role: str, name: str, password: str) -> list[str]:
    """hubctl's arguments for a new account. --password=PW, not --password PW: a random
    password starts with "-" one time in 64, which argparse would take for an option."""
    return [f"add-{role}", name, f"--password={password}"]


class ThrowawayHub:
    def __init__(self, lessons=None, prefix=None, extra_env=None):
        self.prefix = prefix or "h" + secrets.token_hex(3)  # a Unix name starts with a letter
        self.lessons = [str(p) for p in lessons or []]
        self.base = Path(tempfile.mkdtemp(prefix=f"rnn-hub-{self.prefix}-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        (self.base / "home").mkdir(mode=0o755)
        os.chmod(self.base / "home", 0o755)
        self.ports = {k: free_port() for k in ("RNN_HUB_PORT", "RNN_HUB_API_PORT", "RNN_HUB_PROXY_PORT")}
        self.env = dict(os.environ, RNN_HUB_DIR=str(self.base / "state"), RNN_HUB_IP="127.0.0.1",
                        RNN_HUB_STUDENTS=f"{self.prefix}-stu", RNN_HUB_TEACHERS=f"{self.prefix}-tea",
                        RNN_HUB_HOME_BASE=str(self.base / "home"), RNN_HUB_ENV=str(hub_env_path()),
                        RNN_HUB_PROXY=hublib.proxy_command(),
                        **{cgroups.PARENT_SETTING: f"rnn-hub-{self.prefix}"},
                        **{k: str(v) for k, v in self.ports.items()})
        self.env.pop("RNN_COURSE_STRICT", None)  # as for a hub started by hand
        self.env.update({k: str(v) for k, v in (extra_env or {}).items()})
        self.url = f"http://127.0.0.1:{self.ports['RNN_HUB_PORT']}"
        self.accounts: dict[str, str] = {}  # short name -> password
        self.mounts: list[Path] = []
        self.started = False
        self.start_output = ""

    # -- running hubctl with this hub's settings ------------------------------------------------
    def hubctl(self, *args, timeout=600, check=True) -> subprocess.CompletedProcess:
        cmd = [str(hub_env_path() / "bin" / "python"), str(HUBCTL), *map(str, args)]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode:
            raise RuntimeError(f"hubctl {' '.join(map(str, args))} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}\n--- hub.log ---\n{self.log()[-3000:]}")
        return done

    def log(self) -> str:
        path = self.base / "state" / "private" / "hub.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self):
        args = ["start"] + (["--lessons", *self.lessons] if self.lessons else [])
        self.started = True
        self.start_output = self.hubctl(*args).stdout  # what `make hub` would print
        return self

    def restart(self):
        self.hubctl("restart")

    def name(self, short: str) -> str:
        return f"{self.prefix}{short}"

    def add(self, role: str, short: str, tmpfs_home_mb: int | None = None) -> str:
        """Create the account; with tmpfs_home_mb its home is a tmpfs of that size (a disk
        that fills). Returns the full account name."""
        name, password = self.name(short), secrets.token_urlsafe(12)
        args = add_args(role, name, password)
        if role == "teacher" and self.lessons:
            args += ["--lessons", *self.lessons]
        self.hubctl(*args)
        self.accounts[short] = password
        if tmpfs_home_mb:
            import pwd

            p = pwd.getpwnam(name)
            home = Path(p.pw_dir)
            keep = self.base / f"{name}.skel"
            shutil.copytree(home, keep)
            subprocess.run(["mount", "-t", "tmpfs", "-o",
                            f"size={tmpfs_home_mb}m,mode=700,uid={p.pw_uid},gid={p.pw_gid}",
                            "tmpfs", str(home)], check=True)
            self.mounts.append(home)
            shutil.copytree(keep, home, dirs_exist_ok=True)
            hublib.chown_tree(home, name)
        return name

    def home(self, short: str) -> Path:
        import pwd

        return Path(pwd.getpwnam(self.name(short)).pw_dir)

    def login(self, short: str, password: str | None = None) -> HubUser:
        user = HubUser(self.url, self.name(short), timeout=60)
        r = user.login(password or self.accounts[short])
        if not user.token:
            raise RuntimeError(f"{user.name} could not log in: {r.status_code}")
        return user

    def cgroups(self) -> cgroups.Cgroups:
        """This hub's cgroup tree, as its spawner sees it (hub/cgroups.py)."""
        return cgroups.Cgroups(self.env.get(cgroups.ROOT_SETTING), parent=self.env[cgroups.PARENT_SETTING])

    def admin(self, method: str, path: str, **kw):
        """The hub's REST API with hubctl's token (the test's own view, as root)."""
        import requests

        token = (self.base / "state" / "private" / "hubctl-token").read_text().strip()
        return requests.request(method, f"http://127.0.0.1:{self.ports['RNN_HUB_API_PORT']}/hub/api{path}",
                                headers={"Authorization": f"token {token}"}, timeout=60, **kw)

    # -- cleaning up --------------------------------------------------------------------------
    def close(self):
        errors = []
        if self.started:
            try:
                self.hubctl("stop", timeout=120, check=False)
            except Exception as e:  # noqa: BLE001 (go on cleaning)
                errors.append(e)
            for pid_file in ("hub.pid", "proxy.pid"):  # whatever hubctl could not stop
                try:
                    pid = int((self.base / "state" / "private" / pid_file).read_text())
                    os.kill(pid, 9)
                except (OSError, ValueError):
                    pass
            hublib.stop_hub_services(self.ports["RNN_HUB_API_PORT"])  # and its idle culler
        for short in list(self.accounts):
            try:
                hublib.stop_processes_of(self.name(short))
            except KeyError:
                pass
        time.sleep(0.5)
        for mount in self.mounts:
            subprocess.run(["umount", "--lazy", str(mount)], check=False)
        for short in list(self.accounts):
            hublib.remove_user(self.name(short))
        for group in (self.env["RNN_HUB_STUDENTS"], self.env["RNN_HUB_TEACHERS"]):
            subprocess.run(["groupdel", group], check=False, capture_output=True)
        if self.started:  # the servers' cgroups (the hub was started from this process's)
            try:
                self.cgroups().remove_all(wait=5)
            except OSError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
