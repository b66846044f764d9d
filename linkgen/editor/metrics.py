"""The editor's Prometheus metrics: sign-ins by outcome and password-reset e-mails,
served on their own listener (``[editor] metrics_port``, 127.0.0.1) — never on the
editor's public port."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, start_http_server

REGISTRY = CollectorRegistry()
SIGN_INS = Counter(
    "linkgen_editor_sign_ins",
    "Sign-in attempts by outcome: ok, refused (wrong e-mail or password), throttled.",
    ["outcome"],
    registry=REGISTRY,
)
RESETS = Counter(
    "linkgen_editor_password_resets",
    "Forgotten-password requests by outcome: sent, unknown (no such account), "
    "failed (the e-mail could not be sent), throttled.",
    ["outcome"],
    registry=REGISTRY,
)
for outcome in ("ok", "refused", "throttled"):
    SIGN_INS.labels(outcome)
for outcome in ("sent", "unknown", "failed", "throttled"):
    RESETS.labels(outcome)


def serve(host: str, port: int) -> None:
    start_http_server(port, addr=host, registry=REGISTRY)
