"""Answers for chosen host names: DNS lives outside the machine, so tests may stand in for it."""

from __future__ import annotations

import socket

import pytest


def dns_answers(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str] | list[list[str]]]
) -> list[str]:
    """`socket.getaddrinfo` answers each name of `answers` with its addresses; a list of lists
    answers one list per lookup, the last one from then on. Other names and literal addresses go
    to the real resolver. Returns the names looked up here, in order, one entry per lookup."""
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        looked_up.append(name)
        answer = answers[name]
        if answer and isinstance(answer[0], list):
            answer = answer[min(looked_up.count(name), len(answer)) - 1]
        return [
            item
            for address in answer
            for item in real_getaddrinfo(address, port, family, type, proto, socket.AI_NUMERICHOST)
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up
