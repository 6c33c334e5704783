# JupyterHub for a class on one machine (issue 24): `make hub` runs it via hub/hubctl.py.
#
# - Accounts are Unix users, made by the teacher (hubctl.py add-student / add-teacher):
#   PAM checks the password, and only members of the students' and teachers' groups may
#   log in. There is no sign-up page.
# - Each server runs as its own user, in its own home (mode 700), started by
#   LocalProcessSpawner; a student's home gets the student edition in ~/rnn-course.
# - nbgrader: a shared exchange in the state folder; students get the assignment list,
#   teachers the formgrader on their course in ~/rnn-grading.
# - Restarting the hub during a class leaves the proxy (started apart from the hub) and
#   every server running (cleanup_servers False): students keep working meanwhile.
#
# - Each server (and its kernels) has a memory and a CPU limit, in a cgroup per user
#   (limits.py); an idle server is stopped by jupyterhub-idle-culler, a hub service.
#
# Settings come from the environment (hublib.py): RNN_HUB_DIR (state, /srv/rnn-hub),
# RNN_HUB_IP / RNN_HUB_PORT (where students connect, 0.0.0.0:8000), RNN_HUB_STUDENTS /
# RNN_HUB_TEACHERS (the groups), RNN_HUB_ENV (the servers' Python environment, .venv-hub),
# RNN_HUB_MEM_LIMIT / RNN_HUB_CPU_LIMIT (per user, 2G and 1.0), RNN_HUB_CULL_TIMEOUT /
# RNN_HUB_CULL_EVERY (3600 s and 300 s).
import os
import pwd
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cgroups  # noqa: E402
import hublib  # noqa: E402
import limits  # noqa: E402

c = get_config()  # noqa: F821

students, teachers = hublib.students_group(), hublib.teachers_group()

# -- where it listens ---------------------------------------------------------------------
c.JupyterHub.ip = hublib.env("RNN_HUB_IP", "0.0.0.0")
c.JupyterHub.port = int(hublib.env("RNN_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(hublib.env("RNN_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hublib.env('RNN_HUB_PROXY_PORT', '8001')}"
# hubctl.py starts the proxy on its own (hublib.proxy_args): a restart of the hub leaves it,
# and the students' open connections through it, alone.
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.auth_token = hublib.secret("proxy-token")
private = hublib.private_dir()  # root only: the database, the secrets, the pid files
c.JupyterHub.db_url = f"sqlite:///{private / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hublib.secret_file("jupyterhub_cookie_secret"))
c.JupyterHub.pid_file = str(private / "hub.pid")
# A restart during a class: the proxy and the students' servers keep running, and the
# new hub picks them up from its database. `hubctl.py stop` stops the servers first.
c.JupyterHub.cleanup_servers = False

# -- who may log in -------------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {students, teachers}
c.PAMAuthenticator.admin_groups = {teachers}
c.PAMAuthenticator.open_sessions = False  # no login session per server (containers lack one)
c.Authenticator.allow_all = False
c.Authenticator.allow_existing_users = False

# hubctl.py (stop, status, the tests' setup) talks to the hub with its own token.
c.JupyterHub.services = [{"name": "hubctl", "api_token": hublib.secret("hubctl-token")}]
c.JupyterHub.load_roles = [{
    "name": "hubctl",
    "scopes": ["admin:users", "admin:servers", "list:users", "tokens"],
    "services": ["hubctl"],
}]

# -- the idle culler ---------------------------------------------------------------------------
# jupyterhub-idle-culler (hub/requirements.txt), started and stopped by the hub: a server
# idle for RNN_HUB_CULL_TIMEOUT seconds (no request, no busy kernel) is stopped; the files in
# the home stay, and the next login starts a new server. 0 turns it off. Zero to JupyterHub's
# config (hub/z2jh/config.yaml) has the same hour and 300 s between checks. It runs as
# `nobody`, with only the scopes its documentation asks for.
cull_timeout, cull_every = hublib.cull_settings()
if cull_timeout:
    culler = {"name": "idle-culler", "cwd": "/",
              "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                          f"--timeout={cull_timeout}", f"--cull-every={cull_every}"]}
    try:
        culler["user"] = pwd.getpwnam("nobody").pw_name
    except KeyError:
        pass  # no such account: it runs as the hub's user
    c.JupyterHub.services.append(culler)
    c.JupyterHub.load_roles.append({
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    })

# -- each user's server ----------------------------------------------------------------------
env = hublib.python_env()
# LocalProcessSpawner, with JupyterHub's mem_limit and cpu_limit enforced by a cgroup per
# user (limits.py); servers start without them, and the hub says so, where no cgroup
# controller can be written.
c.JupyterHub.spawner_class = limits.LimitedSpawner
try:
    mem_limit, cpu_limit = cgroups.settings()
except cgroups.LimitError as e:
    raise SystemExit(str(e)) from None
c.Spawner.mem_limit = mem_limit
c.Spawner.cpu_limit = cpu_limit
c.LimitedSpawner.cgroup_parent = hublib.env(cgroups.PARENT_SETTING, cgroups.DEFAULT_PARENT)
c.LimitedSpawner.cgroup_root = hublib.env(cgroups.ROOT_SETTING, cgroups.DEFAULT_ROOT)
enforced, limits_line = cgroups.Cgroups(c.LimitedSpawner.cgroup_root,
                                        parent=c.LimitedSpawner.cgroup_parent).report(mem_limit, cpu_limit)
culler_line = (f"idle culler: a server idle for {cull_timeout} s is stopped (checked every {cull_every} s)"
               if cull_timeout else "idle culler: off (RNN_HUB_CULL_TIMEOUT=0)")
(private / "settings.txt").write_text(f"{limits_line}\n{culler_line}\n")  # hubctl.py prints them
if not enforced:  # once, at the start (the spawner does not repeat it)
    print(f"[W jupyterhub_config] {limits_line}", file=sys.stderr, flush=True)
    limits.LimitedSpawner._warned.add(limits_line)
c.Spawner.cmd = [str(env / "bin" / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{hublib.COURSE_FOLDER}"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# One thread per kernel: the lessons use one, and 30 kernels on 16 cores must not fight.
# The environment's programs first on PATH: nbgrader runs `alembic` for its gradebook, and
# a terminal's `python`, `jupyter`, `nbgrader` are the course's.
c.Spawner.environment = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "PATH": f"{env / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}


def in_group(user, group):
    import grp
    import pwd

    try:
        p = pwd.getpwnam(user)
        g = grp.getgrnam(group)
    except KeyError:
        return False
    return user in g.gr_mem or p.pw_gid == g.gr_gid


def pre_spawn(spawner):
    """Before a server starts: its Jupyter config by role, and a student's course copy."""
    name = spawner.user.name
    role = "teacher" if in_group(name, teachers) else "student"
    spawner.environment = dict(spawner.environment, JUPYTER_CONFIG_PATH=str(hublib.config_dir(role)))
    if role == "student":
        home = Path(os.path.expanduser(f"~{name}"))
        copied = hublib.copy_missing(hublib.course_edition(), home / hublib.COURSE_FOLDER, name)
        spawner.log.info("%s: %d course files copied into ~/%s", name, copied, hublib.COURSE_FOLDER)


c.Spawner.pre_spawn_hook = pre_spawn
