"""THE table, activation functions of neural networks (torch.nn.functional):
softplus, silu, gelu, elu and selu, leaky_relu, logsigmoid, hardtanh and
relu6.  Forwards are the numerically stable ones PyTorch uses; at kinks the
gradient is PyTorch's (elu and leaky_relu take the left slope at 0, hardtanh
is 0 at its bounds)."""

from __future__ import annotations

from diffcli.engine import rules_special as R
from diffcli.engine import shapes as S
from diffcli.engine import twins as Y
from diffcli.engine import twins_special as YS
from diffcli.engine.table.declare import composite, define
from diffcli.errors import DiffcliError

_ACTIVATION = {
    "category": "activation",
    "shape": S.same,
    "reads_ans": False,
    "method": False,
}
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

define(
    "softplus(input: T, beta: float = 1.0, threshold: float = 20.0)",
    "log(1 + exp(beta * input)) / beta, stable; input itself where "
    "beta * input > threshold",
    R.softplus,
    (
        lambda F, g, ans, x, beta=1.0, threshold=20.0: R.softplus_vjp(
            F, g, x, beta, threshold
        ),
    ),
    sympy=Y.elementwise(YS.softplus),
    kinks="above the threshold the value is input and the gradient 1, as PyTorch",
    **_ACTIVATION,
)
define(
    "silu(input: T)",
    "input * sigmoid(input) (swish)",
    lambda x: x * R.sigmoid(x),
    (lambda F, g, ans, x: R.silu_vjp(F, g, x),),
    sympy=Y.elementwise(YS.silu),
    **_ACTIVATION,
)


def _gelu(F, x, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise DiffcliError(
            f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}"
        )
    return F.op("gelu", x, approximate=approximate)


define(
    "gelu(input: T, *, approximate: str = 'none')",
    "input * Phi(input), Phi the normal CDF; approximate='tanh' for the tanh formula",
    R.gelu,
    (lambda F, g, ans, x, approximate="none": R.gelu_vjp(F, g, x, approximate),),
    sympy=Y.elementwise(YS.gelu),
    body=_gelu,
    **_ACTIVATION,
)
define(
    "elu(input: T, alpha: float = 1.0)",
    "input above 0, alpha * (exp(input) - 1) below",
    R.elu,
    (
        lambda F, g, ans, x, alpha=1.0, scale=1.0, input_scale=1.0: R.elu_vjp(
            F, g, x, alpha, scale, input_scale
        ),
    ),
    sympy=Y.elementwise(YS.elu),
    body=lambda F, x, alpha=1.0: F.op(
        "elu", x, alpha=alpha, scale=1.0, input_scale=1.0
    ),
    kinks="at 0 the gradient is the left one, alpha (PyTorch's choice)",
    **_ACTIVATION,
)
composite(
    "selu(input: T)",
    "scale * elu(input, alpha), with the self-normalizing constants",
    lambda F, x: F.op("elu", x, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0),
    kinks="at 0 the gradient is the left one, scale * alpha (PyTorch's choice)",
    category="activation",
    method=False,
)
define(
    "leaky_relu(input: T, negative_slope: float = 0.01)",
    "input above 0, negative_slope * input below",
    R.leaky_relu,
    (
        lambda F, g, ans, x, negative_slope=0.01: (
            g * F.where(x > 0, 1.0, negative_slope)
        ),
    ),
    sympy=Y.elementwise(YS.leaky_relu),
    torch="LeakyReluBackward0",
    kinks="at 0 the gradient is negative_slope (PyTorch's choice)",
    **_ACTIVATION,
)
define(
    "logsigmoid(input: T)",
    "log(sigmoid(input)), stable for large |input|",
    R.logsigmoid,
    (lambda F, g, ans, x: g * F.sigmoid(-x),),
    sympy=Y.elementwise(YS.logsigmoid),
    torch="LogSigmoidBackward0",
    **_ACTIVATION,
)
define(
    "hardtanh(input: T, min_val: float = -1.0, max_val: float = 1.0)",
    "input clamped to [min_val, max_val]",
    R.hardtanh,
    (
        lambda F, g, ans, x, min_val=-1.0, max_val=1.0: R.hardtanh_vjp(
            F, g, x, min_val, max_val
        ),
    ),
    sympy=Y.elementwise(YS.hardtanh),
    kinks="the gradient is 0 at the bounds and outside (PyTorch's choice)",
    **_ACTIVATION,
)
composite(
    "relu6(input: T)",
    "min(max(input, 0), 6)",
    lambda F, x: F.hardtanh(x, 0.0, 6.0),
    kinks="the gradient is 0 at 0 and at 6 (PyTorch's choice)",
    category="activation",
    method=False,
)
