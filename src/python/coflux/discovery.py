"""``python -m coflux discover <modules…>`` (executor-protocol.md §2.1–§2.3).

Imports each requested module, walking packages recursively (submodules whose last segment
starts with ``_`` are skipped with their subtree), scans attributes in ``dir()`` order and prints
``{"targets": [...]}`` as one line of JSON. Import failures are warnings on stderr; any other
error aborts with status 1.
"""

from __future__ import annotations

import sys

from . import protocol
from .target import Target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any


def _import(name: str) -> ModuleType | None:
    # Module-level prints must not corrupt the JSON document on stdout: send them to stderr.
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        __import__(name)
        return sys.modules[name]
    except (Exception, SystemExit) as e:
        print(f"Warning: Failed to import module {name}: {e}", file=sys.stderr)
        return None
    finally:
        sys.stdout = saved


def collect_modules(names: list[str]) -> list[tuple[str, ModuleType]]:
    """Import the requested modules and their submodules, de-duplicated in first-seen order."""
    import pkgutil

    found: dict[str, ModuleType] = {}
    attempted: set[str] = set()

    def visit(name: str) -> None:
        if name in attempted:
            return
        attempted.add(name)
        module = _import(name)
        if module is None:
            return
        found[name] = module
        path = getattr(module, "__path__", None)
        if path is None:
            return
        for info in pkgutil.iter_modules(path, prefix=name + "."):
            if info.name.rpartition(".")[2].startswith("_"):
                continue
            visit(info.name)

    for name in names:
        visit(name)
    return list(found.items())


def discover(names: list[str]) -> list[dict[str, Any]]:
    """Target definitions found in the given modules (executor-protocol.md §2.2)."""
    seen: set[int] = set()
    definitions = []
    for module_name, module in collect_modules(names):
        for attribute in dir(module):
            value = getattr(module, attribute, None)
            if isinstance(value, Target) and not value.is_stub and id(value) not in seen:
                seen.add(id(value))
                definitions.append(value.definition(module_name))
    return definitions


def main(names: list[str]) -> int:
    """Run discovery and print the document; returns the exit status."""
    try:
        definitions = discover(names)
    except Exception as e:
        print(f"Error during discovery: {e}", file=sys.stderr)
        return 1
    protocol.write_document({"targets": definitions})
    return 0
