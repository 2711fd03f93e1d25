"""Reads of the privacy app, for administrators only (anyone else finds nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from vefa.accounts.access import restrict
from vefa.common.errors import NotFound
from vefa.privacy.models import DeletionLog, ErasedAddress, LegalHold, PrivacyRequest
from vefa.privacy.subjects import address_hash

if TYPE_CHECKING:
    from vefa.accounts.models import User


def request_list(
    *, actor: User, status: str = "", subject_kind: str = "", subject_id: Any = None
) -> QuerySet[PrivacyRequest]:
    qs = restrict(PrivacyRequest.objects.select_related("requested_by"), actor)
    if status:
        qs = qs.filter(status=status)
    if subject_kind:
        qs = qs.filter(subject_kind=subject_kind)
    if subject_id not in (None, ""):
        try:
            qs = qs.filter(subject_id=int(subject_id))
        except (TypeError, ValueError):
            return qs.none()
    return qs.order_by("-received_at", "-id")


def request_get(*, actor: User, pk: Any) -> PrivacyRequest:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Not found.")) from None
    row = (
        restrict(PrivacyRequest.objects.all(), actor)
        .select_related("requested_by", "export_job", "erase_job", "deletion_log")
        .filter(pk=key)
        .first()
    )
    if row is None:
        raise NotFound(_("Not found."))
    return row


def legal_holds(*, actor: User, subject_kind: str, subject_id: int) -> list[LegalHold]:
    return list(
        restrict(LegalHold.objects.all(), actor)
        .filter(subject_kind=subject_kind, subject_id=subject_id)
        .order_by("-placed_at")
    )


def deletion_logs(*, actor: User, limit: int = 50) -> list[DeletionLog]:
    return list(restrict(DeletionLog.objects.all(), actor)[: max(1, min(limit, 500))])


def address_was_erased(address: str) -> bool:
    """Whether an e-mail address or phone number (E.164) belonged to an erased person.

    For importers and senders: the address itself is not stored anywhere, only its keyed
    hash (here, in the deletion log and in the marketing suppression that replaced it).
    """
    if not isinstance(address, str) or not address.strip() or len(address) > 1000:
        return False
    return ErasedAddress.objects.filter(digest=address_hash(address)).exists()
