"""A session's story: one event row per thing that happened to it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from sessions_app.models import Session, SessionEvent


def event_record(*, session: Session, event_type: str, data: dict | None = None) -> SessionEvent:
    return SessionEvent.objects.create(session_id=session.pk, event_type=event_type, event_data=data)


def event_record_if_present(*, session_id: str, event_type: str, data: dict | None = None) -> None:
    """An event for a session that may have been deleted meanwhile (work that ends after the
    session did, such as a webhook delivery): nothing is recorded for a session that is gone."""
    if not Session.objects.filter(pk=session_id).exists():
        return
    try:
        with transaction.atomic():
            SessionEvent.objects.create(session_id=session_id, event_type=event_type, event_data=data)
    except IntegrityError:
        pass  # deleted between the check and the insert
