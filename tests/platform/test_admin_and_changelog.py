"""The change log cannot be edited or deleted; admin pages of platform records."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from vefa.platform.models import (
    ChangeLogEntry,
    CustomFieldDefinition,
    Job,
    Notification,
    SearchEntry,
    Tag,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    return ChangeLogEntry.objects.create(
        action="create", model="customers.customer", object_id=1, object_repr="Ayşe", after={"a": 1}
    )


def test_the_change_log_refuses_edits_and_deletes_through_the_application(entry):
    with pytest.raises(TypeError):
        ChangeLogEntry.objects.filter(pk=entry.pk).update(object_repr="forged")
    with pytest.raises(TypeError):
        ChangeLogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError):
        ChangeLogEntry.objects.all().delete()
    entry.object_repr = "forged"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    fresh = ChangeLogEntry.objects.get(pk=entry.pk)
    assert fresh.object_repr == "Ayşe"


@pytest.mark.parametrize("model", [ChangeLogEntry, SearchEntry])
def test_read_only_admins_offer_no_add_change_or_delete(admin_user, model):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_delete_permission(request) is False
    assert model_admin.get_actions(request) == {}


def test_admin_pages_of_platform_records_load(client, admin_user, entry, rep):
    Job.objects.create(kind="k", title="Job", user=rep)
    Notification.objects.create(recipient=rep, verb="v", text="<b>n</b>")
    Tag.objects.create(name="VIP", slug="vip")
    client.force_login(admin_user)
    for name in (
        "changelogentry",
        "searchentry",
        "job",
        "notification",
        "tag",
        "customfielddefinition",
        "periodicrun",
        "savedview",
    ):
        response = client.get(f"/admin/platform/{name}/")
        assert response.status_code == 200, name
    detail = client.get(f"/admin/platform/changelogentry/{entry.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    delete = client.post(f"/admin/platform/changelogentry/{entry.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert ChangeLogEntry.objects.filter(pk=entry.pk).exists()


def _definition_form(client, **changes):
    data = {
        "model": "customers.customer",
        "key": "tier",
        "label": "Tier",
        "field_type": "text",
        "choices": "",
        "order": "100",
        "regex": "",
        "help_text": "",
        "searchable": "on",
        **changes,
    }
    return client.post("/admin/platform/customfielddefinition/add/", data)


def test_the_custom_field_admin_validates_like_the_api(client, admin_user):
    client.force_login(admin_user)
    missing = _definition_form(client, field_type="choice")
    assert missing.status_code == 200
    assert "List the values to choose from." in missing.content.decode()
    bad_key = _definition_form(client, key="Bad Key")
    assert bad_key.status_code == 200
    assert not CustomFieldDefinition.objects.exists()

    created = _definition_form(client, field_type="choice", choices="gold\nsilver\n\n")
    assert created.status_code == 302
    definition = CustomFieldDefinition.objects.get()
    assert definition.choices == ["gold", "silver"]
    assert ChangeLogEntry.objects.filter(
        model="platform.customfielddefinition", action="create"
    ).exists()

    duplicate = _definition_form(client, field_type="text")
    assert duplicate.status_code == 200
    assert CustomFieldDefinition.objects.count() == 1


def test_non_staff_users_cannot_open_the_admin(client, rep):
    client.force_login(rep)
    response = client.get("/admin/platform/changelogentry/")
    assert response.status_code == 302
