"""Lesson 8's long run: the encoder-decoder with and without attention at full size.

Not part of the book build. Two modes, each writing results/lesson08_<mode>.json with the
date, device, command, seed offset, the SHA-256 of the code that produced it (helper.py's
lesson 8 section and this script) and every seed's PER and WER on the 2,000 test words:

    python scripts/lesson08_long_run.py --bench   # the issue's comparison, CPU, ~4 min
    python scripts/lesson08_long_run.py --long    # a larger model, minutes; CUDA if any

--bench trains five seeds with attention and five without, each for a number of steps
chosen so that the two take about 20 s of one core on the 2-core laptop the lesson was
written on (the budget is in steps, so the verdict does not depend on the machine; the
CPU seconds each seed took here are recorded beside it, as this machine's numbers).
--long trains a larger model with attention for minutes and prints its PER and WER
beside the published figures of Rao et al. (2015). `make lesson08-bench` and
`make lesson08-long` run them.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import helper  # noqa: E402

SECTION = "# Lesson 8: sequence to sequence with attention (introduced in lesson 8)"
GROUPS = [(2, 4), (5, 6), (7, 8), (9, 12)]          # letters, as on the lesson's pages

CONFIGS = {
    # the sizes: a bidirectional GRU encoder of 64 per direction, a decoder of
    # 128, batches of 128, Adam 3e-3, clipping at 1; steps for ~20 s of one core each
    "bench": {"seeds": 5, "device": "cpu",
              "attention": dict(steps=380, n_e=32, n_enc=64, n_dec=128, batch=128, lr=3e-3),
              "none": dict(steps=680, n_e=32, n_enc=64, n_dec=128, batch=128, lr=3e-3)},
    "long": {"seeds": 1, "device": "auto",
             "attention": dict(steps=3000, n_e=64, n_enc=128, n_dec=256, batch=256, lr=2e-3)},
}
PUBLISHED = {"Rao et al. (2015), deep bidirectional LSTM with CTC": 0.258,
             "Rao et al. (2015), combined with a joint n-gram model": 0.213}


def helper_section() -> str:
    """helper.py's lesson 8 section: from its heading to the end of the file."""
    text = (ROOT / "helper.py").read_text("utf-8")
    start = text.index(SECTION)
    return text[text.rindex("# ----", 0, start):]


def code_hash() -> str:
    """SHA-256 of the code a recorded run depends on: the helper section and this script."""
    script = Path(__file__).resolve().read_text("utf-8")
    return hashlib.sha256((helper_section() + "\n" + script).encode("utf-8")).hexdigest()


def per_by_length(hyps, refs, lengths) -> list:
    out = []
    for lo, hi in GROUPS:
        rows = np.flatnonzero((lengths >= lo) & (lengths <= hi))
        out.append(helper.per_wer([hyps[r] for r in rows], [refs[r] for r in rows])[0])
    return out


def run(mode: str, seeds: int | None = None, steps: int | None = None) -> dict:
    import torch

    cfg = CONFIGS[mode]
    torch.set_num_threads(1 if mode == "bench" else torch.get_num_threads())
    helper.seed_everything(0)
    device = torch.device("cuda" if cfg["device"] == "auto" and torch.cuda.is_available()
                          else "cpu")
    data = helper.g2p_data(helper.load_cmudict(), n_test=2000, min_len=2, max_len=12, seed=0)
    tensors = helper.G2PTensors(data, device=device)
    refs = [data.phones[k] for k in data.test]
    lengths = np.array([len(data.words[k]) for k in data.test])
    record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "device": (torch.cuda.get_device_name(device) if device.type == "cuda"
                         else f"CPU ({platform.processor() or platform.machine()}, 1 thread)"
                         if mode == "bench" else f"CPU ({platform.machine()})"),
              "command": " ".join(["python", "scripts/lesson08_long_run.py"] + sys.argv[1:]),
              "seed_offset": helper.seed_offset(), "code_sha256": code_hash(),
              "torch": torch.__version__, "config": {}, "runs": {}, "baselines": {},
              "groups": GROUPS, "published_wer": PUBLISHED}
    for name, fn in (("nearest spelling", helper.nearest_spelling),
                     ("letter by letter", helper.letter_by_letter)):
        per, wer = helper.per_wer(fn(data, data.test), refs)
        record["baselines"][name] = {"per": per, "wer": wer}
    n_seeds = seeds or cfg["seeds"]
    for kind in ("attention", "none"):
        if kind not in cfg:
            continue
        options = dict(cfg[kind])
        if steps:
            options["steps"] = steps
        record["config"][kind] = options
        record["runs"][kind] = []
        for seed in range(n_seeds):
            model = helper.new_seq2seq(seed, attention=kind == "attention", n_e=options["n_e"],
                                       n_enc=options["n_enc"], n_dec=options["n_dec"],
                                       n_phones=tensors.n_phones).to(device)
            clock = time.process_time if device.type == "cpu" else time.perf_counter
            start = clock()
            losses = helper.train_seq2seq(model, tensors, data.train, steps=options["steps"],
                                          seed=seed, batch=options["batch"], lr=options["lr"])
            seconds = clock() - start
            hyps = helper.transcribe(model, tensors, data.test)
            per, wer = helper.per_wer(hyps, refs)
            record["runs"][kind].append({
                "seed": seed, "per": per, "wer": wer, "seconds": seconds,
                "final_loss": float(np.mean(losses[-20:])),
                "per_by_length": per_by_length(hyps, refs, lengths)})
            print(f"{kind:9} seed {seed}: PER {per:.1%}, WER {wer:.1%} ({seconds:.1f} s)",
                  flush=True)
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bench", action="store_true", help="the issue's 20 s-scale comparison")
    mode.add_argument("--long", action="store_true", help="a larger model, minutes, CUDA if any")
    parser.add_argument("--seeds", type=int, help="seeds per model (default: the mode's)")
    parser.add_argument("--steps", type=int, help="steps per model (default: the mode's)")
    parser.add_argument("--out", type=Path, help="where to write (default results/lesson08_<mode>.json)")
    args = parser.parse_args(argv)
    name = "bench" if args.bench else "long"
    record = run(name, args.seeds, args.steps)
    for kind, runs in record["runs"].items():
        per = np.mean([r["per"] for r in runs])
        wer = np.mean([r["wer"] for r in runs])
        print(f"{kind:9} mean over {len(runs)} seeds: PER {per:.1%}, WER {wer:.1%}")
    for source, wer in PUBLISHED.items():
        print(f"published: {source}: WER {wer:.1%}")
    out = args.out or ROOT / "results" / f"lesson08_{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
