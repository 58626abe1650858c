"""The web page end to end: headless Chromium (Playwright) against a real `sublarr serve`.

One server and one browser per module; each test has a fresh browser context (its own
session storage). A screenshot of each page goes to test-artifacts/web/ (git-ignored).
Without Debian's chromium (/usr/bin/chromium) or the playwright package the tests skip
with one reason: `make test` with CI=true or SUBLARR_START_BROWSER=1 installs chromium.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from test_serve_e2e import Server, start_server

from conftest import REPO_ROOT, free_port

CHROMIUM = Path(os.environ.get("SUBLARR_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO_ROOT / "test-artifacts" / "web"
WAIT_MS = 15_000


def _browser_problem() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (run .ci/install-chromium, or make test with SUBLARR_START_BROWSER=1)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator:
    problem = _browser_problem()
    if problem:
        pytest.skip(f"BROWSER NOT TESTED: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("web") / "data")
    yield running
    running.process.terminate()
    try:
        running.process.wait(20)
    except Exception:  # noqa: BLE001 - a stuck server is killed, the tests are done
        running.process.kill()
        running.process.wait(10)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def expect(locator):
    """Playwright's auto-waiting assertions (imported late: the module loads without playwright)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, server: Server, section: str = "events") -> None:
    """Open the page as the banner's link does (/#apikey=...), then go to ``section``."""
    page.goto(f"{server.url}/#apikey={server.key}")
    page.wait_for_selector("#status[data-kind=ok]")
    assert "apikey" not in page.url  # the key is dropped from the address bar
    page.evaluate("id => { location.hash = '#/' + id; }", section)
    page.wait_for_selector(f"#nav a[data-section={section}][aria-current=page]")


def test_sign_in_wrong_key_then_the_right_one_by_keyboard(page, server):
    page.goto(server.url)
    page.wait_for_selector("#api-key")
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type("not-the-key")
    page.keyboard.press("Enter")
    alert = page.wait_for_selector("[role=alert]")
    assert "API key is wrong" in alert.inner_text()
    assert page.evaluate("sessionStorage.getItem('sublarr.apiKey')") is None
    shot(page, "sign-in-wrong-key")

    page.fill("#api-key", server.key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#status[data-kind=ok]")  # Socket.IO connected
    assert page.inner_text("#status") == "connected"
    assert page.evaluate("sessionStorage.getItem('sublarr.apiKey')") == server.key
    titles = page.locator("#nav a").all_inner_texts()
    assert titles[:8] == [
        "Live events", "Script hooks", "Webhooks", "Notifications", "Delivery log", "Scoring",
        "Scoring preferences", "Plugins and events",
    ]  # fmt: skip
    shot(page, "live-events")

    page.click("#sign-out")
    page.wait_for_selector("#api-key")
    assert page.evaluate("sessionStorage.getItem('sublarr.apiKey')") is None


def test_unreachable_server_message_and_reconnection(page, server):
    # The browser cannot reach the API (as when the server is down); then it can again.
    page.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))
    page.goto(f"{server.url}/#apikey={server.key}")
    alert = page.wait_for_selector("[role=alert]")
    assert "cannot be reached" in alert.inner_text()
    shot(page, "sign-in-unreachable")
    page.unroute("**/api/v1/**")
    page.wait_for_selector("#status[data-kind=ok]")  # signed in by itself once it answers
    assert page.is_visible("#nav")


def test_reconnects_when_the_server_comes_back(browser, tmp_path):
    data_dir, port = tmp_path / "data", free_port()
    first = start_server(data_dir, port=port)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        sign_in(page, first, "events")
        first.process.terminate()
        first.process.wait(30)
        page.wait_for_selector("#status[data-kind=wait]")  # "reconnecting…"
        shot(page, "server-stopped-reconnecting")
        second = start_server(data_dir, port=port)  # the same data, so the same key
        try:
            page.wait_for_selector("#status[data-kind=ok]", timeout=30_000)
            assert page.is_visible("#nav")  # still signed in
            fired = second.api("POST", "/events/batch_complete/emit", json={"total": 2})
            page.wait_for_selector(f"#events-list button:has-text('{fired.json()['event_id']}')")
        finally:
            second.process.terminate()
            second.process.wait(30)
    finally:
        context.close()
        if first.process.poll() is None:
            first.process.kill()


