"""The suppressions API, the SMS provider against a local HTTP server, the letters file and
the phone channel's call tasks."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory
from tests.marketing_sending.conftest import customer_with_consent, grant, make_campaign
from vefa.accounts.choices import Role
from vefa.accounts.services import api_token_create
from vefa.customers.models import Address
from vefa.interactions.models import Activity
from vefa.marketing.channels import (
    HttpSmsProvider,
    SmsError,
    cell_safe,
    letter_rows,
    letters_file,
)
from vefa.marketing.choices import RecipientStatus
from vefa.marketing.models import (
    CampaignRecipient,
    MessageTemplate,
    Suppression,
    TemplateVersion,
)
from vefa.marketing.services.sending import campaign_launch

pytestmark = pytest.mark.django_db
BASE = "/api/v1/marketing/suppressions"


def client_for(user) -> Client:
    _, key = api_token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


def test_api_add_list_remove(marketer, rules):
    client = client_for(marketer)
    created = post(client, BASE, {"channel": "sms", "address": "0532 123 45 67", "note": "asked"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["address"] == "+905321234567"
    assert body["reason"] == "manual"
    again = post(client, BASE, {"channel": "sms", "address": "+90 532 123 45 67"})
    assert again.status_code == 422
    assert "address" in again.json()["fields"]
    bad = post(client, BASE, {"channel": "fax", "address": "<script>"})
    assert bad.status_code == 422 and "channel" in bad.json()["fields"]
    listing = client.get(BASE, {"channel": "sms"})
    assert [item["address"] for item in listing.json()["items"]] == ["+905321234567"]
    no_reason = post(client, f"{BASE}/{body['id']}/remove", {"reason": "  "})
    assert no_reason.status_code == 422
    rep = client_for(UserFactory(role=Role.SALES_REP))
    assert post(rep, f"{BASE}/{body['id']}/remove", {"reason": "x"}).status_code == 404
    assert post(rep, BASE, {"channel": "email", "address": "a@b.example"}).status_code == 404
    assert rep.get(BASE).status_code == 200
    done = post(client, f"{BASE}/{body['id']}/remove", {"reason": "consent given again"})
    assert done.status_code == 204
    assert not Suppression.objects.exists()
    assert post(client, f"{BASE}/{body['id']}/remove", {"reason": "x"}).status_code == 404


class _Provider(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        payload = json.loads(self.rfile.read(length))
        payload["auth"] = self.headers.get("Authorization")
        payload["key"] = self.headers.get("Idempotency-Key")
        type(self).received.append(payload)
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"sms-{len(type(self).received)}"}).encode())

    def log_message(self, *args):
        return


@pytest.fixture
def sms_server():
    _Provider.received = []
    _Provider.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()


def test_sms_campaign_through_the_http_provider(marketer, rules, sms_server):
    template = MessageTemplate.objects.create(name="SMS", channel="sms", owner=marketer)
    TemplateVersion.objects.create(
        template=template, language="tr", body_text="Merhaba {{ first_name }}, %20 indirim"
    )
    texting = customer_with_consent(1, primary_phone="0532 111 22 33", first_name="<b>Ali</b>")
    grant(texting, channel="sms")
    email_only = customer_with_consent(2, primary_phone="0532 111 22 44")
    campaign = make_campaign(marketer, template, [texting, email_only])
    with override_settings(
        VEFA_SMS_PROVIDER="http", VEFA_SMS_URL=sms_server, VEFA_SMS_TOKEN="secret"
    ):
        campaign_launch(actor=marketer, campaign_id=campaign.pk)
    assert len(_Provider.received) == 1
    [sms] = _Provider.received
    assert sms["to"] == "+905321112233"
    assert sms["text"] == "Merhaba <b>Ali</b>, %20 indirim"
    assert sms["auth"] == "Bearer secret"
    row = CampaignRecipient.objects.get(customer=texting)
    assert row.status == RecipientStatus.SENT and row.message_id == "sms-1"
    assert sms["key"] == row.token
    assert CampaignRecipient.objects.get(customer=email_only).status == RecipientStatus.NO_CONSENT


def test_sms_provider_errors(sms_server):
    _Provider.status = 400
    with pytest.raises(SmsError) as caught:
        HttpSmsProvider(url=sms_server).send(to="+905321112233", text="x", reference="r")
    assert caught.value.permanent
    with pytest.raises(SmsError):
        HttpSmsProvider(url="file:///etc/passwd")


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+90", "'+90"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ayşe", "Ayşe"),
    ],
)
def test_cells_are_formula_safe(value, safe):
    assert cell_safe(value) == safe


def test_letter_campaign_gives_a_mail_merge_file(marketer, rules):
    template = MessageTemplate.objects.create(name="Catalogue", channel="letter", owner=marketer)
    TemplateVersion.objects.create(template=template, language="tr", body_text="Katalog")
    customer = customer_with_consent(1, first_name='=HYPERLINK("x")')
    grant(customer, channel="post")
    Address.objects.create(
        customer=customer,
        kind="home",
        line1="=cmd|' /C calc'!A0",
        city="İstanbul",
        country="TR",
        is_primary=True,
    )
    campaign = make_campaign(marketer, template, [customer])
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    row = CampaignRecipient.objects.get(campaign=campaign)
    assert row.status == RecipientStatus.SENT
    rows = letter_rows([row.pk])
    data = letters_file(rows, file_format="csv").decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(data)))
    assert cells[1][1].startswith("'=cmd")
    assert cells[1][0].startswith("'=HYPERLINK")
    assert "İstanbul" in cells[1]
    xlsx = letters_file(rows, file_format="xlsx")
    assert xlsx[:2] == b"PK"
    # The campaign page offers the file to whoever may change the campaign.
    client = Client()
    client.force_login(marketer)
    page = client.get(reverse("marketing:campaign_detail", args=[campaign.pk]))
    url = reverse("marketing:campaign_letters", args=[campaign.pk])
    assert f"{url}?format=xlsx".encode() in page.content
    download = client.get(url, {"format": "csv"})
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="campaign-{campaign.pk}-letters.csv"'
    )
    assert list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))[1] == cells[1]
    assert client.get(url, {"format": "xlsx"}).content[:2] == b"PK"
    assert client.get(url, {"format": "pdf<script>"}).status_code == 400
    # Postal addresses are personal data: seeing the campaign is not enough.
    rep = UserFactory(role=Role.SALES_REP, team=marketer.team)
    other = Client()
    other.force_login(rep)
    assert other.get(reverse("marketing:campaign_detail", args=[campaign.pk])).status_code == 200
    assert other.get(url).status_code == 404
    api = f"/api/v1/marketing/campaigns/{campaign.pk}/letters"
    assert client_for(rep).get(api).status_code == 404
    answer = client_for(marketer).get(api, {"format": "csv"})
    assert answer.status_code == 200 and answer.content == download.content
    assert client_for(marketer).get(api, {"format": "doc"}).status_code == 422


def test_only_letter_campaigns_have_a_print_file(marketer, template, rules):
    campaign = make_campaign(marketer, template, [customer_with_consent(1)])
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    client = Client()
    client.force_login(marketer)
    url = reverse("marketing:campaign_letters", args=[campaign.pk])
    assert client.get(url).status_code == 404
    page = client.get(reverse("marketing:campaign_detail", args=[campaign.pk]))
    assert url.encode() not in page.content


def test_phone_campaign_creates_call_tasks_for_owners(marketer, rules):
    owner = UserFactory(role=Role.SALES_REP, team=marketer.team)
    template = MessageTemplate.objects.create(name="Call", channel="phone", owner=marketer)
    TemplateVersion.objects.create(
        template=template, language="tr", subject="Call {{ first_name }}", body_text="Offer"
    )
    customer = customer_with_consent(1, primary_phone="0212 555 00 00", owner=owner)
    grant(customer, channel="phone")
    campaign = make_campaign(marketer, template, [customer])
    campaign_launch(actor=marketer, campaign_id=campaign.pk)
    task = Activity.objects.get(customer=customer)
    assert task.kind == "call" and task.owner_id == owner.pk
    assert task.subject == "Call Ayşe1"
