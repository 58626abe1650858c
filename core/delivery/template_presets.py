"""Ready body templates for services that cannot read the Standard Webhooks envelope.

``preset_template(name, options)`` gives the template source of a preset, with its
options (an ntfy topic, a Telegram chat id) checked and written in; it is stored like any
``body_template``. Each preset renders the request body the service documents:

* ``discord`` - Discord "Execute Webhook": ``{"username", "embeds": [{"title" (<= 256),
  "description" (<= 4096), "timestamp", "fields": [{"name", "value" (<= 1024), "inline"}]
  (<= 25), "footer"}]}``; URL ``https://discord.com/api/webhooks/<id>/<token>``.
* ``slack`` - Slack incoming webhook: ``{"text", "blocks": [{"type": "section", "text":
  {"type": "mrkdwn", "text" (<= 3000)}}]}``.
* ``ntfy`` - ntfy JSON publishing, POST to the server's root URL: ``{"topic", "title",
  "message", "tags"}``; option ``topic``.
* ``gotify`` - Gotify ``POST /message?token=<app token>``: ``{"title", "message",
  "priority", "extras"}``.
* ``telegram`` - Telegram Bot API ``POST https://api.telegram.org/bot<token>/sendMessage``:
  ``{"chat_id", "text" (1..4096), "disable_web_page_preview"}``; option ``chat_id``.
* ``home_assistant`` - Home Assistant notify service ``POST /api/services/notify/<service>``
  (a bearer token as custom header) or a webhook trigger ``/api/webhook/<id>``:
  ``{"title", "message", "data": {"event", "id", "payload"}}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from sublarr.core.errors import ValidationError

# One line about the event, for any event: its label, the title, SxxEyy, language, score.
_SUMMARY = (
    "{%- set title = payload['series_title'] or payload['title'] -%}"
    "{%- set season, episode = payload['season'], payload['episode'] -%}"
    "{%- set language, score = payload['language'], payload['score'] -%}"
    "{%- set summary -%}{{ event_label }}{% if title %}: {{ title }}{% endif %}"
    "{% if season is number and episode is number %} S{{ season }}E{{ episode }}{% endif %}"
    "{% if language %} [{{ language }}]{% endif %}"
    "{% if score is number %} score {{ score }}{% endif %}"
    "{%- endset -%}"
)
# "key: value" lines of the payload's non-empty values.
_DETAILS = (
    "{%- set details -%}{% for key, value in payload|dictsort %}"
    "{% if value is not none and value != '' %}{{ key }}: {{ value }}\n{% endif %}"
    "{% endfor %}{%- endset -%}"
)

_DISCORD = (
    _SUMMARY
    + """{"username": "Sublarr", "embeds": [{\
"title": {{ event_label|truncate(256, true, '...', 0)|tojson }}, \
"description": {{ summary|truncate(4096, true, '...', 0)|tojson }}, "timestamp": {{ timestamp|tojson }}, \
"fields": [{% for key, value in (payload|dictsort)[:25] if value is not none and value != '' %}\
{"name": {{ key[:256]|tojson }}, "value": {{ (value|string)[:1024]|tojson }}, "inline": true}\
{% if not loop.last %}, {% endif %}{% endfor %}], "footer": {"text": {{ ("sublarr " ~ event)|tojson }}}}]}"""
)
_SLACK = (
    _SUMMARY
    + _DETAILS
    + """{"text": {{ summary|tojson }}, "blocks": [{"type": "section", "text": {"type": "mrkdwn", \
"text": {{ ("*" ~ summary ~ "*\\n" ~ details)|truncate(3000, true, '...', 0)|tojson }}}}]}"""
)
_NTFY = (
    _SUMMARY
    + """{"topic": @TOPIC@, "title": {{ event_label|tojson }}, "message": {{ summary|tojson }}, \
"tags": ["sublarr", {{ event|tojson }}]}"""
)
_GOTIFY = (
    _SUMMARY
    + _DETAILS
    + """{"title": {{ event_label|tojson }}, "message": {{ (summary ~ "\\n\\n" ~ details)|trim|tojson }}, \
"priority": 5, "extras": {"client::display": {"contentType": "text/plain"}}}"""
)
_TELEGRAM = (
    _SUMMARY
    + """{"chat_id": @CHAT_ID@, "text": {{ summary|truncate(4096, true, '...', 0)|tojson }}, \
"disable_web_page_preview": true}"""
)
_HOME_ASSISTANT = (
    _SUMMARY
    + """{"title": {{ event_label|tojson }}, "message": {{ summary|tojson }}, \
"data": {"event": {{ event|tojson }}, "id": {{ id|tojson }}, "payload": {{ payload|tojson }}}}"""
)

# The defaults of a notification target's templates: the event's label; a summary line
# and the payload's non-empty values.
NOTIFICATION_TITLE = "{{ event_label }}"
NOTIFICATION_BODY = _SUMMARY + _DETAILS + "{{ (summary ~ '\\n\\n' ~ details)|trim }}"

_NTFY_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_TELEGRAM_CHAT = re.compile(r"^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")


def _no_options(options: Mapping[str, Any]) -> dict[str, str]:
    if options:
        raise ValidationError("preset_options", f"this preset takes no options, got {sorted(options)}")
    return {}


def _ntfy_options(options: Mapping[str, Any]) -> dict[str, str]:
    topic = options.get("topic")
    if set(options) - {"topic"} or not isinstance(topic, str) or not _NTFY_TOPIC.match(topic):
        raise ValidationError(
            "preset_options", "ntfy needs {\"topic\": ...}: 1-64 letters, digits, '-' or '_'"
        )
    return {"@TOPIC@": json.dumps(topic)}


def _telegram_options(options: Mapping[str, Any]) -> dict[str, str]:
    chat = options.get("chat_id")
    if isinstance(chat, int) and not isinstance(chat, bool):
        chat = str(chat)
    if set(options) - {"chat_id"} or not isinstance(chat, str) or not _TELEGRAM_CHAT.match(chat):
        raise ValidationError(
            "preset_options", 'telegram needs {"chat_id": ...}: a numeric chat id or an @channelname'
        )
    return {"@CHAT_ID@": chat if chat.lstrip("-").isdigit() else json.dumps(chat)}


PRESETS: dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, str]]]] = {
    "discord": (_DISCORD, _no_options),
    "slack": (_SLACK, _no_options),
    "ntfy": (_NTFY, _ntfy_options),
    "gotify": (_GOTIFY, _no_options),
    "telegram": (_TELEGRAM, _telegram_options),
    "home_assistant": (_HOME_ASSISTANT, _no_options),
}


def preset_template(name: Any, options: Mapping[str, Any] | None = None) -> str:
    """The template source of preset ``name`` with ``options`` written in; ``ValidationError``."""
    if name not in PRESETS:
        raise ValidationError("preset", f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
    source, check = PRESETS[name]
    if options is not None and not isinstance(options, Mapping):
        raise ValidationError("preset_options", "must be an object")
    for marker, value in check(dict(options or {})).items():
        source = source.replace(marker, value)
    return source
