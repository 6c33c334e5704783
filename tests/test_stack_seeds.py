"""`helper.stack_seeds`: S models trained as one block-diagonal model train exactly as
the S models trained one by one (float64, Adam, per-seed clipping)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from helper import seed_clip_, stack_seeds, unstack_seeds


class Net(nn.Module):
    def __init__(self, cell=nn.GRU, tokens=False):
        super().__init__()
        self.emb = nn.Embedding(7, 3) if tokens else None
        self.rnn = cell(3 if tokens else 2, 5, num_layers=2, batch_first=True)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        if self.emb is not None:
            x = self.emb(x)
        return self.out(self.rnn(x)[0])


@pytest.mark.parametrize("tokens", [False, True], ids=["features", "tokens"])
@pytest.mark.parametrize("cell", [nn.RNN, nn.GRU, nn.LSTM], ids=lambda c: c.__name__)
def test_stacked_seeds_train_as_the_separate_models(cell, tokens):
    S = 3
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    alone = [Net(cell, tokens).double() for _ in range(S)]
    big = stack_seeds(copy.deepcopy(alone))
    opt = torch.optim.Adam(big.parameters(), 1e-2)
    opts = [torch.optim.Adam(m.parameters(), 1e-2) for m in alone]
    for _ in range(4):
        if tokens:  # the same tokens for every seed
            xs = [torch.randint(0, 7, (4, 6), generator=gen)] * S
            x_big = xs[0]
        else:       # each seed its own inputs, side by side
            xs = [torch.randn(4, 6, 2, generator=gen, dtype=torch.float64) for _ in range(S)]
            x_big = torch.cat(xs, -1)
        ds = [torch.randn(4, 6, 3, generator=gen, dtype=torch.float64) for _ in range(S)]
        ys = big(x_big).chunk(S, -1)
        loss = sum(((y - d) ** 2).mean() for y, d in zip(ys, ds))
        opt.zero_grad()
        loss.backward()
        norms = seed_clip_(big, 0.5)
        opt.step()
        for s, model in enumerate(alone):
            opts[s].zero_grad()
            ((model(xs[s]) - ds[s]) ** 2).mean().backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opts[s].step()
            torch.testing.assert_close(norms[s], norm)
    for back, model in zip(unstack_seeds(big), alone):
        for p, q in zip(back.parameters(), model.parameters()):
            torch.testing.assert_close(p, q)


def test_the_blocks_off_the_diagonal_stay_zero():
    big = stack_seeds([nn.Linear(2, 2) for _ in range(2)])
    opt = torch.optim.Adam(big.parameters(), 0.1)
    for _ in range(3):
        opt.zero_grad()
        big(torch.randn(5, 4)).pow(2).sum().backward()
        opt.step()
    assert torch.count_nonzero(big.weight[:2, 2:]) == 0 and torch.count_nonzero(big.weight[2:, :2]) == 0


def test_a_bidirectional_layer_is_refused_with_a_reason():
    with pytest.raises(NotImplementedError, match="bidirectional"):
        stack_seeds([nn.GRU(1, 2, bidirectional=True) for _ in range(2)])


def test_models_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="architecture"):
        stack_seeds([nn.Linear(2, 2), nn.Linear(2, 3)])


def test_one_model_is_not_a_stack():
    with pytest.raises(ValueError, match="two or more"):
        stack_seeds([nn.Linear(2, 2)])


def test_clip_and_unstack_need_a_stacked_model():
    with pytest.raises(TypeError, match="stack_seeds"):
        seed_clip_(nn.Linear(2, 2), 1.0)
    with pytest.raises(TypeError, match="stack_seeds"):
        unstack_seeds(nn.Linear(2, 2))
