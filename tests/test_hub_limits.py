"""The hub's memory and CPU limits per user (hub/limits.py, hub/cgroups.py) and its idle
culler (jupyterhub-idle-culler, a hub service in hub/jupyterhub_config.py).

- On a fake cgroup tree (tmp_path), for the v1 and the v2 layouts: the right files get the
  right values, wrong settings stop with the setting's name, a tree with no controller is
  reported as not enforced, and the spawner joins its cgroup before it becomes the user.
- On a throwaway hub (hub/throwaway.py) with RNN_HUB_MEM_LIMIT=700M and RNN_HUB_CPU_LIMIT=0.5:
  each student's server and kernel are in the student's cgroup; a kernel that allocates more
  than the limit is killed while its server answers and another student's kernel goes on;
  a busy kernel gets at most about half a core.
- On a second throwaway hub with a 30 s idle timeout checked every 10 s, and no cgroup
  controller (RNN_HUB_CGROUP_ROOT names a folder without one): the hub starts, warns once
  and says the limits are not enforced; an idle server is stopped by the culler, the
  student's file stays, and the next login starts a server that has it.

The live parts need root (Unix users, cgroups): they fail, not skip, without it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from _shared import ROOT

sys.path.insert(0, str(ROOT / "hub"))
import cgroups  # noqa: E402
import hublib  # noqa: E402
from hubclient import Kernel  # noqa: E402
from throwaway import ThrowawayHub, hub_env_path, missing_prerequisites  # noqa: E402

LESSON = ROOT / "lessons" / "02_rnn_state_and_memory.ipynb"
MEM, CPU = "700M", "0.5"  # the live hub's limits
MEM_BYTES = 700 * 2**20
CULL_TIMEOUT, CULL_EVERY = 30, 10


def need_root():
    why = missing_prerequisites()
    if why:
        pytest.fail(why)


# -- a fake cgroup tree --------------------------------------------------------------------------

def fake_v1(tmp_path: Path, cpu_mount="cpu,cpuacct") -> cgroups.Cgroups:
    """A v1 layout as on this machine: the hub's memory cgroup is a subpath, its cpu one the
    root of a combined cpu,cpuacct hierarchy."""
    (tmp_path / "memory" / "process_api" / "abc").mkdir(parents=True)
    (tmp_path / cpu_mount).mkdir()
    (tmp_path / "self").write_text(f"4:memory:/process_api/abc\n2:{cpu_mount}:/\n0::/\n")
    return cgroups.Cgroups(tmp_path, tmp_path / "self", parent="rnn-hub")


def fake_v2(tmp_path: Path, controllers="cpuset cpu io memory pids") -> cgroups.Cgroups:
    (tmp_path / "cgroup.controllers").write_text(controllers + "\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    (tmp_path / "self").write_text("0::/init.scope\n")
    return cgroups.Cgroups(tmp_path, tmp_path / "self", parent="rnn-hub")


def read(path: Path) -> str:
    return path.read_text().strip()


def test_v1_the_user_s_cgroups_get_the_limits(tmp_path):
    tree = fake_v1(tmp_path)
    assert tree.version == 1
    dirs = tree.create("alice", cgroups.parse_memory("2G"), cgroups.parse_cpu("0.5"))
    mem = tmp_path / "memory" / "process_api" / "abc" / "rnn-hub" / "alice"
    cpu = tmp_path / "cpu,cpuacct" / "rnn-hub" / "alice"
    assert sorted(dirs) == sorted([mem, cpu])
    assert read(mem / "memory.limit_in_bytes") == "2147483648"
    assert read(cpu / "cpu.cfs_quota_us") == "50000" and read(cpu / "cpu.cfs_period_us") == "100000"
    # again, now that the kernel's memory+swap file is there (it is in a real tree), and
    # with other limits: both updated, memory+swap equal to memory (no spill into swap)
    (mem / "memory.memsw.limit_in_bytes").write_text("-1")
    tree.create("alice", 700 * 2**20, 1.5)
    assert read(mem / "memory.limit_in_bytes") == read(mem / "memory.memsw.limit_in_bytes") == "734003200"
    assert read(cpu / "cpu.cfs_quota_us") == "150000"
    tree.create("alice", None, None)  # none: unlimited, not left at the old values
    assert read(mem / "memory.limit_in_bytes") == "-1" and read(cpu / "cpu.cfs_quota_us") == "-1"
    cgroups.Cgroups.join(dirs, 4242)
    assert all(cgroups.Cgroups.holds(d, 4242) for d in dirs)
    enforced, line = tree.report(2 * 2**30, 0.5)
    assert enforced and "memory 2 GiB and CPU 0.5 cores per user, enforced (cgroup v1" in line, line


def test_v1_a_container_s_view_uses_the_mount_itself(tmp_path):
    """/proc/self/cgroup names a path the mount does not have (a container sees its own
    cgroup as the root): the users' cgroups go under the mount."""
    (tmp_path / "memory").mkdir()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "self").write_text("4:memory:/docker/0123\n1:cpu:/docker/0123\n")
    tree = cgroups.Cgroups(tmp_path, tmp_path / "self", parent="rnn-hub")
    tree.create("bob", 2**30, 1.0)
    assert read(tmp_path / "memory" / "rnn-hub" / "bob" / "memory.limit_in_bytes") == "1073741824"
    assert read(tmp_path / "cpu" / "rnn-hub" / "bob" / "cpu.cfs_quota_us") == "100000"


