"""``GET /metrics``: the Prometheus exposition of this app's registry."""

from __future__ import annotations

from prometheus_client.exposition import choose_encoder
from quart import Blueprint, Response, current_app, request

from kernel import Forbidden, client_address, get_settings, plugin_settings, quiet_route
from plugins.metrics.settings import SECTION


def create_blueprint() -> Blueprint:
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get("/metrics")
    @quiet_route
    async def metrics() -> Response:
        """Text exposition (or OpenMetrics when the scraper asks for it)."""
        address = client_address(request, get_settings().kernel.trusted_proxies)
        if not plugin_settings(SECTION).allows(address):
            raise Forbidden("Metrics are not available from this address.")
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        body = encoder(current_app.extensions["metrics"].registry)
        response = Response(body, content_type=content_type)
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint
