"""Webhooks when a session ends: one delivery task per URL, retried with backoff.

`session_ended_notify` runs after the session's end has committed and only queues tasks; the
POSTs happen on the worker's `default` queue, never on the runner's time.

A target is checked where it is saved (`webhook_target_resolve`, from validation) and again at
each delivery, and the delivery connects to the very address it checked: a name that answers a
public address to the check and an inside one to a second lookup (DNS rebinding) reaches nothing
inside, because there is no second lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from sessions_app.models import Session, SessionEvent, Status
from sessions_app.representations import session_data
from sessions_app.selectors import session_summary
from sessions_app.services.events import event_record_if_present
from sessions_app.services.queueing import SESSION_NOTIFY, task_send

logger = logging.getLogger(__name__)

USER_AGENT = "TradingSessions-Webhook/1"
# DNS64 writes every IPv4 host as an address in this prefix: judged by the IPv4 it carries.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookDeliveryError(Exception):
    """The receiver did not take the delivery (non-2xx, no connection, timeout): try again."""


class WebhookTargetError(Exception):
    """A webhook URL that cannot be delivered to as it stands."""


class WebhookTargetRefused(WebhookTargetError):
    """Not http(s), or the host is or resolves to an address inside the network."""


class WebhookHostUnresolved(WebhookTargetError):
    """The host name does not resolve (now: DNS may answer later)."""


@dataclass(frozen=True)
class WebhookTarget:
    """A checked URL: where to connect (the checked addresses) and what to ask for there."""

    scheme: str
    host: str  # for the Host header, TLS SNI and the certificate check
    port: int
    path: str
    addresses: tuple[tuple[int, tuple], ...]  # (address family, socket address), as checked


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


def webhook_target_resolve(url: str) -> WebhookTarget:
    """`url` parsed, its host resolved once and every address it resolves to checked.

    Raises WebhookTargetRefused for a URL that is not http(s), or whose host is or resolves to
    a loopback, private, link-local, multicast, reserved or unspecified address (an IPv4 one
    carried in IPv6 included) unless WEBHOOK_ALLOW_PRIVATE; WebhookHostUnresolved when the host
    does not resolve.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise WebhookTargetRefused(
            f"Not an http:// or https:// URL with a valid host and port ({exc})."
        ) from exc
    if parts.scheme not in ("http", "https") or not host:
        raise WebhookTargetRefused("Not an http:// or https:// URL with a host.")
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookHostUnresolved(f"The host {host} does not resolve ({exc}).") from exc
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in answers))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for _, sockaddr in addresses:
            kind = _inside_kind(ipaddress.ip_address(sockaddr[0]))
            if kind:
                verb = "is" if _is_address(host) else "resolves to"
                raise WebhookTargetRefused(
                    f"{host} {verb} {'an' if kind[0] in 'aeiou' else 'a'} {kind} address: webhooks go to "
                    "public addresses only (WEBHOOK_ALLOW_PRIVATE=true allows a receiver inside the network)."
                )
    # Percent-encoded where it is not ASCII already (the request line is ASCII); the rest as given.
    path = quote(
        (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe="!#$%&'()*+,/:;=?@[]~"
    )
    return WebhookTarget(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


def webhook_deliver(
    *, session_id: str, url: str, event: str, attempt: int, delivery_id: str | None = None
) -> int | None:
    """POST the event and the session to `url`; a `notified` event on a 2xx answer.

    Returns the status code, or None when nothing is sent: the session no longer exists, or the
    target is refused (a `notify_failed` event at once: another try would be refused the same,
    and a name whose answers change between tries is what the check is there to stop).
    Raises WebhookDeliveryError on anything else, for the task to retry.
    """
    session = Session.objects.select_related("created_by").filter(pk=session_id).first()
    if session is None:
        return None
    try:
        target = webhook_target_resolve(url)
    except WebhookTargetRefused as exc:
        webhook_failed(session_id=session_id, url=url, event=event, attempts=attempt, error=f"Refused: {exc}")
        return None
    except WebhookHostUnresolved as exc:
        raise WebhookDeliveryError(str(exc)) from exc
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
    status_code = _post(target, body, headers)
    if not 200 <= status_code < 300:
        # The status and our own name for it only: what the receiver says (its reason phrase,
        # its body) is never read, lest an internal service's answer end up in a public event.
        raise WebhookDeliveryError(_status_reason(status_code))
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


# --- the checks and the connection ------------------------------------------------------------


def _inside_kind(address: Address) -> str | None:
    """What makes `address` one inside the network ("loopback", "private", ...); None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:  # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel
            return _inside_kind(address.ipv4_mapped)
        if address in _NAT64:
            return _inside_kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour and (kind := _inside_kind(address.sixtofour)):  # 2002:7f00:1:: and the like
            return kind
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),  # before private: Python counts 240.0.0.0/4 as both
        ("private", address.is_private),
        ("site-local", getattr(address, "is_site_local", False)),
        ("non-public", not address.is_global),  # shared (100.64.0.0/10) and the like
    ):
        if flag:
            return kind
    return None


def _status_reason(status_code: int) -> str:
    """ "HTTP 503 Service Unavailable": the code and the standard's phrase for it."""
    try:
        reason = f"HTTP {status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        reason = f"HTTP {status_code}"
    return reason + (" (redirects are not followed)" if 300 <= status_code < 400 else "")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _post(target: WebhookTarget, body: bytes, headers: dict[str, str]) -> int:
    """POST to the checked addresses; the status code (the answer's body is never read)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target.host, target.port, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    connection.addresses = target.addresses
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        with connection.getresponse() as response:
            return response.status
    except http.client.HTTPException as exc:
        # Its message quotes what the other end sent (a status line, a header): not kept.
        raise WebhookDeliveryError(f"{type(exc).__name__}: no valid HTTP answer") from exc
    except OSError as exc:  # refused, timeout, reset, TLS: our own system's words
        raise WebhookDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        connection.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the addresses the check approved, with no lookup of its own; the Host header
    still names the host. http.client follows no redirect."""

    addresses: tuple[tuple[int, tuple], ...] = ()

    def connect(self):
        error: OSError = OSError("No address to connect to.")
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
            self.sock = sock
            return
        raise error


class _PinnedHTTPSConnection(http.client.HTTPSConnection, _PinnedHTTPConnection):
    """HTTPSConnection.connect wraps the socket its next class in line opens (here the pinned
    one) in TLS, with SNI and the certificate checked against the host name."""
