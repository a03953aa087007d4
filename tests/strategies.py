"""Random expressions in diffcli's language, for the differential tests."""

from hypothesis import strategies as st


def expressions(leaves, unary, binary, tops, inside: str):
    """Text of random expressions: ``leaves`` grown by ``unary``/``binary``
    templates (``{}`` slots), wrapped as ``top.format(f"({e}) * {inside}")``."""

    def grow(children):
        one = st.tuples(st.sampled_from(unary), children).map(
            lambda p: p[0].format(p[1])
        )
        two = st.tuples(st.sampled_from(binary), children, children).map(
            lambda p: p[0].format(p[1], p[2])
        )
        return one | two

    return st.tuples(
        st.sampled_from(tops),
        st.recursive(st.sampled_from(leaves), grow, max_leaves=6),
    ).map(lambda p: p[0].format(f"({p[1]}) * {inside}"))
