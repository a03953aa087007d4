"""The one walk of a recorded graph: every node reachable from some roots, once.

The reverse pass, trace replay, symbolic replay and ``diffcli graph`` all walk
the graph behind a tensor.  The walk is iterative (an explicit stack, so
million-node chains are fine) and depth-first: each node is reported when it
is first reached (pre-order, the reading order of a drawing from the output
down) and again once everything it leads to is done (post-order, a
topological order: every node after its inputs).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

from diffcli.engine.tensor import Tensor

Node = TypeVar("Node", bound=Hashable)


def recorded_inputs(node: Tensor) -> tuple:
    """What the operation that made ``node`` took, tensors or not: nothing for
    a leaf or a node whose inputs a backward has freed."""
    inputs = node._inputs
    return inputs if type(inputs) is tuple else ()


def tensor_inputs(node: Tensor) -> list[Tensor]:
    """The graph's edges out of ``node``: the tensors among its inputs."""
    return [x for x in recorded_inputs(node) if type(x) is Tensor]


def depth_first(
    roots: Iterable[Node], follow: Callable[[Node], Iterable[Node]]
) -> Iterator[tuple[Node, bool]]:
    """Each node reachable from ``roots`` through ``follow``, once (a root
    given twice too): ``(node, False)`` when first reached, ``(node, True)``
    after all that it follows.

    Roots and followed nodes go on one stack, so the last one is walked first;
    pass them reversed to walk them in their own order.
    """
    seen: set[Node] = set()
    stack = [(node, False) for node in dict.fromkeys(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            yield node, True
        elif node not in seen:
            seen.add(node)
            yield node, False
            stack.append((node, True))
            stack.extend([(x, False) for x in follow(node) if x not in seen])


def topological(
    roots: Iterable[Tensor],
    follow: Callable[[Tensor], Iterable[Tensor]] = tensor_inputs,
) -> Iterator[Tensor]:
    """The nodes behind ``roots``, each after everything it follows (its inputs)."""
    return (node for node, done in depth_first(roots, follow) if done)
