"""A session's story: one event row per thing that happened to it."""

from __future__ import annotations

from sessions_app.models import Session, SessionEvent


def event_record(*, session: Session, event_type: str, data: dict | None = None) -> SessionEvent:
    return SessionEvent.objects.create(session_id=session.pk, event_type=event_type, event_data=data)
