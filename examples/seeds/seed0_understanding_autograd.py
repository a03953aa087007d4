"""Seed 000: scalar, vector-to-scalar and vector-output gradients (norm, mm)."""

import diffcli as dc

# Scalars: z = x + y**2, so dz/dx = 1 and dz/dy = 2y.
x = dc.tensor(1.0, requires_grad=True)
y = dc.tensor(2.0, requires_grad=True)
z = x + y**2
print(x, y, z, sep="\n")
z.backward(retain_graph=True)
print(x.grad, y.grad, sep="\n")
z.backward()  # without zeroing, gradients accumulate
print(x.grad)

# Vector in, scalar out: z = |x**2|, dz/dx_i = 2 x_i^3 / sqrt(x1^4 + x2^4).
x = dc.tensor([1.0, 2.0], requires_grad=True)
z = dc.norm(x**2)
z.backward()
print(x.grad)
x1, x2 = 1.0, 2.0
print([2 * x1**3 / (x1**4 + x2**4) ** 0.5, 2 * x2**3 / (x1**4 + x2**4) ** 0.5])

# Vector out: backward needs a gradient of the output's shape.
x = dc.tensor([1.0, 2.0], requires_grad=True)
y = x**2
y.backward(dc.ones_like(y))
print(x.grad)

# Row vector times matrix; summing the outputs gives row sums of y.
x = dc.tensor([[1.0, 2.0]], requires_grad=True)
y = dc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=False)
z = dc.mm(x, y)
z.backward(dc.ones_like(x))
print(x.grad)
