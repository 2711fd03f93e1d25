"""``vefa token create|list|revoke`` (the management command)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from vefa.accounts import services
from vefa.accounts.models import ApiToken
from vefa.platform.models import ChangeLogEntry


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("token", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_prints_only_the_key(rep):
    out = run("create", "--user", rep.email.upper(), "--name", "Nightly export")
    key = out.strip()
    assert out == key + "\n"
    assert key.startswith("vefa_")
    assert services.api_token_authenticate(key) == rep
    token = ApiToken.objects.get(user=rep)
    assert token.name == "Nightly export"
    entry = ChangeLogEntry.objects.get(model="accounts.apitoken", object_id=token.pk)
    assert (entry.action, entry.actor_id, entry.actor_name) == ("create", None, "system")


@pytest.mark.django_db
def test_create_with_an_expiry(rep):
    run("create", "--user", rep.email, "--expires-days", "7")
    assert ApiToken.objects.get(user=rep).expires_at is not None
    with pytest.raises(CommandError, match="at least 1"):
        run("create", "--user", rep.email, "--expires-days", "0")


@pytest.mark.django_db
def test_create_refuses_unknown_users_and_bad_names(rep, admin_user):
    with pytest.raises(CommandError, match=re.escape("No user has the e-mail 'ghost@example.com'")):
        run("create", "--user", "ghost@example.com")
    with pytest.raises(CommandError, match="name: At most 100 characters"):
        run("create", "--user", rep.email, "--name", "n" * 10_000)
    services.user_set_active(actor=admin_user, user=rep, active=False)
    with pytest.raises(CommandError, match=re.escape("This user is inactive.")):
        run("create", "--user", rep.email)
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_list_shows_tokens_without_keys(rep):
    key = run("create", "--user", rep.email, "--name", "One").strip()
    token = ApiToken.objects.get()
    services.api_token_revoke(actor=None, token=token)
    run("create", "--user", rep.email, "--name", "Two\tTabbed")
    out = run("list", "--user", rep.email)
    lines = out.strip().split("\n")
    assert lines[0] == "id\tprefix\tname\tcreated\tlast used\texpires\tstatus"
    assert [line.split("\t")[2] for line in lines[1:]] == ["Two Tabbed", "One"]
    assert [line.split("\t")[-1] for line in lines[1:]] == ["active", "revoked"]
    assert key not in out


@pytest.mark.django_db
def test_revoke_by_id(rep):
    key = run("create", "--user", rep.email).strip()
    token = ApiToken.objects.get()
    assert run("revoke", "--id", str(token.pk)) == f"Token {token.pk} revoked.\n"
    assert services.api_token_authenticate(key) is None
    assert run("revoke", "--id", str(token.pk)) == f"Token {token.pk} was already revoked.\n"
    with pytest.raises(CommandError, match=re.escape("No token has the id 999999.")):
        run("revoke", "--id", "999999")


@pytest.mark.django_db
def test_an_action_is_required():
    with pytest.raises(CommandError):
        call_command("token")
