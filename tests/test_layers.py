"""diffcli's layers, read from the source with ``ast`` (imports inside functions
included): errors < engine < the ``diffcli`` facade < expr < verify <
{minimize, batch} < render < cli.  A module imports only from its own layer or
lower ones; only the CLI imports click; SymPy is loaded on use, never on import;
and no two modules need each other."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import diffcli

SOURCE = Path(diffcli.__file__).parent

# Module prefix -> (rank, layer).  minimize and batch share a rank: both stand
# on verify, and neither may use the other.  The facade (diffcli/__init__.py)
# re-exports the engine for ``import diffcli as dc``; the engine never uses it.
LAYERS = {
    "diffcli.errors": (0, "errors"),
    "diffcli.engine": (1, "engine"),
    "diffcli": (2, "facade"),  # the package itself only, not its subpackages
    "diffcli.autograd": (2, "facade"),  # torch.autograd's paths over the engine
    "diffcli.nn": (2, "facade"),  # torch.nn.functional's names from the table
    "diffcli.linalg": (2, "facade"),  # torch.linalg's names from the table
    "diffcli.expr": (3, "expr"),
    "diffcli.verify": (4, "verify"),
    "diffcli.minimize": (5, "minimize"),
    "diffcli.batch": (5, "batch"),
    "diffcli.render": (6, "render"),
    "diffcli.cli": (7, "cli"),
    "diffcli.__main__": (7, "cli"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports: a diffcli module, or a top-level package
    line: int
    at_import: bool  # runs when the module is imported (not inside a function)
    typing_only: bool  # under ``if TYPE_CHECKING:``: never runs

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = ["diffcli", *path.relative_to(SOURCE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


MODULES = module_names()


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, package: str) -> None:
        self.module, self.package = module, package
        self.depth = 0  # functions entered
        self.typing_only = False
        self.found: list[Import] = []

    def add(self, target: str, node: ast.stmt) -> None:
        self.found.append(
            Import(self.module, target, node.lineno, not self.depth, self.typing_only)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative: from the package, up level - 1 packages
            parts = self.package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        targets = {}  # ``from pkg import module`` imports the module
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            targets[sub if sub in MODULES else base] = None
        for target in targets:
            self.add(target, node)

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name != "TYPE_CHECKING":
            self.generic_visit(node)
            return
        was, self.typing_only = self.typing_only, True
        for child in node.body:
            self.visit(child)
        self.typing_only = was
        for child in node.orelse:
            self.visit(child)


def imports_of(module: str, path: Path) -> list[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    visitor = _Imports(module, package)
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return visitor.found


@functools.cache
def all_imports() -> tuple[Import, ...]:
    return tuple(i for m, path in MODULES.items() for i in imports_of(m, path))


def layer(module: str) -> tuple[int, str] | None:
    """(rank, layer) of a diffcli module, from its longest prefix in LAYERS."""
    if module == "diffcli":
        return LAYERS[module]
    keys = [k for k in LAYERS if k != "diffcli" and (module + ".").startswith(k + ".")]
    return LAYERS[max(keys, key=len)] if keys else None


def root(name: str) -> str:
    return name.partition(".")[0]


def layer_violations(imports: Sequence[Import]) -> list[str]:
    """Imports of a higher layer, or of a sibling of the same rank."""
    bad = []
    for i in imports:
        if root(i.target) != "diffcli":
            continue
        (rank, here), (other, there) = layer(i.module), layer(i.target)
        if there != here and other >= rank:
            bad.append(f"{i} ({here} may not use {there})")
    return bad


def cycles(imports: Sequence[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in imports:
        if i.target in MODULES and i.target != i.module:
            graph[i.module].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


# --- the rules ------------------------------------------------------------------


def test_every_module_has_a_layer():
    assert "diffcli.engine.tensor" in MODULES and "diffcli.cli" in MODULES
    assert [m for m in MODULES if layer(m) is None] == []


def test_no_layer_imports_a_higher_one():
    """Engine imports nothing of expr/verify/minimize/batch/render/cli; the rest
    in the same order, lazy imports included."""
    assert layer_violations(all_imports()) == []


def test_only_the_cli_imports_click():
    users = [i for i in all_imports() if root(i.target) == "click"]
    assert users, "the CLI imports click: the walk must see it"
    assert [str(i) for i in users if layer(i.module)[1] != "cli"] == []


def test_sympy_is_imported_on_use_outside_the_symbolic_layer():
    users = [i for i in all_imports() if root(i.target) == "sympy"]
    assert users, "the symbolic layer imports sympy: the walk must see it"
    at_import = [
        str(i)
        for i in users
        if i.at_import and not i.typing_only and i.module != "diffcli.expr.symbolic"
    ]
    assert at_import == []


def test_no_import_cycles_when_importing():
    runs = [i for i in all_imports() if i.at_import and not i.typing_only]
    assert cycles(runs) == []


# Closed by tensor_methods' function-level imports, and being taken apart now:
# the one allowance, for exactly these modules.
ENGINE_CYCLE = [
    "diffcli.engine.autograd",
    "diffcli.engine.functional",
    "diffcli.engine.memory_reuse",
    "diffcli.engine.tensor",
    "diffcli.engine.tensor_methods",
]


def test_lazy_imports_close_no_cycle_but_the_clis():
    """A function-level import may defer loading (the CLI loads its commands on
    use), but outside the CLI it must not hide a mutual dependency."""
    runs = [i for i in all_imports() if not i.typing_only]
    outside = [c for c in cycles(runs) if {layer(m)[1] for m in c} != {"cli"}]
    assert [c for c in outside if c != ENGINE_CYCLE] == []


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "import diffcli"],
        ["-m", "diffcli", "grad", "x**2", "--at", "x=1", "--no-check"],
    ],
)
def test_sympy_is_not_loaded(args):
    """In a real process (``import diffcli.cli`` and click's in-process run:
    tests/cli/test_cli.py::test_no_check_and_help_do_not_import_sympy)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    loaded = {
        line.rpartition("|")[2].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "diffcli" in loaded
    assert "sympy" not in loaded
    if "grad" in args:
        assert "gradient" in run.stdout and "skipped" in run.stdout


# --- the checks themselves --------------------------------------------------------


def test_the_walk_sees_what_a_bad_import_would_do():
    """Each rule on a made-up import: the checks can fail."""
    up = Import("diffcli.engine.tensor", "diffcli.render.text", 9, False, False)
    sideways = Import("diffcli.batch.cases", "diffcli.minimize.descent", 3, True, False)
    assert layer_violations([up, sideways]) == [
        "diffcli.engine.tensor:9 imports diffcli.render.text"
        " (engine may not use render)",
        "diffcli.batch.cases:3 imports diffcli.minimize.descent"
        " (batch may not use minimize)",
    ]
    back = Import("diffcli.errors", "diffcli.engine.tensor", 1, True, False)
    forth = Import("diffcli.engine.tensor", "diffcli.errors", 1, True, False)
    assert cycles([back, forth]) == [["diffcli.engine.tensor", "diffcli.errors"]]
    assert layer("diffcli.engine.tensor") == (1, "engine")
    assert layer("diffcli") == (2, "facade") and layer("diffcli.nowhere") is None
    assert layer("diffcli.__main__") == layer("diffcli.cli.common") == (7, "cli")


def test_imports_inside_functions_and_type_checking_blocks(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "import click\n"
        "from . import tree\n"
        "if TYPE_CHECKING:\n"
        "    import sympy\n"
        "def f():\n"
        "    from sympy import sin\n"
        "class C:\n"
        "    from ..engine import tensor\n"
    )
    found = imports_of("diffcli.expr.mod", path)
    assert [(i.target, i.at_import, i.typing_only) for i in found] == [
        ("typing", True, False),
        ("click", True, False),
        ("diffcli.expr.tree", True, False),
        ("sympy", True, True),
        ("sympy", False, False),
        ("diffcli.engine.tensor", True, False),
    ]
