"""Unit tests for what lesson 4 added to helper.py: `detach_state`."""

import doctest

import pytest
import torch
from torch import nn

import helper
from helper import detach_state


def test_detach_state_cuts_a_tensor_from_its_graph_without_copying():
    rnn = nn.RNN(1, 3, 2, batch_first=True)
    _, h = rnn(torch.randn(1, 5, 1))             # (layers, batch, hidden)
    cut = detach_state(h)
    assert h.requires_grad and not cut.requires_grad
    assert cut.grad_fn is None
    assert cut.data_ptr() == h.data_ptr()         # same storage: no copy
    torch.testing.assert_close(cut, h.detach(), rtol=0, atol=0)


def test_detach_state_cuts_both_parts_of_an_lstm_state():
    lstm = nn.LSTM(1, 3, batch_first=True)
    _, (h, c) = lstm(torch.randn(2, 4, 1))
    cut = detach_state((h, c))
    assert isinstance(cut, tuple) and len(cut) == 2
    for before, after in zip((h, c), cut):
        assert before.requires_grad and not after.requires_grad
        assert after.data_ptr() == before.data_ptr()


def test_detach_state_lets_the_next_chunk_backpropagate():
    lstm = nn.LSTM(1, 3, batch_first=True)
    out, state = lstm(torch.randn(1, 4, 1))
    out.sum().backward()                          # frees chunk 1's graph
    out, _ = lstm(torch.randn(1, 4, 1), detach_state(state))
    out.sum().backward()                          # would fail without the cut


@pytest.mark.parametrize("bad, words", [
    (None, "got NoneType"),
    ([torch.zeros(1), torch.zeros(1)], "got list"),
    ((torch.zeros(1),), "tuple of 1"),
    ((torch.zeros(1), None), "tuple of 2 (Tensor, NoneType)"),
    (3.0, "got float"),
])
def test_detach_state_names_the_argument_for_wrong_input(bad, words):
    with pytest.raises(TypeError, match="hidden must be a tensor") as err:
        detach_state(bad)
    assert words in str(err.value)


def test_detach_state_docstring_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(helper.detach_state, "detach_state", globs=dict(vars(helper))):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0
