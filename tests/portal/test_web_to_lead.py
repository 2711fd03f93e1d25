"""Web-to-lead: consent text and version on the form, the ticked box kept as evidence and
recorded for the customer on conversion, campaign and utm_* attribution, honeypot and rate
limit on lead forms, staff settings validated."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from vefa.accounts.choices import Role
from vefa.common.errors import ValidationFailed
from vefa.customers.models import Consent, Lead
from vefa.customers.services.leads import lead_convert
from vefa.marketing.models import Campaign
from vefa.portal import services
from vefa.portal.models import WebForm, WebFormLead

pytestmark = pytest.mark.django_db

HOSTILE_TEXT = '<script>alert(1)</script> ‏موافقم‏ =HYPERLINK("x")'

GOOD = {
    "name": "Dragana Jovanović",
    "email": "dragana@example.rs",
    "phone": "+381 64 123 4567",
    "subject": "Ponuda",
    "message": "Zanima me ponuda.",
}


@pytest.fixture(autouse=True)
def _clear_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(name="Spring fair", objective="acquisition")


@pytest.fixture
def lead_form(admin_user, team, campaign) -> WebForm:
    rep = UserFactory(role=Role.SALES_MANAGER, team=team)
    return services.webform_create(
        actor=admin_user,
        data={
            "name": "Contact us",
            "target": "lead",
            "lead_owner": rep.pk,
            "consent_text": HOSTILE_TEXT,
            "consent_version": "2026-03",
            "lead_source": "event",
            "campaign": campaign.pk,
        },
    )


def _url(form: WebForm, query: str = "") -> str:
    return reverse("portal:webform", args=[form.key]) + query


def test_form_shows_the_consent_text_escaped_and_keeps_utm(lead_form):
    page = Client().get(_url(lead_form, "?utm_source=newsletter&utm_campaign=%3Cb%3Espring"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "2026-03" in html and 'name="consent"' in html
    assert 'value="newsletter"' in html and 'value="&lt;b&gt;spring"' in html


def test_ticked_box_and_attribution_are_kept_with_the_lead(lead_form, campaign):
    data = {
        **GOOD,
        "consent": "1",
        "utm_source": "newsletter",
        "utm_medium": "email\x00\x07",
        "utm_campaign": "x" * 500,
        "page_url": "https://www.example.rs/kontakt",
    }
    response = Client().post(_url(lead_form), data, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert lead.source == "event"
    entry = WebFormLead.objects.get(lead=lead)
    assert entry.campaign == campaign and entry.form == lead_form
    assert entry.consent_given and entry.consent_version == "2026-03"
    assert entry.consent_text == HOSTILE_TEXT
    assert entry.utm_source == "newsletter" and entry.utm_medium == "email"
    assert len(entry.utm_campaign) == 200
    assert entry.ip_address == "10.9.9.9" and entry.page_url.endswith("/kontakt")


def test_unticked_box_records_no_consent(lead_form):
    assert Client().post(_url(lead_form), GOOD).status_code == 302
    entry = WebFormLead.objects.get()
    assert not entry.consent_given and entry.consent_version == ""


def test_consent_recorded_for_the_customer_on_conversion(
    lead_form, admin_user, django_capture_on_commit_callbacks
):
    Client().post(_url(lead_form), {**GOOD, "consent": "on"})
    lead = Lead.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        conversion = lead_convert(actor=admin_user, lead_id=lead.pk)
    consents = Consent.objects.filter(customer=conversion.customer).order_by("channel")
    assert [(c.channel, c.purpose, c.status, c.text_version) for c in consents] == [
        ("email", "marketing", "granted", "2026-03"),
        ("sms", "marketing", "granted", "2026-03"),
    ]
    entry = WebFormLead.objects.get(lead=lead)
    assert entry.consent_recorded_at is not None
    assert consents[0].recorded_at == entry.submitted_at
    # Done once: asking again writes nothing more.
    assert services.webform_consent_to_customer(lead_id=lead.pk, actor=admin_user) is False
    assert Consent.objects.filter(customer=conversion.customer).count() == 2


def test_no_consent_without_the_box(lead_form, admin_user, django_capture_on_commit_callbacks):
    Client().post(_url(lead_form), GOOD)
    lead = Lead.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        conversion = lead_convert(actor=admin_user, lead_id=lead.pk)
    assert not Consent.objects.filter(customer=conversion.customer).exists()


def test_honeypot_and_rate_limit_hold_for_lead_forms(lead_form):
    trap = Client().post(_url(lead_form), {**GOOD, "website": "http://spam.example"})
    assert trap.status_code == 302 and not Lead.objects.exists()
    client = Client()
    for i in range(services.FORM_PER_IP):
        data = {**GOOD, "subject": f"s{i}"}
        assert client.post(_url(lead_form), data, REMOTE_ADDR="10.3.3.3").status_code == 302
    assert client.post(_url(lead_form), GOOD, REMOTE_ADDR="10.3.3.3").status_code == 429
    assert Lead.objects.count() == WebFormLead.objects.count() == services.FORM_PER_IP


def test_bad_input_keeps_nothing(lead_form):
    response = Client().post(_url(lead_form), {**GOOD, "email": "not-an-address", "consent": "1"})
    assert response.status_code == 422
    assert not Lead.objects.exists() and not WebFormLead.objects.exists()


def test_staff_settings_are_validated(admin_user, team):
    rep = UserFactory(role=Role.SALES_REP, team=team)
    base = {"name": "F", "target": "lead", "lead_owner": rep.pk}
    with pytest.raises(ValidationFailed) as no_version:
        services.webform_create(actor=admin_user, data={**base, "consent_text": "OK?"})
    assert "consent_version" in no_version.value.fields
    with pytest.raises(ValidationFailed) as source:
        services.webform_create(actor=admin_user, data={**base, "lead_source": "'; DROP"})
    assert "lead_source" in source.value.fields
    with pytest.raises(ValidationFailed) as campaign:
        services.webform_create(actor=admin_user, data={**base, "campaign": "999999"})
    assert "campaign" in campaign.value.fields
    page = Client()
    page.force_login(admin_user)
    saved = page.post(
        reverse("portal:staff_forms"),
        {
            **base,
            "consent_text": "Evet",
            "consent_version": "v1",
            "lead_source": "web",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302
    assert WebForm.objects.get(name="F").consent_version == "v1"
