"""Reads of message templates for a person (``POLICIES["marketing.campaign"]``): the list,
one template with its versions, choices for a campaign's variants and the preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet

from vefa.accounts.access import restrict
from vefa.common.paging import Page
from vefa.customers.selectors import page_of, tag_prefetch
from vefa.customers.services._common import as_pk, not_found
from vefa.marketing.choices import CampaignChannel
from vefa.marketing.models import MessageTemplate, TemplateVersion

if TYPE_CHECKING:
    from vefa.accounts.models import User

MAX_PAGE = 100
DEFAULT_PAGE = 25


def template_queryset(actor: User) -> QuerySet[MessageTemplate]:
    return restrict(MessageTemplate.objects.all(), actor, "view")


def _versions() -> Prefetch[Any]:
    return Prefetch("versions", queryset=TemplateVersion.objects.order_by("language"))


def template_get(*, actor: User, pk: Any) -> MessageTemplate:
    """One template the actor may see, with its versions, or ``NotFound``."""
    template = (
        template_queryset(actor)
        .select_related("owner", "team")
        .prefetch_related(_versions(), tag_prefetch())
        .filter(pk=as_pk(pk))
        .first()
    )
    if template is None:
        raise not_found()
    return template


def template_list(
    *,
    actor: User,
    q: str = "",
    channel: str = "",
    archived: bool = False,
    cursor: str | None = None,
    size: int = DEFAULT_PAGE,
) -> Page[MessageTemplate]:
    """One keyset page of templates by name."""
    qs = template_queryset(actor).filter(is_archived=archived).select_related("owner")
    if q:
        qs = qs.filter(name__icontains=q[:200])
    if channel in CampaignChannel.values:
        qs = qs.filter(channel=channel)
    return page_of(qs.prefetch_related(_versions()), "name", cursor, max(1, min(size, MAX_PAGE)))


def template_choices(*, actor: User, channel: str = "") -> list[tuple[int, str]]:
    """Active templates as (id, name) for a campaign's variants (of one channel if given)."""
    qs = template_queryset(actor).filter(is_archived=False)
    if channel:
        qs = qs.filter(channel=channel)
    return [
        (int(pk), str(name))
        for pk, name in qs.order_by("name", "id").values_list("pk", "name")[:500]
    ]


def version_for(template: MessageTemplate, language: str) -> TemplateVersion | None:
    """The version a customer speaking ``language`` gets (the default language otherwise)."""
    from vefa.marketing.rendering import pick_version

    return pick_version(list(template.versions.all()), language, template.default_language)
