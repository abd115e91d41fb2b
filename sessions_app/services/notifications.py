"""Webhooks when a session ends: one delivery task per URL, retried with backoff.

`session_ended_notify` runs after the session's end has committed and only queues tasks; the
POSTs happen on the worker's `default` queue, never on the runner's time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from http.client import HTTPException

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from sessions_app.models import Session, SessionEvent, Status
from sessions_app.representations import session_data
from sessions_app.selectors import session_summary
from sessions_app.services.events import event_record_if_present
from sessions_app.services.queueing import SESSION_NOTIFY, task_send

logger = logging.getLogger(__name__)

USER_AGENT = "TradingSessions-Webhook/1"
# Enough of a refusing receiver's answer to say why in the event; the rest is not read.
ERROR_BODY_CHARS = 200


class WebhookDeliveryError(Exception):
    """The receiver did not take the delivery (non-2xx, no connection, timeout): try again."""


def session_ended_notify(*, session_id: str, status: str) -> None:
    """Queue one delivery per configured URL for a session that has just ended."""
    row = Session.objects.filter(pk=session_id).values("notify_url").first()
    if row is None:
        return  # deleted meanwhile: nobody to tell about
    urls = list(dict.fromkeys(filter(None, [*settings.WEBHOOK_URLS, row["notify_url"]])))
    if not urls:
        return
    event = f"session.{Status(status).value}"
    for url in urls:
        try:
            task_send(SESSION_NOTIFY, kwargs={"session_id": session_id, "url": url, "event": event})
        except Exception as exc:  # broker down: the session has ended all the same
            logger.exception("Could not queue the %s webhook for session %s to %s", event, session_id, url)
            event_record_if_present(
                session_id=session_id,
                event_type=SessionEvent.EventType.NOTIFY_FAILED,
                data={
                    "url": url,
                    "event": event,
                    "attempts": 0,
                    "error": f"Could not queue the delivery: the broker is unreachable ({exc}).",
                },
            )


def webhook_deliver(
    *, session_id: str, url: str, event: str, attempt: int, delivery_id: str | None = None
) -> int | None:
    """POST the event and the session to `url`; a `notified` event on a 2xx answer.

    Returns the status code, or None when the session no longer exists (nothing is sent).
    Raises WebhookDeliveryError on anything else, for the task to retry.
    """
    session = Session.objects.select_related("created_by").filter(pk=session_id).first()
    if session is None:
        return None
    body = json.dumps(
        {"event": event, "session": session_data(session, summary=session_summary(session))},
        cls=DjangoJSONEncoder,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": event,
        "X-Webhook-Attempt": str(attempt),
    }
    if delivery_id:
        headers["X-Webhook-Delivery"] = delivery_id  # the same on every retry: receivers can dedupe
    if settings.WEBHOOK_SECRET:
        headers["X-Signature"] = f"sha256={webhook_signature(body)}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status_code = response.status
    except urllib.error.HTTPError as exc:
        answer = exc.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        exc.close()
        raise WebhookDeliveryError(
            f"HTTP {exc.code} {exc.reason}" + (f": {answer}" if answer else "")
        ) from exc
    except (urllib.error.URLError, HTTPException, OSError) as exc:  # refused, DNS, timeout, reset
        reason = getattr(exc, "reason", None) or exc
        raise WebhookDeliveryError(f"{type(exc).__name__}: {reason}") from exc
    if not 200 <= status_code < 300:  # 1xx and the like: urllib raises for the rest
        raise WebhookDeliveryError(f"HTTP {status_code}")
    event_record_if_present(
        session_id=session_id,
        event_type=SessionEvent.EventType.NOTIFIED,
        data={"url": url, "event": event, "attempts": attempt, "status_code": status_code},
    )
    return status_code


def webhook_failed(*, session_id: str, url: str, event: str, attempts: int, error: str) -> None:
    """The last try failed: a `notify_failed` event (the session itself is not touched)."""
    logger.warning(
        "Webhook %s for session %s to %s failed after %s tries: %s", event, session_id, url, attempts, error
    )
    event_record_if_present(
        session_id=session_id,
        event_type=SessionEvent.EventType.NOTIFY_FAILED,
        data={"url": url, "event": event, "attempts": attempts, "error": error},
    )


def webhook_signature(body: bytes, secret: str | None = None) -> str:
    """Hex HMAC-SHA256 of the exact body bytes with WEBHOOK_SECRET."""
    key = (settings.WEBHOOK_SECRET if secret is None else secret).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: urllib would turn the POST into a GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)
