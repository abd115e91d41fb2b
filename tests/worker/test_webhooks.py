"""Webhooks when a session ends: a real receiver on a local port, the real worker.

The receivers listen on 127.0.0.1, an address webhooks refuse unless WEBHOOK_ALLOW_PRIVATE: every
test here turns it on, and the ones about refusals turn it off again. (The worker runs in this
process, so `settings` reaches it.)"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sessions_app.models import Session, SessionEvent
from sessions_app.services.notifications import WebhookDeliveryError, session_ended_notify, webhook_deliver
from tests.conftest import backtest_range
from tests.fake_dns import dns_answers
from tests.worker_fixtures import queues_paused, wait_for

SECRET = "s3cret-for-tests"


# --- a receiver -----------------------------------------------------------------------------------


@dataclass
class Delivery:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.record(Delivery("POST", self.path, dict(self.headers), body))
        answer = b'{"ok": true}' if status < 300 else b"receiver says no"
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class WebhookReceiver(ThreadingHTTPServer):
    """Records every request; answers `answers` in turn, then `then` (a 3xx to `location`)."""

    daemon_threads = True

    def __init__(self, answers: tuple[int, ...] = (), then: int = 200, location: str = "/"):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers, self.then, self.location = list(answers), then, location
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def record(self, delivery: Delivery) -> int:
        with self._lock:
            self.deliveries.append(delivery)
            return self.answers.pop(0) if self.answers else self.then

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class TLSWebhookReceiver(WebhookReceiver):
    """A receiver over TLS with `cert`; records the server name each client asked for (SNI)."""

    def __init__(self, cert: Path, key: Path):
        super().__init__()
        self.server_names: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.server_address[1]}{path}"

    def handle_error(self, request, client_address):  # a refused handshake is what one test wants
        pass


def _self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    """A certificate for `host` and its key, as PEM files (the certificate is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class RawAnswerer:
    """Not an HTTP server: answers every connection with the same bytes (an internal service)."""

    def __init__(self, answer: bytes):
        self.answer = answer
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with connection:
                self.connections += 1
                connection.settimeout(5)
                connection.recv(65536)
                connection.sendall(self.answer)
                connection.shutdown(socket.SHUT_WR)
                while connection.recv(65536):  # until the client hangs up: no reset
                    pass

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.close()


@pytest.fixture(autouse=True)
def _receivers_inside_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def _nothing_listening() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


# --- helpers --------------------------------------------------------------------------------------


def _run_backtest(api, **fields) -> Session:
    """Create and start a one-day sim backtest through the API; wait for its end."""
    created = api.post(
        "/api/sessions",
        {"type": "backtest", "market": "XBTUSD", "strategy": "TestBot", **backtest_range(days=1), **fields},
        format="json",
    )
    assert created.status_code == 201, created.content
    session_id = created.json()["session"]["id"]
    assert api.post(f"/api/sessions/{session_id}/start").status_code == 200
    return wait_for(
        lambda: Session.objects.filter(pk=session_id).exclude(status__in=["created", "running"]).first(),
        timeout=60,
        message="the session to end",
    )


def _events(session_id, event_type) -> list[dict]:
    return list(
        SessionEvent.objects.filter(session_id=session_id, event_type=event_type)
        .order_by("id")
        .values_list("event_data", flat=True)
    )


def _wait_for_events(session_id, event_type, count: int, timeout: float = 30) -> list[dict]:
    return wait_for(
        lambda: (found := _events(session_id, event_type)) and len(found) >= count and found,
        timeout=timeout,
        message=f"{count} {event_type} event(s)",
    )


def _signed(delivery: Delivery, secret: str = SECRET) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(delivery.headers.get("X-Signature", ""), expected)


# --- deliveries -----------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_completed_backtest_posts_one_signed_session_completed(
    celery_worker, operator_api, receiver, settings
):
    settings.WEBHOOK_SECRET = SECRET

    session = _run_backtest(operator_api, notify_url=receiver.url())

    assert session.status == "completed", session.error
    [notified] = _wait_for_events(session.pk, "notified", 1)
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.method == "POST" and delivery.path == "/hook"
    assert delivery.headers["Content-Type"] == "application/json"
    assert "TradingSessions" in delivery.headers["User-Agent"]
    assert delivery.headers["X-Webhook-Event"] == "session.completed"
    assert _signed(delivery)
    assert not _signed(delivery, secret="another secret")
    body = delivery.json
    assert body["event"] == "session.completed"
    assert body["session"]["id"] == session.pk
    assert body["session"]["status"] == "completed"
    assert body["session"]["trade_count"] == session.trade_count
    assert body["session"]["notify_url"] == receiver.url()
    assert notified == {
        "url": receiver.url(),
        "event": "session.completed",
        "attempts": 1,
        "status_code": 200,
    }
    assert _events(session.pk, "notify_failed") == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_every_webhook_url_and_the_notify_url_get_one_post_each(celery_worker, operator_api, settings):
    settings.WEBHOOK_SECRET = ""
    with WebhookReceiver() as first, WebhookReceiver() as second, WebhookReceiver() as own:
        # The notify_url repeated in WEBHOOK_URLS is still delivered once.
        settings.WEBHOOK_URLS = [first.url("/a"), second.url("/b"), own.url("/mine")]

        session = _run_backtest(operator_api, notify_url=own.url("/mine"))

        assert session.status == "completed", session.error
        notified = _wait_for_events(session.pk, "notified", 3)
        assert sorted(e["url"] for e in notified) == sorted(settings.WEBHOOK_URLS)
        for server, path in ((first, "/a"), (second, "/b"), (own, "/mine")):
            assert [d.path for d in server.deliveries] == [path]
            assert server.deliveries[0].json["session"]["id"] == session.pk
            assert "X-Signature" not in server.deliveries[0].headers  # no secret, no signature


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_it_retries_with_backoff_and_delivers_on_the_third_try(celery_worker, operator_api, settings):
    settings.WEBHOOK_SECRET = SECRET
    settings.WEBHOOK_RETRY_SECONDS = 0.2
    with WebhookReceiver(answers=(500, 500)) as flaky:
        session = _run_backtest(operator_api, notify_url=flaky.url())

        [notified] = _wait_for_events(session.pk, "notified", 1)

    assert notified["attempts"] == 3 and notified["status_code"] == 200
    assert len(flaky.deliveries) == 3
    assert [d.headers["X-Webhook-Attempt"] for d in flaky.deliveries] == ["1", "2", "3"]
    # One delivery retried: the same id every time, and the same signed content.
    assert len({d.headers["X-Webhook-Delivery"] for d in flaky.deliveries}) == 1
    assert all(_signed(d) for d in flaky.deliveries)
    assert _events(session.pk, "notify_failed") == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_after_the_last_try_it_records_notify_failed_and_the_session_is_unaffected(
    celery_worker, operator_api, settings
):
    settings.WEBHOOK_TRIES = 3
    settings.WEBHOOK_RETRY_SECONDS = 0.05
    dead = _nothing_listening()
    settings.WEBHOOK_URLS = [dead]
    with WebhookReceiver(then=500) as refusing:
        session = _run_backtest(operator_api, notify_url=refusing.url())

        failed = _wait_for_events(session.pk, "notify_failed", 2)

    assert len(refusing.deliveries) == 3
    by_url = {e["url"]: e for e in failed}
    assert set(by_url) == {dead, refusing.url()}
    # The status and its standard phrase only, never the answer's body ("receiver says no").
    assert by_url[refusing.url()] == {
        "url": refusing.url(),
        "event": "session.completed",
        "attempts": 3,
        "error": "HTTP 500 Internal Server Error",
    }
    assert by_url[dead]["attempts"] == 3 and "refused" in by_url[dead]["error"].lower()
    assert all(e["event"] == "session.completed" for e in failed)
    assert _events(session.pk, "notified") == []
    session.refresh_from_db()
    assert session.status == "completed" and session.error is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_session_ends_without_waiting_for_the_delivery(celery_worker, operator_api, receiver):
    # No worker takes `default` (the webhooks' queue): the backtest completes all the same,
    # and the POST goes out once the queue is consumed again.
    with queues_paused(celery_worker, ["default"]):
        session = _run_backtest(operator_api, notify_url=receiver.url())
        assert session.status == "completed", session.error
        assert receiver.deliveries == []

    _wait_for_events(session.pk, "notified", 1)
    assert [d.json["session"]["id"] for d in receiver.deliveries] == [session.pk]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_stopped_session_sends_session_stopped(celery_worker, operator_api, receiver):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "test",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "timeframe": "1s",
            "notify_url": receiver.url(),
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")
    wait_for(
        lambda: Session.objects.filter(pk=created["id"], worker__isnull=False).exists(),
        timeout=30,
        message="a worker to claim the session",
    )
    assert operator_api.post(f"/api/sessions/{created['id']}/stop").status_code == 200
    wait_for(
        lambda: Session.objects.filter(pk=created["id"], status="stopped").exists(),
        timeout=30,
        message="the session to stop",
    )

    [notified] = _wait_for_events(created["id"], "notified", 1)

    assert notified["event"] == "session.stopped"
    [delivery] = receiver.deliveries
    assert delivery.json["event"] == "session.stopped"
    assert delivery.json["session"]["status"] == "stopped"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failed_session_sends_session_failed_with_its_error(celery_worker, operator_api, receiver):
    from strategies_app.services import market_create

    market_create(exchange="local", symbol="GOOG")
    session = _run_backtest(
        operator_api,
        exchange="local",
        market="GOOG",
        strategy="SmaCross",
        timeframe="1d",
        **backtest_range(days=30),
        notify_url=receiver.url(),
    )

    assert session.status == "failed"
    [notified] = _wait_for_events(session.pk, "notified", 1)
    assert notified["event"] == "session.failed"
    [delivery] = receiver.deliveries
    assert delivery.json["event"] == "session.failed"
    assert delivery.json["session"]["status"] == "failed"
    assert "No 1d candles for GOOG on local" in delivery.json["session"]["error"]


