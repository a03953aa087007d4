"""The engine: THE table, Tensor and its graph, backward, the PyTorch-like API.

Importing it gives Tensor its operators and methods (made from the table).
"""

from diffcli.engine import tensor_methods

tensor_methods.install()
