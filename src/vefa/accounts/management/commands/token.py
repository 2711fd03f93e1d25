"""``vefa token create|list|revoke``: personal API tokens from the command line.

    vefa token create --user EMAIL [--name NAME] [--expires-days N]   prints only the new key
    vefa token list --user EMAIL
    vefa token revoke --id N

The operator at the command line is trusted like the system: these act without a signed-in
user, and each change is written to the change log with the actor "system".
"""

from __future__ import annotations

import datetime
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vefa.accounts import services
from vefa.accounts.models import ApiToken, User
from vefa.common.errors import ApplicationError


def _errors(exc: ApplicationError) -> str:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
    return f"{exc.message} {details}".strip()


def _iso(value: datetime.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="create a token and print its key (shown once)")
        create.add_argument("--user", required=True, help="the e-mail of the token's user")
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument(
            "--expires-days", type=int, default=None, help="expire after this many days"
        )
        listing = sub.add_parser("list", help="list a user's tokens (never their keys)")
        listing.add_argument("--user", required=True, help="the e-mail of the tokens' user")
        revoke = sub.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("--id", type=int, required=True, dest="token_id")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            self._list(options)
        else:
            self._revoke(options)

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user has the e-mail {email!r}.")
        return user

    def _create(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        days = options["expires_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        try:
            _token, key = services.api_token_create(
                actor=None, user=user, name=options["name"], expires_at=expires_at
            )
        except ApplicationError as exc:
            raise CommandError(_errors(exc)) from exc
        # Only the key on stdout, so scripts can capture it: KEY=$(vefa token create …).
        self.stdout.write(key)

    def _list(self, options: dict[str, Any]) -> None:
        user = self._user(options["user"])
        tokens = ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
        now = timezone.now()
        self.stdout.write("id\tprefix\tname\tcreated\tlast used\texpires\tstatus")
        for token in tokens.iterator():
            if token.revoked_at is not None:
                status = "revoked"
            elif not token.is_usable(now):
                status = "expired"
            else:
                status = "active"
            self.stdout.write(
                "\t".join(
                    [
                        str(token.pk),
                        token.prefix,
                        " ".join(token.name.split()),
                        token.created_at.isoformat(timespec="seconds"),
                        _iso(token.last_used_at),
                        _iso(token.expires_at),
                        status,
                    ]
                )
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = ApiToken.objects.filter(pk=options["token_id"]).first()
        if token is None:
            raise CommandError(f"No token has the id {options['token_id']}.")
        already = token.revoked_at is not None
        services.api_token_revoke(actor=None, token=token)
        self.stdout.write(
            f"Token {token.pk} was already revoked." if already else f"Token {token.pk} revoked."
        )
