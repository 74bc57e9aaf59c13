"""``python -m coflux discover`` (executor-protocol.md §2.1–§2.3), run as the worker runs it."""

from __future__ import annotations

import json
import subprocess

from conftest import PYTHON, child_env


def discover(cwd, *modules, isolated=False):
    if isolated:
        from conftest import ADAPTER_DIR, BOOTSTRAP

        command = [PYTHON, "-I", "-S", "-c", BOOTSTRAP, str(ADAPTER_DIR), "discover", *modules]
    else:
        command = [PYTHON, "-S", "-m", "coflux", "discover", *modules]
    result = subprocess.run(command, cwd=cwd, env=child_env(), capture_output=True, text=True, timeout=30)
    return result


def names(result) -> list[tuple[str, str]]:
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    return [(t["module"], t["name"]) for t in document["targets"]]


def test_package_walk_skip_order_and_dedupe(app_dir):
    app_dir.write("pkg/__init__.py", """
        import coflux as cf
        from .shared import helper  # re-exported: listed under "pkg", scanned first

        @cf.workflow()
        def zeta(): ...

        @cf.task()
        def alpha(): ...
    """)
    app_dir.write("pkg/shared.py", """
        import coflux as cf

        @cf.task()
        def helper(): ...
    """)
    app_dir.write("pkg/a.py", """
        import coflux as cf
        from pkg.shared import helper as again

        @cf.task(name="renamed")
        def b_func(): ...

        @cf.stub("elsewhere")
        def remote(): ...

        not_a_target = 3
    """)
    app_dir.write("pkg/_private.py", """
        import coflux as cf

        @cf.task()
        def hidden(): ...
    """)
    app_dir.write("pkg/_internal/__init__.py", "")
    app_dir.write("pkg/_internal/deep.py", """
        import coflux as cf

        @cf.task()
        def deep(): ...
    """)
    app_dir.write("pkg/sub/__init__.py", "")
    app_dir.write("pkg/sub/b.py", """
        import coflux as cf

        @cf.task()
        def in_sub(): ...
    """)
    result = discover(app_dir.path, "pkg", "pkg.sub.b", "pkg")
    assert names(result) == [
        ("pkg", "alpha"),       # dir() order, not definition order
        ("pkg", "helper"),
        ("pkg", "zeta"),
        ("pkg.a", "renamed"),   # helper is not repeated under pkg.a; the stub is excluded
        ("pkg.sub.b", "in_sub"),
    ]
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["targets"][2]["type"] == "workflow"
    assert result.stdout.count("\n") == 1  # one line of compact JSON


def test_import_failures_are_warnings(app_dir):
    app_dir.write("good.py", """
        import coflux as cf
        print("module-level print must not corrupt stdout")

        @cf.task(wait=["nope"])
        def bad(x): ...
    """)
    app_dir.write("ok.py", """
        import coflux as cf

        @cf.task()
        def fine(): ...
    """)
    app_dir.write("broken.py", "raise RuntimeError('boom')\n")
    result = discover(app_dir.path, "broken", "missing_module", "good", "ok")
    assert names(result) == [("ok", "fine")]
    lines = result.stderr.splitlines()
    assert "Warning: Failed to import module broken: boom" in lines
    assert "Warning: Failed to import module missing_module: No module named 'missing_module'" in lines
    assert "Warning: Failed to import module good: wait: unknown parameter 'nope'" in lines
    assert "module-level print must not corrupt stdout" in lines


def test_failing_submodule_is_skipped_with_a_warning(app_dir):
    app_dir.write("pkg2/__init__.py", "")
    app_dir.write("pkg2/bad.py", "import does_not_exist\n")
    app_dir.write("pkg2/good.py", "import coflux as cf\n\n@cf.task()\ndef t(): ...\n")
    result = discover(app_dir.path, "pkg2")
    assert names(result) == [("pkg2.good", "t")]
    assert "Warning: Failed to import module pkg2.bad: No module named 'does_not_exist'" in result.stderr


def test_other_errors_abort_discovery(app_dir):
    app_dir.write("weird.py", """
        def __dir__():
            return ["trap"]

        def __getattr__(name):
            raise RuntimeError("kaboom")
    """)
    result = discover(app_dir.path, "weird")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error during discovery: kaboom"
    assert result.stdout == ""


def test_empty_and_isolated_interpreter(app_dir):
    app_dir.write("empty.py", "x = 1\n")
    app_dir.write("one.py", "import coflux as cf\n\n@cf.task()\ndef t(a: int = 1): ...\n")
    assert names(discover(app_dir.path, "empty")) == []
    result = discover(app_dir.path, "one", isolated=True)
    assert json.loads(result.stdout) == {
        "targets": [{"module": "one", "name": "t", "type": "task",
                     "parameters": [{"name": "a", "annotation": "<class 'int'>", "default": "1"}]}]
    }


def test_usage_errors():
    result = subprocess.run(
        [PYTHON, "-S", "-m", "coflux", "execute", "extra"],
        env=child_env(), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "usage" in result.stderr
