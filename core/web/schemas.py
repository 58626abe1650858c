"""The marshmallow schemas of the REST API: they validate requests and make the OpenAPI document.

Request schemas refuse unknown fields (422) unless said otherwise; the storage and scoring
functions check again and have the last word.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, Raw, String
from apiflask.types import ResponsesObjectType
from apiflask.validators import Length, OneOf, Range
from marshmallow import EXCLUDE, INCLUDE

from sublarr.core.scoring import SCORE_TYPES, WEIGHT_MAX, WEIGHT_MIN

MAX_ID = 2**63 - 1


class ErrorSchema(Schema):
    """Every error: a short code and the reason (a message or ``{field: [messages]}``)."""

    error = String(required=True, metadata={"description": "bad_request, unauthorized, not_found, ..."})
    detail = Raw(required=True, allow_none=True, metadata={"description": "why: text or per-field messages"})


def responses(**by_status: tuple[str, type[Schema]]) -> ResponsesObjectType:
    """``doc(responses=...)`` entries: ``responses(r404=("No such hook", ErrorSchema))``."""
    return {
        int(status.lstrip("r")): {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
        for status, (description, schema) in by_status.items()
    }


# ---- events ----------------------------------------------------------------------------


class EventInfoSchema(Schema):
    name = String(required=True)
    label = String(required=True)
    description = String(required=True)
    payload_keys = List(String(), required=True)
    source = String(required=True)


class CatalogSchema(Schema):
    version = Integer(required=True)
    events = List(Nested(EventInfoSchema), required=True)


class EventPayloadSchema(Schema):
    """The event payload: any of the event's ``payload_keys`` (checked against the catalog)."""

    class Meta:
        unknown = INCLUDE


class EmittedSchema(Schema):
    event = String(required=True)
    event_id = String(required=True)


# ---- plugins and health ----------------------------------------------------------------


class PluginSchema(Schema):
    name = String(required=True)
    version = String(required=True, allow_none=True)
    distribution = String(required=True, allow_none=True)
    builtin = Boolean(required=True)
    status = String(required=True, metadata={"description": "loaded, disabled, not enabled or failed"})
    hooks = List(String(), required=True)
    errors = Integer(required=True)
    last_error = String(required=True, allow_none=True)


class PluginListSchema(Schema):
    plugins = List(Nested(PluginSchema), required=True)


class HealthSchema(Schema):
    status = String(required=True, validate=OneOf(["ok", "degraded"]))
    checks = Dict(keys=String(), values=String(), required=True)


# ---- hooks, webhooks, logs -------------------------------------------------------------


class HookCreateSchema(Schema):
    name = String(required=True, validate=Length(1, 200))
    event_name = String(required=True, validate=Length(1, 200))
    script_path = String(required=True, validate=Length(1, 4096))
    timeout_seconds = Integer(strict=True, load_default=30, validate=Range(1, 3600))
    enabled = Boolean(load_default=True)


class HookUpdateSchema(Schema):
    """Only the fields sent change."""

    name = String(validate=Length(1, 200))
    event_name = String(validate=Length(1, 200))
    script_path = String(validate=Length(1, 4096))
    timeout_seconds = Integer(strict=True, validate=Range(1, 3600))
    enabled = Boolean()


class _TargetSchema(Schema):
    """The columns hooks and webhooks both have."""

    id = Integer(required=True)
    name = String(required=True)
    event_name = String(required=True)
    enabled = Boolean(required=True, allow_none=True)
    timeout_seconds = Integer(required=True, allow_none=True)
    last_triggered_at = String(required=True, allow_none=True)
    trigger_count = Integer(required=True, allow_none=True)
    created_at = String(required=True)
    updated_at = String(required=True)


class HookSchema(_TargetSchema):
    hook_type = String(required=True, allow_none=True)
    script_path = String(required=True, allow_none=True)
    last_status = String(required=True, allow_none=True)


class HookItemSchema(HookSchema):
    """A hook in a list (its own name keeps the OpenAPI components unambiguous)."""


class HookListSchema(Schema):
    hooks = List(Nested(HookItemSchema), required=True)


