"""Portal sign-in: single-use links (expiry, tampering, reuse), passwords, throttling, no
account enumeration, CSRF, session rotation, invitations from the staff page."""

from __future__ import annotations

import datetime
import re
import types

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.portal.conftest import sign_in
from vefa.accounts.choices import Role
from vefa.common.errors import ValidationFailed
from vefa.portal import services
from vefa.portal.auth import SESSION_KEY
from vefa.portal.models import PortalAccount, PortalToken

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/portal/login/link/[^/\s]+/)")


def _ask_link(client: Client, email: str, ip: str = "10.0.0.1"):
    return client.post(reverse("portal:login"), {"email": email}, REMOTE_ADDR=ip)


def _link_in_outbox() -> str:
    match = LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_magic_link_signs_in_once(world_a):
    client = Client()
    response = _ask_link(client, "A@Example.com")
    assert response.status_code == 302 and response["Location"] == reverse("portal:login_sent")
    assert mail.outbox[-1].to == ["a@example.com"]
    link = _link_in_outbox()
    token = link.rstrip("/").rsplit("/", 1)[-1]
    # Only the hash is stored.
    assert not PortalToken.objects.filter(token_hash=token).exists()
    assert PortalToken.objects.filter(token_hash=services.token_hash(token)).count() == 1
    # Opening the link (a mail scanner) does not use it; pressing the button does.
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200
    before = client.session.session_key
    response = client.post(link)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert client.session.session_key != before  # rotated
    assert client.session[SESSION_KEY] == world_a.account.pk
    assert client.get(reverse("portal:home")).status_code == 200
    # Used once: a second use, in any browser, fails.
    other = Client()
    assert other.post(link).status_code == 404
    assert other.get(reverse("portal:home")).status_code == 302
    world_a.account.refresh_from_db()
    assert world_a.account.last_login_at is not None


def test_expired_and_tampered_links_are_refused(world_a):
    client = Client()
    _ask_link(client, "a@example.com")
    link = _link_in_outbox()
    tampered = link[:-3] + ("A" if link[-3] != "A" else "B") + link[-2:]
    assert client.post(tampered).status_code == 404
    assert client.post("/portal/login/link/short/").status_code == 404
    PortalToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.post(link).status_code == 404
    assert client.get(reverse("portal:home")).status_code == 302


def test_link_of_a_switched_off_account_is_refused(world_a):
    client = Client()
    _ask_link(client, "a@example.com")
    link = _link_in_outbox()
    PortalAccount.objects.filter(pk=world_a.account.pk).update(is_active=False)
    assert client.post(link).status_code == 404


def test_no_enumeration_same_answer_for_unknown_address(world_a):
    known = _ask_link(Client(), "a@example.com", ip="10.0.0.2")
    sent = len(mail.outbox)
    unknown = _ask_link(Client(), "nobody@example.com", ip="10.0.0.3")
    invalid = _ask_link(Client(), "not an address", ip="10.0.0.4")
    assert known.status_code == unknown.status_code == invalid.status_code == 302
    assert known["Location"] == unknown["Location"] == invalid["Location"]
    assert len(mail.outbox) == sent == 1
    # A wrong password and an unknown address read the same.
    PortalAccount.objects.filter(pk=world_a.account.pk).update(
        password=make_password("Right-horse-42")
    )
    wrong = Client().post(reverse("portal:login"), {"email": "a@example.com", "password": "nope"})
    missing = Client().post(
        reverse("portal:login"), {"email": "zz@example.com", "password": "nope"}
    )
    assert wrong.status_code == missing.status_code == 400
    assert _without_tokens(wrong.content, "a@example.com") == _without_tokens(
        missing.content, "zz@example.com"
    )


def _without_tokens(html: bytes, email: str) -> bytes:
    """The page without its CSRF token and the address typed in (both differ by design)."""
    html = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
    return html.replace(email.encode(), b"")


