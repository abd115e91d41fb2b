"""Paths of the files the product keeps under DATA_ROOT (session logs, trades files).

Every such path is built here, from names, and must resolve under DATA_ROOT: a session id
or a stored `logs_file` / `trades_file` that says otherwise (an archive made by hand, a row
edited in the database) must never make us write, read or delete a file anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


class OutsideDataRoot(ValueError):
    """A path that would leave DATA_ROOT (a `..`, a separator, a symlink that points out)."""


def data_path(*names: str) -> Path:
    """DATA_ROOT/<name>/<name>...: each name one plain file or folder name, the result under
    DATA_ROOT once resolved (symlinks followed), else OutsideDataRoot."""
    for name in names:
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
            raise OutsideDataRoot(f"{name!r} is not a plain file name under DATA_ROOT")
    path = Path(settings.DATA_ROOT).joinpath(*names)
    if not _under_data_root(path):
        raise OutsideDataRoot(f"{path} resolves outside DATA_ROOT ({settings.DATA_ROOT})")
    return path


def stored_data_path(stored: str | None) -> Path | None:
    """A path read from a row (`logs_file`, `trades_file`): the file when it resolves under
    DATA_ROOT, else None (no file of ours: nothing to read or delete)."""
    if not stored or "\x00" in stored:
        return None
    path = Path(stored)
    return path if path.is_absolute() and _under_data_root(path) else None


def log_path(session_id: str) -> Path:
    """A session's log file."""
    return data_path("logs", f"session_{session_id}.log")


def _under_data_root(path: Path) -> bool:
    root = Path(settings.DATA_ROOT).resolve()
    resolved = path.resolve()
    return resolved != root and resolved.is_relative_to(root)
