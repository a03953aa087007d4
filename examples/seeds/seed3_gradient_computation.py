"""Seed 003: creating tensors, requires_grad propagation, backward's gradient."""

import numpy as np

import diffcli as dc
from diffcli.autograd import Variable

# Four ways to make a tensor that requires grad.
x = dc.randn(2, 2, requires_grad=True)
x = Variable(dc.Tensor([2, 3]), requires_grad=True)
x = dc.tensor([2, 3], requires_grad=True, dtype=dc.float64)
x = dc.from_numpy(np.array([1, 2, 3], dtype=np.float64))
x.requires_grad = True
print(x)

# Only floating point tensors can require gradients.
print(dc.tensor([2, 3]).dtype)
try:
    dc.tensor([2, 3], requires_grad=True)
except dc.DiffcliError as error:
    print("RuntimeError:", str(error).split(" (")[0])

# A result requires grad exactly when one of its inputs does.
x, y = Variable(dc.randn(2, 2)), Variable(dc.randn(2, 2))
z = Variable(dc.randn(2, 2), requires_grad=True)
a = x + y
b = a + z
print(x.requires_grad, y.requires_grad, z.requires_grad)
print(a.requires_grad, b.requires_grad)

x, z = Variable(dc.randn(2, 2)), Variable(dc.randn(2, 2))
y = Variable(dc.randn(2, 2), requires_grad=True)
a = x + y
b = a + z
print(x.requires_grad, y.requires_grad, z.requires_grad)
print(a.requires_grad, b.requires_grad)

# out = mean(3 (a + 3)^2), so d out / d a = 3 (a + 3) = [15, 18] at a = [2, 3].
a = Variable(dc.FloatTensor([2, 3]), requires_grad=True)
b = a + 3
c = b * b * 3
out = c.mean()
out.backward(retain_graph=True)
print(a.grad)

# A vector output built element by element, and backward with a gradient.
m = Variable(dc.FloatTensor([2, 3]), requires_grad=True)
n = Variable(dc.zeros(2))
n[0] = m[0] ** 2
n[1] = m[1] ** 3
n.backward(gradient=dc.Tensor([1, 1]))
print(m.grad)  # [2 * 2, 3 * 3**2] = [4, 27]
try:
    n.backward()
except dc.DiffcliError as error:
    print("RuntimeError:", str(error).split(";")[0])
