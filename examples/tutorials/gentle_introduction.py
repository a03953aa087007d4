"""PyTorch's "A Gentle Introduction to torch.autograd", its autograd part,
rewritten from the documented behaviour; runs unchanged with real PyTorch.

Q = 3a^3 - b^2 has dQ/da = 9a^2 and dQ/db = -2b; a vector Q needs an
explicit gradient; only operations on tensors that require grad are recorded.
"""

import diffcli as torch

torch.set_default_dtype(torch.float64)

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = torch.tensor([6.0, 4.0], requires_grad=True)
Q = 3 * a**3 - b**2
print("Q:", Q)

external_grad = torch.tensor([1.0, 1.0])
Q.backward(gradient=external_grad)
print("a.grad:", a.grad)
print("b.grad:", b.grad)
print(9 * a**2 == a.grad)
print(-2 * b == b.grad)

# The graph: the output's grad_fn and where it leads.
print("Q.grad_fn:", Q.grad_fn.name())
print(
    "its inputs:",
    [None if f is None else f.name() for f, _ in Q.grad_fn.next_functions],
)

# Exclusion from the graph: a result requires grad if any input does.
x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)
print(f"Does `a` require gradients?: {(x + y).requires_grad}")
print(f"Does `b` require gradients?: {(x + z).requires_grad}")
