"""Files attached to interactions: checked, fingerprinted and stored outside the web root."""

from __future__ import annotations

import hashlib
import os
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from vefa.interactions.models import Attachment, Interaction
from vefa.interactions.services._common import get_for, invalid
from vefa.platform.records import record_create, record_delete

if TYPE_CHECKING:
    from vefa.accounts.models import User

# Allowed extensions and the content type each is served with. Anything a browser would
# run (HTML, SVG, JavaScript) is absent on purpose.
ALLOWED_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain",
    "csv": "text/csv",
    "eml": "message/rfc822",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook",
}

# The family each extension's real content must sniff as.
_FAMILY: dict[str, str] = {
    "pdf": "pdf",
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "gif": "gif",
    "webp": "webp",
    "txt": "text",
    "csv": "text",
    "eml": "text",
    "docx": "ooxml",
    "xlsx": "ooxml",
    "pptx": "ooxml",
    "odt": "odf",
    "ods": "odf",
    "odp": "odf",
    "doc": "ole",
    "xls": "ole",
    "ppt": "ole",
    "msg": "ole",
}

_HTML_MARKERS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml")


def sniff_family(stream: IO[bytes], extension: str) -> str | None:
    """The kind of file the bytes really are (not what the name or the browser claims)."""
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
                if "[Content_Types].xml" in names:
                    return "ooxml"
                if "mimetype" in names:
                    mimetype = archive.read("mimetype")[:100]
                    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
                        return "odf"
        except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
            return None
        finally:
            stream.seek(0)
        return None
    if b"\x00" in head:
        return None
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(_HTML_MARKERS):
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut at the end of the sample; anything else is binary.
        if exc.start < len(head) - 3:
            return None
    return "text"


def clean_file_name(name: str) -> str:
    """A display name without any directory part, control or bidi-override characters."""
    name = str(name or "").replace("\\", "/").split("/")[-1]
    name = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    name = name.strip().strip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) <= 9 else name[:200]
    return name


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def attachment_add(
    *, actor: User | None, interaction_id: int, file: IO[bytes] | File, name: str | None = None
) -> Attachment:
    """Attach ``file`` to an interaction the actor may change.

    Refused with a field error on ``file``: an empty or oversized file
    (``VEFA_ATTACHMENT_MAX_BYTES``), an extension outside the allow-list, or content that does
    not really match its extension (a renamed executable or an HTML page). The stored name is
    the content's SHA-256 (never the user's name), in default storage, which lives outside
    the web root; the user's name is kept only for display and the download header.
    ``actor=None`` is the system storing a customer's file (inbound e-mail, the portal): the
    same upload rules, no access check.
    """
    display = clean_file_name(name if name is not None else getattr(file, "name", "") or "")
    extension = _extension(display)
    limit = int(settings.VEFA_ATTACHMENT_MAX_BYTES)
    if not display or extension not in ALLOWED_TYPES:
        allowed = ", ".join(sorted(ALLOWED_TYPES))
        message = _("This type of file is not allowed. Allowed: %(types)s.") % {"types": allowed}
        raise invalid({"file": [message]})
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, os.SEEK_END)
        size = file.tell()
    file.seek(0)
    if size == 0:
        raise invalid({"file": [_("The file is empty.")]})
    if size > limit:
        raise invalid(
            {"file": [_("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}]}
        )
    raw = file.file if isinstance(file, File) and file.file is not None else file
    if sniff_family(raw, extension) != _FAMILY[extension]:
        raise invalid({"file": [_("The file's content does not match its type.")]})
    digest = hashlib.sha256()
    raw.seek(0)
    for chunk in iter(lambda: raw.read(64 * 1024), b""):
        digest.update(chunk)
    raw.seek(0)
    with transaction.atomic():
        if actor is None:
            interaction = Interaction.objects.select_for_update().get(pk=interaction_id)
        else:
            interaction = get_for(
                Interaction.objects.all(), actor=actor, pk=interaction_id, action="change"
            )
        attachment = Attachment(
            interaction=interaction,
            original_name=display,
            content_type=ALLOWED_TYPES[extension],
            size=size,
            sha256=digest.hexdigest(),
        )
        attachment.file.save("upload", File(raw), save=False)
        stored = attachment.file.name
        try:
            record_create(attachment, actor=actor)
        except Exception:
            default_storage.delete(stored)
            raise
    return attachment


def attachment_files_forget(names: Iterable[str]) -> None:
    """Remove stored files after commit unless another attachment still uses them."""
    names = [n for n in names if n]
    if not names:
        return

    def remove() -> None:
        used = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
        for stored in names:
            if stored not in used and default_storage.exists(stored):
                default_storage.delete(stored)

    transaction.on_commit(remove)


def attachment_delete(*, actor: User, attachment_id: int) -> None:
    """Delete an attachment the actor may delete; the file goes after commit."""
    with transaction.atomic():
        attachment = get_for(
            Attachment.objects.all(), actor=actor, pk=attachment_id, action="delete"
        )
        stored = attachment.file.name
        record_delete(attachment, actor=actor)
        attachment_files_forget([stored] if stored else [])


def attachment_open(attachment: Attachment) -> IO[bytes]:
    """The stored bytes of an attachment already checked by a selector."""
    return default_storage.open(attachment.file.name, "rb")


__all__ = [
    "ALLOWED_TYPES",
    "attachment_add",
    "attachment_delete",
    "attachment_files_forget",
    "attachment_open",
    "clean_file_name",
    "sniff_family",
]