class WebhookCreateSchema(Schema):
    name = String(required=True, validate=Length(1, 200))
    event_name = String(required=True, validate=Length(1, 200), metadata={"description": "or * for all"})
    url = String(required=True, validate=Length(1, 2048))
    secret = String(
        validate=Length(0, 1024),
        metadata={"description": "HMAC signing secret; omitted: one is generated (whsec_...)"},
    )
    retry_count = Integer(strict=True, load_default=3, validate=Range(0, 10))
    timeout_seconds = Integer(strict=True, load_default=10, validate=Range(1, 300))
    enabled = Boolean(load_default=True)
    method = String(load_default="POST", validate=OneOf(["POST", "PUT"]))
    headers = Dict(
        keys=String(validate=Length(1, 128)),
        values=String(validate=Length(0, 4096)),
        load_default=dict,
        validate=Length(0, 20),
        metadata={"description": "extra request headers; shown masked"},
    )


class WebhookUpdateSchema(Schema):
    """Only the fields sent change; the masked secret sent back keeps the stored one."""

    name = String(validate=Length(1, 200))
    event_name = String(validate=Length(1, 200))
    url = String(validate=Length(1, 2048))
    secret = String(validate=Length(0, 1024))
    retry_count = Integer(strict=True, validate=Range(0, 10))
    timeout_seconds = Integer(strict=True, validate=Range(1, 300))
    enabled = Boolean()
    method = String(validate=OneOf(["POST", "PUT"]))
    headers = Dict(
        keys=String(validate=Length(1, 128)),
        values=String(validate=Length(0, 4096)),
        validate=Length(0, 20),
        metadata={"description": "replaces the headers; a masked value (****) keeps the stored one"},
    )


class WebhookSchema(_TargetSchema):
    url = String(required=True)
    secret = String(required=True, allow_none=True, metadata={"description": "masked"})
    retry_count = Integer(required=True, allow_none=True)
    last_status_code = Integer(required=True, allow_none=True)
    last_error = String(required=True, allow_none=True)
    consecutive_failures = Integer(required=True, allow_none=True)
    method = String(required=True)
    headers = Dict(keys=String(), values=String(), required=True, metadata={"description": "masked"})
    disabled_reason = String(
        required=True, allow_none=True, metadata={"description": "why it was disabled automatically"}
    )

    class Meta:
        unknown = EXCLUDE


class WebhookSavedSchema(WebhookSchema):
    """A webhook just created or changed: a secret sublarr generated is shown this once."""

    generated_secret = String(
        metadata={
            "description": "only when sublarr generated the secret (create without one, or "
            'update with secret ""): the full secret, shown this once; give it to the receiver'
        }
    )


class WebhookItemSchema(WebhookSchema):
    """A webhook in a list, secret masked."""


class WebhookListSchema(Schema):
    webhooks = List(Nested(WebhookItemSchema), required=True)


class TestResultSchema(Schema):
    """One attempt of a hook or webhook, run now with a sample payload."""

    delivery_id = String(required=True)
    kind = String(required=True, metadata={"description": "script or webhook"})
    target_id = Integer(required=True)
    target_name = String(required=True)
    event_name = String(required=True)
    attempt = Integer(required=True)
    success = Boolean(required=True)
    outcome = String(required=True)
    exit_code = Integer(required=True, allow_none=True)
    status_code = Integer(required=True, allow_none=True)
    duration_ms = Float(required=True)
    error = String(required=True)
    stdout = String(required=True)
    stderr = String(required=True)
    next_attempt_at = Float(required=True, allow_none=True)
    log_id = Integer(required=True, allow_none=True)
    webhook_disabled = Boolean(required=True)


class LogFilterSchema(Schema):
    hook_id = Integer(strict=False, validate=Range(1, MAX_ID))
    webhook_id = Integer(strict=False, validate=Range(1, MAX_ID))


class LogQuerySchema(LogFilterSchema):
    """One page of the log, newest first; the next page by ``cursor`` (``next_cursor`` of this one)."""

    limit = Integer(strict=False, load_default=50, validate=Range(1, 1000))
    cursor = String(
        validate=Length(1, 64),
        metadata={"description": "next_cursor of the previous page (opaque); omit for the newest page"},
    )
    event_name = String(validate=Length(1, 200), metadata={"description": "Only attempts for this event"})
    success = Boolean(metadata={"description": "Only successful (true) or failed (false) attempts"})
    delivery_id = String(validate=Length(1, 200), metadata={"description": "Only attempts of this delivery"})
    include_total = Boolean(
        load_default=False,
        metadata={"description": "Also count the matching records (reads them all: slow on a large log)"},
    )
    offset = Integer(
        strict=False,
        validate=Range(0, 10**9),
        metadata={"description": "Deprecated (costs time proportional to it): use cursor"},
    )


