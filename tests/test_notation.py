"""`book/notation.md`: its crosswalk to the column form holds for PyTorch's `nn.RNN`,
and a symbol it lists means one thing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
NOTATION = ROOT / "book" / "notation.md"


def _rnn():
    gen = torch.Generator().manual_seed(3)  # a fixed test case: no lesson's claim
    rnn = nn.RNN(3, 4, batch_first=True).double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)
    return rnn, x


def test_row_form_and_column_form_both_give_nn_rnn():
    rnn, x = _rnn()
    out, _ = rnn(x)
    W_x, W_s = rnn.weight_ih_l0.T, rnn.weight_hh_l0.T      # this book's matrices
    W_xh, W_hh = rnn.weight_ih_l0, rnn.weight_hh_l0        # the column form's
    b = rnn.bias_ih_l0 + rnn.bias_hh_l0
    s = torch.zeros(2, 4, dtype=torch.float64)
    h = torch.zeros(4, 2, dtype=torch.float64)             # columns: one per example
    for t in range(x.shape[1]):
        s = torch.tanh(x[:, t] @ W_x + s @ W_s + b)
        h = torch.tanh(W_xh @ x[:, t].T + W_hh @ h + b[:, None])
        torch.testing.assert_close(s, out[:, t])
        torch.testing.assert_close(h.T, out[:, t])


def test_the_step_jacobian_is_the_same_matrix_in_both_forms():
    rnn, x = _rnn()
    W_x, W_s = rnn.weight_ih_l0.T.detach(), rnn.weight_hh_l0.T.detach()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    s_prev = torch.randn(4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    x_t = x[0, 0]

    def step(s):
        return torch.tanh(x_t @ W_x + s @ W_s + b)

    jac = torch.autograd.functional.jacobian(step, s_prev)  # entry (i, j): d s_t,i / d s_t-1,j
    a = x_t @ W_x + s_prev @ W_s + b
    dphi = 1 - torch.tanh(a) ** 2
    torch.testing.assert_close(jac, torch.diag(dphi) @ W_s.T)           # this book
    torch.testing.assert_close(jac, torch.diag(dphi) @ rnn.weight_hh_l0.detach())  # column form


def test_a_transpose_keeps_the_spectral_radius_and_norm():
    gen = torch.Generator().manual_seed(11)
    for _ in range(20):
        M = torch.randn(6, 6, generator=gen, dtype=torch.float64)
        rho = torch.linalg.eigvals(M).abs().max()
        rho_t = torch.linalg.eigvals(M.T).abs().max()
        torch.testing.assert_close(rho, rho_t)
        torch.testing.assert_close(torch.linalg.matrix_norm(M, 2), torch.linalg.matrix_norm(M.T, 2))


def test_the_gradient_has_the_shape_of_the_weight_in_either_form():
    rnn, x = _rnn()
    out, _ = rnn(x)
    out.pow(2).mean().backward()
    W_x = rnn.weight_ih_l0.detach().T.clone().requires_grad_()
    W_s = rnn.weight_hh_l0.detach().T.clone().requires_grad_()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    s = torch.zeros(2, 4, dtype=torch.float64)
    states = []
    for t in range(x.shape[1]):
        s = torch.tanh(x[:, t] @ W_x + s @ W_s + b)
        states.append(s)
    torch.stack(states, 1).pow(2).mean().backward()
    torch.testing.assert_close(W_x.grad, rnn.weight_ih_l0.grad.T)
    torch.testing.assert_close(W_s.grad, rnn.weight_hh_l0.grad.T)


def _symbols(table_rows):
    for row in table_rows:
        first = row.split("|")[1].strip()
        for sym in re.findall(r"\$([^$]+)\$", first):
            yield sym.strip()


def symbol_tables():
    """The rows of each symbol table of book/notation.md (before the crosswalk)."""
    main = NOTATION.read_text().split("## Crosswalk")[0]
    tables, rows = [], []
    for line in main.splitlines() + [""]:
        if line.startswith("| $"):
            rows.append(line)
        elif rows:
            tables.append(rows)
            rows = []
    return tables


def test_each_symbol_has_one_row_in_its_table():
    """Within a table a symbol has one row; the gated cells' table may say more about
    $s_t$ (the same state, computed by a gated cell)."""
    tables = symbol_tables()
    assert len(tables) >= 2
    for rows in tables:
        seen = set()
        for sym in _symbols(rows):
            assert sym not in seen, f"{sym!r} has two rows in one table of book/notation.md"
            seen.add(sym)
    first = set(_symbols(tables[0]))
    assert {"\\ell_t", "d_t", "s_t", "W_s"} <= first


LOGIT_AS_Z = re.compile(r"(logits?|scores?)[^.$]{0,40}\$z\b|\$z\$[^.]{0,40}logit", re.I)


@pytest.mark.parametrize("path", sorted((ROOT / "lessons").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_lesson_writes_the_logits_as_z(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            assert not LOGIT_AS_Z.search(text), \
                f"{path.name}, cell {i}: the logits are written $\\ell$ (book/notation.md); $z$ is lesson 3's second layer"


def _markdown(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "".join(cell["source"])


LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))

# One letter, one meaning (book/notation.md): k is an earlier step, a lag is q; A is lesson
# 1's batch of pre-activations, lesson 4's amplitude is R; the finite-difference step is
# varepsilon, lesson 2's echo fraction xi, and epsilon only Adam's subscripted constant;
# lesson 5's memory vector is written out and its Jacobian's other terms are J_t.
WRONG_SYMBOLS = [
    (re.compile(r"x_\{t\s*-\s*k\}"), "a lag is $q$: write $x_{t-q}$ ($k$ is an earlier step)"),
    (re.compile(r"\\epsilon(?!_\{\\text\{Adam\}\})"),
     "$\\epsilon$ alone means nothing here: the finite-difference step is $\\varepsilon$, "
     "lesson 2's echo fraction $\\xi$, Adam's constant $\\epsilon_{\\text{Adam}}$"),
    (re.compile(r"\bm_k\b"), "lesson 5 writes the memory vector out ($c_k$ or $s_k$)"),
]
AMPLITUDE_AS_A = re.compile(r"(?<![\w\\{])A\s*\\sin|(?<![\w\\{])[2]A\b|amplitude \$A\$|\$A\^2")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_lesson_uses_a_retired_symbol(path):
    for i, text in _markdown(path):
        for pattern, why in WRONG_SYMBOLS:
            assert not pattern.search(text), f"{path.name}, cell {i}: {why}"
        assert not AMPLITUDE_AS_A.search(text), \
            f"{path.name}, cell {i}: the amplitude is $R$ ($A$ is lesson 1's batch of pre-activations)"


def test_the_retired_symbols_are_caught():
    assert WRONG_SYMBOLS[0][0].search("the delay task, $d_t = x_{t-k}$")
    assert not WRONG_SYMBOLS[0][0].search("$d_t = x_{t-q}$, $\\partial s_t / \\partial s_k$")
    assert WRONG_SYMBOLS[1][0].search("a fraction $\\epsilon$ of its size")
    assert not WRONG_SYMBOLS[1][0].search("$\\epsilon_{\\text{Adam}} > 0$, $\\varepsilon$")
    assert AMPLITUDE_AS_A.search("$x_t = A \\sin(2\\pi t / P)$")
    assert AMPLITUDE_AS_A.search("its MSE is $2A^2 \\sin^2(\\pi/P)$")
    assert not AMPLITUDE_AS_A.search("$A = X W_1 + b_1$ and $R \\sin(\\omega t)$, $\\Pi_A$")


def test_no_symbol_has_rows_in_both_tables_but_the_state():
    """The main table and the gated cells' table do not give one symbol two meanings;
    only $s_t$ (the same state, computed by a gated cell) is in both."""
    tables = symbol_tables()
    first, gated = set(_symbols(tables[0])), set(_symbols(tables[1]))
    assert first & gated == {"s_t"}


def test_pytorchs_weight_A_is_said_not_to_be_this_books():
    text = NOTATION.read_text()
    orientation = text.split("## PyTorch's orientation")[1].split("\n## ")[0]
    assert "A^\\top" in orientation and "not this book's" in orientation
