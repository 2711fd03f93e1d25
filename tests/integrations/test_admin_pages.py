"""The pages webhooks and order sources share (``views/_crud.py``): the same methods, sign-in,
"not found", stale versions, secrets never cached, for both kinds of record."""

from __future__ import annotations

import pytest
from django.urls import reverse

from vefa.integrations.models import OrderSource, Webhook
from vefa.integrations.services.sources import source_create
from vefa.integrations.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db


def _webhook(admin_user) -> tuple[str, int, str, dict[str, object]]:
    made = webhook_create(
        actor=admin_user,
        data={
            "name": "Shop hook",
            "url": "https://hooks.example.com/in",
            "rules": [{"entity": "order", "event": "created"}],
        },
    )
    form = {
        "name": "Renamed hook",
        "url": "https://hooks.example.com/v2",
        "rule_0_event": "order.created",
        "version": 1,
    }
    return "webhook", made.webhook.pk, made.secret, form


def _source(admin_user) -> tuple[str, int, str, dict[str, object]]:
    made = source_create(
        actor=admin_user, data={"name": "Shop", "key": "shop", "owner": admin_user.pk}
    )
    form = {
        "name": "Renamed shop",
        "key": "shop",
        "kind": made.source.kind,
        "default_currency": "TRY",
        "owner": admin_user.pk,
        "version": 1,
    }
    return "source", made.source.pk, made.secret, form


@pytest.fixture(params=[_webhook, _source], ids=["webhook", "source"])
def record(request, admin_user):
    return request.param(admin_user)


def test_methods_and_sign_in(client, admin_user, record):
    name, pk, _secret, _form = record
    for url_name in ("rotate", "delete"):
        url = reverse(f"integrations:{name}_{url_name}", args=[pk])
        assert client.post(url).status_code == 302  # to the sign-in page
        client.force_login(admin_user)
        assert client.get(url).status_code == 405
        client.logout()
    client.force_login(admin_user)
    assert client.put(reverse(f"integrations:{name}_list")).status_code == 405
    assert client.post(reverse(f"integrations:{name}_list")).status_code == 405
    model = Webhook if name == "webhook" else OrderSource
    assert model.objects.count() == 1


def test_missing_records_are_not_found(client, admin_user, record):
    name, pk, _secret, form = record
    client.force_login(admin_user)
    missing = pk + 1000
    assert client.get(reverse(f"integrations:{name}_edit", args=[missing])).status_code == 404
    assert (
        client.post(reverse(f"integrations:{name}_edit", args=[missing]), form).status_code == 404
    )
    for url_name in ("rotate", "delete"):
        url = reverse(f"integrations:{name}_{url_name}", args=[missing])
        assert client.post(url).status_code == 404


def test_edit_prefilled_saved_and_stale(client, admin_user, record):
    name, pk, _secret, form = record
    client.force_login(admin_user)
    url = reverse(f"integrations:{name}_edit", args=[pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"].initial["version"] == 1
    saved = client.post(url, form, follow=True)
    assert saved.redirect_chain[-1][0] == reverse(f"integrations:{name}_detail", args=[pk])
    assert "was saved" in saved.content.decode()
    stale = client.post(url, {**form, "name": "Again"})
    assert stale.status_code == 422
    assert stale.context["form"].non_field_errors()
    invalid = client.post(url, {**form, "name": "", "version": 2})
    assert invalid.status_code == 422 and invalid.context["form"].errors["name"]


def test_secret_page_is_never_cached_and_delete_goes_to_the_list(client, admin_user, record):
    name, pk, secret, _form = record
    client.force_login(admin_user)
    rotated = client.post(reverse(f"integrations:{name}_rotate", args=[pk]))
    assert rotated.status_code == 200 and rotated["Cache-Control"] == "no-store"
    assert secret.encode() not in rotated.content
    assert rotated.context["secret"].encode() in rotated.content
    deleted = client.post(reverse(f"integrations:{name}_delete", args=[pk]), follow=True)
    assert deleted.redirect_chain[-1][0] == reverse(f"integrations:{name}_list")
    assert "was deleted" in deleted.content.decode()


def test_new_source_form_proposes_the_person_as_owner(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("integrations:source_create"))
    assert page.status_code == 200 and page.context["form"].initial == {"owner": admin_user.pk}
    assert page.context["source"] is None
