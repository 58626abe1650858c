"""The README's deployment section names real settings and ships the nginx file it describes."""

from __future__ import annotations

import re

from sublarr.core.settings import KNOWN_KEYS

from conftest import REPO_ROOT


def _deployment_section() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("## Deployment: several processes")
    return text[start : text.index("\n## ", start + 1)]


def test_the_deployment_section_names_only_real_settings():
    names = set(re.findall(r"SUBLARR_[A-Z_]+", _deployment_section()))
    assert {"SUBLARR_DATABASE_URL", "SUBLARR_MESSAGE_QUEUE", "SUBLARR_API_KEY"} <= names
    assert names <= KNOWN_KEYS, names - KNOWN_KEYS


def test_the_nginx_example_is_sticky_and_upgrades_websockets():
    section = _deployment_section()
    assert "deploy/nginx-sublarr.conf" in section
    conf = (REPO_ROOT / "deploy" / "nginx-sublarr.conf").read_text()
    assert re.search(r"upstream sublarr \{\s*ip_hash;", conf)
    for line in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Host $http_host;",
    ):
        assert line in conf
    ports = set(re.findall(r"server 127\.0\.0\.1:(\d+);", conf))
    assert ports == set(re.findall(r"--no-workers --port (\d+)", section)) == {"8771", "8772"}
