"""The Flask application factory and, later, the REST API."""

from .app_factory import create_app

__all__ = ["create_app"]