def test_v2_the_user_s_cgroup_gets_the_limits(tmp_path):
    tree = fake_v2(tmp_path)
    assert tree.version == 2
    dirs = tree.create("alice", cgroups.parse_memory("2G"), cgroups.parse_cpu("0.5"))
    user = tmp_path / "rnn-hub" / "alice"
    assert dirs == [user]
    assert read(user / "memory.max") == "2147483648"
    assert read(user / "cpu.max") == "50000 100000"
    for enabled in (tmp_path / "cgroup.subtree_control", tmp_path / "rnn-hub" / "cgroup.subtree_control"):
        assert set(read(enabled).split()) == {"+memory", "+cpu"}, enabled
    (user / "memory.swap.max").write_text("max")  # swap accounted: none beyond the limit
    tree.create("alice", None, 2.0)
    assert read(user / "memory.max") == "max" and read(user / "memory.swap.max") == "max"
    assert read(user / "cpu.max") == "200000 100000"
    tree.create("alice", 2**30, None)
    assert read(user / "memory.swap.max") == "0" and read(user / "cpu.max") == "max 100000"


def test_v2_a_missing_controller_is_reported_not_pretended(tmp_path):
    tree = fake_v2(tmp_path, controllers="cpuset cpu io pids")  # no memory controller
    tree.create("alice", 2**31, 1.0)
    assert not (tmp_path / "rnn-hub" / "alice" / "memory.max").exists()
    assert read(tmp_path / "rnn-hub" / "alice" / "cpu.max") == "100000 100000"
    enforced, line = tree.report(2**31, 1.0)
    assert not enforced
    assert "CPU 1 core per user, enforced" in line
    assert "memory 2 GiB per user (RNN_HUB_MEM_LIMIT) is NOT enforced" in line, line


def test_no_cgroup_controller_at_all_is_reported_not_pretended(tmp_path):
    tree = cgroups.Cgroups(tmp_path / "empty", tmp_path / "no-such-file", parent="rnn-hub")
    assert tree.create("alice", 2**31, 1.0) == []
    enforced, line = tree.report(2**31, 1.0)
    assert not enforced and "enforced (" not in line
    for setting in ("RNN_HUB_MEM_LIMIT", "RNN_HUB_CPU_LIMIT"):
        assert f"({setting}) is NOT enforced" in line, line
    enforced, line = tree.report(None, None)  # nothing asked, nothing missing
    assert enforced and "no memory and no CPU limit" in line


