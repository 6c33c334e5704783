"""Unit tests for helper.py's model table, plots and seeding (checks: test_check.py)."""

import doctest

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

import helper
from helper import plot_loss, plot_series, seed_everything, summary


class NotesRNN(nn.Module):
    """The model of the course notes: a 2-layer RNN and a linear head."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(1, 10, 2, batch_first=True)
        self.fc = nn.Linear(10, 1)


def rows_by_name(table):
    return {name.split("─")[-1]: (shape, count) for name, shape, count in table.rows}


# --- summary -----------------------------------------------------------------


def test_summary_counts_rnn_parameters():
    table = summary(NotesRNN())
    assert (table.total_params, table.trainable_params, table.non_trainable_params) == (361, 361, 0)
    rows = rows_by_name(table)
    assert rows["RNN (rnn)"] == ("--", "350")
    assert rows["Linear (fc)"] == ("[10, 1]", "11")


def test_summary_prints_the_notes_table():
    text = str(summary(NotesRNN()))
    lines = text.splitlines()
    assert lines[1].split() == ["Layer", "(type", "(var_name))", "Kernel", "Shape", "Param", "#"]
    assert "├─RNN (rnn)" in text and "└─Linear (fc)" in text
    assert "Total params: 361" in text
    assert "Trainable params: 361" in text
    assert "Non-trainable params: 0" in text
    assert repr(summary(NotesRNN())) == text


def test_summary_expand_lists_each_weight_tensor():
    rows = rows_by_name(summary(NotesRNN(), expand=True))
    assert rows["weight_ih_l0"] == ("[10, 1]", "10")
    assert rows["weight_hh_l0"] == ("[10, 10]", "100")
    assert rows["bias_ih_l0"] == ("[10]", "10")
    assert rows["weight_ih_l1"] == ("[10, 10]", "100")
    per_layer = [int(c) for n, (s, c) in rows.items() if n.endswith("_l0")]
    assert sum(per_layer) == 130


def test_summary_counts_frozen_parameters_as_non_trainable():
    model = NotesRNN()
    model.rnn.requires_grad_(False)
    table = summary(model)
    assert (table.trainable_params, table.non_trainable_params) == (11, 350)


def test_summary_counts_shared_weights_once():
    layer = nn.Linear(4, 4)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert summary(model).total_params == 20


def test_summary_walks_nested_modules():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), nn.Linear(2, 1))
    text = str(summary(model))
    assert "│    ├─Linear (0)" in text
    assert summary(model).total_params == 8 + 3


def test_summary_rejects_a_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got Tensor"):
        summary(torch.zeros(3))


def test_summary_rejects_a_non_bool_expand():
    with pytest.raises(TypeError, match="expand"):
        summary(NotesRNN(), expand="yes")


# --- plots ---------------------------------------------------------------------


@pytest.fixture
def rc_unchanged():
    before = dict(plt.rcParams)
    yield
    after = dict(plt.rcParams)
    changed = {k for k in before if before[k] != after[k] and k != "backend"}
    assert not changed, f"rcParams changed: {changed}"
    plt.close("all")


def test_plot_series_draws_each_series_with_its_colour(rc_unchanged):
    ax = plot_series(inputs=[0, 1, 2], targets=torch.tensor([1.0, 2, 3]), predictions=np.ones(3), title="t")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["input", "target", "prediction"]
    assert ax.get_lines()[1].get_color() == helper.COLORS["target"]
    assert ax.get_xlabel() == "time step t" and ax.get_title() == "t"


def test_plot_series_draws_on_a_given_axes(rc_unchanged):
    fig, ax = plt.subplots()
    assert plot_series(targets=[1, 2], ax=ax) is ax


def test_plot_series_rejects_different_lengths(rc_unchanged):
    with pytest.raises(ValueError, match="same length"):
        plot_series(inputs=[1, 2, 3], targets=[1, 2])


def test_plot_series_rejects_no_series(rc_unchanged):
    with pytest.raises(ValueError, match="at least one"):
        plot_series()


def test_plot_series_rejects_two_dimensional_series(rc_unchanged):
    with pytest.raises(ValueError, match="predictions must be one-dimensional"):
        plot_series(predictions=np.zeros((3, 2)))


def test_plot_series_rejects_non_numbers(rc_unchanged):
    with pytest.raises(TypeError, match="inputs must be a sequence of numbers"):
        plot_series(inputs=["a", "b"])


def test_plot_series_rejects_wrong_length_t(rc_unchanged):
    with pytest.raises(ValueError, match="t must have one entry per time step"):
        plot_series(targets=[1, 2, 3], t=[0, 1])


def test_plot_loss_uses_a_log_scale(rc_unchanged):
    ax = plot_loss([1.0, 0.1, 0.01], test_losses=[1.0, 0.2, 0.1])
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]


def test_plot_loss_rejects_nan(rc_unchanged):
    with pytest.raises(ValueError, match="losses contains NaN"):
        plot_loss([1.0, float("nan")])


def test_plot_loss_rejects_non_positive_on_log_scale(rc_unchanged):
    with pytest.raises(ValueError, match="log=False"):
        plot_loss([1.0, 0.0])
    assert plot_loss([1.0, 0.0], log=False).get_yscale() == "linear"


# --- seeding and the docstring examples -------------------------------------------


def test_seed_everything_repeats_every_generator():
    first = (seed_everything(3).random(), torch.rand(1).item(), np.random.rand())
    second = (seed_everything(3).random(), torch.rand(1).item(), np.random.rand())
    assert first == second


def test_seed_everything_rejects_a_bad_seed():
    with pytest.raises(ValueError, match="seed must be between 0 and 2"):
        seed_everything(-1)


def test_importing_helper_changes_nothing():
    import importlib

    state = torch.random.get_rng_state()
    rc = dict(plt.rcParams)
    saved = dict(vars(helper))
    try:
        importlib.reload(helper)
        assert torch.equal(state, torch.random.get_rng_state())
        assert rc == dict(plt.rcParams)
    finally:  # the classes other tests imported (Verdict, WrongAnswer) stay the same
        vars(helper).update(saved)


def test_docstring_examples_run():
    result = doctest.testmod(helper)
    assert result.attempted > 5 and result.failed == 0
    plt.close("all")


def test_style_applies_the_book_look_only_inside_its_block(rc_unchanged):
    with helper.style():
        assert plt.rcParams["figure.facecolor"] == "white"
        assert plt.rcParams["image.cmap"] == "viridis"
    # the rc_unchanged fixture checks that nothing leaked out of the block


# -- fmt: computed numbers in the prose ------------------------------------------------

def test_fmt_formats_like_an_f_string_and_shows_no_quotes():
    from helper import fmt

    assert repr(fmt(1234, ",")) == "1,234"
    assert repr(fmt(np.float64(3.01e-5), ".1e")) == "3.0e-05"
    assert str(fmt(torch.tensor(0.5), ".2f")) == "0.50"
    assert str(fmt(np.array([7]))) == "7"


def test_fmt_names_the_argument_on_bad_input():
    from helper import fmt

    with pytest.raises(TypeError, match="spec"):
        fmt(1.0, 2)
    with pytest.raises(ValueError, match="single number"):
        fmt(torch.zeros(3))
    with pytest.raises(ValueError, match="spec"):
        fmt("text", ".2f")


# -- data sets (pinned npm packages) --------------------------------------------------

def test_moby_dick_is_read_in_book_order():
    from helper import load_moby_dick

    parts = load_moby_dick()
    assert parts[0]["name"] == "etymology" and parts[2]["name"] == "chapter_1"
    assert parts[2]["text"].startswith("Call me Ishmael.")
    assert sum(len(p["text"]) for p in parts) > 1_000_000


def test_cmudict_merges_alternate_pronunciations():
    from helper import load_cmudict

    words = load_cmudict()
    assert words["A"] == ["AH0", "EY1"]
    assert all("(" not in w for w in list(words)[:1000])


def test_a_missing_data_set_says_how_to_install_it(monkeypatch, tmp_path):
    import helper

    monkeypatch.setenv(helper.DATA_ENV, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(helper, "__file__", str(tmp_path / "helper.py"))
    with pytest.raises(FileNotFoundError, match="make data"):
        helper.load_cmudict()


# -- static explorers ---------------------------------------------------------------

def _line(a, b=0.0):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [b, a + b])
    return fig


def test_static_explorer_precomputes_every_setting():
    from helper import static_explorer

    e = static_explorer(_line, lambda a, b: f"slope {a}, offset {b}",
                        {"a": [1, 2, 3], "b": [0, 5]}, label="demo", alt="a line")
    assert list(e.frames) == [(1, 0), (1, 5), (2, 0), (2, 5), (3, 0), (3, 5)]
    assert e.frames[(2, 5)] == "slope 2, offset 5"
    html = e._repr_html_()
    # six frames, and the first one again as the image shown before a slider moves
    assert html.count('type="range"') == 2 and html.count("data:image/png;base64,") == 7
    assert "http" not in html  # nothing from outside the page


def test_static_explorer_starts_where_asked():
    from helper import static_explorer

    e = static_explorer(_line, lambda a, b: f"slope {a}, offset {b}",
                        {"a": [1, 2, 3], "b": [0, 5]}, label="demo", alt="a line",
                        start={"a": 2, "b": 5})
    assert '<output class="static-explorer-readout" aria-live="polite">slope 2, offset 5<' in e.html
    assert 'value="1"' in e.html
    with pytest.raises(ValueError, match="start"):
        static_explorer(_line, lambda a, b: "", {"a": [1, 2], "b": [0, 5]},
                        label="x", alt="x", start={"a": 7})


@pytest.mark.parametrize("grid, match", [
    ({}, "one or two"),
    ({"a": [1]}, "at least two"),
    ({"not a name": [1, 2]}, "identifiers"),
    ({"a": list(range(10)), "b": list(range(10))}, "at most 60"),
])
def test_static_explorer_names_a_bad_grid(grid, match):
    from helper import static_explorer

    with pytest.raises(ValueError, match=match):
        static_explorer(_line, lambda **k: "", grid, label="x", alt="x")


def test_static_explorer_needs_a_figure():
    from helper import static_explorer

    with pytest.raises(TypeError, match="Figure"):
        static_explorer(lambda a: None, lambda a: "", {"a": [1, 2]}, label="x", alt="x")


# -- verdicts the checks give about how an answer was made -------------------------------

def test_wrong_answer_is_a_verdict_for_a_learner_and_raises_for_the_build():
    from helper import WrongAnswer, wrong_answer

    verdict = wrong_answer("parameters", "count from the sizes alone", strict=False)
    assert not verdict and verdict.message == "parameters: count from the sizes alone"
    with pytest.raises(WrongAnswer, match="count from the sizes alone"):
        wrong_answer("parameters", "count from the sizes alone", strict=True)


def test_answer_source_reads_a_function_or_gives_nothing():
    from helper import answer_source

    def counted(n_in, n_h):
        return 3 * n_h * (n_in + n_h + 2)

    assert "3 * n_h" in answer_source(counted)
    assert answer_source(len) == "" and answer_source(42) == ""


def test_pngs_carry_their_smallest_font_size():
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1])
    ax.set_title("title", fontsize=14)
    ax.text(0.5, 0.5, "note", fontsize=9)
    ax.text(0.2, 0.2, "hidden", fontsize=4, visible=False)  # not drawn: not counted
    ax.text(0.2, 0.8, "   ", fontsize=5)                    # blank: not counted
    assert helper.smallest_font_pt(fig) == 9
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    info = Image.open(buf).info
    assert info[helper.FONT_TAG] == "9" and info[helper.DPI_TAG] == "80"
    empty = plt.figure()
    assert helper.smallest_font_pt(empty) is None
    plt.close(empty)


def test_refuse_to_build_catches_a_model_built_inside_and_restores_after():
    from torch import nn

    with pytest.raises(helper.BuiltAModel, match="GRU"):
        with helper.refuse_to_build():
            nn.GRU(2, 3)
    with helper.refuse_to_build(nn.RNNBase):
        nn.Linear(2, 3)  # not a recurrent layer: allowed
        with pytest.raises(helper.BuiltAModel, match="LSTM"):
            nn.LSTM(2, 3)
    assert nn.GRU(2, 3).hidden_size == 3  # constructors work again afterwards
    with pytest.raises(TypeError, match="base"):
        helper.refuse_to_build(int)


def test_count_checks_refuse_an_answer_that_builds_a_model(strict):
    from torch import nn

    from checks.lesson02 import check_param_count
    from checks.lesson04 import check_gru_count

    def by_building(n_in, n_h, n_out, num_layers):  # lesson 2: builds the model to count
        rnn = nn.RNN(n_in, n_h, num_layers)
        return sum(p.numel() for p in rnn.parameters()) + n_h * n_out + n_out

    with pytest.raises(helper.WrongAnswer, match="builds a model"):
        check_param_count(by_building)

    def gru_by_stealth(n_in, n_h, num_layers):  # lesson 4: a GRU under another name
        make = getattr(nn, "G" + "RU")  # no "GRU(" or "parameters(" in the source
        return sum(t.numel() for t in make(n_in, n_h, num_layers).state_dict().values())

    with pytest.raises(helper.WrongAnswer, match="without building"):
        check_gru_count(gru_by_stealth)
