"""A class on one hub (hub/): JupyterHub with PAM accounts, nbgrader across accounts,
isolation and faults, all over HTTP as a browser would do it.

One throwaway hub (hub/throwaway.py: its own users with a random prefix, homes, ports on
127.0.0.1, state folder; all removed at the end, even on failure) holds a teacher and
three students. The teacher releases lesson 2 through the formgrader's API; the students
log in through the login form, fetch it through nbgrader's assignment-list API, write
their answers through the contents API (one right, one wrong, one blank) and submit; the
teacher collects, autogrades, generates and releases feedback; the students fetch it.
Then each student tries what they must not do, and the class meets a killed kernel, a hub
restart and a full home.

Needs root (it creates Unix users): it fails, not skips, without it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from _shared import ROOT

sys.path.insert(0, str(ROOT / "hub"))
from hubclient import HubUser  # noqa: E402
from throwaway import ThrowawayHub, missing_prerequisites  # noqa: E402

from test_nbgrader import wrong_answer  # noqa: E402

LESSON = ROOT / "lessons" / "02_rnn_state_and_memory.ipynb"
ASSIGNMENT, COURSE = "lesson02", "rnn"
NB = LESSON.name
FULL_HOME_MB = 24  # the blank student's home is a tmpfs this big (a disk that fills)


@pytest.fixture(scope="module")
def hub():
    why = missing_prerequisites()
    if why:
        pytest.fail(why)
    h = ThrowawayHub(lessons=[LESSON])
    try:
        h.start()
        h.add("teacher", "t")
        for short in ("right", "wrong"):
            h.add("student", short)
        h.add("student", "blank", tmpfs_home_mb=FULL_HOME_MB)
        yield h
    finally:
        h.close()


def answers_from_source(teacher: HubUser) -> dict:
    """{grade_id: the teacher's solution cell}, read through the teacher's own server."""
    path = f"rnn-grading/source/{ASSIGNMENT}/{NB}"
    source = teacher.notebook(path)
    return {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")}


def answered(nb: dict, answers: dict, how: str) -> dict:
    """The released notebook with its answer cells written: every answer right, every
    answer wrong, or none (blank)."""
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            if how == "right":
                cell["source"] = answers[grade_id]
            elif how == "wrong":
                cell["source"] = wrong_answer(answers[grade_id])
    return nb


@pytest.fixture(scope="module")
def cycle(hub):
    """The whole round; returns what the tests look at."""
    teacher = hub.login("t")
    teacher.start_server()
    for step in ("assign", "release"):
        r = teacher.api("POST", f"/formgrader/api/assignment/{ASSIGNMENT}/{step}", timeout=300)
        assert r.status_code == 200 and r.json().get("success"), f"{step}: {r.status_code} {r.text[:2000]}"
    answers = answers_from_source(teacher)
    assert len(answers) >= 3
    students = {}
    for how in ("right", "wrong", "blank"):
        s = hub.login(how)
        s.start_server()
        listed = s.nbgrader("fetch", ASSIGNMENT, COURSE)
        assert listed["success"], listed
        fetched = [a for a in listed["value"] if a["assignment_id"] == ASSIGNMENT and a["status"] == "fetched"]
        assert fetched, listed
        path = f"{ASSIGNMENT}/{NB}"
        nb = s.notebook(path)
        assert "BEGIN SOLUTION" not in json.dumps(nb)
        s.put_notebook(path, answered(nb, answers, how))
        submitted = s.nbgrader("submit", ASSIGNMENT, COURSE)
        assert submitted["success"], submitted
        students[how] = s
    r = teacher.api("POST", f"/formgrader/api/assignment/{ASSIGNMENT}/collect", timeout=300)
    assert r.status_code == 200 and r.json()["success"], r.text[:2000]
    for how, s in students.items():
        r = teacher.api("POST", f"/formgrader/api/submission/{ASSIGNMENT}/{s.name}/autograde", timeout=600)
        assert r.status_code == 200 and r.json()["success"], f"autograde {how}: {r.text[:3000]}"
    for step in ("generate_feedback", "release_feedback"):
        r = teacher.api("POST", f"/formgrader/api/assignment/{ASSIGNMENT}/{step}", timeout=600)
        assert r.status_code == 200 and r.json()["success"], f"{step}: {r.text[:2000]}"
    feedback = {}
    for how, s in students.items():
        listed = s.nbgrader("fetch_feedback", ASSIGNMENT, COURSE)
        assert listed["success"], listed
        mine = [sub for a in listed["value"] if a["assignment_id"] == ASSIGNMENT
                for sub in a.get("submissions", [])]
        assert mine and mine[-1]["has_local_feedback"], listed
        folder = mine[-1]["local_feedback_path"]
        html = s.get_file(f"{folder}/{NB.replace('.ipynb', '.html')}")
        assert html.status_code == 200, (how, html.status_code, folder)
        feedback[how] = html.json()["content"]
    return {"teacher": teacher, "students": students, "feedback": feedback, "answers": answers}


def grades(teacher: HubUser, student: str) -> tuple[dict, float, float]:
    """({test cell: (score, max)}, score, max score) of a student's lesson-2 notebook,
    from the formgrader's API."""
    subs = teacher.api("GET", f"/formgrader/api/submitted_notebooks/{ASSIGNMENT}/{NB[:-6]}").json()
    mine = next(s for s in subs if s["student"] == student)
    cells = teacher.api("GET", f"/formgrader/api/grades?submission_id={mine['id']}").json()
    by_cell = {g["name"]: (g["manual_score"] if g["manual_score"] is not None else g["auto_score"],
                         g["max_score"]) for g in cells}
    return by_cell, mine["score"], mine["max_score"]


# -- nbgrader across accounts ---------------------------------------------------------------

def test_every_right_answer_scores_every_point(cycle):
    by_cell, score, max_score = grades(cycle["teacher"], cycle["students"]["right"].name)
    assert len(by_cell) == len(cycle["answers"]) and max_score == len(cycle["answers"])
    assert all(s == m == 1 for s, m in by_cell.values()), by_cell
    assert score == max_score


@pytest.mark.parametrize("how", ["wrong", "blank"])
def test_every_wrong_or_missing_answer_scores_nothing(cycle, how):
    by_cell, score, max_score = grades(cycle["teacher"], cycle["students"][how].name)
    assert len(by_cell) == len(cycle["answers"]) and max_score == len(cycle["answers"])
    assert all(s == 0 and m == 1 for s, m in by_cell.values()), by_cell
    assert score == 0


def test_the_feedback_says_why(cycle):
    """The blank notebook stops at the stub; the wrong one runs its answers and its checks
    raise WrongAnswer (strict while grading); the right one has neither."""
    fb = cycle["feedback"]
    assert "NotImplementedError" in fb["blank"] or "NotAnswered" in fb["blank"]
    assert "WrongAnswer" in fb["wrong"]
    assert "NotImplementedError" not in fb["wrong"] and "NotAnswered" not in fb["wrong"]
    for marker in ("NotImplementedError", "NotAnswered", "WrongAnswer"):
        assert marker not in fb["right"]
    n = len(cycle["answers"])
    for how, score in (("right", n), ("wrong", 0), ("blank", 0)):
        assert re.search(rf"Score: {score}(\.0)? / {n}(\.0)?", fb[how]), (how, re.findall(r"Score: [^<]*", fb[how]))


def lab_page_config(user: HubUser) -> dict:
    r = user.api("GET", "/lab")
    assert r.status_code == 200, r.status_code
    data = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', r.text, re.S)
    return json.loads(data.group(1))


def test_a_student_s_lab_has_the_assignment_list_and_a_teacher_s_the_formgrader(cycle):
    """JupyterLab's nbgrader plugins by role (the course's environment turns them all off
    for a learner's `make lab`): a student gets Assignments, not the formgrader."""
    student = lab_page_config(cycle["students"]["right"])["disabledExtensions"]
    teacher = lab_page_config(cycle["teacher"])["disabledExtensions"]
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f"@jupyter/nbgrader:{plugin}" in student
        assert f"@jupyter/nbgrader:{plugin}" not in teacher
    for disabled in (student, teacher):
        assert "@jupyter/nbgrader" not in disabled and "@jupyter/nbgrader:assignment-list" not in disabled


# -- isolation ---------------------------------------------------------------------------------

PROBE = textwrap.dedent("""\
    import json, os, urllib.request, urllib.error
    results = {}
    def attempt(name, fn):
        try:
            fn()
            results[name] = "allowed"
        except (PermissionError, urllib.error.HTTPError) as e:
            results[name] = "refused " + type(e).__name__ + " " + str(getattr(e, "code", ""))
        except Exception as e:
            results[name] = "error " + type(e).__name__ + ": " + str(e)
    """)


def probe(user: HubUser, attempts: dict) -> dict:
    """Run each attempt (a Python expression) in the user's own kernel; {name: result}."""
    kernel = user.kernel()
    try:
        lines = [PROBE] + [f"attempt({name!r}, lambda: {code})" for name, code in attempts.items()]
        lines.append("print(json.dumps(results))")
        out = kernel.run("\n".join(lines))
        assert out["status"] == "ok", out
        return json.loads(out["stdout"].strip().splitlines()[-1])
    finally:
        kernel.close()


def test_a_student_cannot_read_what_is_not_theirs(hub, cycle):
    right, wrong = cycle["students"]["right"], cycle["students"]["wrong"]
    other_home, teacher_home = hub.home("wrong"), hub.home("t")
    inbound = Path(hub.env["RNN_HUB_DIR"]) / "exchange" / COURSE / "inbound"
    submission = next(inbound.iterdir())  # the test (root) knows a name; a student cannot list
    attempts = {
        "other home": f"os.listdir({str(other_home)!r})",
        "other notebook": f"open({str(other_home / ASSIGNMENT / NB)!r}).read()",
        "teacher home": f"os.listdir({str(teacher_home)!r})",
        "teacher source": f"open({str(teacher_home / 'rnn-grading' / 'source' / ASSIGNMENT / NB)!r}).read()",
        "gradebook": f"open({str(teacher_home / 'rnn-grading' / 'gradebook.db')!r}, 'rb').read()",
        "submissions": f"os.listdir({str(inbound)!r})",
        "other runtime": f"os.listdir({str(other_home / '.local' / 'share' / 'jupyter' / 'runtime')!r})",
        "hub database": f"open({hub.env['RNN_HUB_DIR'] + '/private/jupyterhub.sqlite'!r}, 'rb').read()",
        "hub secret": f"open({hub.env['RNN_HUB_DIR'] + '/private/hubctl-token'!r}).read()",
    }
    results = probe(right, attempts)
    for name, result in results.items():
        assert result.startswith("refused PermissionError"), (name, result)
    # the control: the same probe reads the student's own work
    own = probe(right, {"own notebook": f"open({str(hub.home('right') / ASSIGNMENT / NB)!r}).read()"})
    assert own == {"own notebook": "allowed"}
    assert submission.name.startswith(f"{wrong.name}+{ASSIGNMENT}+") or submission.name.count("+") >= 3


def test_a_student_cannot_reach_another_server_or_the_teachers(hub, cycle):
    right = cycle["students"]["right"]
    for owner in (cycle["students"]["wrong"].name, cycle["teacher"].name):
        for path in ("/api/contents", f"/api/contents/{ASSIGNMENT}/{NB}", "/api/kernels",
                     "/api/terminals", "/formgrader/api/assignments"):
            r = right.api("GET", path, user=owner)
            assert r.status_code in (302, 403, 404), (owner, path, r.status_code)
            assert "BEGIN SOLUTION" not in r.text and '"cells"' not in r.text and '"id"' not in r.text
        r = right.api("POST", "/api/kernels", user=owner, json={"name": "python3"})
        assert r.status_code in (302, 403, 404)
        r = right.hub_api("POST", f"/users/{owner}/server")
        assert r.status_code in (403, 404)
        r = right.hub_api("POST", f"/users/{owner}/tokens", json={})
        assert r.status_code in (403, 404)
    assert right.hub_api("GET", "/users").status_code == 403
    # the control: the same requests on the student's own server work
    assert right.api("GET", f"/api/contents/{ASSIGNMENT}/{NB}").status_code == 200


def test_another_students_server_refuses_a_direct_connection(hub, cycle):
    """From a student's kernel, straight to the port of another student's server (found
    in the proxy's routing table, as root): no token, no entry."""
    import requests

    proxy_token = (Path(hub.env["RNN_HUB_DIR"]) / "private" / "proxy-token").read_text().strip()
    routes = requests.get(f"http://127.0.0.1:{hub.ports['RNN_HUB_PROXY_PORT']}/api/routes",
                          headers={"Authorization": f"token {proxy_token}"}, timeout=30).json()
    other = cycle["students"]["wrong"].name
    target = next(v["target"] for k, v in routes.items() if k.startswith(f"/user/{other}"))
    url = f"{target}/user/{other}/api/contents"
    result = probe(cycle["students"]["right"], {
        "direct": f"urllib.request.urlopen(urllib.request.Request({url!r}), timeout=20).read()"})
    assert result["direct"].startswith("refused HTTPError 403") or "302" in result["direct"], result


def _refusal(r, name):
    body = re.sub(r'name="_xsrf" value="[^"]*"|xsrf_token: "[^"]*"', "", r.text).replace(name, "NAME")
    return r.status_code, body


def test_wrong_password_unknown_user_and_forged_token_are_refused(hub, cycle):
    name = cycle["students"]["right"].name
    wrong_pw = HubUser(hub.url, name)
    r1 = wrong_pw.login("not-the-password")
    unknown = HubUser(hub.url, hub.name("nobody"))
    r2 = unknown.login("whatever-password")
    for user, r in ((wrong_pw, r1), (unknown, r2)):
        assert r.status_code == 403 and user.token is None
        assert "jupyterhub-session-id" not in r.headers.get("Set-Cookie", "")
        assert "jupyterhub-hub-login" not in r.headers.get("Set-Cookie", "")
    # the same refusal for both: it does not tell whether the account exists
    assert _refusal(r1, wrong_pw.name) == _refusal(r2, unknown.name)
    assert "Invalid username or password" in r1.text
    forged = HubUser(hub.url, name)
    forged.token = "f" * 32
    assert forged.hub_api("GET", "/user").status_code == 403
    r = forged.api("GET", "/api/contents")
    assert r.status_code in (302, 403) and '"content"' not in r.text
    assert HubUser(hub.url, name).http.get(f"{hub.url}/hub/signup", timeout=30).status_code == 404


# -- faults ------------------------------------------------------------------------------------

def submitted_in_exchange(hub, name) -> list[Path]:
    inbound = Path(hub.env["RNN_HUB_DIR"]) / "exchange" / COURSE / "inbound"
    return sorted(p for p in inbound.iterdir() if p.name.startswith(f"{name}+{ASSIGNMENT}+"))


def test_a_killed_kernel_loses_no_submitted_or_saved_answer(hub, cycle):
    import psutil

    s = cycle["students"]["right"]
    before = submitted_in_exchange(hub, s.name)
    saved = s.notebook(f"{ASSIGNMENT}/{NB}")
    kernel = s.kernel(ASSIGNMENT)
    assert kernel.run("x = 41")["status"] == "ok"
    pids = [p for p in psutil.process_iter(["uids", "cmdline"])
            if p.info["uids"].real == _uid(s.name)
            and kernel.id in " ".join(p.info["cmdline"] or [])]
    assert len(pids) == 1, pids
    pids[0].kill()  # SIGKILL, mid-lesson
    pids[0].wait(10)
    # Jupyter restarts a dead kernel; the student runs the cell again
    deadline, result = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        try:
            kernel.close(shutdown=False)
            kernel = type(kernel)(s, kernel.id)
            result = kernel.run("print(1 + 1)", timeout=30)
            break
        except Exception:  # noqa: BLE001 (restarting)
            time.sleep(1)
    assert result and result["stdout"].strip() == "2", result
    kernel.close()
    assert s.notebook(f"{ASSIGNMENT}/{NB}") == saved
    assert submitted_in_exchange(hub, s.name) == before and before


def _uid(name):
    import pwd

    return pwd.getpwnam(name).pw_uid


def test_a_hub_restart_during_class_keeps_servers_kernels_and_submissions(hub, cycle):
    s, teacher = cycle["students"]["wrong"], cycle["teacher"]
    kernel = s.kernel(ASSIGNMENT)
    assert kernel.run("state = 'kept'")["status"] == "ok"
    before = submitted_in_exchange(hub, s.name)
    hub.hubctl("stop-hub")  # the hub only, as an upgrade or a crash would
    try:
        # the hub is down; the proxy and the student's server are not
        assert s.api("GET", f"/api/contents/{ASSIGNMENT}/{NB}").status_code == 200
        assert kernel.run("print(state)")["stdout"].strip() == "kept"
    finally:
        hub.hubctl("start")
    assert kernel.run("print(state)")["stdout"].strip() == "kept"
    kernel.close()
    assert submitted_in_exchange(hub, s.name) == before and before
    again = hub.login("wrong")  # logging in works again
    assert again.api("GET", f"/api/contents/{ASSIGNMENT}/{NB}").status_code == 200
    subs = teacher.api("GET", f"/formgrader/api/submissions/{ASSIGNMENT}").json()
    assert {x["student"] for x in subs if x["submitted"]} >= set(n.name for n in cycle["students"].values())


def test_a_full_home_refuses_a_save_and_loses_no_submission(hub, cycle):
    s = cycle["students"]["blank"]
    home = hub.home("blank")
    on_disk = home / ASSIGNMENT / NB
    saved = on_disk.read_bytes()
    before = submitted_in_exchange(hub, s.name)
    assert before
    nb = s.notebook(f"{ASSIGNMENT}/{NB}")
    filler = home / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M", f"count={FULL_HOME_MB * 2}"],
                   capture_output=True)  # stops at "No space left on device", as it should
    try:
        assert filler.exists()
        nb["cells"][0]["source"] += "\n\nA line written on a full disk." + " padding" * 2000
        r = s.api("PUT", f"/api/contents/{ASSIGNMENT}/{NB}", json={"type": "notebook", "format": "json",
                                                                     "content": nb})
        assert r.status_code >= 400, r.status_code  # refused, and said so
        assert on_disk.read_bytes() == saved  # the last saved notebook is intact on disk
        assert submitted_in_exchange(hub, s.name) == before
        # submitting again on a full home: refused or done, the first submission stays
        try:
            s.nbgrader("submit", ASSIGNMENT, COURSE)
        except Exception:  # noqa: BLE001 (a refusal is fine here)
            pass
        assert set(before) <= set(submitted_in_exchange(hub, s.name))
        for sub in before:
            assert (sub / NB).exists() and (sub / NB).stat().st_size > 0
    finally:
        filler.unlink()
    import nbformat

    kept = [c.source for c in nbformat.reads(saved.decode(), as_version=4).cells]
    assert [c["source"] for c in s.notebook(f"{ASSIGNMENT}/{NB}")["cells"]] == kept
    assert s.api("PUT", f"/api/contents/{ASSIGNMENT}/{NB}", json={
        "type": "notebook", "format": "json", "content": nb}).status_code == 200
    assert "full disk" in on_disk.read_text()
