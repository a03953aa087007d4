"""Seed 004: y = 2 x.x, accumulation and zero_, detach, control flow."""

import diffcli as dc

x = dc.arange(4.0)
print(x)
x.requires_grad_(True)
print(x)
y = 2 * dc.dot(x, x)
print(y)
print(x.grad)
y.backward()
print(x.grad)  # 4x

y = x.sum()
y.backward()
print(x.grad)  # accumulated: 4x + 1
x.grad.zero_()
y.backward(retain_graph=True) if False else x.sum().backward()
print(x.grad)

x.grad.zero_()
y = x * x
y.sum().backward()
print(x.grad)  # 2x

x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
print(x.grad)  # u

x.grad.zero_()
z = y * x
z.sum().backward()
print(x.grad)  # 3x^2


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


dc.manual_seed(0)  # the document draws at random; seeded so the run repeats
a = dc.randn(size=(), requires_grad=True)
D = f(a)
D.backward()
print(a.grad == D / a)