def test_event_emitted_through_the_api_appears_live(page, server):
    sign_in(page, server, "events")
    fired = server.api(
        "POST", "/events/subtitle_downloaded/emit", json={"title": "Dark", "season": 1, "language": "de"}
    )
    assert fired.status_code == 202, fired.text
    event_id = fired.json()["event_id"]
    item = page.wait_for_selector(f"#events-list button:has-text('{event_id}')")
    assert "subtitle_downloaded" in item.inner_text()
    assert page.get_attribute("#events-list", "aria-live") == "polite"
    item.click()
    detail = page.wait_for_selector("#event-detail .event-id")
    assert detail.inner_text() == event_id
    assert '"title": "Dark"' in page.inner_text("#event-detail pre")
    shot(page, "live-event-open")

    page.select_option("#event-filter", "batch_complete")
    page.wait_for_selector("#events-list .empty")
    assert event_id not in page.inner_text("#events-list")
    page.select_option("#event-filter", "subtitle_downloaded")
    page.wait_for_selector(f"#events-list button:has-text('{event_id}')")


def test_create_a_webhook_press_test_and_see_the_success(page, server, webhook_receiver):
    sign_in(page, server, "webhooks")
    page.click("#add-target")
    page.get_by_label("Name", exact=True).fill("receiver")
    page.get_by_label("Event", exact=True).select_option("subtitle_downloaded")
    page.get_by_label("URL", exact=True).fill(webhook_receiver.url)
    page.get_by_role("button", name="Create").click()
    secret = page.wait_for_selector("#secret-once .secret").inner_text()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]{40,}", secret)
    shot(page, "webhook-created-secret-once")
    [stored] = server.api("GET", "/webhooks").json()["webhooks"]
    assert stored["name"] == "receiver" and stored["secret"] != secret  # shown masked from now on

    webhook_receiver.secret = secret  # the receiver checks the signature with the secret shown
    page.get_by_role("button", name="Test receiver").click()
    result = page.wait_for_selector("#webhooks-table tr.test-result.ok")
    assert re.search(r"Test of receiver: succeeded \(HTTP 200\) in [\d.]+ m?s", result.inner_text())
    [request] = webhook_receiver.wait_for(1)
    assert request.verified is True
    shot(page, "webhook-tested")

    # A real event: the row's last status and trigger count follow after a refresh.
    assert server.api("POST", "/events/subtitle_downloaded/emit", json={"title": "Dark"}).status_code == 202
    webhook_receiver.wait_for(2)
    deadline = time.monotonic() + 10
    while not server.api("GET", "/webhooks").json()["webhooks"][0]["trigger_count"]:
        assert time.monotonic() < deadline, "the delivery was not counted"
        time.sleep(0.1)
    page.get_by_role("button", name="Refresh").click()
    row = page.wait_for_selector("#webhooks-table tr[data-name=receiver]:has-text('HTTP 200')")
    cells = row.query_selector_all("td")
    assert [cells[5].inner_text(), cells[6].inner_text()] == ["1", "0"]  # triggered once, no failure

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate the secret of receiver").click()
    page.wait_for_selector("#secret-once:has-text('New secret of receiver')")
    rotated = page.inner_text("#secret-once .secret")
    assert rotated != secret and rotated.startswith("whsec_")
    webhook_receiver.secret = rotated
    page.get_by_role("button", name="Test receiver").click()
    page.wait_for_selector("#webhooks-table tr.test-result.ok")
    assert webhook_receiver.wait_for(3)[-1].verified is True  # signed with the new secret

    page.get_by_role("button", name="Disable receiver").click()
    page.wait_for_selector("#webhooks-table tr[data-name=receiver]:has-text('disabled')")
    assert server.api("GET", "/webhooks").json()["webhooks"][0]["enabled"] is False

    page.get_by_role("button", name="Edit receiver").click()
    page.get_by_label("Name", exact=True).fill("renamed")
    page.get_by_label("Event", exact=True).select_option("*")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#webhooks-table tr[data-name=renamed]")
    [edited] = server.api("GET", "/webhooks").json()["webhooks"]
    assert (edited["name"], edited["event_name"], edited["enabled"]) == ("renamed", "*", False)
    assert server.api("POST", f"/webhooks/{edited['id']}/test").json()["success"]  # secret kept

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete renamed").click()
    page.wait_for_selector("text=No webhook yet.")
    assert server.api("GET", "/webhooks").json()["webhooks"] == []