class HookLogSchema(Schema):
    id = Integer(required=True)
    hook_id = Integer(required=True, allow_none=True)
    webhook_id = Integer(required=True, allow_none=True)
    event_name = String(required=True)
    hook_type = String(required=True, allow_none=True)
    success = Boolean(required=True, allow_none=True)
    exit_code = Integer(required=True, allow_none=True)
    status_code = Integer(required=True, allow_none=True)
    stdout = String(required=True, allow_none=True)
    stderr = String(required=True, allow_none=True)
    error = String(required=True, allow_none=True)
    duration_ms = Float(required=True, allow_none=True)
    triggered_at = String(required=True, allow_none=True)
    delivery_id = String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The queued delivery this attempt belongs to (its webhook-id); null for Test runs"
        },
    )

    class Meta:
        unknown = EXCLUDE


class HookLogListSchema(Schema):
    logs = List(Nested(HookLogSchema), required=True)
    next_cursor = String(
        required=True,
        allow_none=True,
        metadata={"description": "cursor of the next (older) page; null on the last page"},
    )
    total = Integer(
        required=True,
        allow_none=True,
        metadata={"description": "How many records match; null unless include_total=true"},
    )
    limit = Integer(required=True)


class DeletedSchema(Schema):
    deleted = Integer(required=True)


# ---- deliveries ------------------------------------------------------------------------


class DeliverySchema(Schema):
    """One queued run of a hook or webhook for one event; ``id`` is the webhook-id receivers see."""

    id = String(required=True, metadata={"description": "msg_...; the same across attempts and resends"})
    kind = String(required=True, metadata={"description": "script or webhook"})
    target_id = Integer(required=True, metadata={"description": "the hook's or webhook's id"})
    event_name = String(required=True)
    event_id = String(required=True)
    event_timestamp = String(required=True)
    payload = Dict(required=True)
    status = String(required=True, metadata={"description": "pending, running, delivered, failed or skipped"})
    attempts = Integer(required=True, metadata={"description": "attempts made since queued (or resent)"})
    next_attempt_at = Float(required=True, metadata={"description": "Unix time of the next attempt"})
    last_error = String(required=True)
    created_at = String(required=True)
    finished_at = String(required=True, allow_none=True)

    class Meta:
        unknown = EXCLUDE


class DeliveryEnvelopeSchema(Schema):
    delivery = Nested(DeliverySchema, required=True)


# ---- scoring ---------------------------------------------------------------------------

_WEIGHT = Integer(strict=True, validate=Range(WEIGHT_MIN, WEIGHT_MAX))


class WeightsSchema(Schema):
    """Weights per score type, key to int."""

    episode = Dict(keys=String(), values=Integer(), required=True)
    movie = Dict(keys=String(), values=Integer(), required=True)


class WeightsViewSchema(Schema):
    effective = Nested(WeightsSchema, required=True)
    defaults = Nested(WeightsSchema, required=True)
    stored = Nested(WeightsSchema, required=True)


class WeightsUpdateSchema(Schema):
    """Overrides to store; keys not sent keep their stored value."""

    episode = Dict(keys=String(validate=Length(1, 100)), values=_WEIGHT)
    movie = Dict(keys=String(validate=Length(1, 100)), values=_WEIGHT)


class ScoreTypeQuerySchema(Schema):
    score_type = String(validate=OneOf(SCORE_TYPES), metadata={"description": "omitted: both"})


class ModifiersSchema(Schema):
    modifiers = Dict(keys=String(), values=Integer(), required=True)


class ModifiersUpdateSchema(Schema):
    """Modifiers to store, provider name to -1000..1000; providers not sent stay as they are."""

    modifiers = Dict(
        keys=String(validate=Length(1, 100)),
        values=Integer(strict=True, validate=Range(WEIGHT_MIN, WEIGHT_MAX)),
        required=True,
    )


class VideoQuerySchema(Schema):
    title = String(validate=Length(0, 500), load_default="")
    year = Integer(strict=True, allow_none=True, validate=Range(0, 9999))
    series_title = String(allow_none=True, validate=Length(0, 500))
    season = Integer(strict=True, allow_none=True, validate=Range(0, 100000))
    episode = Integer(strict=True, allow_none=True, validate=Range(0, 100000))
    release_group = String(allow_none=True, validate=Length(0, 200))
    source = String(allow_none=True, validate=Length(0, 200))
    resolution = String(allow_none=True, validate=Length(0, 200))
    video_codec = String(allow_none=True, validate=Length(0, 200))
    audio_codec = String(allow_none=True, validate=Length(0, 200))
    languages = List(String(validate=Length(1, 50)), load_default=list, validate=Length(0, 50))
    fps = Float(allow_none=True, validate=Range(0, 1000))