@pytest.mark.parametrize("value, expected", [
    ("2G", 2147483648), ("700M", 734003200), ("1.5G", 1610612736), ("512k", 524288),
    ("1048576", 1048576), (1048576, 1048576), ("none", None), ("", None)])
def test_memory_sizes(value, expected):
    assert cgroups.parse_memory(value) == expected


@pytest.mark.parametrize("value, expected", [("1.0", 1.0), ("0.5", 0.5), ("2", 2.0), ("none", None)])
def test_cpu_sizes(value, expected):
    assert cgroups.parse_cpu(value) == expected


@pytest.mark.parametrize("value", ["-1G", "0", "0M", "-5", "two gigs", "2 GB", "inf"])
def test_a_wrong_memory_limit_names_its_setting(value):
    with pytest.raises(cgroups.LimitError, match=r"RNN_HUB_MEM_LIMIT="):
        cgroups.settings({"RNN_HUB_MEM_LIMIT": value})


@pytest.mark.parametrize("value", ["0", "-0.5", "-1", "half", "nan", "0.001"])
def test_a_wrong_cpu_limit_names_its_setting(value):
    with pytest.raises(cgroups.LimitError, match=r"RNN_HUB_CPU_LIMIT="):
        cgroups.settings({"RNN_HUB_CPU_LIMIT": value})


def test_a_wrong_spawner_trait_names_it(tmp_path):
    """The spawner's own traits (c.Spawner.mem_limit = ... in a config) are checked too."""
    tree = fake_v1(tmp_path)
    with pytest.raises(cgroups.LimitError, match=r"Spawner\.mem_limit=-5"):
        tree.create("alice", -5, 1.0, "Spawner.mem_limit", "Spawner.cpu_limit")
    with pytest.raises(cgroups.LimitError, match=r"Spawner\.cpu_limit=0"):
        tree.create("alice", 2**30, 0.0, "Spawner.mem_limit", "Spawner.cpu_limit")


