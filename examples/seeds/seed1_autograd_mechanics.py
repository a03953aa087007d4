"""Seed 001: backward and autograd.grad on f(x) = a*x**2 + b*x + c, then SGD."""

import diffcli as dc

a, b, c = dc.tensor(1.0), dc.tensor(-2.0), dc.tensor(1.0)

# Scalar backward: f'(0) = 2*a*0 + b = -2.
x = dc.tensor(0.0, requires_grad=True)
y = a * dc.pow(x, 2) + b * x + c
y.backward()
print(x.grad)

# Non-scalar backward with a gradient of ones, and the same via a scalar sum.
x = dc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
y = a * dc.pow(x, 2) + b * x + c
print(f"x:\n{x}")
print(f"y:\n{y}")
y.backward(gradient=dc.ones_like(x))
print(f"x_grad:\n{x.grad}")

x = dc.tensor([[0.0, 0.0], [1.0, 2.0]], requires_grad=True)
y = a * dc.pow(x, 2) + b * x + c
z = dc.sum(y * dc.tensor([[1.0, 1.0], [1.0, 1.0]]))
z.backward()
print(f"x_grad:\n{x.grad}")

# autograd.grad, with create_graph for the second derivative.
x = dc.tensor(0.0, requires_grad=True)
y = a * dc.pow(x, 2) + b * x + c
dy_dx = dc.autograd.grad(y, x, create_graph=True)[0]
print(dy_dx.data)
dy2_dx2 = dc.autograd.grad(dy_dx, x)[0]
print(dy2_dx2.data)

# Several inputs, then several outputs (their gradients are summed).
x1 = dc.tensor(1.0, requires_grad=True)
x2 = dc.tensor(2.0, requires_grad=True)
y1 = x1 * x2
y2 = x1 + x2
dy1_dx1, dy1_dx2 = dc.autograd.grad(outputs=y1, inputs=[x1, x2], retain_graph=True)
print(dy1_dx1, dy1_dx2)
dy12_dx1, dy12_dx2 = dc.autograd.grad(outputs=[y1, y2], inputs=[x1, x2])
print(dy12_dx1, dy12_dx2)

# Minimize f with SGD: 500 steps of lr 0.01 from 0 reach the minimum at x = 1.
x = dc.tensor(0.0, requires_grad=True)


def f(t):
    return a * dc.pow(t, 2) + b * t + c


optimizer = dc.optim.SGD(params=[x], lr=0.01)
for _ in range(500):
    optimizer.zero_grad()
    y = f(x)
    y.backward()
    optimizer.step()
print(f"y = {f(x).data!s}; x = {x.data!s}")  # str(): as the document shows

# The autograd toolkit: requires_grad, grad_fn, mean, requires_grad_, no_grad, detach.
x = dc.ones(2, 2, requires_grad=True)
print("x:", x)
print(f"x.requires_grad: {x.requires_grad}")
y = x + 2
print("y:", y)
print("y.grad_fn:", y.grad_fn)
z = y * y * 3
print("z:", z)
print("z.grad_fn", z.grad_fn)
out = z.mean()
print("out:", out)
print("out.grad_fn:", out.grad_fn)
out.backward()
print("x.grad:", x.grad)

dc.manual_seed(0)
a = dc.randn(2, 2)
a = (a * 3) / (a - 1)
print("a.requires_grad", a.requires_grad)
a.requires_grad_(True)
print("a.requires_grad:", a.requires_grad)
b = (a * a).sum()
print("b.grad_fn", b.grad_fn.name())

x = dc.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
v = dc.tensor([0.1, 1.0, 0.0001], dtype=dc.float)
y.backward(v)
print(x.grad)
print(x.requires_grad)
print((x**2).requires_grad)
with dc.no_grad():
    print((x**2).requires_grad)

print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
