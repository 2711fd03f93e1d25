"""Platform models shared by every domain app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeLogQuerySet(models.QuerySet["ChangeLogEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the change log cannot be edited")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the change log cannot be deleted")


class ChangeLogEntry(models.Model):
    """One create, update, delete or merge of a record, written by the service that did it.

    Append-only: the application has no way to edit or delete a row (the queryset and the
    instance refuse, the admin is read-only).
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        MERGE = "merge", _("Merged")

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model = models.CharField(_("record type"), max_length=100)
    object_id = models.BigIntegerField(_("record id"))
    object_repr = models.CharField(_("record"), max_length=200)
    # The customer a change belongs to, so the customer's timeline can show it cheaply.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_name = models.CharField(_("actor"), max_length=200, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = ChangeLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("change log")
        indexes = [
            models.Index(fields=["model", "object_id", "time"], name="changelog_obj"),
            models.Index(fields=["actor_id", "time"], name="changelog_actor"),
            models.Index(fields=["model", "time"], name="changelog_model"),
        ]
        ordering = ["-time", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("the change log cannot be edited")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the change log cannot be deleted")

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class Tag(models.Model):
    """A free label that can be put on any main record."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True, allow_unicode=True)
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#6c757d",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #rrggbb."))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    """An admin-defined extra field of a model; values live in the model's JSON column."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        LONGTEXT = "longtext", _("Long text")
        INTEGER = "integer", _("Whole number")
        DECIMAL = "decimal", _("Decimal number")
        BOOLEAN = "boolean", _("Yes/no")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTICHOICE = "multichoice", _("Multiple choice")
        URL = "url", _("Web address")
        EMAIL = "email", _("E-mail")

    model = models.CharField(_("record type"), max_length=100, db_index=True)
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    min_value = models.DecimalField(
        _("minimum"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    max_length = models.PositiveIntegerField(_("maximum length"), null=True, blank=True)
    regex = models.CharField(_("pattern"), max_length=200, blank=True)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    show_in_list = models.BooleanField(_("show in lists"), default=False)
    searchable = models.BooleanField(_("searchable"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["model", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="customfield_model_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model}.{self.key}"

    def clean(self) -> None:
        """Rules a definition must follow, for the admin and the API alike."""
        from vefa.platform.custom_fields import definition_errors

        errors = definition_errors(self)
        if errors:
            raise ValidationError(errors)


class Job(models.Model):
    """A long-running background job whose status and progress pages poll."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.TextField(_("message"), blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    task_id = models.CharField(max_length=64, blank=True)
    # Where an interrupted run resumes: handlers store their own position here.
    checkpoint = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Touched on every progress report; a running job whose heartbeat stops was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="job_user"),
            models.Index(fields=["status", "heartbeat_at"], name="job_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class PeriodicRun(models.Model):
    """The last slot a periodic job declared in code was enqueued for (one row per job)."""

    name = models.CharField(max_length=100, unique=True)
    last_slot = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("periodic job")
        verbose_name_plural = _("periodic jobs")

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An in-app notice to one user, e.g. an activity is due or a record was assigned."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(_("kind"), max_length=50)
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    model = models.CharField(max_length=100, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Makes the notice idempotent: the same reminder is never sent twice.
    dedupe_key = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_dedupe",
            )
        ]

    def __str__(self) -> str:
        return self.text


class SavedView(models.Model):
    """A named list view (filters, columns, sort) of one user, optionally shared with a team."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("shared with team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    list_key = models.CharField(_("list"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    sort = models.CharField(_("sort"), max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["owner", "list_key"], name="savedview_owner"),
            models.Index(fields=["team", "list_key"], name="savedview_team"),
        ]

    def __str__(self) -> str:
        return self.name


class SearchEntry(models.Model):
    """One row of the global search index: the folded terms of one searchable record.

    ``text`` holds the record's folded search terms and ``access`` the terms that say who may
    find it (``~o<owner id>`` per owner, ``~t<team id>`` per team), taken from the model's
    declared access paths. Both are indexed together by the database's full-text
    index (see ``vefa.platform.search.backends``), so a search is restricted to what the actor
    may see inside the index; the selector then re-checks the records it returns.
    """

    model = models.CharField(max_length=50)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    access = models.CharField(max_length=300, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search index")
        constraints = [
            models.UniqueConstraint(fields=["model", "object_id"], name="searchentry_unique")
        ]
        indexes = [
            models.Index(fields=["customer_id"], name="searchentry_customer"),
            # The newest entries of one model: the first step of every search.
            models.Index(fields=["model", "id"], name="searchentry_model_id"),
        ]

    def __str__(self) -> str:
        return self.title


class IdempotencyRecord(models.Model):
    """The response of an API create made with an ``Idempotency-Key``, replayed on retry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]

    def __str__(self) -> str:
        return self.key
