"""Autograd mechanics as PyTorch's documentation describes them: hooks on
tensors and nodes, retained gradients, in-place operations, the graph's
nodes, and torch.autograd.functional; written from the documented
behaviour, runs unchanged with real PyTorch.
"""

import diffcli as torch
from diffcli.autograd.functional import hessian, hvp, jacobian, jvp, vjp

torch.set_default_dtype(torch.float64)

# Hooks: a tensor hook may replace the gradient; retain_grad keeps a
# non-leaf's gradient; node hooks see what flows in and out.
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x * x
h.retain_grad()
h.register_hook(lambda grad: grad * 2)
h.grad_fn.register_prehook(lambda grad_outputs: print("pre-hook:", grad_outputs))
h.grad_fn.register_hook(lambda grad_inputs, grad_outputs: print("hook:", grad_inputs))
y = (h + 1).log().sum()
y.backward()
print("h.grad:", h.grad)
print("x.grad:", x.grad)

# The graph, node by node.
z = (x.sin() * 2).sum()
node = z.grad_fn
while node is not None:
    print(
        node.name(),
        [(None if f is None else f.name(), i) for f, i in node.next_functions],
    )
    node = node.next_functions[0][0] if node.next_functions else None

# In-place on an intermediate: earlier uses keep what they recorded.
a = torch.tensor(1.0, requires_grad=True)
d = a * 3
d += d * 2
d.backward()
print("a.grad after d += d * 2:", a.grad, "version", d._version)

e = a.exp()
e.add_(1)
try:
    e.backward()
except RuntimeError as err:
    print("exp then add_:", str(err).split(":")[0])


# torch.autograd.functional on the documentation's kind of examples.
def exp_reducer(t):
    return t.exp().sum(dim=1)


inputs = torch.tensor([[0.2, 0.5], [-0.3, 0.8]])
print(jacobian(exp_reducer, inputs))


def pow_reducer(t):
    return t.pow(3).sum()


print(hessian(pow_reducer, inputs))
v = torch.ones(2)
print(vjp(exp_reducer, inputs, v))
print(jvp(exp_reducer, inputs, torch.ones(2, 2)))
print(hvp(pow_reducer, inputs, torch.ones(2, 2)))
print(f"value {pow_reducer(inputs):.6f}")
