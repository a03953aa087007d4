"""Seed 002: accumulation, zero_, non-scalar errors, detach, control flow."""

import diffcli as dc

x = dc.arange(4.0, requires_grad=True)
y = 2 * dc.dot(x, x)
print("x: ", x)
print("y: ", y)
print("x.grad: ", x.grad)
y.backward()
print("x.grad: ", x.grad)
print("x.grad == 4 * x: ", x.grad == 4 * x)

# Without zero_ the next backward adds to .grad ...
y = x.sum()
y.backward()
print("x.grad: ", x.grad)
# ... with it, it starts over.
x.grad.zero_()
y = x.sum()
y.backward()
print("x.grad: ", x.grad)

# A vector output needs reducing (or a gradient) before backward.
x.grad.zero_()
y = x * x
y.sum().backward()
print("y: ", y)
print("x.grad == 2 * x: ", x.grad == 2 * x)
try:
    (x * x).backward()
except dc.DiffcliError as error:
    print("RuntimeError:", str(error).split(";")[0])

# detach: u is a constant, so d(sum(u * x))/dx = u, while y keeps its graph.
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x
z.sum().backward()
print("x.grad == u: ", x.grad == u)
x.grad.zero_()
y.sum().backward()
print("x.grad == 2 * x: ", x.grad == 2 * x)
x.grad.zero_()
y = x * x
z = y * x
z.sum().backward()
print("x.grad: ", x.grad)  # 3x^2


# Python control flow: the gradient of the path taken.
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    c = b if b.sum() > 0 else 100 * b
    return c


dc.manual_seed(0)
a = dc.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print("a: ", a)
print("d: ", d)
print("a.grad: ", a.grad)
print("a.grad == d / a: ", a.grad == d / a)
