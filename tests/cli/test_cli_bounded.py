"""Bounded work (issue #17): every input ends quickly with an answer or one
clear error, and memory stays bounded.

The memory tests run the real command in a subprocess under an address-space
limit, so that a regression fails here instead of exhausting the machine.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

LIMIT = 3 * 1024**3  # bytes of address space for one command

PRELUDE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from diffcli.cli import main
sys.argv = ["diffcli", *sys.argv[1:]]
main()
"""


def bounded(
    *args: str, timeout: float = 120, limit: int = LIMIT
) -> subprocess.CompletedProcess:
    """``diffcli ARGS`` in a fresh interpreter with at most ``limit`` bytes of
    address space."""
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "-c", PRELUDE.format(limit=limit), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def refused(*args: str) -> str:
    """The command ends with exit 2 and one message (no traceback, no
    MemoryError); that message."""
    run = bounded(*args)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    assert "MemoryError" not in run.stderr
    assert "internal error" not in run.stderr
    return run.stderr


def test_a_broadcast_over_the_limit_is_refused_with_both_sizes():
    err = refused("grad", "sum(ones(30000,1)*ones(1,30000)*x)", "--at", "x=1")
    assert "'mul' of shapes (30000, 1) and (1, 30000)" in err
    assert "900000000 elements (limit 10000000 per result)" in err
    assert "^^^" in err  # the caret under the product


@pytest.mark.parametrize(
    ("value", "n", "size"),
    [("ones(20000)", 20000, 400000000), ("ones(316,316)", 99856, 9971220736)],
)
def test_a_hessian_over_the_limit_is_refused_before_any_row(value, n, size):
    err = refused("grad", "sum(z**2)", "--at", f"z={value}", "--order", "2")
    assert f"the Hessian of {n} input elements ({n} x {n})" in err
    assert f"would have {size} elements (limit 10000000)" in err


def test_a_jacobian_over_the_limit_is_refused_before_any_row():
    err = refused("jacobian", "x", "--at", "x=ones(10000)")
    assert "the Jacobian of 10000 outputs by 10000 input elements" in err
    assert "100000000 elements (limit 10000000)" in err


def test_a_constant_jacobian_is_refused_without_computing_it():
    err = refused("jacobian", "ones(3000,3000)")
    assert "has no variables" in err


def test_a_value_of_computed_size_is_accepted_up_to_the_limit():
    run = bounded("grad", "sum(x)", "--at", "x=ones(10**6)", "--no-check", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["value"] == 1e6 and data["gradient"]["x"] == [1.0] * 10**6
    err = refused("grad", "sum(x)", "--at", "x=ones(10**8)", "--no-check")
    assert "ones() would make 100000000 elements (limit 10000000)" in err


def test_the_total_of_one_evaluation_is_limited():
    err = refused("grad", "sum(x*x*x*x*x*x)", "--at", "x=ones(10**7)", "--no-check")
    assert "per evaluation" in err


@pytest.mark.parametrize(
    ("text", "size"), [("ones(2**3)", 8), ("ones(2*3, 10**2)", 600)]
)
def test_sizes_may_be_computed_integers(text, size):
    from diffcli.expr.numeric import value_of

    assert value_of(text).size == size


# --- --func: the user's file and code ----------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("/dev/zero:f", "cannot read /dev/zero: not a regular file"),
        ("/dev/urandom:f", "cannot read /dev/urandom: not a regular file"),
        ("{tmp}:f", "cannot read {tmp}: it is a directory"),
    ],
)
def test_func_refuses_what_is_not_a_regular_file_unread(spec, message, tmp_path):
    err = refused("grad", "--func", spec.format(tmp=tmp_path), "--at", "x=1")
    assert f"error: {message.format(tmp=tmp_path)}" in err


USER_CODE = {
    "import sys\ndef f(x):\n    sys.exit(3)\n": "f raised SystemExit: 3 (line 3)",
    "def f(x):\n    raise BaseException('boom')\n": "f raised BaseException: boom",
    "class E(Exception):\n    def __str__(self):\n        raise ValueError\n"
    "def f(x):\n    raise E()\n": "f raised E: (its message could not be made",
    "import sys\nsys.exit(0)\ndef f(x):\n    return x\n": "failed: SystemExit: 0",
    "def f(x):\n    while True:\n        pass\n": "f did not finish within the "
    "time budget of 10 s (an endless loop?)",
    # review finding: os._exit ended diffcli with no output and exit 0
    "import os\ndef f(x):\n    os._exit(0)\n": "f called os._exit(0), which "
    "would end diffcli silently (line 3)",
    "from os import _exit\ndef f(x):\n    _exit(4)\n": "f called os._exit(4)",
    "import os\nos._exit(3)\ndef f(x):\n    return x\n": "called os._exit(3)",
    "import os\ndef f(x):\n    os.abort()\n": "f called os.abort(), which",
}