def test_create_a_notification_target_press_test_and_see_the_url_masked(page, server, webhook_receiver):
    url = webhook_receiver.url_for("/notify/t0kenS3cret").replace("http://", "json://")
    sign_in(page, server, "notifications")
    page.click("#add-target")
    page.get_by_label("Name", exact=True).fill("apprise")
    page.get_by_label("Apprise URL", exact=True).fill(url)
    page.get_by_label("Events", exact=True).select_option(["subtitle_downloaded", "batch_complete"])
    page.get_by_label("Title template", exact=True).fill("{{ event_label }}")
    page.get_by_label("Filters", exact=True).fill('language in ["de", "en"]')
    page.get_by_role("button", name="Create").click()
    row = page.wait_for_selector("#notifications-table tr[data-name=apprise]")
    assert "json://****" in row.inner_text() and "t0kenS3cret" not in page.content()
    [stored] = server.api("GET", "/notifications").json()["notifications"]
    assert stored["events"] == ["subtitle_downloaded", "batch_complete"]
    assert stored["filters"] == [{"field": "language", "op": "in", "value": ["de", "en"]}]
    assert stored["title_template"] == "{{ event_label }}" and stored["url"] == "json://****"

    page.get_by_role("button", name="Test apprise").click()
    result = page.wait_for_selector("#notifications-table tr.test-result.ok")
    assert "Test of apprise: succeeded" in result.inner_text()
    [request] = webhook_receiver.wait_for(1)
    assert request.path == "/notify/t0kenS3cret" and request.method == "POST"
    shot(page, "notification-tested")

    # Edit with the mask left as it is: the stored URL is kept (the test still reaches it).
    page.get_by_role("button", name="Edit apprise").click()
    assert page.get_by_label("Apprise URL", exact=True).input_value() == "json://****"
    page.get_by_label("Name", exact=True).fill("renamed")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("#notifications-table tr[data-name=renamed]")
    [edited] = server.api("GET", "/notifications").json()["notifications"]
    assert server.api("POST", f"/notifications/{edited['id']}/test").json()["success"]
    webhook_receiver.wait_for(2)

    page.get_by_role("button", name="Add a notification target").click()
    page.get_by_label("Name", exact=True).fill("bad")
    page.get_by_label("Apprise URL", exact=True).fill("nosuchscheme://x")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector("form .form-result .msg-error")
    assert len(server.api("GET", "/notifications").json()["notifications"]) == 1  # nothing stored

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete renamed").click()
    page.wait_for_selector("text=No notification target yet.")
    assert server.api("GET", "/notifications").json()["notifications"] == []


def test_a_script_hook_test_shows_its_output(page, server):
    hooks = server.data_dir / "hooks"
    hooks.mkdir(exist_ok=True)
    script = hooks / "hello.sh"
    script.write_text('#!/bin/sh\necho "hello from $SUBLARR_EVENT"\n')
    script.chmod(0o755)
    sign_in(page, server, "hooks")
    page.click("#add-target")
    page.get_by_label("Name", exact=True).fill("hello")
    page.get_by_label("Event", exact=True).select_option("batch_complete")
    page.get_by_label("Script", exact=True).fill(str(script))
    page.get_by_role("button", name="Create").click()
    page.get_by_role("button", name="Test hello").click()
    result = page.wait_for_selector("#hooks-table tr.test-result.ok")
    assert "succeeded (exit code 0)" in result.inner_text()
    assert "stdout:\nhello from " in result.inner_text()  # the script's output, shown at once
    shot(page, "hook-tested")


def test_a_weight_change_changes_the_explained_score(page, server):
    sign_in(page, server, "scoring")
    page.click("#explain")
    before = int(page.wait_for_selector("#score-total").inner_text())
    assert page.locator("#score-chart rect[data-term=series]").count() == 1
    series = int(page.get_attribute("#score-chart rect[data-term=series]", "data-points"))

    page.fill("#w-episode-series", str(series + 100))
    page.click("#save-episode")
    expect(page.locator("#score-total")).to_have_text(str(before + 100), timeout=WAIT_MS)
    assert server.api("GET", "/scoring/weights").json()["stored"]["episode"] == {"series": series + 100}
    shot(page, "scoring-explained")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset-episode")
    expect(page.locator("#score-total")).to_have_text(str(before), timeout=WAIT_MS)
    assert server.api("GET", "/scoring/weights").json()["stored"]["episode"] == {}


