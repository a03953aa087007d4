"""``torch.autograd.functional``: Jacobians, Hessians and their products,
all from reverse passes (see diffcli.engine.jacobians)."""

from diffcli.engine.jacobians import hessian, hvp, jacobian, jvp, vhp, vjp

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
