"""The book's claims as data: collect them from the built site, compare runs.

Every lesson checks its claims with `helper.claim` and ends with `helper.evidence(page)`,
which shows them in a folded table and embeds them as JSON in the page (and, where
RNN_COURSE_CLAIMS_DIR is set, writes `<dir>/<page>.json`).

    python scripts/claims.py collect _build/html          # -> _build/html/claims.json
    python scripts/claims.py compare _build/claims/native _build/claims/seed-1000 ...

`compare` takes the first folder as the reference (the native run) and fails, naming
each one, on a claim that another run lacks or whose margin there is under half of the
reference margin; it prints every run's margin of the claims that came closest.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

BLOCK = re.compile(r'<script type="application/json" class="rnn-claims-data" '
                   r'data-page="([^"]*)">(.*?)</script>', re.S)


def claims_in_html(text: str) -> list[dict]:
    """The claims embedded in one built page."""
    found = []
    for _page, data in BLOCK.findall(text):
        found += json.loads(html.unescape(data) if "&quot;" in data else data)
    return found


def collect(site: Path) -> list[dict]:
    """Every claim of the book, from the built pages under `site`, in page order."""
    claims = []
    for page in sorted(site.rglob("*.html")):
        claims += claims_in_html(page.read_text("utf-8"))
    return claims


def load_run(folder: Path) -> dict:
    """(page, what) -> claim, from the <page>.json files a run wrote."""
    run = {}
    for path in sorted(folder.glob("*.json")):
        for c in json.loads(path.read_text("utf-8")):
            run[c["page"], c["what"]] = c
    return run


def compare(reference: dict, others: dict, share: float = 0.5) -> list[str]:
    """The problems: a claim missing from a run, or whose margin fell under `share` of the
    reference margin. `others` maps a run's name to its claims."""
    problems = []
    for name, run in others.items():
        for key, ref in reference.items():
            if key not in run:
                problems.append(f"{name}: {key[0]}: the claim '{key[1]}' was not checked")
            elif run[key]["margin"] < share * ref["margin"]:
                problems.append(
                    f"{name}: {key[0]}: '{key[1]}': margin {run[key]['margin']:.3g} is under "
                    f"{share:.0%} of the native margin {ref['margin']:.3g}")
        for key in run.keys() - reference.keys():
            problems.append(f"{name}: {key[0]}: the claim '{key[1]}' is not in the reference run")
    return problems


def closest(reference: dict, others: dict, count: int = 10) -> list[str]:
    """The claims whose margin shrank most in another run, as table rows."""
    rows = []
    for key, ref in reference.items():
        shares = {n: r[key]["margin"] / ref["margin"] for n, r in others.items()
                  if key in r and ref["margin"] > 0}
        if shares:
            worst = min(shares, key=shares.get)
            rows.append((shares[worst], f"{shares[worst]:6.2f}  {worst:<16} {key[0]}: {key[1]}"))
    return [row for _, row in sorted(rows)[:count]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect", help="write <site>/claims.json from the built pages")
    c.add_argument("site", type=Path)
    m = sub.add_parser("compare", help="compare runs' margins with the first (native) run")
    m.add_argument("reference", type=Path)
    m.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "collect":
        claims = collect(args.site)
        if not claims:
            print(f"no claims found in {args.site}", file=sys.stderr)
            return 1
        (args.site / "claims.json").write_text(json.dumps(claims, indent=1))
        pages = len({c["page"] for c in claims})
        print(f"{len(claims)} claims from {pages} pages -> {args.site / 'claims.json'}")
        return 0
    reference = load_run(args.reference)
    if not reference:
        print(f"no claims in {args.reference}: run the lessons with RNN_COURSE_CLAIMS_DIR set",
              file=sys.stderr)
        return 1
    others = {run.name: load_run(run) for run in args.runs}
    for name, run in others.items():
        print(f"{name}: {len(run)} claims; reference {args.reference.name}: {len(reference)}")
    print("smallest margin as a share of the native margin:")
    print("\n".join(closest(reference, others)))
    problems = compare(reference, others)
    if problems:
        print(f"\n{len(problems)} problems:\n" + "\n".join(problems), file=sys.stderr)
        return 1
    print(f"every claim kept at least half its native margin in {len(others)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
