"""Threads backpropagating into a shared leaf: every addition into its .grad
counts (a read-add-write that two threads interleave would lose one)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import diffcli as dc


@pytest.fixture
def eager_switching():
    """Threads switch every microsecond, so that an unguarded update does race."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("create_graph", [False, True])
def test_two_threads_lose_no_gradient(eager_switching, create_graph):
    # large enough that numpy lets go of the GIL while it adds into x.grad
    g = np.resize([3.0, -0.5, 0.25], 100_000)
    x = dc.tensor(np.ones_like(g), requires_grad=True)
    calls = 1000

    def backprop():
        for _ in range(calls):
            (x * dc.tensor(g)).sum().backward(create_graph=create_graph)

    threads = [threading.Thread(target=backprop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * calls * g)  # exact: 2000 g
