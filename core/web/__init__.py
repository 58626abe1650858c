"""The sublarr server: ``create_app`` (REST API under ``/api/v1``, Socket.IO, API key) and,
in ``sublarr.core.web.server``, the Gunicorn runner behind ``sublarr serve``.

One module per resource: ``events_api``, ``hooks_api`` (hooks and the execution log),
``webhooks_api``, ``scoring_api``, ``plugins_api``, ``health_api``, ``arr_webhooks``
(incoming Sonarr/Radarr calls); ``schemas`` validates requests and makes the OpenAPI
document, ``api_auth`` the key, ``api_errors`` the ``{"error", "detail"}`` answers.
"""

from sublarr.core.web.app_factory import create_app

__all__ = ["create_app"]
