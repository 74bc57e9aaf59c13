"""Command line: ``python -m coflux discover <modules…>`` and ``python -m coflux execute``."""

from __future__ import annotations

import sys

_USAGE = "usage: python -m coflux {discover <module>... | execute}"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to discovery or the executor; returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else None
    if command == "discover":
        from . import discovery

        return discovery.main(args[1:])
    if command == "execute" and len(args) == 1:
        from . import executor

        return executor.main()
    print(_USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
