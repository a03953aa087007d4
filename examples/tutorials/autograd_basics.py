"""PyTorch's "Automatic Differentiation with torch.autograd" tutorial,
rewritten from the documented behaviour, with fixed weights where the
tutorial draws random ones (so the numbers can be compared); runs unchanged
with real PyTorch.
"""

import diffcli as torch

torch.set_default_dtype(torch.float64)

# A one-layer network: input x, parameters w and b, a binary cross-entropy loss.
x = torch.ones(5)
y = torch.zeros(3)
w = torch.tensor(
    [
        [0.5, -0.2, 0.1],
        [0.3, 0.8, -0.5],
        [-0.7, 0.2, 0.4],
        [0.1, -0.3, 0.9],
        [0.6, 0.5, -0.1],
    ],
    requires_grad=True,
)
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(x, w) + b
# binary_cross_entropy_with_logits(z, y), written out stably.
loss = (torch.relu(z) - z * y + torch.log(1 + torch.exp(-torch.abs(z)))).mean()

print(f"Gradient function for z = {z.grad_fn}".split(" object")[0] + ">")
print(f"Gradient function for loss = {loss.grad_fn.name()}")

loss.backward()
print(w.grad)
print(b.grad)

# Disabling gradient tracking.
z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad)

# Tensor gradients and Jacobian products: a vector output needs a gradient,
# and gradients accumulate until zeroed.
inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