@pytest.mark.parametrize("source", list(USER_CODE))
def test_whatever_the_users_code_does_is_one_clear_error(source, tmp_path):
    from cli_helpers import invoke

    path = tmp_path / "user.py"
    path.write_text(source)
    err = invoke("grad", "--func", f"{path}:f", "--at", "x=1", code=2).stderr
    assert err.startswith("error: ") and USER_CODE[source] in err
    assert len(err.splitlines()) == 1
    assert os._exit.__module__ == "posix" and os.abort.__module__ == "posix"


@pytest.mark.parametrize(
    "make", ["ones(20000, 20000)", "randn(20000, 20000)", "eye(20000)"]
)
def test_funcs_own_arrays_are_limited_as_an_expressions(make, tmp_path):
    # review finding: dc.ones(20000, 20000) in --func code took 6.3 GB
    path = tmp_path / "big.py"
    path.write_text(
        f"import diffcli as dc\ndef f(x):\n    return dc.sum(dc.{make}) * x\n"
    )
    err = refused("grad", "--func", f"{path}:f", "--at", "x=1")
    assert "would make 400000000 elements (limit 10000000 per result)" in err


def test_the_python_api_itself_is_not_limited():
    import diffcli as dc

    assert dc.ones(3000, 4000).shape == (3000, 4000)  # 12M: over the CLI's limit


# --- one time budget per command ------------------------------------------------


def test_an_order_too_high_is_refused_up_front():
    from cli_helpers import invoke

    err = invoke("grad", "x**2", "--at", "x=1", "--order", "100000000", code=2).stderr
    assert "order 100000000 is over the highest order, 1000" in err


def test_an_order_that_cannot_end_in_the_budget_is_refused():
    from cli_helpers import invoke

    args = ("grad", "sin(sin(x))", "--at", "x=1", "--order", "14")
    err = invoke(*args, code=2).stderr
    assert "error: order 14 (order " in err
    assert "over the command's time budget of 10 s" in err


# --- messages ------------------------------------------------------------------


def test_a_library_warning_is_one_note_without_paths():
    from cli_helpers import ENV
    from click.testing import CliRunner

    from diffcli.cli import main

    args = ["grad", "mean(x*ones(0))", "--at", "x=1"]
    result = CliRunner(env=ENV).invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr == "note: Mean of empty slice\n"


def test_a_solve_timeout_beyond_the_timers_is_a_usage_error():
    from cli_helpers import invoke

    args = ("minimize", "x**2", "--at", "x=1", "--solve-timeout", "1e308")
    err = invoke(*args, code=2).stderr
    assert "'--solve-timeout': 1e+308 is not in the range 0<x<=86400.0" in err


def test_an_empty_junit_name_is_a_usage_error(tmp_path):
    from cli_helpers import invoke

    cases = tmp_path / "c.toml"
    cases.write_text('[[case]]\nexpr = "x**2"\nat = "x=1"\n')
    assert (
        "--junit needs a file name"
        in invoke("check", str(cases), "--junit", "", code=2).stderr
    )


def test_a_large_json_array_reads_back_as_the_same_floats():
    """1e6 values of full precision (the gradient) and short decimals (the
    point) through the numpy writer: the JSON parses to the very floats."""
    run = bounded(
        "grad", "sum(sin(x))", "--at", "x=arange(10**6)/10", "--no-check", "--json"
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    x = np.arange(10**6) / 10
    assert data["point"]["x"][:3] == [0.0, 0.1, 0.2]
    assert data["point"]["x"] == x.tolist()
    assert data["gradient"]["x"] == np.cos(x).tolist()  # d sin(x) = cos(x)


ARRAY = 8 * 10**7  # bytes of 1e7 float64 values


def _imports_peak() -> int:
    """Address space (bytes) of an interpreter that has imported the command."""
    code = (
        "import diffcli.cli.minimize, diffcli.minimize.descent\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmPeak')][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[1]) * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
def test_a_descent_on_1e7_values_needs_a_few_copies_of_them():
    """The point, the leaf the engine descends on, the last good point and one
    array at a time in the step: five arrays above the imports are enough
    (each step's temporaries and the trace's values used to need eight)."""
    limit = _imports_peak() + 5 * ARRAY
    args = ("minimize", "sum(x**2)", "--at", "x=ones(10**7)", "--steps", "3")
    run = bounded(*args, "--no-solve", limit=limit)
    assert run.returncode == 0, run.stderr
    # three steps of x -= 0.01 * 2x from 1: x = 0.98**3 = 0.941192
    assert "x = [0.941192, 0.941192, 0.941192, ..." in run.stdout
    assert "value    8858423.8" in run.stdout  # 1e7 * 0.941192**2