def test_the_defaults_are_the_measured_sizing_and_match_zero_to_jupyterhub():
    """2 GiB and 1 core per user, a culler at an hour checked every 300 s: as
    hub/z2jh/config.yaml, and above the measured peak per student (hub/sizing.json)."""
    import yaml

    assert cgroups.settings({}) == (2 * 2**30, 1.0)
    z2jh = yaml.safe_load((ROOT / "hub" / "z2jh" / "config.yaml").read_text())
    assert cgroups.parse_memory(z2jh["singleuser"]["memory"]["limit"]) == 2 * 2**30
    assert float(z2jh["singleuser"]["cpu"]["limit"]) == 1.0
    assert z2jh["cull"]["enabled"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RNN_HUB_CULL")}
    code = "import hublib; print(hublib.cull_settings())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "hub", env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"({z2jh['cull']['timeout']}, {z2jh['cull']['every']})", out.stderr
    sizing = json.loads((ROOT / "hub" / "sizing.json").read_text())
    peak = max(r["peak_gib_per_student"] for r in sizing["rounds"])
    assert 0.4 < peak < 2 / 2, peak  # the limit holds the measured peak with room for a second kernel


SPAWNER_SCRIPT = textwrap.dedent("""\
    import json, logging, os, subprocess, sys
    from types import SimpleNamespace
    sys.path.insert(0, {hub!r})
    import limits
    root = {root!r}
    sp = limits.LimitedSpawner(cgroup_root=root, cgroup_self=root + "/self",
                               user=SimpleNamespace(name="nobody"), mem_limit="700M", cpu_limit=0.5)
    sp.cgroup_dirs = [str(d) for d in sp.limit()]
    child = subprocess.Popen(["id", "-u"], preexec_fn=sp.make_preexec_fn("nobody"),
                             stdout=subprocess.PIPE, text=True)
    uid = child.communicate(timeout=60)[0].strip()
    procs = {{d: open(os.path.join(d, "cgroup.procs")).read().split() for d in sp.cgroup_dirs}}
    # no controller: servers start anyway, one warning for every spawner together
    warnings = []
    handler = logging.Handler()
    handler.emit = lambda record: warnings.append(record.getMessage())
    handler.setLevel(logging.WARNING)
    for name in ("nobody", "daemon"):
        other = limits.LimitedSpawner(cgroup_root=root + "/none", user=SimpleNamespace(name=name),
                                      mem_limit="2G", cpu_limit=1.0)
        other.log.addHandler(handler)
        other.log.setLevel(logging.INFO)
        dirs = other.limit()
        dirs += other.limit()
    print(json.dumps({{"pid": child.pid, "uid": uid, "procs": procs, "dirs": [str(d) for d in dirs],
                      "warnings": warnings}}))
    """)


def test_the_spawner_joins_its_cgroup_before_it_becomes_the_user(tmp_path):
    """LimitedSpawner's preexec (hub environment, as root): the child writes its own pid into
    each cgroup.procs, then runs as the user."""
    need_root()
    fake_v1(tmp_path)
    script = SPAWNER_SCRIPT.format(hub=str(ROOT / "hub"), root=str(tmp_path))
    done = subprocess.run([str(hub_env_path() / "bin" / "python"), "-c", script],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["uid"] == "65534"  # nobody
    assert sorted(out["procs"]) == sorted([str(tmp_path / "memory" / "process_api" / "abc" / "rnn-hub" / "nobody"),
                                           str(tmp_path / "cpu,cpuacct" / "rnn-hub" / "nobody")])
    assert all(pids == [str(out["pid"])] for pids in out["procs"].values()), out
    assert out["dirs"] == []
    assert len(out["warnings"]) == 1 and "NOT enforced" in out["warnings"][0], out["warnings"]


def test_hubctl_refuses_a_wrong_setting_before_starting(tmp_path):
    need_root()
    for name, value in (("RNN_HUB_MEM_LIMIT", "-2G"), ("RNN_HUB_CPU_LIMIT", "0"), ("RNN_HUB_CULL_EVERY", "0"),
                        ("RNN_HUB_CULL_TIMEOUT", "an hour")):
        env = dict(os.environ, RNN_HUB_DIR=str(tmp_path / "state"), **{name: value})
        done = subprocess.run([str(hub_env_path() / "bin" / "python"), str(ROOT / "hub" / "hubctl.py"), "start"],
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and f"{name}=" in done.stderr, (name, done.stderr[-2000:])
        assert not (tmp_path / "state").exists()  # stopped before anything was made


# -- a live hub with limits ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited():
    need_root()
    h = ThrowawayHub(lessons=[LESSON], extra_env={"RNN_HUB_MEM_LIMIT": MEM, "RNN_HUB_CPU_LIMIT": CPU,
                                                  "RNN_HUB_CULL_TIMEOUT": "0"})
    try:
        h.start()
        for short in ("a", "b"):
            h.add("student", short)
        users = {short: h.login(short) for short in ("a", "b")}
        for u in users.values():
            u.start_server()
        yield h, users
    finally:
        h.close()


def server_pid(name: str) -> int:
    import psutil

    uid = _uid(name)
    found = [p.pid for p in psutil.process_iter(["uids", "cmdline"])
             if p.info["uids"] and p.info["uids"].real == uid
             and any("jupyterhub-singleuser" in part for part in p.info["cmdline"] or [])]
    assert len(found) == 1, found
    return found[0]


def _uid(name):
    import pwd

    return pwd.getpwnam(name).pw_uid


def cgroup_of(pid: int) -> dict:
    """{controller: path} of a process, from /proc/<pid>/cgroup."""
    found = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else ["unified"]:
            found[c] = path
    return found


def pid_of(kernel: Kernel) -> int:
    out = kernel.run("import os; print(os.getpid())", timeout=60)
    assert out["status"] == "ok", out
    return int(out["stdout"].strip())


def oom_kills(d: Path) -> int:
    """How many processes the kernel's OOM killer killed in cgroup `d`."""
    for name in ("memory.oom_control", "memory.events"):  # v1, v2
        if (d / name).exists():
            m = re.search(r"^oom_kill (\d+)", (d / name).read_text(), re.M)
            if m:
                return int(m.group(1))
    return -1


def test_hubctl_status_says_the_limits_are_enforced(limited):
    hub, _ = limited
    for said in (hub.start_output, hub.hubctl("status").stdout):  # make hub, make hub-status
        assert "limits: memory 700 MiB and CPU 0.5 cores per user, enforced (cgroup v" in said, said
        assert "NOT enforced" not in said and "idle culler: off (RNN_HUB_CULL_TIMEOUT=0)" in said


def test_each_server_and_its_kernel_are_in_the_student_s_cgroup(limited):
    hub, users = limited
    tree = hub.cgroups()
    parent = hub.env["RNN_HUB_CGROUP"]
    for short, user in users.items():
        dirs = tree.user_dirs(user.name)
        assert set(dirs) == {"memory", "cpu"}, dirs
        kernel = user.kernel()
        try:
            pids = {"server": server_pid(user.name), "kernel": pid_of(kernel)}
            for what, pid in pids.items():
                where = cgroup_of(pid)
                for c in ("memory", "cpu"):
                    assert where[c].endswith(f"/{parent}/{user.name}"), (short, what, c, where)
                    assert cgroups.Cgroups.holds(dirs[c], pid), (short, what, c)
        finally:
            kernel.close()
        if tree.version == 1:
            assert read(dirs["memory"] / "memory.limit_in_bytes") == str(MEM_BYTES)
            assert read(dirs["cpu"] / "cpu.cfs_quota_us") == "50000"
            assert read(dirs["cpu"] / "cpu.cfs_period_us") == "100000"
        else:
            assert read(dirs["memory"] / "memory.max") == str(MEM_BYTES)
            assert read(dirs["cpu"] / "cpu.max") == "50000 100000"


def test_a_kernel_over_the_memory_limit_is_killed_and_the_rest_goes_on(limited):
    import psutil

    hub, users = limited
    a, b = users["a"], users["b"]
    memory = hub.cgroups().user_dirs(a.name)["memory"]
    server_a, server_b = server_pid(a.name), server_pid(b.name)
    other = b.kernel()
    assert other.run("x = 41")["status"] == "ok"
    other_pid = pid_of(other)
    greedy = a.kernel()
    greedy_pid = pid_of(greedy)
    kills = oom_kills(memory)
    t0 = time.monotonic()
    try:  # 1.2 GB written byte by byte, past the 700 MiB limit: no reply, or an error
        result = greedy.run("blob = b'\\x01' * (1200 * 2**20); print(len(blob))", timeout=20)
    except Exception as e:  # noqa: BLE001 (HubError: no reply; or the websocket closes)
        result = {"status": "no reply", "error": repr(e)}
    assert result["status"] != "ok" and "1258291200" not in result.get("stdout", ""), result

    def alive(pid):
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 30
    while alive(greedy_pid):
        assert time.monotonic() < deadline, "the greedy kernel still runs"
        time.sleep(0.5)
    print(f"greedy kernel: {result.get('error')}; gone {time.monotonic() - t0:.1f} s after the "
          f"request; OOM kills in its cgroup {kills} -> {oom_kills(memory)}")
    if kills >= 0:
        assert oom_kills(memory) > kills  # the cgroup's OOM killer did it
    # the student's server answers, the same process; the other student's kernel keeps its state
    assert server_pid(a.name) == server_a and server_pid(b.name) == server_b
    assert a.api("GET", "/api/status").status_code == 200
    assert a.api("GET", "/api/contents").status_code == 200
    assert other.run("print(x + 1)")["stdout"].strip() == "42"
    assert pid_of(other) == other_pid
    other.close()
    # and the student goes on: Jupyter restarts the kernel, in the same cgroup
    deadline, again = time.monotonic() + 90, None
    while time.monotonic() < deadline:
        try:
            greedy.close(shutdown=False)
            greedy = Kernel(a, greedy.id)
            again = greedy.run("import os; print(os.getpid())", timeout=30)
            break
        except Exception:  # noqa: BLE001 (restarting)
            time.sleep(2)
    assert again and again["status"] == "ok", again
    assert cgroups.Cgroups.holds(memory, int(again["stdout"].strip()))
    greedy.close()


BURN = textwrap.dedent("""\
    import os, resource, time
    def usage():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime
    before, t0 = usage(), time.monotonic()
    children = []
    for _ in range(2):  # two busy processes: without a limit they would take both cores
        pid = os.fork()
        if pid == 0:
            end = time.monotonic() + {seconds}
            while time.monotonic() < end:
                pass
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    print((usage() - before) / (time.monotonic() - t0))
    """)


def test_a_busy_kernel_gets_at_most_its_cpu_limit(limited):
    hub, users = limited
    a = users["a"]
    cpu = hub.cgroups().user_dirs(a.name)["cpu"]

    def throttled():
        stat = (cpu / "cpu.stat").read_text()
        m = re.search(r"^nr_throttled (\d+)", stat, re.M)
        return int(m.group(1)) if m else -1

    before = throttled()
    kernel = a.kernel()
    try:
        out = kernel.run(BURN.format(seconds=5), timeout=120)
    finally:
        kernel.close()
    assert out["status"] == "ok", out
    cores = float(out["stdout"].strip().splitlines()[-1])
    print(f"two busy processes in a kernel limited to {CPU} core: {cores:.2f} core over 5 s; "
          f"throttled periods {before} -> {throttled()}")
    assert 0.05 < cores < 0.7, cores
    assert throttled() > before


def test_a_stopped_server_leaves_no_cgroup(limited):
    hub, users = limited
    b = users["b"]
    dirs = hub.cgroups().user_dirs(b.name)
    assert all(d.is_dir() for d in dirs.values())
    b.stop_server(timeout=90)
    deadline = time.monotonic() + 60
    while any(d.exists() for d in dirs.values()):
        assert time.monotonic() < deadline, [str(d) for d in dirs.values() if d.exists()]
        time.sleep(1)


# -- a live hub with a short idle timeout ----------------------------------------------------------

@pytest.fixture(scope="module")
def culling():
    need_root()
    h = ThrowawayHub(lessons=[LESSON], extra_env={"RNN_HUB_CULL_TIMEOUT": str(CULL_TIMEOUT),
                                                  "RNN_HUB_CULL_EVERY": str(CULL_EVERY)})
    no_cgroups = h.base / "no-cgroups"  # an empty folder: no controller to write
    no_cgroups.mkdir()
    h.env["RNN_HUB_CGROUP_ROOT"] = str(no_cgroups)
    try:
        h.start()
        h.add("student", "c")
        yield h
    finally:
        h.close()


def test_the_culler_runs_as_nobody_with_the_hub_s_settings(culling):
    import psutil

    status = culling.hubctl("status").stdout
    assert f"idle culler: a server idle for {CULL_TIMEOUT} s is stopped (checked every {CULL_EVERY} s)" in status
    api = f"127.0.0.1:{culling.ports['RNN_HUB_API_PORT']}"
    mine = []
    for p in psutil.process_iter(["cmdline", "uids"]):
        if "jupyterhub_idle_culler" in " ".join(p.info["cmdline"] or []):
            try:
                if api in p.environ().get("JUPYTERHUB_API_URL", ""):
                    mine.append(p)
            except psutil.Error:
                pass
    assert len(mine) == 1, mine
    assert mine[0].uids().real == 65534
    assert f"--timeout={CULL_TIMEOUT}" in mine[0].cmdline() and f"--cull-every={CULL_EVERY}" in mine[0].cmdline()


def not_enforced_lines(hub) -> list[str]:
    return [line for line in hub.log().splitlines() if "NOT enforced" in line]


def test_without_a_cgroup_controller_the_hub_starts_and_says_so(culling):
    """The defaults (2 GiB, 1 core) asked for, nothing to enforce them with: hubctl status
    says so for each, the hub's log warns once."""
    for said in (culling.start_output, culling.hubctl("status").stdout):
        for what, setting in (("memory 2 GiB", "RNN_HUB_MEM_LIMIT"), ("CPU 1 core", "RNN_HUB_CPU_LIMIT")):
            assert f"{what} per user ({setting}) is NOT enforced, servers run without it" in said, said
        assert "enforced (" not in said
    assert len(not_enforced_lines(culling)) == 1, not_enforced_lines(culling)


def test_an_idle_server_is_culled_and_the_student_s_file_stays(culling):
    hub = culling
    s = hub.login("c")
    s.start_server()
    ready = time.monotonic()
    text = "my notes, saved before I went for lunch\n"
    r = s.api("PUT", "/api/contents/notes.txt", json={"type": "file", "format": "text", "content": text})
    assert r.status_code in (200, 201), r.text[:300]
    deadline = ready + CULL_TIMEOUT + 5 * CULL_EVERY + 120  # the timeout, some checks, a slow stop
    while True:
        user = hub.admin("GET", f"/users/{s.name}").json()
        if not user.get("server") and not user.get("pending"):
            break
        assert time.monotonic() < deadline, f"not culled in {deadline - ready:.0f} s: {user}"
        time.sleep(2)
    idle = time.monotonic() - ready
    print(f"culled {idle:.0f} s after the server was ready (timeout {CULL_TIMEOUT} s, every {CULL_EVERY} s)")
    assert idle >= CULL_TIMEOUT - 10, idle  # not at once: when idle for the timeout
    assert re.search(rf"Culling server {re.escape(s.name)}\b", hub.log()), hub.log()[-3000:]
    assert (hub.home("c") / "notes.txt").read_text() == text
    again = hub.login("c")
    again.start_server()
    r = again.get_file("notes.txt")
    assert r.status_code == 200 and r.json()["content"] == text, r.text[:300]
    assert hublib.COURSE_FOLDER in [f["name"] for f in again.api("GET", "/api/contents").json()["content"]]
    # two servers started without limits: still the one warning, from the hub's start
    assert len(not_enforced_lines(hub)) == 1, not_enforced_lines(hub)


def test_no_idle_culler_outlives_its_hub():
    """A killed hub cannot stop its culler: `hubctl stop` (and restart) must, or every crash
    and restart leaves one more culler running. The control (a culler left by the killed
    hub) shows that the case is real; then stop leaves none, and a restart exactly one."""
    need_root()
    h = ThrowawayHub(lessons=[LESSON])
    port = h.ports["RNN_HUB_API_PORT"]
    try:
        h.start()
        assert len(hublib.hub_services_left(port)) == 1  # the running hub's culler
        h.hubctl("restart")
        assert len(hublib.hub_services_left(port)) == 1  # the new hub's, not two
        os.kill(int((h.base / "state" / "private" / "hub.pid").read_text()), 9)  # a crash
        time.sleep(1)
        orphans = hublib.hub_services_left(port)
        assert len(orphans) == 1, orphans  # the control: the killed hub left its culler
        said = h.hubctl("stop", timeout=180).stdout
        assert hublib.hub_services_left(port) == [], said
        assert "idle culler(s) the hub had left running" in said, said
    finally:
        h.close()
    assert hublib.hub_services_left(port) == []
