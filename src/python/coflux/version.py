"""Package version and the protocol (API) version announced in ``ready``."""

from __future__ import annotations

__version__ = "0.12.0"


def _api_version(version: str) -> str:
    """Derive the protocol version from a package version (executor-protocol.md §13).

    Before 1.0 it is ``0.<minor>`` (``0.12.3`` → ``0.12``); from 1.0 on ``<major>``;
    ``dev`` for development builds without a usable version.
    """
    parts = version.split(".")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit():
        return "dev"
    if parts[0] == "0":
        return f"0.{int(parts[1])}"
    return str(int(parts[0]))


API_VERSION = _api_version(__version__)
ADAPTER = f"coflux-python/{__version__}"
