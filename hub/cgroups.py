"""Memory and CPU limits per user with Linux control groups: what hub/limits.py (the hub's
spawner) and hubctl.py use. The standard library only, so the course's .venv can test it
on a fake tree (tests/test_hub_limits.py).

Each user's server, and so every kernel it starts, runs in a cgroup of its own:

    cgroup v1 (a hierarchy per controller, e.g. /sys/fs/cgroup/memory, /sys/fs/cgroup/cpu):
        <controller>/<the hub's own cgroup there>/rnn-hub/<user>/
            memory.limit_in_bytes (and memory.memsw.limit_in_bytes: memory and swap together)
            cpu.cfs_period_us = 100000, cpu.cfs_quota_us = cpu * 100000
    cgroup v2 (one tree, /sys/fs/cgroup/cgroup.controllers exists):
        /sys/fs/cgroup/rnn-hub/<user>/   (+memory +cpu in the root's and rnn-hub's subtree_control)
            memory.max (and memory.swap.max = 0 where swap is accounted), cpu.max = "<quota> 100000"

Settings: RNN_HUB_MEM_LIMIT (default 2G: the measured peak per student was 0.58 to 0.65 GiB,
hub/sizing.json; hub/z2jh/config.yaml has the same limit), RNN_HUB_CPU_LIMIT (default 1.0
core), each `none` for no limit, RNN_HUB_CGROUP (the parent's name, default rnn-hub) and
RNN_HUB_CGROUP_ROOT (the cgroupfs mount, default /sys/fs/cgroup).
"""

from __future__ import annotations

import errno
import math
import os
import re
import time
from pathlib import Path

MEM_SETTING, CPU_SETTING, PARENT_SETTING = "RNN_HUB_MEM_LIMIT", "RNN_HUB_CPU_LIMIT", "RNN_HUB_CGROUP"
ROOT_SETTING = "RNN_HUB_CGROUP_ROOT"
DEFAULT_MEM, DEFAULT_CPU, DEFAULT_PARENT, DEFAULT_ROOT = "2G", "1.0", "rnn-hub", "/sys/fs/cgroup"
PERIOD_US = 100_000  # the CFS period: a 0.5 CPU limit is 50 ms of every 100 ms
MIN_CPU = 0.01  # the kernel's smallest quota is 1 ms per period
CONTROLLERS = ("memory", "cpu")
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}  # as JupyterHub's ByteSpecification


class LimitError(ValueError):
    """A limit that cannot be right (negative, zero, not a number); says which setting."""


def parse_memory(value, setting: str = MEM_SETTING) -> int | None:
    """'2G' -> 2147483648 bytes (K, M, G, T are powers of 1024, as in JupyterHub's
    mem_limit); an int is bytes; 'none' or '' -> None (no limit)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        text = str(value).strip()
        if text.lower() in ("", "none"):
            return None
        m = re.fullmatch(r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([KMGTkmgt]?)", text)
        if not m:
            raise LimitError(f"{setting}={value!r} is not a memory size: give bytes or a number "
                             "with K, M, G or T (e.g. 2G or 700M), or none for no limit")
        number = float(m.group(1)) * UNITS[m.group(2).upper()]
    if not math.isfinite(number) or number <= 0:
        raise LimitError(f"{setting}={value!r}: a memory limit must be more than 0 (none for no limit)")
    return int(number)


def parse_cpu(value, setting: str = CPU_SETTING) -> float | None:
    """'0.5' -> 0.5 of a core; 'none' or '' -> None (no limit)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ("", "none"):
        return None
    try:
        cpu = float(value)
    except (TypeError, ValueError):
        raise LimitError(f"{setting}={value!r} is not a number of cores (e.g. 1.0 or 0.5; "
                         "none for no limit)") from None
    if not math.isfinite(cpu) or cpu <= 0:
        raise LimitError(f"{setting}={value!r}: a CPU limit must be more than 0 cores (none for no limit)")
    if cpu < MIN_CPU:
        raise LimitError(f"{setting}={value!r}: a CPU limit must be at least {MIN_CPU} of a core "
                         "(the kernel's smallest quota)")
    return cpu


def settings(environ=None) -> tuple[int | None, float | None]:
    """(memory in bytes, cores) from RNN_HUB_MEM_LIMIT and RNN_HUB_CPU_LIMIT."""
    environ = os.environ if environ is None else environ
    return (parse_memory(environ.get(MEM_SETTING, DEFAULT_MEM), MEM_SETTING),
            parse_cpu(environ.get(CPU_SETTING, DEFAULT_CPU), CPU_SETTING))


def cpu_quota(cpu: float) -> int:
    """Microseconds per PERIOD_US: 0.5 -> 50000."""
    return max(1000, round(cpu * PERIOD_US))


