"""Remove what could identify a client or a file from an event before sentry-sdk sends it."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"
_PATTERNS = (
    re.compile(r"'[^']*'|\"[^\"]*\""),  # quoted values: file names, bodies, headers
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),  # IPv4 (and port)
    re.compile(r"\b(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}\b"),  # IPv6
    re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\:,;)\]]+){2,}[/\\]?"),  # file system paths
)
#: Frame keys that carry values (locals) or source lines (which may quote them); never sent.
_FRAME_DATA = ("vars", "pre_context", "context_line", "post_context")
#: Event keys that carry request or client data; never sent.
_DROPPED = ("request", "user", "extra", "breadcrumbs", "modules")


def scrub_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """sentry-sdk's ``before_send``: drop request and user data, scrub every message."""
    for key in _DROPPED:
        event.pop(key, None)
    event.get("contexts", {}).pop("trace", None)
    for value in event.get("exception", {}).get("values", ()):
        if isinstance(value.get("value"), str):
            value["value"] = scrub_text(value["value"])
        for frame in value.get("stacktrace", {}).get("frames", ()):
            for key in _FRAME_DATA:
                frame.pop(key, None)
    if isinstance(event.get("message"), str):
        event["message"] = scrub_text(event["message"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        if isinstance(logentry.get("message"), str):
            logentry["message"] = scrub_text(logentry["message"])
        logentry.pop("params", None)
        if isinstance(logentry.get("formatted"), str):
            logentry["formatted"] = scrub_text(logentry["formatted"])
    return event
