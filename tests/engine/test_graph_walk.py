"""The one walk of a recorded graph (engine/graph_walk.py) and the backward's
consumer counts, which are its in-degrees."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcli as dc
from diffcli.engine import autograd
from diffcli.engine.graph_walk import depth_first, tensor_inputs, topological


def diamond():
    """d = sin(a) + exp(a), a = 2 x: ``a`` is reached along two paths."""
    x = dc.tensor(0.5, requires_grad=True)
    a = x * 2.0
    b, c = a.sin(), a.exp()
    return x, a, b, c, b + c


def test_diamond_each_node_once_after_its_inputs():
    x, a, b, c, d = diamond()
    assert list(topological([d])) == [x, a, c, b, d]  # the last input walked first
    events = list(depth_first([d], tensor_inputs))
    assert [t for t, done in events if not done] == [d, c, a, x, b]


def test_walk_follows_only_what_it_is_told():
    x, a, b, _, d = diamond()
    assert list(topological([d], lambda t: tensor_inputs(t)[:1])) == [x, a, b, d]
    assert list(topological([d], lambda t: [])) == [d]


def test_a_root_given_twice_is_walked_once():
    x, a, b, c, d = diamond()
    assert list(topological([d, d])) == [x, a, c, b, d]
    assert list(topological([a, d, a])) == [x, a, c, b, d]
    assert autograd._consumers([d, d]) == {d: 0, c: 1, b: 1, a: 2}


def test_a_long_chain_needs_no_recursion():
    x = dc.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    order = list(topological([y]))
    assert len(order) == 200_001
    assert order[0] is x and order[-1] is y
    assert order[1]._inputs[0] is x


def test_freed_nodes_end_the_walk():
    x = dc.tensor(0.3, requires_grad=True)
    y = (x * x).sin()
    y.backward()  # frees sin's saved input: the edge to x * x is gone
    assert list(topological([y])) == [y]


@settings(deadline=None, max_examples=30, database=None)
@given(st.data())
def test_consumer_counts_are_the_walks_in_degrees(data):
    """The backward counts consumers in its own loop (for speed): it must agree
    with depth_first over the edges it follows, on any graph."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    nodes = [dc.tensor(rng.standard_normal(), requires_grad=bool(k)) for k in range(3)]
    for _ in range(data.draw(st.integers(1, 25))):
        i, j = data.draw(st.tuples(*[st.integers(0, len(nodes) - 1)] * 2))
        nodes.append(nodes[i] * nodes[j] if rng.random() < 0.5 else nodes[i].sin())
    roots = [n for n in data.draw(st.lists(st.sampled_from(nodes), min_size=1))]
    roots = [r for r in roots if r.grad_fn is not None]

    def followed(t):
        return [x for x in tensor_inputs(t) if x.grad_fn is not None]

    counts = dict.fromkeys(roots, 0)
    for t in topological(roots, followed):
        for x in followed(t):
            counts[x] = counts.get(x, 0) + 1
    assert autograd._consumers(roots) == counts