def test_provider_modifiers_and_preset_export_and_import(page, server, tmp_path):
    sign_in(page, server, "scoring")
    page.fill("#m-new-name", "opensubtitles")
    page.fill("#m-new-value", "-25")
    page.get_by_role("button", name="Add modifier").click()
    page.wait_for_selector("#modifiers-table #m-opensubtitles")
    assert server.api("GET", "/scoring/modifiers").json()["modifiers"] == {"opensubtitles": -25}

    with page.expect_download() as download:
        page.click("#export-preset")
    exported = tmp_path / "preset.json"
    download.value.save_as(exported)
    preset = json.loads(exported.read_text())
    assert preset["provider_modifiers"] == {"opensubtitles": -25}

    preset["weights"] = {"episode": {"hash": 400}, "movie": {}}
    preset["provider_modifiers"] = {"addic7ed": 5}
    exported.write_text(json.dumps(preset))
    page.set_input_files("#preset-file", str(exported))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import preset").click()
    page.wait_for_selector("text=Imported: 1 episode, 0 movie weight override(s), 1 modifier(s).")
    assert page.input_value("#w-episode-hash") == "400"
    page.wait_for_selector("#modifiers-table #m-addic7ed")
    assert page.locator("#m-opensubtitles").count() == 0  # replaced, all or nothing
    shot(page, "scoring-preset-imported")

    exported.write_text(json.dumps({**preset, "weights": {"episode": {"hash": 5000}}}))
    page.set_input_files("#preset-file", str(exported))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import preset").click()
    page.wait_for_selector(".msg-error:has-text('Nothing changed')")
    assert server.api("GET", "/scoring/weights").json()["stored"]["episode"] == {"hash": 400}
    cleared = server.api("POST", "/scoring/import", json={**preset, "weights": {}, "provider_modifiers": {}})
    assert cleared.status_code == 200, cleared.text


def _wait_for_log(server: Server, webhook_id: int, count: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logs = server.api("GET", "/hooks/logs", params={"webhook_id": webhook_id}).json()["logs"]
        if len(logs) >= count:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"expected {count} log rows of webhook {webhook_id}")


def test_retry_a_failed_delivery_and_see_it_succeed(page, server, webhook_receiver):
    webhook_receiver.script(500)  # the first attempt fails, the retry gets 200
    created = server.api(
        "POST",
        "/webhooks",
        json={"name": "flaky", "event_name": "batch_complete", "url": webhook_receiver.url, "retry_count": 0},
    )
    assert created.status_code == 201, created.text
    webhook_id = created.json()["id"]
    assert server.api("POST", "/events/batch_complete/emit", json={"total": 1}).status_code == 202
    [failed] = _wait_for_log(server, webhook_id, 1)
    assert failed["success"] is False and failed["delivery_id"]

    sign_in(page, server, "deliveries")
    page.select_option("#log-webhook", str(webhook_id))
    row = f"#log-table tr[data-delivery='{failed['delivery_id']}']"
    page.wait_for_selector(f"{row}[data-success=false]")
    shot(page, "delivery-log-failed")
    page.get_by_role("button", name=f"Retry delivery {failed['delivery_id']}").click()
    status = page.wait_for_selector("#log-status .msg-ok")
    assert f"Delivery {failed['delivery_id']} succeeded on retry (HTTP 200)" in status.inner_text()
    page.wait_for_selector(f"{row}[data-success=true]")
    shot(page, "delivery-log-retried")
    first, second = webhook_receiver.wait_for(2)
    assert (first.status, second.status) == (500, 200)
    assert first.webhook_id == second.webhook_id == failed["delivery_id"]


