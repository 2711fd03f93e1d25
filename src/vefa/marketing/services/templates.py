"""Writes of message templates: a template (name, channel, default language, description) with
one version per language (subject, preview text, HTML and plain-text bodies).

Every text is checked by ``vefa.marketing.rendering.validate_template_text`` (merge fields
and conditions of the sandboxed template language); an error names the language and field.
An e-mail version needs a subject and an HTML or plain-text body; an SMS or a phone script
needs the plain-text body. A template used by a campaign that already sent is not changed
under it: edits of its versions are refused then, so reports keep showing what was sent.
Templates are archived, never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from vefa.accounts.access import can_create
from vefa.common.errors import ValidationFailed
from vefa.customers.services._common import as_pk, as_text, get_for, invalid, not_found
from vefa.marketing.choices import CampaignChannel, CampaignStatus
from vefa.marketing.models import CampaignVariant, MessageTemplate, TemplateVersion
from vefa.platform.records import record_create, record_delete, record_update

if TYPE_CHECKING:
    from vefa.accounts.models import User

LANGUAGE_CODES: tuple[str, ...] = tuple(code for code, _name in settings.LANGUAGES)
MAX_BODY = 200_000
MAX_NAME = 200
MAX_SUBJECT = 300
MAX_PREHEADER = 200
VERSION_FIELDS = ("subject", "preheader", "body_html", "body_text")
_FIELDS = frozenset(
    {"name", "channel", "default_language", "description", "is_archived", "versions", "tags"}
)
# Statuses of a campaign that has (or may have) sent with its templates.
SENT_STATUSES = (
    CampaignStatus.SENDING,
    CampaignStatus.PAUSED,
    CampaignStatus.COMPLETED,
)


def _validate_text(text: str) -> list[str]:
    """The problems of one text in the template language (none when it is valid)."""
    from vefa.marketing.rendering import validate_template_text

    try:
        validate_template_text(text)
    except ValidationFailed as exc:
        return [m for messages in exc.fields.values() for m in messages] or [str(exc.message)]
    return []


def _choice(value: Any, field: str, choices: list[str], default: str | None) -> str:
    if (value is None or value == "") and default is not None:
        return default
    if not isinstance(value, str) or value not in choices:
        raise invalid({field: [_("Choose a valid option.")]})
    return value


def _versions(value: Any, *, channel: str) -> dict[str, dict[str, str]]:
    """``{language: {subject, preheader, body_html, body_text}}``, every text checked; a
    language whose fields are all empty stands for "no version" (removed on an edit)."""
    if not isinstance(value, Mapping):
        raise invalid({"versions": [_("Expected one version per language.")]})
    errors: dict[str, list[str]] = {}
    result: dict[str, dict[str, str]] = {}
    limits = {
        "subject": MAX_SUBJECT,
        "preheader": MAX_PREHEADER,
        "body_html": MAX_BODY,
        "body_text": MAX_BODY,
    }
    for language, item in value.items():
        if language not in LANGUAGE_CODES:
            errors[f"versions.{language}"] = [_("Unknown language.")]
            continue
        if not isinstance(item, Mapping):
            errors[f"versions.{language}"] = [_("Expected the texts of a version.")]
            continue
        unknown = [k for k in item if k not in VERSION_FIELDS]
        for key in unknown:
            errors[f"{key}_{language}"] = [_("Unknown field.")]
        texts: dict[str, str] = {}
        for key in VERSION_FIELDS:
            name = f"{key}_{language}"
            raw = item.get(key)
            if raw is None:
                raw = ""
            if not isinstance(raw, str):
                errors[name] = [_("Enter text.")]
                continue
            if "\x00" in raw:
                errors[name] = [_("Null characters are not allowed.")]
                continue
            text = raw.strip() if key in ("subject", "preheader") else raw
            if len(text) > limits[key]:
                errors[name] = [_("At most %(n)d characters.") % {"n": limits[key]}]
                continue
            problems = _validate_text(text) if text.strip() else []
            if problems:
                errors[name] = problems
                continue
            texts[key] = text
        if any(f"{k}_{language}" in errors for k in VERSION_FIELDS):
            continue
        if not any(v.strip() for v in texts.values()):
            result[language] = {}
            continue
        if channel == CampaignChannel.EMAIL:
            if not texts.get("subject"):
                errors[f"subject_{language}"] = [_("An e-mail needs a subject.")]
            if not texts.get("body_html", "").strip() and not texts.get("body_text", "").strip():
                errors[f"body_html_{language}"] = [_("Write the HTML or the plain-text body.")]
        elif not texts.get("body_text", "").strip():
            errors[f"body_text_{language}"] = [_("Write the text of the message.")]
        result[language] = texts
    if errors:
        raise invalid(errors)
    return result


def _check_fields(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise invalid({"__all__": [_("Expected an object of field values.")]})
    unknown = [str(k) for k in data if k not in _FIELDS]
    if unknown:
        raise invalid({key: [_("Unknown field.")] for key in unknown})


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise invalid({"tags": [_("Enter a list of tags.")]})
    return [t.strip() for t in value if t.strip()][:20]


def _fields(data: Mapping[str, Any], current: MessageTemplate | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if current is None or "name" in data:
        name = as_text(data.get("name"), field="name", max_length=MAX_NAME)
        if not name:
            raise invalid({"name": [_("This field is required.")]})
        fields["name"] = name
    if current is None or "channel" in data:
        fields["channel"] = _choice(
            data.get("channel"), "channel", list(CampaignChannel.values), CampaignChannel.EMAIL
        )
    if current is None or "default_language" in data:
        fields["default_language"] = _choice(
            data.get("default_language"),
            "default_language",
            list(LANGUAGE_CODES),
            settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGE_CODES else "en",
        )
    if current is None or "description" in data:
        fields["description"] = as_text(
            data.get("description"), field="description", max_length=5000
        )
    if "is_archived" in data:
        value = data.get("is_archived")
        if not isinstance(value, bool):
            raise invalid({"is_archived": [_("Enter yes or no.")]})
        fields["is_archived"] = value
    return fields


def template_in_use(template_id: int) -> bool:
    """Whether a campaign that has sent (or is sending) uses the template."""
    return CampaignVariant.objects.filter(
        template_id=template_id, campaign__status__in=SENT_STATUSES
    ).exists()


def _save_versions(
    template: MessageTemplate, versions: dict[str, dict[str, str]], *, actor: User
) -> None:
    existing = {v.language: v for v in TemplateVersion.objects.filter(template=template)}
    for language, texts in versions.items():
        current = existing.get(language)
        if not texts:
            if current is not None:
                record_delete(current, actor=actor)
            continue
        values = {key: texts.get(key, "") for key in VERSION_FIELDS}
        if current is None:
            record_create(
                TemplateVersion(template=template, language=language, **values), actor=actor
            )
        elif any(getattr(current, k) != v for k, v in values.items()):
            record_update(current, actor=actor, data=values)


def _check_default_language(template: MessageTemplate) -> None:
    languages = set(
        TemplateVersion.objects.filter(template=template).values_list("language", flat=True)
    )
    if not languages:
        raise invalid({"versions": [_("Write the message in at least one language.")]})
    if template.default_language not in languages:
        raise invalid(
            {
                "default_language": [
                    _("The default language needs a version; write it or choose another.")
                ]
            }
        )


def template_create(*, actor: User, data: Mapping[str, Any]) -> MessageTemplate:
    """A new template with its versions; the actor owns it, in their team."""
    if not can_create(actor, MessageTemplate):
        raise not_found()
    _check_fields(data)
    fields = _fields(data, None)
    versions = _versions(data.get("versions") or {}, channel=fields["channel"])
    tags = _tags(data.get("tags"))
    with transaction.atomic():
        template = record_create(
            MessageTemplate(owner=actor, team_id=actor.team_id, **fields),
            actor=actor,
            tags=tags,
        )
        _save_versions(template, versions, actor=actor)
        _check_default_language(template)
    return template


def template_update(
    *,
    actor: User,
    template_id: Any,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> MessageTemplate:
    """Change a template and the versions named in ``data["versions"]`` (others stay)."""
    _check_fields(data)
    with transaction.atomic():
        template = get_for(MessageTemplate.objects.all(), actor=actor, pk=as_pk(template_id))
        fields = _fields(data, template)
        channel = fields.get("channel", template.channel)
        versions = (
            _versions(data["versions"], channel=channel)
            if data.get("versions") is not None
            else None
        )
        if versions is not None and template_in_use(template.pk):
            raise invalid(
                {
                    "versions": [
                        _(
                            "A campaign has sent this template; copy it to change its texts "
                            "so the campaign's report keeps what was sent."
                        )
                    ]
                }
            )
        template = record_update(
            template,
            actor=actor,
            data=fields,
            expected_version=expected_version,
            tags=_tags(data.get("tags")),
        )
        if versions is not None:
            _save_versions(template, versions, actor=actor)
        _check_default_language(template)
    return template


def template_copy(*, actor: User, template_id: Any) -> MessageTemplate:
    """A new template with the same texts, named "… (copy)", owned by the actor."""
    if not can_create(actor, MessageTemplate):
        raise not_found()
    from vefa.marketing.selectors.templates import template_get

    source = template_get(actor=actor, pk=template_id)
    name = _("%(name)s (copy)") % {"name": source.name}
    with transaction.atomic():
        copy = record_create(
            MessageTemplate(
                name=name[:MAX_NAME],
                channel=source.channel,
                default_language=source.default_language,
                description=source.description,
                owner=actor,
                team_id=actor.team_id,
            ),
            actor=actor,
        )
        for version in source.versions.all():
            record_create(
                TemplateVersion(
                    template=copy,
                    language=version.language,
                    **{key: getattr(version, key) for key in VERSION_FIELDS},
                ),
                actor=actor,
            )
    return copy
