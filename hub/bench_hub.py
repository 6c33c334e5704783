"""How many students one machine holds: simulated students on a throwaway hub (loopback only).

    python hub/bench_hub.py                      # make bench-hub: 1, 5, 10, 20, then more
    python hub/bench_hub.py --counts 1 5 --budget 30 --out /tmp/sizing.json

For each count N (cumulative: going from 5 to 10 starts 5 more), N students log in through
the hub's login form, start their servers at once (server start time: from the request to
the server's first answer), then every one of them opens a kernel in ~/rnn-course and runs
a lesson's code cells in order through the kernel's websocket, with a pause between cells
(a student reading: uniform in --think seconds, seeded), until the lesson ends or the
round's --budget seconds are spent. Lesson 2, then lesson 6's first page (the largest
kernel), each with fresh kernels. The first count (one student) runs the whole lesson:
it is the reference, and a later round's p95 is compared with the reference's p95 on the
same cells (a round that stops early reached only the first ones). Per round it prints
the server start time (median and max), p50 and p95 cell latency, each cell's slowdown
against its time alone, the peak memory per student (PSS of the student's server and
kernel, sampled every second, so shared libraries count once) and failures.

A count is run only while the machine can take it: before each count the memory the next
N students would need (the last peak per student) must leave --reserve-gb free, and the
sweep stops once a lesson's p95 is more than twice its value for one student. Then it says
how many students running lesson 2, and lesson 6, this machine holds: the largest count
whose p95 stayed under twice one student's, and the count that fills the memory
(MemTotal less what the machine used before the hub, --reserve-gb kept back, divided by
the peak per student), whichever is smaller. Everything runs on 127.0.0.1 and stops by
itself: the counts, the budget per round and --max-minutes bound it.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hublib  # noqa: E402
from throwaway import ThrowawayHub, missing_prerequisites  # noqa: E402

LESSONS = {
    "lesson 2": hublib.ROOT / "lessons" / "02_rnn_state_and_memory.ipynb",
    "lesson 6": hublib.ROOT / "lessons" / "06_char_language_model.ipynb",
}


def lesson_cells(path: Path) -> list[str]:
    """The lesson's code cells as an author runs them (solutions in, not strict), without
    the IPython magics a plain kernel run does not need."""
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class MemorySampler(threading.Thread):
    """Every second: the PSS of each student's processes (server + kernels), by account."""

    def __init__(self, uids: dict[int, str]):
        super().__init__(daemon=True)
        self.uids, self.peak, self.stop_event = uids, {}, threading.Event()

    def run(self):
        while not self.stop_event.wait(1.0):
            total = {}
            for p in psutil.process_iter(["uids"]):
                uid = p.info["uids"].real if p.info["uids"] else None
                if uid in self.uids:
                    try:
                        total[uid] = total.get(uid, 0) + p.memory_full_info().pss
                    except psutil.Error:
                        pass
            for uid, pss in total.items():
                self.peak[uid] = max(self.peak.get(uid, 0), pss)

    def stop(self):
        self.stop_event.set()
        self.join(5)