def test_the_delivery_log_pages_and_filters(page, server, webhook_receiver):
    created = server.api(
        "POST",
        "/webhooks",
        json={"name": "pages", "event_name": "batch_complete", "url": webhook_receiver.url},
    )
    webhook_id = created.json()["id"]
    for _ in range(30):  # each Test run is one log row
        assert server.api("POST", f"/webhooks/{webhook_id}/test").status_code == 200
    sign_in(page, server, "deliveries")
    page.select_option("#log-webhook", str(webhook_id))
    page.wait_for_selector("#log-page:has-text('Page 1 · 30 in all')")
    rows = "#log-table tbody tr:not(.log-detail)"
    assert page.locator(rows).count() == 25
    first_page = page.locator(f"{rows} >> nth=0").get_attribute("data-id")
    assert page.is_disabled("#log-newer")
    page.click("#log-older")
    page.wait_for_selector("#log-page:has-text('Page 2')")
    assert page.locator(rows).count() == 5 and page.is_disabled("#log-older")
    page.click("#log-newer")
    page.wait_for_selector("#log-page:has-text('Page 1')")
    assert page.locator(f"{rows} >> nth=0").get_attribute("data-id") == first_page

    page.select_option("#log-success", "false")
    page.wait_for_selector("text=No delivery matches.")  # every Test run succeeded
    page.select_option("#log-success", "true")
    page.wait_for_selector("#log-page:has-text('30 in all')")
    shot(page, "delivery-log-pages")


def test_scoring_preferences_save_reset_and_a_bundled_preset(page, server):
    sign_in(page, server, "preferences")
    page.get_by_label("Mode").first.select_option("exclude")  # hearing-impaired comes first
    assert page.input_value("#p-hearing_impaired-mode") == "exclude"
    page.fill("#p-min_score-episode", "40")
    page.fill("#p-uploader_trust-uploaders", "trusted: 25")
    page.click("#save-preferences")
    page.wait_for_selector("text=Preferences saved.")
    stored = server.api("GET", "/scoring/preferences").json()
    assert stored["hearing_impaired"]["mode"] == "exclude" and stored["forced"]["mode"] == "include"
    assert stored["min_score"]["episode"] == 40 and stored["uploader_trust"]["uploaders"] == {"trusted": 25}
    shot(page, "preferences-saved")

    page.fill("#p-min_score-movie", "101")  # refused in the page: nothing is sent
    page.click("#save-preferences")
    page.wait_for_selector(".msg-error:has-text('Minimum movie score')")
    assert server.api("GET", "/scoring/preferences").json()["min_score"]["movie"] == 0

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset-preferences")
    page.wait_for_selector("text=Preferences reset to the defaults.")
    assert page.input_value("#p-hearing_impaired-mode") == "include"
    assert server.api("GET", "/scoring/preferences").json()["hearing_impaired"]["mode"] == "include"

    presets = [p["name"] for p in server.api("GET", "/scoring/presets").json()["presets"]]
    assert "hash-first" in presets
    page.select_option("#preset-choice", "hash-first")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#apply-preset")
    page.wait_for_selector(".msg-ok:has-text('Applied hash-first')")
    expected = server.api("GET", "/scoring/presets/hash-first").json()
    assert server.api("GET", "/scoring/weights").json()["stored"] == expected["weights"]
    reset = server.api("POST", "/scoring/presets/defaults/apply")
    assert reset.status_code == 200, reset.text
    assert server.api("DELETE", "/scoring/preferences").status_code == 200


def test_plugins_catalog_and_the_api_explorer(page, server):
    sign_in(page, server, "plugins")
    page.wait_for_selector("#plugins-table tr[data-plugin=socketio_bridge]")
    assert "loaded" in page.inner_text("#plugins-table tr[data-plugin=socketio_bridge]")
    assert page.locator("#catalog-table tr[data-event=subtitle_downloaded]").count() == 1
    shot(page, "plugins-and-events")

    page.click("#nav a[data-section=api]")
    page.wait_for_url(f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "sublarr" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-tag-section")
    shot(page, "api-explorer")


SETTINGS_PLUGIN = """from sublarr.core import hookimpl


@hookimpl
def register_settings(register):
    register("greeting", str, "Hello", "how it greets")
    register("retries", int, 3, "how often to retry")
    register("verbose", bool, False)
    register("api_token", str, None, "the service's token", secret=True)
"""


def _settings_plugin(root: Path) -> Path:
    """A third-party plugin on a PYTHONPATH folder: a module and its entry point (web-settings)."""
    root.mkdir()
    (root / "websettings_plugin.py").write_text(SETTINGS_PLUGIN)
    info = root / "websettings_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: websettings-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[sublarr.plugins]\nweb-settings = websettings_plugin\n")
    return root


