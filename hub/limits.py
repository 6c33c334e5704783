"""The hub's spawner: JupyterHub's LocalProcessSpawner, with the standard `mem_limit` and
`cpu_limit` enforced (LocalProcessSpawner itself enforces neither).

Each user's server goes into a cgroup of its own, `rnn-hub/<user>` (hub/cgroups.py: under
the hub's own cgroup in each v1 hierarchy, or /sys/fs/cgroup/rnn-hub/<user> with cgroup v2),
made in start() before the server starts and joined by the server's process itself, while
it is still root, just before it becomes the user: every kernel and terminal it starts is
in it too. A kernel that takes more memory than the limit is killed by the kernel's OOM
killer (Jupyter restarts it); the server and the other students go on. Removed (best effort)
once the server has stopped.

Where no writable cgroup controller exists, servers start without limits, the hub logs it
once, and `hubctl.py status` says that the limits are not enforced.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import List, Unicode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgroups  # noqa: E402


class LimitedSpawner(LocalProcessSpawner):
    """LocalProcessSpawner with mem_limit and cpu_limit enforced by a cgroup per user."""

    cgroup_root = Unicode(cgroups.DEFAULT_ROOT, help="The cgroupfs mount (a fake tree in tests).").tag(config=True)
    cgroup_self = Unicode("/proc/self/cgroup", help="The hub's own cgroups (where v1 ones go).").tag(config=True)
    cgroup_parent = Unicode(cgroups.DEFAULT_PARENT, help="The folder the users' cgroups go in.").tag(config=True)
    remove_wait = 10.0  # seconds to wait for a stopped server's kernels to leave its cgroup

    cgroup_dirs = List()  # this start's cgroups (not saved: a restarted hub finds them by name)
    _warned: set = set()  # what was already logged, across every user's spawner

    def cgroup_tree(self) -> cgroups.Cgroups:
        return cgroups.Cgroups(self.cgroup_root, self.cgroup_self, self.cgroup_parent)

    def _warn_once(self, message: str) -> None:
        if message not in LimitedSpawner._warned:
            LimitedSpawner._warned.add(message)
            self.log.warning(message)

    def limit(self) -> list:
        """The user's cgroups with this spawner's limits; [] where none can be made."""
        mem, cpu = self.mem_limit, self.cpu_limit
        if mem is None and cpu is None:
            return []
        tree = self.cgroup_tree()
        dirs = tree.create(self.user.name, mem, cpu, "Spawner.mem_limit", "Spawner.cpu_limit")
        enforced, line = tree.report(mem, cpu)
        if not enforced:
            self._warn_once(line)
        return dirs

    async def start(self):
        self.cgroup_dirs = []
        try:
            self.cgroup_dirs = [str(d) for d in self.limit()]
        except OSError as e:
            self.log.error("%s: limits NOT enforced for this server: its cgroup could not be "
                           "made (%s)", self.user.name, e)
        result = await super().start()
        missing = [d for d in self.cgroup_dirs if not cgroups.Cgroups.holds(d, self.pid)]
        if missing:
            self.log.error("%s: server pid %s is not in %s: limits NOT enforced for this server",
                           self.user.name, self.pid, ", ".join(missing))
        elif self.cgroup_dirs:
            self.log.info("%s: server pid %s in %s (memory %s, CPU %s)", self.user.name, self.pid,
                          ", ".join(self.cgroup_dirs), self.mem_limit, self.cpu_limit)
        return result

    def make_preexec_fn(self, name):
        """Join the user's cgroups (still as root), then become the user (the parent's)."""
        become_user = super().make_preexec_fn(name)
        procs = [os.path.join(d, "cgroup.procs") for d in self.cgroup_dirs]

        def preexec():
            pid = str(os.getpid()).encode()
            for path in procs:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
                    try:
                        os.write(fd, pid)
                    finally:
                        os.close(fd)
                except OSError:
                    pass  # start() checks that the server is in its cgroups, and says so
            if become_user is not None:
                become_user()

        return preexec

    async def stop(self, now=False):
        await super().stop(now=now)
        if self.mem_limit is None and self.cpu_limit is None:
            return
        tree = self.cgroup_tree()
        loop = asyncio.get_running_loop()
        left = await loop.run_in_executor(None, tree.remove, self.user.name, self.remove_wait)
        if left:
            self.log.info("%s: cgroup %s left in place (processes still in it)", self.user.name,
                          ", ".join(map(str, left)))
