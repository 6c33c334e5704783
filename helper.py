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
    "COLORS",
    "ModelSummary",
    "Verdict",
    "check",
    "plot_loss",
    "plot_series",
    "seed_everything",
    "style",
    "summary",
]

# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's generators; return a NumPy Generator.

    Call it visibly in a lesson's setup cell (lesson 1 introduces it):

    >>> rng = seed_everything(0)
    >>> int(rng.integers(10))  # the same number on every run
    8
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


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
        children = list(module.named_children())
        for i, (name, child) in enumerate(children):
            last = i == len(children) - 1
            n_params = sum(p.numel() for p in child.parameters())
            rows.append((f"{indent}{'└─' if last else '├─'}{type(child).__name__} ({name})",
                         _kernel_shape(child), f"{n_params:,}"))
            inner = indent + ("     " if last else "│    ")
            if expand:
                own = list(child.named_parameters(recurse=False))
                has_children = bool(list(child.children()))
                for j, (pname, p) in enumerate(own):
                    branch = "└─" if j == len(own) - 1 and not has_children else "├─"
                    rows.append((f"{inner}{branch}{pname}", str(list(p.shape)), f"{p.numel():,}"))
            walk(child, inner)

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


def _as_1d(name, values):
    """Turn a list, array or tensor into a 1-D float array, or explain why not."""
    if hasattr(values, "detach"):  # a torch tensor
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of numbers: {exc}") from None
    arr = np.squeeze(arr)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per time step), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt

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


def check(answer, expected, *, name="answer", rtol=1e-5, atol=1e-8) -> Verdict:
    """Compare a student's answer with the expected one and say what is wrong.

    Introduced in lesson 1's exercises. Numbers, lists, NumPy arrays and
    torch tensors are compared up to `rtol`/`atol`; anything else with `==`.
    An unanswered exercise (None, `...`) is never right.

    >>> check(12, 12, name="multiplications")
    multiplications: correct
    >>> check([1.0, -2.0], [-1.0, 2.0], name="gradient")
    gradient: the sign is wrong (you have the negative of the expected value)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if answer is None or answer is Ellipsis or answer is NotImplemented:
        return Verdict(False, f"{name}: not answered yet; replace the placeholder with your answer")
    numeric = isinstance(expected, (Number, list, tuple, np.ndarray)) or hasattr(expected, "detach")
    if not numeric:
        try:
            ok = bool(answer == expected)
        except (TypeError, ValueError):  # e.g. an array compared with a string
            ok = False
        return Verdict(bool(ok), f"{name}: correct" if ok else f"{name}: expected {expected!r}, got {answer!r}")
    try:
        got = _to_array(answer)
        if got.dtype.kind not in "biuf":  # text, complex, None inside a list, huge ints
            raise TypeError(got.dtype)
        got = got.astype(float)
    except (TypeError, ValueError, OverflowError):
        return Verdict(False, f"{name}: expected a number or an array of numbers, got {type(answer).__name__}")
    want = _to_array(expected).astype(float)
    if got.shape != want.shape:
        return Verdict(False, f"{name}: the shape is wrong: expected {want.shape}, got {got.shape}")
    if not np.all(np.isfinite(got)):
        return Verdict(False, f"{name}: contains NaN or infinity")
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Verdict(True, f"{name}: correct")
    if np.any(want != 0) and np.allclose(got, -want, rtol=rtol, atol=atol):
        return Verdict(False, f"{name}: the sign is wrong (you have the negative of the expected value)")
    if np.any(got != 0) and np.any(want != 0):
        ratio = float(np.sum(got * want) / np.sum(want * want))
        # Every wrong scalar is a multiple of the answer: name the factor only when
        # it is a whole number or its inverse (2, 1/32), which does not give it away.
        whole = any(abs(r - round(r)) < 1e-6 * abs(r) and round(r) != 0 for r in (ratio, 1 / ratio))
        if (want.size > 1 or whole) and not math.isclose(ratio, 1.0) \
                and np.allclose(got, ratio * want, rtol=rtol, atol=atol):
            return Verdict(False, f"{name}: off by a factor of {ratio:.4g}")
    err = float(np.max(np.abs(got - want)))
    if want.shape == ():
        return Verdict(False, f"{name}: the value is wrong: got {got.item():.6g}")
    return Verdict(False, f"{name}: the values are wrong: largest difference {err:.3g}")