def test_plugin_settings_form_saves_and_keeps_secrets_masked(browser, tmp_path):
    env = {
        "PYTHONPATH": str(_settings_plugin(tmp_path / "site")),
        "SUBLARR_LOAD_PLUGINS": "sublarr,web-settings",
        "SUBLARR_PLUGIN_WEB_SETTINGS_RETRIES": "7",
    }
    running = start_server(tmp_path / "data", extra_env=env)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_default_timeout(WAIT_MS)
        sign_in(page, running, "plugins")
        form = page.wait_for_selector("#settings-web-settings")
        assert page.locator("#plugins-table tr[data-plugin=web-settings]:has-text('loaded')").count() == 1
        assert page.locator("form[id^=settings-]").count() == 1  # only the plugin that declares settings
        assert form.query_selector("[data-setting=retries]").get_attribute("data-source") == "env"
        assert page.evaluate(UNLABELLED) == []
        page.get_by_label("greeting", exact=True).fill("Hi")
        page.get_by_label("verbose", exact=True).check()
        page.get_by_label("api_token", exact=True).fill("t0kenS3cret")
        page.get_by_role("button", name="Save the settings of web-settings").click()
        page.wait_for_selector(
            "#settings-web-settings .msg-ok:has-text('Saved greeting, verbose, api_token')"
        )
        shot(page, "plugin-settings-saved")
        values = {
            s["name"]: (s["value"], s["source"])
            for s in running.api("GET", "/plugins/web-settings/settings").json()["settings"]
        }
        assert values == {
            "greeting": ("Hi", "api"),
            "retries": (7, "env"),
            "verbose": (True, "api"),
            "api_token": ("********", "api"),
        }
        assert page.input_value("#ps-web-settings-api_token") == "********"
        assert "t0kenS3cret" not in page.content()

        page.get_by_label("greeting", exact=True).fill("Hey")  # the mask goes back unchanged: kept
        page.get_by_role("button", name="Save the settings of web-settings").click()
        page.wait_for_selector("#settings-web-settings .msg-ok:has-text('Saved greeting of')")
        page.get_by_label("retries", exact=True).fill("3.5")  # not an int: refused, nothing stored
        page.get_by_label("greeting", exact=True).fill("Bye")
        page.get_by_role("button", name="Save the settings of web-settings").click()
        page.wait_for_selector("#settings-web-settings .msg-error:has-text('Nothing changed')")
        after = {
            s["name"]: s for s in running.api("GET", "/plugins/web-settings/settings").json()["settings"]
        }
        assert after["greeting"]["value"] == "Hey" and after["api_token"]["source"] == "api"
    finally:
        context.close()
        running.process.terminate()
        running.process.wait(20)
    assert not errors, f"JavaScript errors on the page: {errors}"


UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.offsetParent !== null && el.type !== "hidden")
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
        && !(el.tagName === "BUTTON" && el.textContent.trim()))
    .map((el) => el.outerHTML.slice(0, 120))"""


def test_every_control_of_every_section_has_a_label_and_keyboard_reaches_the_menu(page, server):
    sign_in(page, server, "events")
    for section in (
        "events",
        "hooks",
        "webhooks",
        "notifications",
        "deliveries",
        "scoring",
        "preferences",
        "plugins",
    ):
        page.evaluate("id => { location.hash = '#/' + id; }", section)
        page.wait_for_selector(f"#nav a[data-section={section}][aria-current=page]")
        page.wait_for_load_state("networkidle")
        if section in ("hooks", "webhooks", "notifications"):
            page.click("#add-target")  # the form's fields too
        assert page.evaluate(UNLABELLED) == [], section
    page.goto("about:blank")
    page.goto(f"{server.url}/#/scoring")  # a new load, signed in from the session storage
    page.wait_for_selector("#nav a[data-section=scoring][aria-current=page]")
    page.keyboard.press("Tab")  # the skip link first, then the menu
    assert page.evaluate("document.activeElement.className") == "skip", page.evaluate(
        "document.activeElement.outerHTML.slice(0, 200)"
    )
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.section") == "events"
    page.keyboard.press("Enter")
    page.wait_for_selector("#nav a[data-section=events][aria-current=page]")


def test_the_page_and_its_files_need_no_key_and_hold_no_data(server):
    home = requests.get(server.url + "/", timeout=10)
    assert home.status_code == 200 and "text/html" in home.headers["Content-Type"]
    assert "default-src 'self'" in home.headers["Content-Security-Policy"]
    assert server.key not in home.text
    assert requests.get(f"{server.url}/api/v1/hooks", timeout=10).status_code == 401