class SubtitleResultSchema(Schema):
    provider_name = String(required=True, validate=Length(1, 100))
    subtitle_id = String(load_default="", validate=Length(0, 500))
    language = String(load_default="", validate=Length(0, 50))
    format = String(load_default="srt", validate=Length(0, 20))
    matches = List(String(validate=Length(1, 100)), load_default=list, validate=Length(0, 100))
    hearing_impaired = Boolean(load_default=False)
    forced = Boolean(load_default=False)
    release_info = String(allow_none=True, validate=Length(0, 500))
    release_group = String(allow_none=True, validate=Length(0, 200))
    uploader_name = String(allow_none=True, validate=Length(0, 200))
    uploader_trust = Float(allow_none=True, validate=Range(-1000, 1000))
    machine_translated = Boolean(load_default=False)
    fps = Float(allow_none=True, validate=Range(0, 1000))


class ExplainRequestSchema(Schema):
    query = Nested(VideoQuerySchema, required=True)
    result = Nested(SubtitleResultSchema, required=True)
    min_score = Integer(
        strict=True, validate=Range(0, 100), metadata={"description": "cut-off percent; omitted: stored"}
    )


class MinScoreSchema(Schema):
    """The cut-off ``score_many`` applies: ``percent`` of ``max_score``, i.e. ``points``."""

    percent = Integer(required=True)
    points = Integer(required=True)
    max_score = Integer(required=True)
    dropped = Boolean(required=True, metadata={"description": "the result is under the cut-off"})


class ExplainTermSchema(Schema):
    term = String(required=True)
    points = Integer(required=True)
    source = String(required=True)


class ExplanationSchema(Schema):
    """What ``explain_score`` returns: the total and where every point came from."""

    provider_name = String(required=True)
    subtitle_id = String(required=True, allow_none=True)
    score_type = String(required=True)
    total = Integer(required=True)
    terms = List(Nested(ExplainTermSchema), required=True)
    weights = Dict(keys=String(), values=Integer(), required=True)
    weight_sources = Dict(keys=String(), values=String(), required=True)
    ignored_matches = List(String(), required=True)
    min_score = Nested(MinScoreSchema, required=True)


class PresetSchema(Schema):
    """A scoring preset as ``sublarr scoring export`` writes it."""

    class Meta:
        unknown = INCLUDE

    format = String(required=True)
    version = Integer(required=True)
    weights = Dict(keys=String(), values=Dict(keys=String(), values=Integer()), required=True)
    provider_modifiers = Dict(keys=String(), values=Integer(), required=True)
    preferences = Dict(keys=String(), values=Dict())
    name = String()
    description = String()
    exported_at = String()
    sublarr_version = String()


class PresetImportSchema(Schema):
    """A preset to import; checked in full before anything is replaced."""

    class Meta:
        unknown = INCLUDE

    format = Raw(metadata={"description": "required unless the preset is Sublarr's (it has a name)"})
    version = Raw()
    weights = Raw(required=True)
    provider_modifiers = Raw()


class ImportedSchema(Schema):
    """How many overrides per score type, modifiers and preference values the imported preset holds."""

    weights = Dict(keys=String(), values=Integer(), required=True)
    provider_modifiers = Integer(required=True)
    preferences = Integer(allow_none=True, metadata={"description": "null: preferences left as they were"})


# ---- scoring preferences and bundled presets ------------------------------------------------


class PreferencesSchema(Schema):
    """Every scoring preference in force (see ``sublarr.core.scoring.preferences``)."""

    hearing_impaired = Dict(required=True)
    forced = Dict(required=True)
    uploader_trust = Dict(required=True)
    machine_translated = Dict(required=True)
    min_score = Dict(keys=String(), values=Integer(), required=True)


class PreferencesUpdateSchema(Schema):
    """Preferences to store; sections and keys not sent keep their value (checked in full)."""

    class Meta:
        unknown = INCLUDE


class PreferenceSectionQuerySchema(Schema):
    section = String(metadata={"description": "omitted: every preference"})


class BundledPresetSchema(Schema):
    name = String(required=True)
    description = String(required=True)


class BundledPresetListSchema(Schema):
    presets = List(Nested(BundledPresetSchema), required=True)


# ---- incoming Sonarr / Radarr webhooks -------------------------------------------------


class _ArrObject(Schema):
    class Meta:
        unknown = INCLUDE


# The most episodes one Sonarr call may name (a season pack of a long-running anime has
# more than 1,000); each becomes one webhook_received event.
MAX_ARR_EPISODES = 20_000


