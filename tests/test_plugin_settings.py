"""Plugin settings: declared by register_settings, set in the file, the environment and the API."""

from __future__ import annotations

import pytest

from sublarr.core import PluginLoadError, hookimpl, plugin_setting, plugin_settings
from sublarr.core.errors import NotFoundError
from sublarr.core.settings import SettingsError, load_settings, read_config_file, settings_in_force
from sublarr.core.settings.plugins import MASK, env_key

API = "/api/v1/plugins"


class Notifier:
    """A plugin with one setting of each kind."""

    @hookimpl
    def register_settings(self, register):
        register("api_url", str, "https://example.invalid", "where to send")
        register("retries", int, 3, "how often to retry")
        register("ratio", float, 0.5)
        register("verbose", bool, False)
        register("groups", list, ["NTb"])
        register("token", str, None, "the service's token", secret=True)


@pytest.fixture
def notifier(register_plugin):
    register_plugin(Notifier(), name="my-notifier")
    return "my-notifier"


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "sublarr.toml"
    path.write_text(text)
    return str(path)


def test_defaults_and_env_key(notifier):
    assert plugin_settings(notifier) == {
        "api_url": "https://example.invalid",
        "retries": 3,
        "ratio": 0.5,
        "verbose": False,
        "groups": ["NTb"],
        "token": None,
    }
    assert plugin_setting(notifier, "retries") == 3
    assert env_key(notifier, "api_url") == "SUBLARR_PLUGIN_MY_NOTIFIER_API_URL"
    with pytest.raises(NotFoundError, match="no setting 'nope'"):
        plugin_setting(notifier, "nope")
    with pytest.raises(NotFoundError, match="'ghost' is not loaded"):
        plugin_settings("ghost")
    assert plugin_settings("socketio_bridge") == {}  # loaded, declares none


