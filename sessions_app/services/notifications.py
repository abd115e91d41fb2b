"""Webhooks when a session ends (SPEC §13): one delivery task per URL, retried with backoff."""

from __future__ import annotations


def session_ended_notify(*, session_id: str, status: str) -> None:
    """Queue one delivery per configured URL for a session that has just ended."""