def run_lesson(user, cells, budget, think, seed):
    """One student runs the lesson's cells in ~/rnn-course; returns ([(cell index, latency)],
    failure)."""
    rng = random.Random(seed)
    latencies, t0 = [], time.monotonic()
    kernel = None
    try:
        kernel = user.kernel(hublib.COURSE_FOLDER)
        kernel.run("import os; os.environ.pop('RNN_COURSE_STRICT', None)", timeout=120)
        for i, code in enumerate(cells):
            if time.monotonic() - t0 > budget:
                break
            out = kernel.run(code, timeout=max(30, budget))
            if out["status"] != "ok":
                return latencies, f"{user.name}: {out['error']}"
            latencies.append((i, out["seconds"]))
            time.sleep(rng.uniform(*think))
        return latencies, None
    except Exception as e:  # noqa: BLE001 (a failure is a result here)
        return latencies, f"{user.name}: {type(e).__name__}: {e}"
    finally:
        if kernel:
            try:
                kernel.close()
            except Exception:  # noqa: BLE001
                pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 5, 10, 20, 30, 40])
    parser.add_argument("--budget", type=float, default=120,
                        help="seconds of cells per round (one student alone runs the whole lesson)")
    parser.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0],
                        help="a student's pause between cells, uniform in [a, b] seconds")
    parser.add_argument("--alone-budget", type=float, default=600,
                        help="seconds for the first count's round (one student: the whole lesson)")
    parser.add_argument("--reserve-gb", type=float, default=4.0,
                        help="memory left free for everything else on the machine")
    parser.add_argument("--max-minutes", type=float, default=40)
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS), choices=list(LESSONS))
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    why = missing_prerequisites()
    if why:
        raise SystemExit(why)
    deadline = time.monotonic() + 60 * args.max_minutes
    cells = {name: lesson_cells(LESSONS[name]) for name in args.lessons}
    mem_total = psutil.virtual_memory().total
    used_before = mem_total - psutil.virtual_memory().available
    results = {"machine": {"cpus": psutil.cpu_count(), "mem_total_gib": mem_total / 2**30,
                           "used_before_gib": used_before / 2**30},
               "settings": {"budget_s": args.budget, "think_s": args.think, "reserve_gib": args.reserve_gb},
               "rounds": []}
    baseline, baseline_cells, stopped = {}, {}, set()
    peak_per_student = 0.0
    with ThrowawayHub(lessons=list(LESSONS.values())) as hub:
        hub.start()
        users = []
        for n in args.counts:
            if time.monotonic() > deadline or len(stopped) == len(cells):
                break
            if peak_per_student:
                need = (n - len(users)) * peak_per_student
                if psutil.virtual_memory().available - need < args.reserve_gb * 2**30:
                    print(f"{n} students: not run, the next {n - len(users)} would leave less than "
                          f"{args.reserve_gb} GiB free")
                    break
            new = [f"s{i:03d}" for i in range(len(users), n)]
            for short in new:
                hub.add("student", short)
            t = time.monotonic()
            with ThreadPoolExecutor(max_workers=max(1, len(new))) as pool:
                logged = list(pool.map(hub.login, new))

                def start(u):
                    try:
                        return u.start_server(timeout=300), None
                    except Exception as e:  # noqa: BLE001
                        return None, f"{u.name}: {e}"

                starts = list(pool.map(start, logged))
            start_times = [s for s, _ in starts if s is not None]
            start_failures = [f for _, f in starts if f]
            users += [u for u, (s, _) in zip(logged, starts) if s is not None]
            print(f"{n} students: {len(new)} servers started in {time.monotonic() - t:.1f} s "
                  f"(each: median {statistics.median(start_times) if start_times else float('nan'):.1f} s, "
                  f"max {max(start_times, default=float('nan')):.1f} s), {len(start_failures)} failed", flush=True)
            import pwd

            uids = {pwd.getpwnam(u.name).pw_uid: u.name for u in users}
            for lesson, code in cells.items():
                if lesson in stopped or time.monotonic() > deadline:
                    continue
                sampler = MemorySampler(uids)
                sampler.start()
                # one student alone runs the whole lesson: the reference for every cell
                budget = args.budget if lesson in baseline else max(args.budget, args.alone_budget)
                with ThreadPoolExecutor(max_workers=len(users)) as pool:
                    runs = list(pool.map(lambda iu: run_lesson(iu[1], code, budget, args.think, iu[0]),
                                         enumerate(users)))
                sampler.stop()
                lat = [x for r, _ in runs for _, x in r]
                # the slowdown: each cell's latency over the same cell's for one student
                ref = baseline_cells.setdefault(lesson, {i: x for r, _ in runs for i, x in r})
                slow = [x / ref[i] for r, _ in runs for i, x in r if ref.get(i, 0) > 0.05]
                failures = [f for _, f in runs if f] + start_failures
                peaks = sorted(sampler.peak.values())
                peak = max(peaks, default=0) / 2**30
                p50, p95 = percentile(lat, 0.5), percentile(lat, 0.95)
                # the same cells as the reference run reached (a round may stop earlier)
                reached = sorted({i for r, _ in runs for i, _ in r})
                p95_same = percentile([x for r, _ in runs for i, x in r if i in set(reached)], 0.95)
                ref_p95 = percentile([ref[i] for i in reached if i in ref], 0.95)
                if lesson not in baseline:
                    baseline[lesson] = p95
                row = {"students": len(users), "lesson": lesson,
                       "server_start_s": {"median": statistics.median(start_times) if start_times else None,
                                          "max": max(start_times, default=None), "n": len(start_times)},
                       "cells_run": len(lat), "cells_per_student": len(code),
                       "p50_s": p50, "p95_s": p95, "p95_one_student_same_cells_s": ref_p95,
                       "p95_ratio": p95_same / ref_p95 if ref_p95 else None,
                       "slowdown_p50": percentile(slow, 0.5), "slowdown_p95": percentile(slow, 0.95),
                       "peak_gib_per_student": peak,
                       "median_peak_gib_per_student": statistics.median(peaks) / 2**30 if peaks else None,
                       "failures": failures}
                results["rounds"].append(row)
                peak_per_student = max(peak_per_student, peak * 2**30)
                print(f"  {lesson}: {len(lat)} cells, p50 {p50:.2f} s, p95 {p95:.2f} s (one student, "
                      f"the same cells: {ref_p95:.2f} s), each cell {percentile(slow, 0.5):.1f}x "
                      f"(p95 {percentile(slow, 0.95):.1f}x) its time alone, peak {peak:.2f} GiB "
                      f"per student, {len(failures)} failures", flush=True)
                for f in failures[:5]:
                    print(f"    {f}")
                if row["p95_ratio"] and row["p95_ratio"] > 2:
                    stopped.add(lesson)
    # how many one machine holds
    summary = {}
    for lesson in cells:
        rows = [r for r in results["rounds"] if r["lesson"] == lesson]
        if not rows:
            continue
        base = rows[0]["p95_s"]
        ok = [r["students"] for r in rows if (r["p95_ratio"] or 1) <= 2 and not r["failures"]]
        peak = max(r["peak_gib_per_student"] for r in rows)
        by_memory = int((mem_total / 2**30 - results["machine"]["used_before_gib"] - args.reserve_gb) // peak) if peak else None
        summary[lesson] = {"students_before_p95_doubles": max(ok, default=0),
                           "p95_doubled_at": next((r["students"] for r in rows if (r["p95_ratio"] or 1) > 2), None),
                           "peak_gib_per_student": peak, "students_by_memory": by_memory,
                           "students_per_machine": min(x for x in (max(ok, default=0), by_memory) if x is not None)}
        s = summary[lesson]
        print(f"{lesson}: one student's p95 {base:.2f} s; p95 stayed under twice that up to "
              f"{s['students_before_p95_doubles']} students (doubled at {s['p95_doubled_at']}); "
              f"peak {peak:.2f} GiB per student, memory for {by_memory}; this machine holds "
              f"{s['students_per_machine']} ({results['machine']['cpus']} CPUs, "
              f"{results['machine']['mem_total_gib']:.0f} GiB)")
    results["summary"] = summary
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return results


if __name__ == "__main__":
    main()
