"""Abstract base models and feature mixins every domain model is built from.

``VefaModel`` gives timestamps, created/updated by and a version for optimistic concurrency.
``CustomFieldsMixin`` and ``TaggableMixin`` add the platform features once, NetBox-style.
Record-level access is declared by ``access_owner_paths`` / ``access_team_paths`` (the lookups
that lead to the owning user and team) and ``access_policy`` (the policy key to apply).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class VefaModel(models.Model):
    """Base of every domain record."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # Record-level access: lookups from this model to its owner and team, and the policy key
    # (``app_label.model``) whose per-role scopes apply. Child records point at their parent.
    access_owner_paths: ClassVar[tuple[str, ...]] = ("owner",)
    access_team_paths: ClassVar[tuple[str, ...]] = ("team",)
    access_policy: ClassVar[str | None] = None
    # Fields left out of the change log (derived or noisy).
    audit_exclude: ClassVar[tuple[str, ...]] = ("updated_at", "search_text")

    class Meta:
        abstract = True

    @classmethod
    def policy_key(cls) -> str:
        return cls.access_policy or cls._meta.label_lower


class CustomFieldsMixin(models.Model):
    """Values of admin-defined custom fields, validated by ``vefa.platform.custom_fields``."""

    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


class TaggableMixin(models.Model):
    """Free tags shared across record types."""

    tags = models.ManyToManyField(
        "platform.Tag",
        verbose_name=_("tags"),
        blank=True,
        related_name="%(app_label)s_%(class)s_set",
    )

    class Meta:
        abstract = True