def test_file_then_env_then_overrides(notifier, tmp_path, monkeypatch, plugin_manager):
    config = _config(
        tmp_path,
        'port = 9000\n[plugins.my-notifier]\nretries = 5\ngroups = ["A", "B"]\nverbose = true\n'
        'api_url = "https://file.invalid"\n',
    )
    monkeypatch.setenv("SUBLARR_PLUGIN_MY_NOTIFIER_RETRIES", "7")
    monkeypatch.setenv("SUBLARR_PLUGIN_MY_NOTIFIER_GROUPS", "X, Y")
    settings = load_settings({"SUBLARR_CONFIG_FILE": config, "SUBLARR_PLUGIN_MY_NOTIFIER_RATIO": 0.25})
    assert settings.port == 9000
    plugin_manager.check_plugin_settings(settings)
    with settings_in_force(settings):
        values = plugin_settings(notifier)
    assert values["retries"] == 7  # env over file
    assert values["groups"] == ["X", "Y"]
    assert values["verbose"] is True  # file over default
    assert values["api_url"] == "https://file.invalid"
    assert values["ratio"] == 0.25  # overrides (flags, app.config) over env


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[plugins.my-notifier]\nretries = 'many'\n", {}, "setting 'retries': expected a whole number"),
        ("[plugins.my-notifier]\nretries = true\n", {}, "setting 'retries': expected a whole number"),
        ("[plugins.my-notifier]\nsurprise = 1\n", {}, "setting 'surprise': no such setting"),
        ("[plugins.my-notifier]\ngroups = [1]\n", {}, "setting 'groups': expected a list"),
        ("", {"SUBLARR_PLUGIN_MY_NOTIFIER_VERBOSE": "maybe"}, "setting 'verbose': expected true or false"),
        ("", {"SUBLARR_PLUGIN_MY_NOTIFIER_RATIO": "half"}, "setting 'ratio': expected a number"),
    ],
)
def test_bad_values_name_plugin_and_key(notifier, plugin_manager, tmp_path, monkeypatch, text, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings({"SUBLARR_CONFIG_FILE": _config(tmp_path, text)})
    with pytest.raises(SettingsError, match=f"^plugin 'my-notifier' {message}"):
        plugin_manager.check_plugin_settings(settings)


def test_tables_of_plugins_not_loaded_are_left_alone_and_other_tables_refused(plugin_manager, tmp_path):
    settings = load_settings({"SUBLARR_CONFIG_FILE": _config(tmp_path, "[plugins.absent]\nx = 1\n")})
    plugin_manager.check_plugin_settings(settings)  # no error: maybe disabled for now
    with pytest.raises(SettingsError, match="unknown setting 'surprise'"):
        read_config_file(_config(tmp_path, "surprise = 1\n"))
    with pytest.raises(SettingsError, match="'port' must be a value, not a table"):
        read_config_file(_config(tmp_path, "[port]\nx = 1\n"))
    with pytest.raises(SettingsError, match="plugins.x must be a table"):
        read_config_file(_config(tmp_path, "[plugins]\nx = 1\n"))


@pytest.mark.parametrize(
    ("declare", "reason"),
    [
        (lambda r: r("Bad Name"), "must be lower case"),
        (lambda r: r("x", dict), "is not one of str, int, float, bool, list"),
        (lambda r: r("x", int, "three"), "default 'three' does not fit type int"),
        (lambda r: (r("x"), r("x")), "declared twice"),
    ],
)
def test_bad_declarations_fail_the_plugin(plugin_manager, declare, reason):
    class Broken:
        @hookimpl
        def register_settings(self, register):
            declare(register)

    with pytest.raises(PluginLoadError, match=reason):
        plugin_manager.register(Broken(), name="broken")
    assert not plugin_manager.has_plugin("broken")
    assert "broken" not in plugin_manager.declared_settings


def test_api_get_put_and_precedence(api_client, notifier, sublarr_app):
    shown = api_client.get(f"{API}/{notifier}/settings")
    assert shown.status_code == 200, shown.get_json()
    rows = {row["name"]: row for row in shown.get_json()["settings"]}
    assert rows["retries"] == {
        "name": "retries",
        "type": "int",
        "default": 3,
        "description": "how often to retry",
        "secret": False,
        "env": "SUBLARR_PLUGIN_MY_NOTIFIER_RETRIES",
        "value": 3,
        "source": "default",
    }

    put = api_client.put(f"{API}/{notifier}/settings", json={"retries": 9, "token": "s3cret"})
    assert put.status_code == 200, put.get_json()
    rows = {row["name"]: row for row in put.get_json()["settings"]}
    assert (rows["retries"]["value"], rows["retries"]["source"]) == (9, "api")
    assert rows["token"]["value"] == MASK and "s3cret" not in put.get_data(as_text=True)
    with sublarr_app.app_context():
        assert plugin_settings(notifier)["token"] == "s3cret"
        assert plugin_setting(notifier, "retries") == 9

    # The masked value sent back changes nothing; null removes a stored value.
    again = api_client.put(f"{API}/{notifier}/settings", json={"token": MASK, "retries": None})
    rows = {row["name"]: row for row in again.get_json()["settings"]}
    assert (rows["retries"]["value"], rows["retries"]["source"]) == (3, "default")
    with sublarr_app.app_context():
        assert plugin_settings(notifier)["token"] == "s3cret"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"retries": "nine", "ratio": 0.1},
            "plugin 'my-notifier' setting 'retries': expected a whole number",
        ),
        ({"ratio": 0.1, "nope": 1}, "plugin 'my-notifier' setting 'nope': no such setting"),
        ({"ratio": 0.1, "groups": "A"}, "setting 'groups': expected a list"),
    ],
)
def test_api_refuses_bad_values_and_stores_nothing(api_client, notifier, body, detail):
    refused = api_client.put(f"{API}/{notifier}/settings", json=body)
    assert refused.status_code == 422
    assert detail in refused.get_json()["detail"]
    rows = {row["name"]: row for row in api_client.get(f"{API}/{notifier}/settings").get_json()["settings"]}
    assert (rows["ratio"]["value"], rows["ratio"]["source"]) == (0.5, "default")