def _arr_id() -> Integer:
    return Integer(strict=True, allow_none=True, validate=Range(0, MAX_ID))


class ArrSeriesSchema(_ArrObject):
    id = Integer(strict=True)
    title = String(required=True, validate=Length(1, 500))
    year = Integer(strict=True, allow_none=True, validate=Range(0, 9999))
    tvdbId = _arr_id()  # noqa: N815 - the JSON key Sonarr sends
    tmdbId = _arr_id()  # noqa: N815 - the JSON key Sonarr sends
    imdbId = String(allow_none=True, validate=Length(0, 50))  # noqa: N815 - the JSON key Sonarr sends


class ArrEpisodeSchema(_ArrObject):
    id = Integer(strict=True)
    seasonNumber = Integer(strict=True, required=True, validate=Range(0, 100000))  # noqa: N815 - the JSON key Sonarr sends
    episodeNumber = Integer(strict=True, required=True, validate=Range(0, 100000))  # noqa: N815 - the JSON key Sonarr sends
    title = String(allow_none=True)


class ArrMovieSchema(_ArrObject):
    id = Integer(strict=True)
    title = String(required=True, validate=Length(1, 500))
    year = Integer(strict=True, allow_none=True, validate=Range(0, 9999))
    tmdbId = _arr_id()  # noqa: N815 - the JSON key Radarr sends
    imdbId = String(allow_none=True, validate=Length(0, 50))  # noqa: N815 - the JSON key Radarr sends


class ArrMediaFileSchema(_ArrObject):
    """An episode or movie file: what sublarr keeps of it (never its absolute path)."""

    relativePath = String(allow_none=True, validate=Length(0, 1000))  # noqa: N815 - the JSON key the *arr apps send
    quality = String(allow_none=True, validate=Length(0, 200))
    releaseGroup = String(allow_none=True, validate=Length(0, 200))  # noqa: N815 - the JSON key the *arr apps send
    languages = List(Raw(), allow_none=True, validate=Length(0, 100))


class ArrReleaseSchema(_ArrObject):
    quality = String(allow_none=True, validate=Length(0, 200))
    releaseGroup = String(allow_none=True, validate=Length(0, 200))  # noqa: N815 - the JSON key the *arr apps send
    languages = List(Raw(), allow_none=True, validate=Length(0, 100))


class _ArrWebhookSchema(_ArrObject):
    """What Sonarr and Radarr bodies share (WebhookPayload and the health/update payloads)."""

    eventType = String(required=True, validate=Length(1, 100))  # noqa: N815 - the JSON key the *arr apps send
    instanceName = String(allow_none=True, validate=Length(0, 200))  # noqa: N815 - the JSON key the *arr apps send
    isUpgrade = Boolean(allow_none=True, truthy={True}, falsy={False})  # noqa: N815 - the JSON key the *arr apps send
    deleteReason = String(allow_none=True, validate=Length(0, 100))  # noqa: N815 - the JSON key the *arr apps send
    release = Nested(ArrReleaseSchema, allow_none=True)
    level = String(allow_none=True, validate=Length(0, 50))
    message = String(allow_none=True, validate=Length(0, 5000))
    type = String(allow_none=True, validate=Length(0, 200))
    previousVersion = String(allow_none=True, validate=Length(0, 100))  # noqa: N815 - the JSON key the *arr apps send
    newVersion = String(allow_none=True, validate=Length(0, 100))  # noqa: N815 - the JSON key the *arr apps send


class SonarrWebhookSchema(_ArrWebhookSchema):
    """Sonarr's Webhook connection body; fields beyond these are accepted and ignored."""

    series = Nested(ArrSeriesSchema)
    episodes = List(Nested(ArrEpisodeSchema), validate=Length(0, MAX_ARR_EPISODES))
    episodeFile = Nested(ArrMediaFileSchema, allow_none=True)  # noqa: N815 - the JSON key Sonarr sends
    episodeFiles = List(Nested(ArrMediaFileSchema), allow_none=True, validate=Length(0, MAX_ARR_EPISODES))  # noqa: N815 - the JSON key Sonarr sends


class RadarrWebhookSchema(_ArrWebhookSchema):
    """Radarr's Webhook connection body; fields beyond these are accepted and ignored."""

    movie = Nested(ArrMovieSchema)
    movieFile = Nested(ArrMediaFileSchema, allow_none=True)  # noqa: N815 - the JSON key Radarr sends


class ArrReceivedSchema(Schema):
    source = String(required=True)
    event_type = String(required=True)
    event_ids = List(String(), required=True)
