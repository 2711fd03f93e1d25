"""Knowledge-base pages: search list, one article in the reader's language, the form with one
text per language, stale edits, helpful votes, escaping and access."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.service.models import Article
from vefa.service.services.knowledge import article_create


def _article(actor, slug, texts, *, visibility="public", status="published"):
    return article_create(
        actor=actor,
        data={
            "slug": slug,
            "visibility": visibility,
            "status": status,
            "translations": {
                lang: {"title": title, "body": body} for lang, (title, body) in texts.items()
            },
        },
    )


def _form(slug="kargo-takibi", **texts):
    data = {"slug": slug, "visibility": "public", "status": "published", "category": ""}
    for code in ("en", "tr", "sr-latn", "fa"):
        title, body = texts.get(code.replace("-", "_"), ("", ""))
        data[f"title_{code}"] = title
        data[f"body_{code}"] = body
    return data


def test_create_edit_and_read_in_four_languages(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("service:article_create"),
        _form(
            en=("Track your parcel", "Open Orders.\nChoose Track."),
            tr=("Kargonuzu İzleyin", "Siparişler sayfasını açın."),
            sr_latn=("Praćenje pošiljke", "Otvorite porudžbine."),
            fa=("پیگیری مرسوله", "صفحه سفارش‌ها را باز کنید."),
        ),
    )
    article = Article.objects.get(slug="kargo-takibi")
    assert response.status_code == 302
    assert article.translations.count() == 4
    detail = reverse("service:article_detail", args=[article.pk])
    english = client.get(detail).content.decode()
    assert "Track your parcel" in english and "<p>Open Orders.<br>Choose Track.</p>" in english
    persian = client.get(detail + "?lang=fa").content.decode()
    assert 'lang="fa"' in persian and "پیگیری مرسوله" in persian
    edit_url = reverse("service:article_edit", args=[article.pk])
    form = client.get(edit_url).content.decode()
    assert "Praćenje pošiljke" in form
    data = _form(tr=("Kargo takibi", "Yeni metin"), en=("Track your parcel", "Open Orders."))
    data["version"] = str(article.version)
    assert client.post(edit_url, data).status_code == 302
    article.refresh_from_db()
    assert sorted(t.language for t in article.translations.all()) == ["en", "tr"]
    # The same form sent again with the old version is refused and keeps what was typed.
    data["title_tr"] = "Eski sürüm"
    stale = client.post(edit_url, data)
    assert stale.status_code == 422
    assert "Eski sürüm" in stale.content.decode()
    assert article.translations.get(language="tr").title == "Kargo takibi"


def test_form_errors_per_field(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("service:article_create"), _form(slug="Bad slug", en=("Title only", ""))
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Use lower-case letters" in body or "Enter a valid" in body
    assert not Article.objects.exists()
    empty = client.post(reverse("service:article_create"), _form(slug="nothing"))
    assert empty.status_code == 422
    assert "at least one language" in empty.content.decode()


def test_search_page_folds_and_hides_nothing_it_should_not(client, agent):
    _article(agent, "istanbul", {"tr": ("İSTANBUL şubesi", "Adres ve saatler")})
    _article(agent, "beograd", {"sr-latn": ("Đurđevdan radno vreme", "Zatvoreno")})
    client.force_login(agent)
    url = reverse("service:article_list")
    assert "istanbul" in client.get(url, {"q": "istanbul"}).content.decode()
    found = client.get(url, {"q": "djurdjevdan"}).content.decode()
    assert "beograd" in found and "istanbul" not in found.split("<tbody")[1]


def test_list_query_count_is_constant(client, agent):
    client.force_login(agent)
    url = reverse("service:article_list")
    _article(agent, "first", {"en": ("First", "Text"), "tr": ("Birinci", "Metin")})
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(20):
        _article(agent, f"more-{i}", {"en": (f"More {i}", "Text"), "fa": ("بیشتر", "متن")})
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("<tr>") >= 21
    assert len(many) == len(few)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_escaped(client, agent, text):
    article = _article(agent, "hostile", {"en": (text[:300], f"{text}\n\n{text}")})
    client.force_login(agent)
    body = client.get(reverse("service:article_detail", args=[article.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    listing = client.get(reverse("service:article_list")).content.decode()
    assert "<script>alert(1)</script>" not in listing


def test_views_and_helpful_votes(client, agent):
    public = _article(agent, "public", {"en": ("Public", "Text")})
    internal = _article(agent, "internal", {"en": ("Internal", "Text")}, visibility="internal")
    client.force_login(agent)
    client.get(reverse("service:article_detail", args=[public.pk]))
    client.get(reverse("service:article_detail", args=[public.pk]))
    vote = client.post(reverse("service:article_helpful", args=[public.pk]), HTTP_HX_REQUEST="true")
    assert vote.status_code == 200 and "Thank you" in vote.content.decode()
    public.refresh_from_db()
    assert (public.view_count, public.helpful_count) == (2, 1)
    page = client.get(reverse("service:article_detail", args=[internal.pk])).content.decode()
    assert "This was helpful" not in page
    assert client.post(reverse("service:article_helpful", args=[internal.pk])).status_code == 404


@pytest.mark.parametrize(
    "role", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER, Role.READ_ONLY]
)
def test_readers_read_but_do_not_write(client, agent, team, role):
    article = _article(agent, "policy", {"en": ("Policy", "Text")}, visibility="internal")
    user = UserFactory(role=role, team=team)
    client.force_login(user)
    assert client.get(reverse("service:article_detail", args=[article.pk])).status_code == 200
    assert client.get(reverse("service:article_create")).status_code == 404
    assert client.post(reverse("service:article_create"), _form(slug="x")).status_code == 404
    edit = reverse("service:article_edit", args=[article.pk])
    assert client.get(edit).status_code == 404
    assert client.post(edit, _form(slug="policy", en=("Hacked", "Hacked"))).status_code == 404
    assert article.translations.get().title == "Policy"


def test_missing_article_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("service:article_detail", args=[999999])).status_code == 404
    assert client.get(reverse("service:article_edit", args=[999999])).status_code == 404


def test_pages_need_login(client):
    response = client.get(reverse("service:article_list"))
    assert response.status_code == 302
