"""The web page for people: ``/`` (the app), ``/docs`` (Swagger UI) and ``/ui/...`` (its files).

The page is static HTML, CSS and JavaScript modules shipped inside the package (the
socket.io client and Swagger UI are vendored under ``static/vendor/`` with their licences,
see ``scripts/vendor-web-assets.sh``). It holds no data: it signs in with the API key and
then uses the public REST API and Socket.IO like any other client, so these routes are open
without the key (``api_auth.PAGE_PATHS`` / ``PAGE_PREFIX``). Files are sent gzip-compressed
when the browser accepts it, with an ETag so a reload revalidates instead of downloading.
"""

from sublarr.core.web.page.blueprint import PAGE_PREFIX, PAGE_ROUTES, STATIC_DIR, web_page

__all__ = ["PAGE_PREFIX", "PAGE_ROUTES", "STATIC_DIR", "web_page"]