@pytest.mark.django_db(transaction=True)
def test_a_deleted_session_is_neither_queued_nor_sent(make_session, receiver, settings):
    settings.WEBHOOK_URLS = [receiver.url()]
    session = make_session(type="backtest", notify_url=receiver.url())
    session_id = session.pk
    session.delete()

    session_ended_notify(session_id=session_id, status="completed")
    sent = webhook_deliver(session_id=session_id, url=receiver.url(), event="session.completed", attempt=1)

    assert sent is None
    assert receiver.deliveries == []
    assert SessionEvent.objects.filter(session_id=session_id).count() == 0


# --- the notify_url field -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["ftp://x", "not a url", 12345])
def test_create_refuses_a_notify_url_that_is_not_http(bad, operator_api, assert_refused, row_counts):
    before = row_counts()
    response = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            **backtest_range(days=1),
            "notify_url": bad,
        },
        format="json",
    )

    assert_refused(response, 400, "notify_url")
    assert row_counts() == before


def test_patch_sets_the_notify_url_and_clone_copies_it(operator_api, make_session, assert_refused):
    session = make_session(type="backtest")
    url = "https://hooks.example.com/trading?token=abc"

    patched = operator_api.patch(f"/api/sessions/{session.pk}", {"notify_url": url}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["session"]["notify_url"] == url
    assert_refused(
        operator_api.patch(f"/api/sessions/{session.pk}", {"notify_url": "ftp://x"}, format="json"),
        400,
        "notify_url",
    )
    session.refresh_from_db()
    assert session.notify_url == url

    clone = operator_api.post(f"/api/sessions/{session.pk}/clone", {}, format="json")
    assert clone.status_code == 201, clone.content
    assert clone.json()["session"]["notify_url"] == url
    assert Session.objects.get(pk=clone.json()["session"]["id"]).notify_url == url


# --- targets refused at delivery, and what events keep --------------------------------------------

PUBLIC = "93.184.215.14"
LOOPBACK_REFUSAL = "Refused: 127.0.0.1 is a loopback address: webhooks go to public addresses only"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_target_inside_the_network_is_refused_at_delivery_without_retries(
    celery_worker, operator_api, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_RETRY_SECONDS = 0.05
    settings.WEBHOOK_URLS = [receiver.url("/a"), receiver.url("/b", host="localhost")]

    session = _run_backtest(operator_api)

    failed = _wait_for_events(session.pk, "notify_failed", 2)
    by_url = {e["url"]: e for e in failed}
    assert by_url[receiver.url("/a")]["error"].startswith(LOOPBACK_REFUSAL)
    assert by_url[receiver.url("/b", host="localhost")]["error"].startswith(
        "Refused: localhost resolves to a loopback address"
    )
    assert all(e["attempts"] == 1 for e in failed)  # it would be refused the same next time
    time.sleep(0.5)  # ten retry intervals: a retry would have been recorded by now
    assert len(_events(session.pk, "notify_failed")) == 2
    assert _events(session.pk, "notified") == []
    assert receiver.deliveries == []


@pytest.mark.django_db(transaction=True)
def test_a_notify_url_saved_inside_is_refused_when_delivered_with_the_setting_off(
    make_session, receiver, settings
):
    session = make_session(type="backtest", notify_url=receiver.url())  # saved while allowed
    settings.WEBHOOK_ALLOW_PRIVATE = False

    sent = webhook_deliver(session_id=session.pk, url=receiver.url(), event="session.completed", attempt=1)

    assert sent is None
    assert receiver.deliveries == []
    [failed] = _events(session.pk, "notify_failed")
    assert failed["url"] == receiver.url() and failed["attempts"] == 1
    assert failed["error"].startswith(LOOPBACK_REFUSAL)


@pytest.mark.django_db(transaction=True)
def test_a_name_that_turns_inside_after_the_save_is_refused_when_delivered(
    make_session, receiver, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    url = receiver.url(host="hooks.rebind.example")
    looked_up = dns_answers(monkeypatch, {"hooks.rebind.example": [[PUBLIC], ["127.0.0.1"]]})
    session = make_session(type="backtest", notify_url=url)  # the save's lookup: public

    sent = webhook_deliver(session_id=session.pk, url=url, event="session.completed", attempt=1)

    assert sent is None
    assert receiver.deliveries == []
    assert looked_up == ["hooks.rebind.example", "hooks.rebind.example"]
    [failed] = _events(session.pk, "notify_failed")
    assert failed["error"].startswith("Refused: hooks.rebind.example resolves to a loopback address")


@pytest.mark.django_db(transaction=True)
def test_the_delivery_connects_to_the_address_it_checked_not_to_a_second_answer(
    make_session, receiver, settings, monkeypatch
):
    # DNS rebinding: public to the check, the receiver's loopback address to any later lookup.
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    session = make_session(type="backtest")
    url = receiver.url(host="hooks.rebind.example")
    looked_up = dns_answers(monkeypatch, {"hooks.rebind.example": [[PUBLIC], ["127.0.0.1"]]})

    with pytest.raises(WebhookDeliveryError):  # the public address takes nothing on that port
        webhook_deliver(session_id=session.pk, url=url, event="session.completed", attempt=1)

    assert receiver.deliveries == []
    assert looked_up == ["hooks.rebind.example"]  # one lookup, the checked one


@pytest.mark.django_db(transaction=True)
def test_the_post_goes_to_the_checked_address_and_names_the_host(make_session, receiver, monkeypatch):
    # Allowed inside (this module's default): the first answer is the receiver, a second
    # lookup would answer an address where nothing listens.
    session = make_session(type="backtest")
    url = receiver.url(host="hooks.receiver.example")
    looked_up = dns_answers(monkeypatch, {"hooks.receiver.example": [["127.0.0.1"], ["127.0.0.2"]]})

    sent = webhook_deliver(session_id=session.pk, url=url, event="session.completed", attempt=1)

    assert sent == 200
    [delivery] = receiver.deliveries
    assert delivery.headers["Host"] == f"hooks.receiver.example:{receiver.server_address[1]}"
    assert looked_up == ["hooks.receiver.example"]


@pytest.mark.django_db(transaction=True)
def test_https_connects_to_the_checked_address_and_checks_the_certificate_against_the_host(
    make_session, monkeypatch, tmp_path
):
    cert, key = _self_signed(tmp_path, "hooks.tls.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's default context trusts it
    looked_up = dns_answers(monkeypatch, {"hooks.tls.example": [["127.0.0.1"], ["127.0.0.2"]]})
    session = make_session(type="backtest")
    with TLSWebhookReceiver(cert, key) as receiver:
        sent = webhook_deliver(
            session_id=session.pk,
            url=receiver.url(host="hooks.tls.example"),
            event="session.completed",
            attempt=1,
        )
        # The same server by its address: the certificate does not name 127.0.0.1.
        with pytest.raises(WebhookDeliveryError) as mismatch:
            webhook_deliver(session_id=session.pk, url=receiver.url(), event="session.completed", attempt=1)

    assert sent == 200
    assert receiver.server_names[0] == "hooks.tls.example"
    [delivery] = receiver.deliveries
    assert delivery.headers["Host"] == f"hooks.tls.example:{receiver.server_address[1]}"
    assert looked_up == ["hooks.tls.example"]
    assert str(mismatch.value).startswith("SSLCertVerificationError")


@pytest.mark.django_db(transaction=True)
def test_a_redirect_is_not_followed_and_its_answer_not_kept(make_session, receiver):
    with WebhookReceiver(then=307, location=receiver.url("/elsewhere")) as redirecting:
        session = make_session(type="backtest")

        with pytest.raises(WebhookDeliveryError) as failed:
            webhook_deliver(
                session_id=session.pk, url=redirecting.url(), event="session.completed", attempt=1
            )

    assert str(failed.value) == "HTTP 307 Temporary Redirect (redirects are not followed)"
    assert len(redirecting.deliveries) == 1
    assert receiver.deliveries == []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_notify_failed_keeps_no_word_of_what_the_target_answered(celery_worker, operator_api, settings):
    settings.WEBHOOK_TRIES = 1
    with (
        RawAnswerer(b"-ERR unknown command 'POST', secret-redis-words\r\n") as redis_like,
        RawAnswerer(
            b"HTTP/1.1 500 secret-reason-phrase\r\nContent-Length: 19\r\n\r\nsecret-body-content"
        ) as leaky,
    ):
        settings.WEBHOOK_URLS = [redis_like.url(), leaky.url()]

        session = _run_backtest(operator_api)

        failed = _wait_for_events(session.pk, "notify_failed", 2)

    assert {e["url"]: e["error"] for e in failed} == {
        redis_like.url(): "BadStatusLine: no valid HTTP answer",
        leaky.url(): "HTTP 500 Internal Server Error",
    }
    assert "secret" not in json.dumps(failed)
    assert redis_like.connections == 1 and leaky.connections == 1