def human_bytes(n: int) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


def _write(path: Path, text: str) -> None:
    # no O_TRUNC games: a cgroup file takes one write; a fake tree (tests) gets a plain file
    with open(path, "w") as f:
        f.write(text)


def _safe(user: str) -> str:
    name = user.replace("/", "_").replace("\n", "_")
    if name in ("", ".", ".."):
        raise LimitError(f"{user!r} cannot name a cgroup")
    return name


class Cgroups:
    """The per-user cgroups under `root` (the cgroupfs mount, /sys/fs/cgroup), for the
    process whose cgroups `self_cgroup` lists (/proc/self/cgroup: the hub's)."""

    def __init__(self, root=None, self_cgroup="/proc/self/cgroup", parent=None):
        self.root = Path(root or os.environ.get(ROOT_SETTING, DEFAULT_ROOT))
        self.self_cgroup = Path(self_cgroup)
        self.parent = _safe(parent or os.environ.get(PARENT_SETTING, DEFAULT_PARENT))
        self._ready: dict[str, Path] | None = None
        self.problems: dict[str, str] = {}  # controller -> why it is not enforced

    @property
    def version(self) -> int:
        return 2 if (self.root / "cgroup.controllers").is_file() else 1

    # -- where -------------------------------------------------------------------------------
    def _own_paths(self) -> dict[str, str]:
        """{controller: the hub's cgroup path in that v1 hierarchy} from /proc/self/cgroup."""
        own = {}
        try:
            lines = self.self_cgroup.read_text().splitlines()
        except OSError:
            return own
        for line in lines:
            parts = line.split(":", 2)
            if len(parts) == 3 and parts[1]:
                for controller in parts[1].split(","):
                    own[controller] = parts[2]
        return own

    def _mount(self, controller: str) -> Path | None:
        """The v1 hierarchy of `controller`: root/memory, or root/cpu,cpuacct and the like."""
        plain = self.root / controller
        if plain.is_dir():
            return plain
        try:
            for entry in self.root.iterdir():
                if entry.is_dir() and controller in entry.name.split(","):
                    return entry
        except OSError:
            pass
        return None

    def parents(self) -> dict[str, Path]:
        """{controller: the rnn-hub folder its users' cgroups go in}; a controller that has
        no hierarchy here is left out (and said so in self.problems)."""
        if self.version == 2:
            return {c: self.root / self.parent for c in CONTROLLERS}
        own, found = self._own_paths(), {}
        for c in CONTROLLERS:
            mount = self._mount(c)
            if mount is None:
                self.problems[c] = f"no cgroup v1 {c} hierarchy under {self.root}"
                continue
            base = mount / own.get(c, "/").lstrip("/")
            if not base.is_dir():  # a container's view: its own cgroup is the mount itself
                base = mount
            found[c] = base / self.parent
        return found

    def prepare(self) -> dict[str, Path]:
        """Make the rnn-hub folders (v2: and enable the controllers down to them); return
        {controller: folder} of those that work. Done once."""
        if self._ready is not None:
            return self._ready
        ready: dict[str, Path] = {}
        if self.version == 2:
            try:
                available = set((self.root / "cgroup.controllers").read_text().split())
            except OSError as e:
                available = set()
                self.problems.update({c: f"cannot read {self.root}/cgroup.controllers: {e}" for c in CONTROLLERS})
            wanted = [c for c in CONTROLLERS if c in available]
            for c in CONTROLLERS:
                if c not in available and c not in self.problems:
                    self.problems[c] = f"the cgroup v2 tree {self.root} has no {c} controller"
            parent = self.root / self.parent
            if wanted:
                enable = " ".join(f"+{c}" for c in wanted)
                try:
                    _write(self.root / "cgroup.subtree_control", enable)
                    parent.mkdir(exist_ok=True)
                    _write(parent / "cgroup.subtree_control", enable)
                    ready = {c: parent for c in wanted}
                except OSError as e:
                    for c in wanted:
                        self.problems[c] = f"cannot enable {c} for {parent} (cgroup v2): {e}"
        else:
            for c, parent in self.parents().items():
                try:
                    parent.mkdir(exist_ok=True)
                    if not os.access(parent, os.W_OK):
                        raise PermissionError(errno.EACCES, "not writable", str(parent))
                    ready[c] = parent
                except OSError as e:
                    self.problems[c] = f"cannot make {parent}: {e}"
        self._ready = ready
        return ready

    def user_dirs(self, user: str) -> dict[str, Path]:
        return {c: parent / _safe(user) for c, parent in self.prepare().items()}

    # -- what ----------------------------------------------------------------------------------
    def create(self, user: str, mem: int | None, cpu: float | None,
               mem_name: str = MEM_SETTING, cpu_name: str = CPU_SETTING) -> list[Path]:
        """The user's cgroups with these limits (None: unlimited), made or updated; returns
        the folders a process joins (one per v1 hierarchy, one in v2). Raises LimitError for
        a limit that cannot be right, OSError when the tree refuses."""
        if mem is not None and mem <= 0:
            raise LimitError(f"{mem_name}={mem!r}: a memory limit must be more than 0 bytes")
        if cpu is not None and (not math.isfinite(cpu) or cpu < MIN_CPU):
            raise LimitError(f"{cpu_name}={cpu!r}: a CPU limit must be at least {MIN_CPU} of a core")
        dirs = self.user_dirs(user)
        for path in set(dirs.values()):
            path.mkdir(exist_ok=True)
        if "memory" in dirs:
            d = dirs["memory"]
            if self.version == 2:
                _write(d / "memory.max", "max" if mem is None else str(mem))
                if (d / "memory.swap.max").exists():  # the limit is not spilled into swap
                    _write(d / "memory.swap.max", "max" if mem is None else "0")
            else:
                memsw = d / "memory.memsw.limit_in_bytes"  # memory + swap; must stay >= memory's
                if memsw.exists():
                    _write(memsw, "-1")
                _write(d / "memory.limit_in_bytes", "-1" if mem is None else str(mem))
                if memsw.exists() and mem is not None:
                    _write(memsw, str(mem))
        if "cpu" in dirs:
            d = dirs["cpu"]
            if self.version == 2:
                _write(d / "cpu.max", f"{'max' if cpu is None else cpu_quota(cpu)} {PERIOD_US}")
            else:
                _write(d / "cpu.cfs_period_us", str(PERIOD_US))
                _write(d / "cpu.cfs_quota_us", "-1" if cpu is None else str(cpu_quota(cpu)))
        return sorted(set(dirs.values()))

    @staticmethod
    def join(dirs, pid: int) -> None:
        """Put process `pid` (and so what it starts later) in each folder."""
        for d in dirs:
            _write(Path(d) / "cgroup.procs", str(pid))

    @staticmethod
    def holds(d, pid: int) -> bool:
        try:
            return str(pid) in (Path(d) / "cgroup.procs").read_text().split()
        except OSError:
            return False

    def remove(self, user: str, wait: float = 0) -> list[Path]:
        """Remove the user's (empty) cgroups, retrying for `wait` seconds while processes
        still leave; returns those that remain. Best effort: never raises."""
        try:
            dirs = sorted(set(self.user_dirs(user).values()))
        except (OSError, LimitError):
            return []
        deadline = time.monotonic() + wait
        while True:
            left = []
            for d in dirs:
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    left.append(d)
            if not left or time.monotonic() >= deadline:
                return left
            dirs = left
            time.sleep(0.25)

    def remove_all(self, wait: float = 0) -> list[Path]:
        """Every user's cgroup and the parent folder itself (a throwaway hub's, at its end)."""
        left = []
        for parent in set(self.parents().values()):
            if not parent.is_dir():
                continue
            for child in [p for p in parent.iterdir() if p.is_dir()]:
                left += self.remove(child.name, wait)
            try:
                parent.rmdir()
            except OSError:
                left.append(parent)
        return left

    # -- saying so -----------------------------------------------------------------------------
    def report(self, mem: int | None, cpu: float | None) -> tuple[bool, str]:
        """(every limit set is enforced, one line for the log and `hubctl.py status`)."""
        ready = self.prepare()
        wanted = {"memory": mem, "cpu": cpu}
        what = {"memory": f"memory {human_bytes(mem)}" if mem else "",
                "cpu": f"CPU {cpu:g} core{'s' if cpu != 1 else ''}" if cpu else ""}
        setting = {"memory": MEM_SETTING, "cpu": CPU_SETTING}
        on = [c for c in CONTROLLERS if wanted[c] is not None and c in ready]
        off = [c for c in CONTROLLERS if wanted[c] is not None and c not in ready]
        parts = []
        if on:
            where = ", ".join(sorted({f"{ready[c]}/<user>" for c in on}))
            parts.append(f"{' and '.join(what[c] for c in on)} per user, enforced "
                         f"(cgroup v{self.version}: {where})")
        for c in off:
            parts.append(f"{what[c]} per user ({setting[c]}) is NOT enforced, servers run "
                         f"without it: {self.problems.get(c, 'no writable cgroup controller')}")
        unset = [setting[c] for c in CONTROLLERS if wanted[c] is None]
        if unset:
            parts.append(f"no {' and no '.join('memory' if s == MEM_SETTING else 'CPU' for s in unset)} "
                         f"limit ({', '.join(unset)}=none)")
        return not off, "limits: " + "; ".join(parts)