def test_password_sign_in_and_throttle(world_a, settings):
    PortalAccount.objects.filter(pk=world_a.account.pk).update(
        password=make_password("Right-horse-42")
    )
    client = Client()
    response = client.post(
        reverse("portal:login"),
        {"email": "a@example.com", "password": "Right-horse-42", "next": "/portal/orders/"},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/orders/"
    # Five failures for one address, then even the right password is refused for a while.
    attacker = Client()
    for _ in range(services.LOGIN_PER_EMAIL - 1):
        r = attacker.post(reverse("portal:login"), {"email": "a@example.com", "password": "x"})
        assert r.status_code == 400
    blocked = attacker.post(
        reverse("portal:login"), {"email": "a@example.com", "password": "Right-horse-42"}
    )
    assert blocked.status_code == 429
    assert attacker.get(reverse("portal:home")).status_code == 302


def test_throttle_per_address_across_emails(world_a):
    client = Client()
    for i in range(services.LOGIN_PER_IP):
        assert _ask_link(client, f"x{i}@example.com", ip="10.9.9.9").status_code == 302
    assert _ask_link(client, "a@example.com", ip="10.9.9.9").status_code == 429
    assert _ask_link(client, "a@example.com", ip="10.9.9.8").status_code == 302


def test_open_redirects_are_refused(world_a):
    PortalAccount.objects.filter(pk=world_a.account.pk).update(
        password=make_password("Right-horse-42")
    )
    for target in ("https://evil.example/", "//evil.example/portal/", "/customers/"):
        response = Client().post(
            reverse("portal:login"),
            {"email": "a@example.com", "password": "Right-horse-42", "next": target},
        )
        assert response["Location"] == reverse("portal:home"), target


def test_csrf_is_enforced_on_portal_forms(world_a):
    client = Client(enforce_csrf_checks=True)
    assert _ask_link(client, "a@example.com").status_code == 403
    sign_in(Client(), world_a.account)  # the helper itself posts without a token on purpose
    signed = Client(enforce_csrf_checks=True)
    token = services._issue_token(world_a.account, "login", datetime.timedelta(minutes=15))
    assert signed.post(f"/portal/login/link/{token}/").status_code == 403
    page = signed.get(f"/portal/login/link/{token}/")
    csrf = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1)
    assert (
        signed.post(
            f"/portal/login/link/{token}/", {"csrfmiddlewaretoken": csrf.decode()}
        ).status_code
        == 302
    )
    assert signed.post(reverse("portal:ticket_new"), {"type": "question"}).status_code == 403


def test_setting_a_password_ends_other_sessions(world_a):
    first = sign_in(Client(), world_a.account)
    second = sign_in(Client(), world_a.account)
    response = first.post(
        reverse("portal:details"),
        {"form": "password", "password": "Long-enough-pass-77", "confirm": "Long-enough-pass-77"},
    )
    assert response.status_code == 302
    assert first.get(reverse("portal:home")).status_code == 200
    assert second.get(reverse("portal:home")).status_code == 302
    world_a.account.refresh_from_db()
    assert world_a.account.password.startswith(("md5$", "argon2"))
    weak = first.post(
        reverse("portal:details"), {"form": "password", "password": "123", "confirm": "123"}
    )
    assert weak.status_code == 422


def test_staff_invite_sends_a_working_link(world_a, agent, django_capture_on_commit_callbacks):
    from tests.customers.factories import make_customer
    from vefa.customers.models import CustomerRelationship

    colleague = make_customer(first_name="Mehmet", last_name="Demir", owner=agent, team=agent.team)
    CustomerRelationship.objects.create(
        from_customer=colleague, to_customer=world_a.customer, kind="works_at"
    )
    staff = Client()
    staff.force_login(agent)
    url = reverse("portal:staff_accounts")
    page = staff.get(url, {"customer": world_a.customer.pk})
    assert page.status_code == 200 and "Mehmet Demir" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            url,
            {
                "customer": world_a.customer.pk,
                "action": "invite",
                "contact": colleague.pk,
                "email": "Mehmet@Example.com",
                "language": "tr",
            },
        )
    assert response.status_code == 302
    account = PortalAccount.objects.get(email="mehmet@example.com")
    assert (account.customer, account.contact, account.language) == (
        world_a.customer,
        colleague,
        "tr",
    )
    link = _link_in_outbox()
    contact = Client()
    assert contact.post(link).status_code == 302
    home = contact.get(reverse("portal:home"))
    assert home.status_code == 200 and 'lang="tr"' in home.content.decode()
    # The same address cannot be given to someone else; unknown people are refused.
    again = staff.post(
        url,
        {
            "customer": world_a.customer.pk,
            "action": "invite",
            "contact": world_a.contact.pk,
            "email": "mehmet@example.com",
        },
    )
    assert again.status_code == 422
    stranger = make_customer(first_name="Yabancı", owner=agent, team=agent.team)
    refused = staff.post(
        url,
        {
            "customer": world_a.customer.pk,
            "action": "invite",
            "contact": stranger.pk,
            "email": "y@example.com",
        },
    )
    assert refused.status_code == 422
    assert not PortalAccount.objects.filter(email="y@example.com").exists()


