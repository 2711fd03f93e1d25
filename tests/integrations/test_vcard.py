"""vCard 4.0: folding, escaping, parsing broken and hostile cards, the export → import round
trip through the customer services, matching by e-mail and phone, the job and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.customers.factories import make_customer
from vefa.common.errors import NotFound, PermissionDenied
from vefa.customers.models import Address, ContactPoint, Customer, CustomerRelationship
from vefa.customers.services.customers import customer_create
from vefa.integrations import vcard
from vefa.integrations.services.vcards import (
    card_for,
    vcard_export_many,
    vcard_export_one,
    vcard_import_start,
    vcard_import_text,
)
from vefa.platform.models import Job

from .conftest import HOSTILE, client_for

pytestmark = pytest.mark.django_db


# --- the format ---------------------------------------------------------------------------


def test_escape_and_unescape_are_inverse():
    for value in ["a,b;c\\d\ne", *HOSTILE, "", "\\n literal", "tab\tstays"]:
        escaped = vcard.escape(value)
        assert "\n" not in escaped
        assert vcard.unescape(escaped) == value


def test_structured_values_keep_their_components():
    value = vcard.structured("Yılmaz; Jr.", "Ayşe,Nur", "", "", "")
    assert value == "Yılmaz\\; Jr.;Ayşe\\,Nur;;;"
    parts = [vcard.unescape(p) for p in vcard.split_unescaped(value, ";")]
    assert parts == ["Yılmaz; Jr.", "Ayşe,Nur", "", "", ""]


def test_folding_keeps_lines_within_75_octets_and_characters_whole():
    long = "NOTE:" + "ş" * 100 + "علی" * 40 + "x" * 200
    folded = vcard.fold(long)
    lines = folded.split("\r\n")
    assert lines[-1] == ""
    for line in lines[:-1]:
        assert len(line.encode("utf-8")) <= 75
        line.encode("utf-8").decode("utf-8")  # no split character
    assert all(line.startswith(" ") for line in lines[1:-1])
    unfolded = [text for _n, text in vcard.unfold(folded)]
    assert unfolded[0] == long


def test_short_lines_are_not_folded():
    assert vcard.fold("FN:Ali") == "FN:Ali\r\n"


def _cards(text):
    return list(vcard.parse(text))


def test_parse_reads_several_cards_groups_params_and_3_0():
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ayşe Yılmaz\r\nN:Yılmaz;Ayşe;;;\r\n"
        'item1.EMAIL;TYPE="work,pref":ayse@example.com\r\nEND:VCARD\r\n'
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ali\nTEL;CELL:+90 532 111 22 33\nEND:VCARD\n"
    )
    first, second = _cards(text)
    assert isinstance(first, vcard.Card) and isinstance(second, vcard.Card)
    email = first.first("EMAIL")
    assert email is not None and email.text() == "ayse@example.com"
    assert email.types() == {"work", "pref"} and email.preferred
    tel = second.first("TEL")
    assert tel is not None and "cell" in tel.types()


@pytest.mark.parametrize(
    "text,message",
    [
        ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\n", "END:VCARD"),
        ("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:A\r\nEND:VCARD\r\n", "4.0"),
        ("BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL:a@b.co\r\nEND:VCARD\r\n", "no name"),
        ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nthis is not a property\r\nEND:VCARD\r\n", "Line 4"),
        ("FN:stray\r\n", "outside"),
        (
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nNOTE:" + "x" * 30_000 + "\r\nEND:VCARD\r\n",
            "longer",
        ),
        (
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN;ENCODING=QUOTED-PRINTABLE:=C3=A7\r\nEND:VCARD\r\n",
            "Encoded",
        ),
    ],
)
def test_broken_cards_give_clear_errors(text, message):
    items = _cards(text)
    errors = [i for i in items if isinstance(i, vcard.CardError)]
    assert errors and message in errors[0].message


def test_a_broken_card_does_not_stop_the_next_one():
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\n"  # no END
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:B\r\nEND:VCARD\r\n"
    )
    first, second = _cards(text)
    assert isinstance(first, vcard.CardError) and first.index == 1
    assert isinstance(second, vcard.Card) and second.first("FN").text() == "B"


# --- export -------------------------------------------------------------------------------


def _person(actor, **extra):
    return customer_create(
        actor=actor,
        data={"kind": "person", "first_name": "Ayşe", "last_name": "Yılmaz", **extra},
        email="ayse@example.com",
        phone="+90 532 111 22 33",
    )


def test_export_one_customer(admin_user):
    customer = _person(admin_user, notes="Line 1\nLine 2; with, marks \\ ok")
    Address.objects.create(
        customer=customer, kind="home", line1="Bağdat Cd. 5", city="İstanbul", country="TR"
    )
    name, text = vcard_export_one(actor=admin_user, customer_id=customer.pk)
    assert name == f"customer-{customer.pk}.vcf"
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and text.endswith("END:VCARD\r\n")
    assert "FN:Ayşe Yılmaz\r\n" in text
    assert "N:Yılmaz;Ayşe;;;\r\n" in text
    assert "EMAIL;PREF=1:ayse@example.com" in text
    assert "TEL;VALUE=uri;TYPE=cell;PREF=1:tel:+905321112233" in text
    assert "ADR;TYPE=home:;;Bağdat Cd. 5;İstanbul;;;TR" in text
    assert "NOTE:Line 1\\nLine 2\\; with\\, marks \\\\ ok" in text
    assert "\r\nUID:urn:uuid:" in text and "\r\nREV:" in text
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75


def test_export_reads_through_access(admin_user, rep, rep_other_team, team):
    mine = make_customer(owner=rep, team=team, first_name="Mine")
    theirs = make_customer(owner=rep_other_team, first_name="Theirs")
    with pytest.raises(NotFound):
        vcard_export_one(actor=rep, customer_id=theirs.pk)
    text = "".join(vcard_export_many(actor=rep))
    assert "Mine" in text and "Theirs" not in text
    everything = "".join(vcard_export_many(actor=admin_user))
    assert everything.count("BEGIN:VCARD") == 2
    filtered = "".join(vcard_export_many(actor=admin_user, filters={"q": "Theirs"}))
    assert filtered.count("BEGIN:VCARD") == 1 and "Theirs" in filtered
    assert mine.pk != theirs.pk


def test_export_many_pages_through_chunks(admin_user):
    for i in range(7):
        make_customer(owner=admin_user, first_name=f"P{i:02d}", last_name="Same")
    text = "".join(vcard_export_many(actor=admin_user, limit=5))
    assert text.count("BEGIN:VCARD") == 5


def test_organisation_and_employer_are_exported(admin_user):
    org = make_customer(kind="organisation", trade_name="Acme A.Ş.", owner=admin_user)
    person = make_customer(owner=admin_user, first_name="Can", last_name="Er")
    CustomerRelationship.objects.create(
        from_customer=person, to_customer=org, kind="works_at", job_title="Buyer"
    )
    text = vcard_export_one(actor=admin_user, customer_id=person.pk)[1]
    assert "ORG:Acme A.Ş.\r\n" in text and "TITLE:Buyer\r\n" in text
    org_text = vcard_export_one(actor=admin_user, customer_id=org.pk)[1]
    assert "KIND:org\r\n" in org_text


# --- import -------------------------------------------------------------------------------


def test_round_trip_export_then_import_elsewhere(admin_user):
    original = _person(admin_user, notes="Çok önemli; VIP, <b>bold</b>\nikinci satır")
    Address.objects.create(
        customer=original,
        kind="office",
        line1="Ofis 1",
        city="Ankara",
        country="TR",
        is_primary=True,
    )
    text = vcard_export_one(actor=admin_user, customer_id=original.pk)[1]
    Customer.objects.all().delete()
    counts = vcard_import_text(actor=admin_user, text=text)
    assert (counts.created, counts.matched, counts.failed) == (1, 0, 0), counts.errors
    copy = Customer.objects.get()
    assert (copy.first_name, copy.last_name) == ("Ayşe", "Yılmaz")
    assert copy.notes == "Çok önemli; VIP, <b>bold</b>\nikinci satır"
    points = set(ContactPoint.objects.filter(customer=copy).values_list("normalized", flat=True))
    assert points == {"ayse@example.com", "+905321112233"}
    address = Address.objects.get(customer=copy)
    assert (address.kind, address.line1, address.city, address.country) == (
        "office",
        "Ofis 1",
        "Ankara",
        "TR",
    )
    # Export again: the same card (apart from UID and REV).
    again = vcard_export_one(actor=admin_user, customer_id=copy.pk)[1]

    def strip(t):
        return [line for line in t.split("\r\n") if not line.startswith(("UID", "REV"))]

    assert strip(again) == strip(text)


def test_import_matches_by_email_or_phone_instead_of_duplicating(admin_user):
    existing = _person(admin_user)
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A. Yılmaz\r\nEMAIL:AYSE@example.com\r\n"
        "EMAIL:ayse.work@example.com\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Someone\r\nTEL;VALUE=uri:tel:+905321112233\r\n"
        "END:VCARD\r\n"
    )
    counts = vcard_import_text(actor=admin_user, text=text)
    assert (counts.created, counts.matched) == (0, 2)
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert existing.first_name == "Ayşe"  # names already there are kept
    assert ContactPoint.objects.filter(customer=existing, normalized="ayse.work@example.com")


def test_import_reports_bad_cards_and_keeps_the_good(admin_user):
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good One\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad Mail\r\nEMAIL:not-an-address\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bad Tel\r\nTEL:12\r\nEND:VCARD\r\n"
        "garbage line\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Good Two\r\nEND:VCARD\r\n"
    )
    counts = vcard_import_text(actor=admin_user, text=text)
    assert counts.created == 2 and counts.failed == 3
    messages = " ".join(e["message"] for e in counts.errors)
    assert "not-an-address" in messages and "12" in messages and "outside" in messages
    assert [e["card"] for e in counts.errors] == [2, 3, 3]
    assert sorted(Customer.objects.values_list("last_name", flat=True)) == ["One", "Two"]


def test_hostile_values_survive_as_text(admin_user):
    lines = ["BEGIN:VCARD", "VERSION:4.0"]
    lines.append("FN:" + vcard.escape("\u202egnp.exe علی"))
    lines.append(
        "N:" + vcard.structured("<script>alert(1)</script>", "=cmd|' /C calc'!A0", "", "", "")
    )
    lines.append("NOTE:" + vcard.escape("'; DROP TABLE customers_customer; --\n" + "x" * 5000))
    lines.append("END:VCARD")
    text = "".join(vcard.fold(line) for line in lines)
    counts = vcard_import_text(actor=admin_user, text=text)
    assert counts.created == 1, counts.errors
    customer = Customer.objects.get()
    assert customer.last_name == "<script>alert(1)</script>"
    assert customer.first_name == "=cmd|' /C calc'!A0"
    assert customer.notes.startswith("'; DROP TABLE")
    assert len(customer.notes) > 5000


def test_org_links_to_a_known_organisation_or_goes_to_notes(admin_user):
    org = make_customer(kind="organisation", trade_name="Acme", owner=admin_user)
    text = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Can Er\r\nORG:Acme\r\nTITLE:Buyer\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ece Ak\r\nORG:Unknown Ltd\r\nTITLE:CEO\r\nEND:VCARD\r\n"
    )
    counts = vcard_import_text(actor=admin_user, text=text)
    assert counts.created == 2, counts.errors
    can = Customer.objects.get(last_name="Er")
    rel = CustomerRelationship.objects.get(from_customer=can)
    assert rel.to_customer == org and rel.job_title == "Buyer"
    ece = Customer.objects.get(last_name="Ak")
    assert "Unknown Ltd" in ece.notes and "CEO" in ece.notes


def test_import_job_runs_and_reports(admin_user, django_capture_on_commit_callbacks):
    text = (
        "".join(
            "BEGIN:VCARD\r\nVERSION:4.0\r\n"
            f"FN:Person {i}\r\nEMAIL:p{i}@example.com\r\nEND:VCARD\r\n"
            for i in range(5)
        )
        + "BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = vcard_import_start(actor=admin_user, name="x.vcf", raw=text.encode())
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded", (job.status, job.message)
    assert job.result["created"] == 5 and job.result["failed"] == 1
    assert job.result["errors"][0]["card"] == 6
    # Importing the same file again matches every card: nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        again = vcard_import_start(actor=admin_user, name="x.vcf", raw=text.encode())
    assert Job.objects.get(pk=again.pk).result["matched"] == 5
    assert Customer.objects.count() == 5


def test_import_resumes_from_its_checkpoint(admin_user):
    text = "".join(
        f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Person {i}\r\nEND:VCARD\r\n" for i in range(4)
    )
    counts = vcard_import_text(actor=admin_user, text=text, start=2)
    assert counts.created == 2
    assert sorted(Customer.objects.values_list("last_name", flat=True)) == ["2", "3"]


@pytest.mark.parametrize(
    "raw,field",
    [
        (b"\xff\xfe\x00garbage", "file"),
        (b"just text", "file"),
        (b"x" * (20 * 1024 * 1024 + 1), "file"),
    ],
)
def test_import_refuses_unreadable_files(admin_user, raw, field):
    from vefa.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        vcard_import_start(actor=admin_user, name="x.vcf", raw=raw)
    assert field in err.value.fields


def test_import_needs_the_right_to_create_customers(read_only):
    with pytest.raises(PermissionDenied):
        vcard_import_start(
            actor=read_only, name="x.vcf", raw=b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:A\r\nEND:VCARD"
        )


def test_card_for_uses_prefetched_children(admin_user, django_assert_num_queries):
    customer = _person(admin_user)
    from vefa.integrations.services.vcards import _with_children

    loaded = _with_children(Customer.objects.filter(pk=customer.pk)).get()
    with django_assert_num_queries(0):
        card_for(loaded)


# --- pages and API ------------------------------------------------------------------------


def test_vcard_api(admin_user, rep_other_team, django_capture_on_commit_callbacks):
    customer = _person(admin_user)
    api = client_for(admin_user)
    one = api.get(f"/api/v1/integrations/vcard/customers/{customer.pk}")
    assert one.status_code == 200 and one["Content-Type"].startswith("text/vcard")
    assert b"FN:Ay\xc5\x9fe Y\xc4\xb1lmaz" in one.content
    many = api.get("/api/v1/integrations/vcard/customers?q=Ay")
    assert b"".join(many.streaming_content).count(b"BEGIN:VCARD") == 1
    hidden = client_for(rep_other_team).get(f"/api/v1/integrations/vcard/customers/{customer.pk}")
    assert hidden.status_code == 404
    body = b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Api Person\r\nEND:VCARD\r\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/integrations/vcard/import", body, content_type="text/vcard")
    assert response.status_code == 202, response.content
    assert Job.objects.get(pk=response.json()["job_id"]).result["created"] == 1


def test_vcard_pages(client, admin_user, rep_other_team, django_capture_on_commit_callbacks):
    customer = _person(admin_user)
    client.force_login(admin_user)
    page = client.get("/integrations/vcard/")
    assert page.status_code == 200 and b"vCard" in page.content
    download = client.get(f"/integrations/vcard/customers/{customer.pk}/")
    assert download.status_code == 200 and b"BEGIN:VCARD" in download.content
    upload = SimpleUploadedFile(
        "c.vcf", b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Page Person\r\nEND:VCARD\r\n", "text/vcard"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/integrations/vcard/", {"file": upload})
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    bad = SimpleUploadedFile("c.vcf", b"hello", "text/vcard")
    response = client.post("/integrations/vcard/", {"file": bad})
    assert response.status_code == 422 and b"BEGIN:VCARD" in response.content
    client.force_login(rep_other_team)
    assert client.get(f"/integrations/vcard/customers/{customer.pk}/").status_code == 404
    export = client.get("/integrations/vcard/export/")
    assert b"Ay" not in b"".join(export.streaming_content)
