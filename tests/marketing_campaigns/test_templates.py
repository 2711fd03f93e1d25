"""Message templates: services, pages, API; validation of the template language, hostile
text escaped, the preview in a sandboxed frame, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.marketing_campaigns.conftest import HOSTILE, make_campaign
from vefa.common.errors import NotFound, PermissionDenied, ValidationFailed
from vefa.marketing.choices import CampaignStatus
from vefa.marketing.models import CampaignVariant, MessageTemplate, TemplateVersion
from vefa.marketing.services.templates import template_copy, template_create, template_update
from vefa.platform.models import ChangeLogEntry


def data(**extra):
    values = {
        "name": "Spring offer",
        "channel": "email",
        "default_language": "tr",
        "versions": {
            "tr": {"subject": "Merhaba {{ first_name }}", "body_html": "<p>Merhaba</p>"},
            "fa": {"subject": "سلام {{ first_name }}", "body_text": "سلام"},
        },
    }
    values.update(extra)
    return values


def test_create_with_versions_and_change_log(marketer):
    template = template_create(actor=marketer, data=data())
    assert template.owner == marketer
    assert set(template.versions.values_list("language", flat=True)) == {"tr", "fa"}
    assert ChangeLogEntry.objects.filter(object_id=template.pk).exists()


@pytest.mark.parametrize(
    ("versions", "field"),
    [
        ({"tr": {"subject": "Hi {% if first_name %}", "body_html": "x"}}, "subject_tr"),
        ({"tr": {"subject": "Hi", "body_html": "{{ password }}"}}, "body_html_tr"),
        ({"tr": {"subject": "", "body_html": "<p>x</p>"}}, "subject_tr"),
        ({"tr": {"subject": "Hi"}}, "body_html_tr"),
        ({"xx": {"subject": "Hi", "body_text": "x"}}, "versions.xx"),
        ({"tr": {"subject": 5, "body_text": "x"}}, "subject_tr"),
        ({"tr": {"subject": "a\x00b", "body_text": "x"}}, "subject_tr"),
    ],
)
def test_invalid_versions_name_the_field(marketer, versions, field):
    with pytest.raises(ValidationFailed) as error:
        template_create(actor=marketer, data=data(versions=versions, default_language="tr"))
    assert field in error.value.fields
    assert not MessageTemplate.objects.exists()


def test_default_language_needs_a_version(marketer):
    with pytest.raises(ValidationFailed) as error:
        template_create(actor=marketer, data=data(default_language="en"))
    assert "default_language" in error.value.fields


def test_sms_needs_the_text_body(marketer):
    with pytest.raises(ValidationFailed) as error:
        template_create(
            actor=marketer,
            data=data(channel="sms", versions={"tr": {"body_html": "<p>x</p>"}}),
        )
    assert "body_text_tr" in error.value.fields


def test_unknown_fields_and_roles(marketer, rep):
    with pytest.raises(ValidationFailed):
        template_create(actor=marketer, data=data(owner=1))
    with pytest.raises(NotFound):
        template_create(actor=rep, data=data())


def test_template_of_a_sent_campaign_keeps_its_texts(marketer, template):
    campaign = make_campaign(marketer, status=CampaignStatus.COMPLETED)
    CampaignVariant.objects.create(campaign=campaign, code="A", template=template, weight=100)
    with pytest.raises(ValidationFailed) as error:
        template_update(
            actor=marketer,
            template_id=template.pk,
            data={"versions": {"en": {"subject": "New", "body_text": "x"}}},
        )
    assert "versions" in error.value.fields
    # The name may still change, and a copy can be edited.
    template_update(actor=marketer, template_id=template.pk, data={"name": "Renamed"})
    copy = template_copy(actor=marketer, template_id=template.pk)
    template_update(
        actor=marketer,
        template_id=copy.pk,
        data={"versions": {"en": {"subject": "New", "body_text": "x"}}},
    )
    assert TemplateVersion.objects.get(template=copy).subject == "New"


def test_sales_cannot_change(rep, template):
    with pytest.raises(PermissionDenied):
        template_update(actor=rep, template_id=template.pk, data={"name": "x"})
    template.refresh_from_db()
    assert template.name == "Welcome back"


def test_pages_escape_hostile_names(client, marketer):
    for i, text in enumerate(HOSTILE):
        template_create(
            actor=marketer,
            data=data(name=f"{text} {i}", versions={"tr": {"subject": text, "body_text": text}}),
        )
    client.force_login(marketer)
    page = client.get(reverse("marketing:template_list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    one = MessageTemplate.objects.order_by("pk").first()
    detail = client.get(reverse("marketing:template_detail", args=[one.pk]))
    assert detail.status_code == 200
    assert "<script>alert(1)</script>" not in detail.content.decode()


def test_form_creates_and_shows_errors(client, marketer):
    client.force_login(marketer)
    url = reverse("marketing:template_create")
    assert client.get(url).status_code == 200
    bad = client.post(
        url,
        {
            "name": "X",
            "channel": "email",
            "default_language": "tr",
            "subject_tr": "{% load evil %}",
            "body_text_tr": "hi",
        },
    )
    assert bad.status_code == 422
    good = client.post(
        url,
        {
            "name": "X",
            "channel": "email",
            "default_language": "tr",
            "subject_tr": "Merhaba",
            "body_text_tr": "hi",
        },
    )
    assert good.status_code == 302
    assert MessageTemplate.objects.get().name == "X"


def test_preview_is_sandboxed_and_escapes_customer_data(client, marketer, template, customer):
    customer.first_name = '<img src=x onerror="alert(1)">'
    customer.save()
    client.force_login(marketer)
    response = client.get(
        reverse("marketing:template_preview", args=[template.pk]), {"to_customer": customer.pk}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'sandbox=""' in body
    assert "srcdoc=" in body
    assert '<img src=x onerror="alert(1)">' not in body
    # The text part escapes too (shown in a <pre>).
    assert "onerror=&quot;alert(1)&quot;" in body or "onerror=&amp;quot;" in body


def test_preview_of_a_hidden_customer_is_refused(client, marketer, template, rep_other_team):
    from tests.customers.factories import make_customer

    hidden = make_customer(owner=rep_other_team, team_id=rep_other_team.team_id, first_name="Z")
    client.force_login(marketer)
    response = client.get(
        reverse("marketing:template_preview", args=[template.pk]), {"to_customer": hidden.pk}
    )
    # Marketers see every customer; the preview works only for customers the user may see.
    assert response.status_code == 200


def test_hidden_template_is_404(client, marketer_other_team, template, read_only):
    client.force_login(read_only)
    assert client.get(reverse("marketing:template_detail", args=[template.pk])).status_code == 200
    assert client.get(reverse("marketing:template_edit", args=[template.pk])).status_code == 404
    assert client.get(reverse("marketing:template_create")).status_code == 404


def test_api_create_read_update(client, marketer):
    client.force_login(marketer)
    created = client.post(
        "/api/v1/marketing/templates",
        data={
            "name": "API",
            "channel": "email",
            "default_language": "en",
            "versions": {"en": {"subject": "Hi", "body_text": "Hello {{ first_name }}"}},
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    detail = client.get(f"/api/v1/marketing/templates/{pk}")
    assert detail.json()["versions"][0]["language"] == "en"
    bad = client.patch(
        f"/api/v1/marketing/templates/{pk}",
        data={"versions": {"en": {"subject": "{{ secret_key }}", "body_text": "y"}}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert "subject_en" in bad.json()["fields"]
    listing = client.get("/api/v1/marketing/templates")
    assert [t["id"] for t in listing.json()["items"]] == [pk]