def test_staff_can_switch_an_account_off(world_a, agent):
    staff = Client()
    staff.force_login(agent)
    portal = sign_in(Client(), world_a.account)
    response = staff.post(
        reverse("portal:staff_accounts"),
        {"customer": world_a.customer.pk, "action": "deactivate", "account": world_a.account.pk},
    )
    assert response.status_code == 302
    assert portal.get(reverse("portal:home")).status_code == 302


def test_invite_needs_change_rights(world_a, team):
    reader = UserFactory(role=Role.READ_ONLY, team=team)
    with pytest.raises(Exception) as caught:
        services.account_invite(
            actor=reader,
            customer_id=world_a.customer.pk,
            contact_id=world_a.contact.pk,
            email="r@example.com",
            link_base="http://testserver/portal/login/link/",
        )
    assert type(caught.value).__name__ in ("PermissionDenied", "NotFound")
    with pytest.raises(ValidationFailed):
        services.login_password(email=["a"], password=None, ip_address="1.1.1.1")


def test_a_private_customer_gets_access_to_their_own_records(
    agent, django_capture_on_commit_callbacks
):
    from tests.customers.factories import make_customer
    from tests.service.returns_helpers import make_order, make_product

    person = make_customer(first_name="Ali", last_name="Rezaei", owner=agent, team=agent.team)
    order = make_order(person, [(make_product(), "1", "10")])
    with django_capture_on_commit_callbacks(execute=True):
        account = services.account_invite(
            actor=agent,
            customer_id=person.pk,
            contact_id=person.pk,
            email="ali@example.com",
            language="fa",
            link_base="http://testserver/portal/login/link/",
        )
    assert account.customer == account.contact == person
    client = Client()
    assert client.post(_link_in_outbox()).status_code == 302
    page = client.get(reverse("portal:order", args=[order.pk]))
    assert page.status_code == 200 and 'dir="rtl"' in page.content.decode()


def test_asking_for_a_link_does_the_same_work_for_every_address(world_a, monkeypatch):
    from vefa.portal import tasks

    queued: list[dict] = []
    monkeypatch.setattr(
        services,
        "send_sign_in_link",
        types.SimpleNamespace(enqueue=lambda **kwargs: queued.append(kwargs)),
    )
    _ask_link(Client(), "A@example.com", ip="10.3.0.1")
    _ask_link(Client(), "nobody@example.com", ip="10.3.0.2")
    assert [q["email"] for q in queued] == ["a@example.com", "nobody@example.com"]
    # The task's arguments hold no token; it is made inside the task.
    assert all(set(q) == {"email", "link_base"} for q in queued)
    assert not PortalToken.objects.exists()
    assert tasks.send_sign_in_link.func(**queued[1]) is False
    assert tasks.send_sign_in_link.func(**queued[0]) is True
    assert PortalToken.objects.count() == 1 and len(mail.outbox) == 1


def test_a_failing_mail_server_is_logged_not_shown(world_a, settings, caplog):
    settings.EMAIL_BACKEND = "tests.portal.test_auth.BrokenBackend"
    response = _ask_link(Client(), "a@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login_sent")
    assert "could not be e-mailed" in caplog.text


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_old_links_are_purged_hourly(world_a):
    from vefa.platform.periodic import jobs

    now = timezone.now()
    keep = services._issue_token(world_a.account, "login", datetime.timedelta(minutes=15))
    used = services._issue_token(world_a.account, "login", datetime.timedelta(minutes=15))
    expired = services._issue_token(world_a.account, "login", datetime.timedelta(minutes=15))
    PortalToken.objects.filter(token_hash=services.token_hash(used)).update(
        used_at=now - datetime.timedelta(days=2)
    )
    PortalToken.objects.filter(token_hash=services.token_hash(expired)).update(
        expires_at=now - datetime.timedelta(days=1, minutes=1)
    )
    assert "portal.purge_links" in jobs()
    jobs()["portal.purge_links"].func()
    assert list(PortalToken.objects.values_list("token_hash", flat=True)) == [
        services.token_hash(keep)
    ]
