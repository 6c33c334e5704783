"""Run the course's JupyterHub on this machine (as root) and manage its accounts.

    python hub/hubctl.py start [--foreground]    # make hub: prepare, start hub + proxy
    python hub/hubctl.py stop                    # make hub-stop: every server, the hub, the proxy
    python hub/hubctl.py restart                 # the hub only: servers, kernels, proxy keep running
    python hub/hubctl.py status                  # running?, who has a server
    python hub/hubctl.py add-student NAME [--password=PW]   # make hub-add-student NAME=...
    python hub/hubctl.py add-teacher NAME [--password=PW]   # make hub-add-teacher NAME=...
    python hub/hubctl.py remove NAME             # the account and its home

Students and teachers log in at http://<this machine>:8000/hub/login with the password
add-student / add-teacher printed (or the one given). A teacher is a hub admin
(http://<host>:8000/hub/admin) and finds the formgrader at /user/<name>/formgrader.
Where the state lives and which ports: see hublib.py and jupyterhub_config.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgroups  # noqa: E402
import hublib  # noqa: E402


def api_url() -> str:
    return f"http://127.0.0.1:{hublib.env('RNN_HUB_API_PORT', '8081')}/hub/api"


def api(method: str, path: str, body=None, timeout=30):
    """A request to the hub's REST API with hubctl's token; returns (status, json or None)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(api_url() + path, data=data, method=method, headers={
        "Authorization": f"token {hublib.secret('hubctl-token')}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        return e.code, None


def read_pid(name: str) -> int | None:
    path = hublib.private_dir() / name
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def hub_is_up() -> bool:
    try:
        with urllib.request.urlopen(api_url() + "/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_proxy(timeout=30) -> int:
    """Start configurable-http-proxy on its own (unless it runs): it outlives hub restarts."""
    pid = read_pid("proxy.pid")
    if pid:
        return pid
    env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=hublib.secret("proxy-token"))
    log = open(hublib.private_dir() / "proxy.log", "ab")
    proc = subprocess.Popen(hublib.proxy_args(), env=env, cwd=hublib.state_dir(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    (hublib.private_dir() / "proxy.pid").write_text(str(proc.pid))
    url = f"http://127.0.0.1:{hublib.env('RNN_HUB_PROXY_PORT', '8001')}/api/routes"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the proxy exited ({proc.returncode}); see {hublib.private_dir() / 'proxy.log'}")
        try:
            req = urllib.request.Request(url, headers={"Authorization": f"token {hublib.secret('proxy-token')}"})
            with urllib.request.urlopen(req, timeout=2):
                return proc.pid
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the proxy did not answer in {timeout} s")


def settings_lines() -> list[str]:
    """What the running hub wrote about its limits and its idle culler (jupyterhub_config.py)."""
    path = hublib.private_dir() / "settings.txt"
    return path.read_text().splitlines() if path.exists() else []


def check_settings() -> None:
    """A wrong limit or culler setting stops here, naming it, before the hub starts."""
    try:
        cgroups.settings()
    except cgroups.LimitError as e:
        raise SystemExit(str(e)) from None
    hublib.cull_settings()


def start(foreground=False, notebooks=None, timeout=60) -> int:
    """Start the hub (it starts the proxy); return the hub's pid once its API answers."""
    check_settings()
    hublib.prepare(notebooks)
    if read_pid("hub.pid"):
        print(f"the hub already runs (pid {read_pid('hub.pid')})")
        return read_pid("hub.pid")
    start_proxy()
    cmd = [str(hublib.python_env() / "bin" / "jupyterhub"), "-f", str(hublib.HUB / "jupyterhub_config.py")]
    if foreground:
        os.chdir(hublib.private_dir())
        os.execv(cmd[0], cmd)
    log = open(hublib.private_dir() / "hub.log", "ab")
    proc = subprocess.Popen(cmd, cwd=hublib.private_dir(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the hub exited ({proc.returncode}); see {hublib.private_dir() / 'hub.log'}")
        if hub_is_up():
            port = hublib.env("RNN_HUB_PORT", "8000")
            print(f"hub running (pid {proc.pid}): log in at http://<this machine>:{port}/hub/login; "
                  f"log in {hublib.private_dir() / 'hub.log'}")
            for line in settings_lines():
                print(line)
            return proc.pid
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit(f"the hub did not answer in {timeout} s; see {hublib.private_dir() / 'hub.log'}")


def stop_servers(timeout=60) -> None:
    status, users = api("GET", "/users")
    if status != 200:
        return
    for user in users:
        if user.get("server"):
            api("DELETE", f"/users/{user['name']}/server")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, users = api("GET", "/users")
        if status != 200 or not any(u.get("server") or u.get("pending") for u in users):
            return
        time.sleep(0.5)


def _terminate(pid_name: str, timeout=20) -> None:
    pid = read_pid(pid_name)
    if not pid:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    (hublib.private_dir() / pid_name).unlink(missing_ok=True)


def stop(keep_servers=False) -> None:
    """Stop every user's server (unless keep_servers: a restart), then the hub, then the
    proxy (unless keep_servers)."""
    if not keep_servers and not hub_is_up() and (hublib.private_dir() / "jupyterhub.sqlite").exists():
        # the hub died while servers may still run: start it, it finds them, then stop them
        try:
            start()
        except SystemExit as e:
            print(f"could not start the hub to stop its servers: {e}")
    if hub_is_up() and not keep_servers:
        stop_servers()
    _terminate("hub.pid")
    # the hub stops its idle culler on the way out, unless it was killed first: none may
    # outlive it (a restart would add one more each time)
    left = hublib.stop_hub_services(hublib.env("RNN_HUB_API_PORT", "8081"))
    if left:
        print(f"stopped {len(left)} idle culler(s) the hub had left running: pid {' '.join(map(str, left))}")
    if not keep_servers:
        _terminate("proxy.pid")


def status() -> None:
    if not hub_is_up():
        print("the hub is not running")
        return
    code, users = api("GET", "/users")
    running = [u["name"] for u in users or [] if u.get("server")]
    print(f"hub up (pid {read_pid('hub.pid')}), {len(users or [])} users known, "
          f"{len(running)} servers running: {' '.join(running)}")
    for role, group in (("teachers", hublib.teachers_group()), ("students", hublib.students_group())):
        print(f"{role} ({group}): {' '.join(hublib.members(group))}")
    for line in settings_lines():
        print(line)


def add(name: str, role: str, password: str | None = None, lessons=None) -> str:
    group = hublib.teachers_group() if role == "teacher" else hublib.students_group()
    password = hublib.add_user(name, group, password, os.environ.get("RNN_HUB_HOME_BASE"))
    if role == "teacher":
        hublib.teacher_course(name, lessons)
    return password


def make_parser() -> argparse.ArgumentParser:
    """hubctl's command line. A password may start with "-" (a random one does, one time in
    64): pass it as --password=PW, which the Makefile and hub/throwaway.py do."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start")
    s.add_argument("--foreground", action="store_true")
    s.add_argument("--lessons", nargs="+", help="the student edition of these lessons only "
                   "(default: a copy of make student's _build/student)")
    sub.add_parser("stop")
    sub.add_parser("restart", help="restart the hub only: servers and proxy keep running")
    sub.add_parser("stop-hub", help="stop the hub only: servers and proxy keep running")
    sub.add_parser("status")
    for role in ("student", "teacher"):
        a = sub.add_parser(f"add-{role}")
        a.add_argument("name")
        a.add_argument("--password", help="default: a random one, printed once")
        if role == "teacher":
            a.add_argument("--lessons", nargs="+", help="the nbgrader course of these lessons "
                           "only (default: every lesson)")
    r = sub.add_parser("remove")
    r.add_argument("name")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    hublib.require_root("hubctl.py")
    if args.command == "start":
        start(args.foreground, args.lessons)
    elif args.command == "stop":
        stop()
    elif args.command == "stop-hub":
        stop(keep_servers=True)
    elif args.command == "restart":
        stop(keep_servers=True)
        start()
    elif args.command == "status":
        status()
    elif args.command.startswith("add-"):
        role = args.command[4:]
        password = add(args.name, role, args.password, getattr(args, "lessons", None))
        print(f"{role} {args.name}: log in with password {password}")
    elif args.command == "remove":
        if hub_is_up():
            api("DELETE", f"/users/{args.name}/server")
            api("DELETE", f"/users/{args.name}")
        hublib.remove_user(args.name)
        print(f"removed {args.name}")


if __name__ == "__main__":
    main()