def test_api_unknown_plugin_is_404_and_one_without_settings_has_none(api_client):
    assert api_client.get(f"{API}/ghost/settings").status_code == 404
    assert api_client.put(f"{API}/ghost/settings", json={"x": 1}).status_code == 404
    none = api_client.get(f"{API}/webhooks/settings")
    assert none.status_code == 200 and none.get_json() == {"plugin": "webhooks", "settings": []}
    refused = api_client.put(f"{API}/webhooks/settings", json={"x": 1})
    assert refused.status_code == 422
    assert "plugin 'webhooks' setting 'x': no such setting (it has: none)" in refused.get_json()["detail"]


def test_env_wins_over_the_api(api_client, notifier, sublarr_app, monkeypatch):
    assert api_client.put(f"{API}/{notifier}/settings", json={"retries": 9}).status_code == 200
    monkeypatch.setenv("SUBLARR_PLUGIN_MY_NOTIFIER_RETRIES", "4")
    with settings_in_force(load_settings({})):
        assert plugin_setting(notifier, "retries") == 4


def test_the_documented_example_declares_and_reads(plugin_manager, tmp_path, monkeypatch):
    import re
    import types

    from conftest import REPO_ROOT

    text = (REPO_ROOT / "PLUGINS.md").read_text()
    section = text.split("### register_settings(register)", 1)[1]
    module = types.ModuleType("backup")
    exec(re.findall(r"```python\n(.*?)```", section, re.S)[0], module.__dict__)
    plugin_manager.register(module, name="backup")
    toml = re.findall(r"```toml\n(.*?)```", text.split("## Plugin settings", 1)[1], re.S)[0]
    monkeypatch.setenv("SUBLARR_CONFIG_FILE", _config(tmp_path, toml))
    assert plugin_settings("backup") == {
        "api_url": "https://backups.example.org",
        "keep_days": 7,
        "api_token": None,
    }
    monkeypatch.setenv("SUBLARR_PLUGIN_BACKUP_KEEP_DAYS", "lots")
    with pytest.raises(SettingsError) as refused:
        plugin_manager.check_plugin_settings(load_settings({}))
    assert str(refused.value) == "plugin 'backup' setting 'keep_days': expected a whole number, got 'lots'"


def test_reading_settings_never_creates_a_database(notifier, tmp_path, monkeypatch):
    from sublarr.core.db import current_engine, dispose_db

    dispose_db()
    monkeypatch.setenv("SUBLARR_DATA_DIR", str(tmp_path / "data"))
    assert plugin_setting(notifier, "retries") == 3
    assert current_engine() is None and not (tmp_path / "data").exists()


def test_a_flask_hosts_app_config_sets_them_and_is_checked(notifier, monkeypatch, tmp_path):
    from flask import Flask

    from sublarr.core import Sublarr
    from sublarr.core.testing.pytest_plugin import ONLY_BUILTINS

    monkeypatch.setenv("SUBLARR_PLUGIN_MY_NOTIFIER_RETRIES", "4")
    app = Flask("host")
    app.config.update(ONLY_BUILTINS, SUBLARR_DATA_DIR=str(tmp_path), SUBLARR_PLUGIN_MY_NOTIFIER_RETRIES=11)
    Sublarr(app)
    with app.app_context():
        assert plugin_setting(notifier, "retries") == 11  # app.config over the environment
    assert plugin_setting(notifier, "retries") == 4  # outside the app: the environment

    bad = Flask("bad")
    bad.config.update(
        ONLY_BUILTINS, SUBLARR_DATA_DIR=str(tmp_path), SUBLARR_PLUGIN_MY_NOTIFIER_VERBOSE="perhaps"
    )
    with pytest.raises(
        SettingsError, match="^plugin 'my-notifier' setting 'verbose': expected true or false"
    ):
        Sublarr(bad)


def test_api_values_stored_on_postgresql(postgres_url, notifier):
    from sublarr.core.db import init_db
    from sublarr.core.settings.plugins import store_plugin_settings

    init_db(postgres_url)
    stored = store_plugin_settings(notifier, {"retries": 8, "groups": ["A"], "token": "pg"})
    assert (stored["retries"].value, stored["retries"].source) == (8, "api")
    assert plugin_settings(notifier)["groups"] == ["A"]
    store_plugin_settings(notifier, {"retries": None})
    assert plugin_setting(notifier, "retries") == 3 and plugin_setting(notifier, "token") == "pg"
