"""The web page's files: served without the key (and nothing else is), gzip and ETags, the
vendored libraries with their licences, the first-load size, and `pip install .` shipping
them all. The page itself is driven in a browser by tests/test_web_page.py."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sublarr.core.web.page import STATIC_DIR
from sublarr.core.web.page.blueprint import GZIP_LEVEL

from conftest import REPO_ROOT

FIRST_LOAD_BUDGET = 200 * 1024


def _static_files() -> list[str]:
    return sorted(str(p.relative_to(STATIC_DIR)) for p in STATIC_DIR.rglob("*") if p.is_file())


@pytest.fixture
def anonymous(sublarr_app):
    """A test client sending no key."""
    return sublarr_app.test_client()


def test_the_page_and_its_files_are_open_without_the_key(anonymous):
    home = anonymous.get("/")
    assert home.status_code == 200 and home.content_type == "text/html; charset=utf-8"
    assert b'<script type="module" src="/ui/js/app.js">' in home.data
    assert home.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    assert home.headers["X-Frame-Options"] == "DENY"
    docs = anonymous.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.data
    script = anonymous.get("/ui/js/app.js")
    assert script.status_code == 200 and script.content_type == "text/javascript; charset=utf-8"
    assert script.data == (STATIC_DIR / "js" / "app.js").read_bytes()
    licence = anonymous.get("/ui/vendor/socket.io/LICENSE")
    assert licence.status_code == 200 and b"MIT" in licence.data
    assert anonymous.get("/ui/js/nothing-here.js").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/hooks",
        "/api/v1/openapi.json",
        "/ui/../api/v1/hooks",
        "/ui/./../api/v1/hooks",
        "/ui//api/v1/hooks",
        "/ui/",
        "/docs/../api/v1/hooks",
        "/uix/../api/v1/hooks",
    ],
)
def test_nothing_but_the_page_opens_without_the_key(anonymous, path):
    answer = anonymous.get(path)
    assert answer.status_code == 401, (path, answer.status_code)
    assert answer.json["error"] == "unauthorized"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_the_page_opens_to_get_and_head_only(anonymous, method):
    for path in ("/", "/docs", "/ui/js/app.js"):
        assert getattr(anonymous, method)(path).status_code == 401, (method, path)
    assert anonymous.head("/ui/js/app.js").status_code == 200


def test_files_are_gzipped_when_accepted_and_revalidated_by_etag(anonymous):
    raw = (STATIC_DIR / "js" / "app.js").read_bytes()
    packed = anonymous.get("/ui/js/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(packed.data) == raw and len(packed.data) < len(raw)
    again = anonymous.get(
        "/ui/js/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    plain = anonymous.get("/ui/js/app.js")
    assert "Content-Encoding" not in plain.headers and plain.data == raw
    assert plain.headers["ETag"] != packed.headers["ETag"]


def test_the_page_routes_stay_out_of_the_openapi_document(api_client):
    paths = api_client.get("/api/v1/openapi.json").json["paths"]
    assert all(path.startswith("/api/v1/") for path in paths), sorted(paths)


def test_vendored_libraries_come_with_their_licences_and_pinned_versions():
    vendor = STATIC_DIR / "vendor"
    script = (REPO_ROOT / "scripts" / "vendor-web-assets.sh").read_text()
    pinned = dict(re.findall(r'^(\w+)_VERSION="([\d.]+)"$', script, re.MULTILINE))
    versions = (vendor / "VERSIONS").read_text()
    assert f"socket.io-client {pinned['SOCKET_IO_CLIENT']} (MIT)" in versions
    assert f"swagger-ui-dist {pinned['SWAGGER_UI_DIST']} (Apache-2.0)" in versions
    assert "MIT License" in (vendor / "socket.io" / "LICENSE").read_text()
    assert "Apache License" in (vendor / "swagger-ui" / "LICENSE").read_text()
    sio = (vendor / "socket.io" / "socket.io.min.js").read_text()
    assert f"Socket.IO v{pinned['SOCKET_IO_CLIENT']}" in sio[:300]
    assert (vendor / "swagger-ui" / "swagger-ui-bundle.js").stat().st_size > 500_000


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Text colour -> the backgrounds it is drawn on (app.css custom properties).
TEXT_ON = {
    "text": ["bg", "card"],
    "muted": ["bg", "card"],
    "accent": ["bg", "card"],
    "accent-text": ["accent"],
    "ok": ["ok-bg"],
    "bad": ["bad-bg", "card"],
    "wait": ["wait-bg"],
}


def test_text_colours_meet_wcag_aa_contrast_in_light_and_dark_mode():
    css = (STATIC_DIR / "app.css").read_text()
    light_block, dark_block = re.findall(r":root \{(.*?)\}", css, re.DOTALL)
    for block in (light_block, dark_block):
        colours = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", block))
        for text, backgrounds in TEXT_ON.items():
            for background in backgrounds:
                ratio = contrast(colours[text], colours[background])
                assert ratio >= 4.5, (text, background, round(ratio, 2))


def first_load_files() -> list[Path]:
    """What the main page can load (every section, not just the first), the API explorer aside."""
    files = [STATIC_DIR / "index.html", STATIC_DIR / "app.css", STATIC_DIR / "icon.svg"]
    files += [STATIC_DIR / "vendor" / "socket.io" / "socket.io.min.js"]
    files += sorted(p for p in (STATIC_DIR / "js").rglob("*.js") if p.name != "docs.js")
    return files


def first_load_bytes() -> tuple[int, int]:
    """(raw, gzip-compressed) bytes of ``first_load_files``, compressed as the server sends them."""
    raw = sum(p.stat().st_size for p in first_load_files())
    packed = sum(
        len(gzip.compress(p.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0)) for p in first_load_files()
    )
    return raw, packed


def test_first_load_is_under_200_kb_compressed():
    html = (STATIC_DIR / "index.html").read_text()
    for reference in re.findall(r'(?:src|href)="/ui/([^"]+)"', html):
        assert (STATIC_DIR / reference).is_file(), reference
        assert STATIC_DIR / reference in first_load_files()
    raw, packed = first_load_bytes()
    print(f"first load: {raw} bytes, {packed} bytes gzip-compressed")
    assert packed < FIRST_LOAD_BUDGET, (raw, packed)


def test_pip_install_ships_the_page_and_serves_it(installed_site, tmp_path):
    page_dir = installed_site / "sublarr" / "core" / "web" / "page"
    record = next(installed_site.glob("sublarr-*.dist-info")) / "RECORD"
    listed = {line.split(",")[0] for line in record.read_text().splitlines()}
    for relative in _static_files():
        assert (page_dir / "static" / relative).is_file(), relative
        assert f"sublarr/core/web/page/static/{relative}" in listed, relative
    code = (
        "import sys; from sublarr.core.web.app_factory import create_app;"
        "app = create_app({'SUBLARR_DATA_DIR': sys.argv[1], 'SUBLARR_LOAD_PLUGINS': 'sublarr'});"
        "c = app.test_client();"
        "print(c.get('/').status_code, c.get('/ui/vendor/socket.io/socket.io.min.js').status_code,"
        " c.get('/ui/vendor/swagger-ui/swagger-ui-bundle.js').status_code, c.get('/docs').status_code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBLARR_")}
    env["PYTHONPATH"] = str(installed_site)
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "data")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["200", "200", "200", "200"]
