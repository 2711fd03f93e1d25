"""Reads of users, teams and API tokens for a person, and the "who can see this record" table."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import POLICIES, Decision, explain, policy_key_of
from vefa.accounts.models import ApiToken, Team, User
from vefa.common.errors import NotFound
from vefa.common.paging import Page, keyset_page

MAX_SEARCH_LENGTH = 100


def _active(actor: User | None) -> bool:
    return actor is not None and actor.is_authenticated and actor.is_active


def users_for_picker(
    *,
    actor: User | None,
    search: str = "",
    team_id: int | None = None,
    include_inactive: bool = False,
    cursor: str | None = None,
    size: int = 50,
) -> Page[User]:
    """Colleagues an actor may assign work to, by name.

    Every active user may know the active colleagues (name, e-mail, role and team): that is
    what assigning an owner or inviting to a meeting needs. Only administrators see inactive
    users, for audits and re-activation.
    """
    if not _active(actor):
        return Page(items=[], next_cursor=None, previous_cursor=None, size=size)
    assert actor is not None
    qs: QuerySet[User] = User.objects.select_related("team")
    if not (include_inactive and actor.is_admin):
        qs = qs.filter(is_active=True)
    term = " ".join((search or "").split())[:MAX_SEARCH_LENGTH]
    if term:
        qs = qs.filter(Q(full_name__icontains=term) | Q(email__icontains=term))
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return keyset_page(qs, ordering="full_name", cursor=cursor, size=size)


def user_get(*, actor: User | None, user_id: int) -> User:
    """One colleague as the picker shows them; inactive users only for administrators."""
    if not _active(actor):
        raise NotFound(_("Not found."))
    assert actor is not None
    qs = User.objects.select_related("team")
    if not actor.is_admin:
        qs = qs.filter(is_active=True)
    user = qs.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("Not found."))
    return user


def teams_list(*, actor: User | None) -> list[Team]:
    """Every team, by name: a short list any active user may know."""
    if not _active(actor):
        return []
    return list(Team.objects.order_by("name", "pk"))


def api_tokens_of(
    *, actor: User | None, cursor: str | None = None, size: int = 50
) -> Page[ApiToken]:
    """The actor's own tokens, newest first (revoked ones too, so the history is visible)."""
    if not _active(actor):
        return Page(items=[], next_cursor=None, previous_cursor=None, size=size)
    qs = ApiToken.objects.filter(user=actor)
    return keyset_page(qs, ordering="-created_at", cursor=cursor, size=size)


def api_token_get(*, actor: User | None, token_id: int) -> ApiToken:
    """One of the actor's own tokens; anybody else's token is "not found"."""
    if not _active(actor):
        raise NotFound(_("Not found."))
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound(_("Not found."))
    return token


# --- who can see this record -------------------------------------------------------------


@dataclass(frozen=True)
class RecordType:
    label: str  # "customers.customer"
    name: str  # the model's verbose name, translated
    model: type[Model]


@dataclass(frozen=True)
class UserAccess:
    user: User
    view: Decision
    change: Decision
    delete: Decision

    @property
    def decisions(self) -> list[tuple[str, Decision]]:
        return [("view", self.view), ("change", self.change), ("delete", self.delete)]


@dataclass(frozen=True)
class AccessTable:
    rows: list[UserAccess]
    next_cursor: str | None
    previous_cursor: str | None


def record_types() -> list[RecordType]:
    """Every model under an access policy (main records and their child records)."""
    types = [
        RecordType(model._meta.label_lower, str(model._meta.verbose_name).capitalize(), model)
        for model in apps.get_models()
        if not model._meta.abstract and policy_key_of(model) in POLICIES
    ]
    # The main records first, in the order of the policy table, then the child records.
    order = {key: i for i, key in enumerate(POLICIES)}
    return sorted(types, key=lambda t: (order.get(t.label, len(order)), t.label))


def record_type(label: str) -> RecordType | None:
    return next((t for t in record_types() if t.label == label), None)


def record_for_access_check(*, actor: User | None, label: str, object_id: int) -> Model:
    """The record an administrator asks about; anyone else gets "not found"."""
    if not _active(actor) or actor is None or not actor.is_admin:
        raise NotFound(_("Not found."))
    kind = record_type(label)
    if kind is None:
        raise NotFound(_("Not found."))
    related = [
        path.rsplit("__", 1)[0]
        for path in (
            *getattr(kind.model, "access_owner_paths", ()),
            *getattr(kind.model, "access_team_paths", ()),
        )
        if "__" in path
    ]
    obj = kind.model._default_manager.select_related(*sorted(set(related))).filter(pk=object_id)
    found = obj.first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


def record_access(
    *, actor: User | None, obj: Model, cursor: str | None = None, size: int = 100
) -> AccessTable:
    """Every active user with whether and why they may view, change and delete ``obj``."""
    if not _active(actor) or actor is None or not actor.is_admin:
        raise NotFound(_("Not found."))
    page = keyset_page(
        User.objects.filter(is_active=True).select_related("team"),
        ordering="full_name",
        cursor=cursor,
        size=size,
    )
    rows = [
        UserAccess(
            user=user,
            view=explain(user, "view", obj),
            change=explain(user, "change", obj),
            delete=explain(user, "delete", obj),
        )
        for user in page.items
    ]
    return AccessTable(
        rows=rows, next_cursor=page.next_cursor, previous_cursor=page.previous_cursor
    )
