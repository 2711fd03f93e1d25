"""Knowledge base: writing articles, folded search in four languages, suggestions, access."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.service.conftest import HOSTILE
from vefa.accounts.choices import Role
from vefa.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from vefa.platform.models import ChangeLogEntry
from vefa.service.models import Article, ArticleTranslation, Category, Ticket, TicketMessage
from vefa.service.selectors.knowledge import article_get, article_list
from vefa.service.services.knowledge import (
    article_create,
    article_helpful,
    article_search,
    article_suggestions,
    article_update,
    article_viewed,
    public_article_get,
    render_article_body,
)


def _article(actor, slug, texts, *, visibility="public", status="published", **extra):
    return article_create(
        actor=actor,
        data={
            "slug": slug,
            "visibility": visibility,
            "status": status,
            "translations": {
                lang: {"title": title, "body": body} for lang, (title, body) in texts.items()
            },
            **extra,
        },
    )


@pytest.fixture
def library(agent):
    """Articles in the four languages, one internal, one draft."""
    return {
        "tr": _article(
            agent,
            "istanbul-teslimat",
            {"tr": ("İSTANBUL teslimatı gecikti", "Kargo şirketi ile ığdır şubesi arayın.")},
        ),
        "sr": _article(
            agent,
            "cevapcici",
            {"sr-latn": ("Ćevapčići narudžba", "Đak je naručio ćevapčiće u Beogradu.")},
        ),
        "fa": _article(
            agent,
            "persian-return",
            {"fa": ("بازگشت کالا", "برای بازگشت كالا فرم را پر كنيد")},
        ),
        "en": _article(
            agent,
            "reset-password",
            {
                "en": ("Reset your password", "Open the login page.\nClick Forgot password."),
                "tr": ("Şifrenizi sıfırlayın", "Giriş sayfasını açın."),
            },
        ),
        "internal": _article(
            agent,
            "internal-refunds",
            {"en": ("Refund approval limits", "Refunds above 5000 TRY need a manager.")},
            visibility="internal",
        ),
        "draft": _article(
            agent,
            "draft-password",
            {"en": ("Password policy draft", "Not yet published password rules.")},
            status="draft",
        ),
    }


def test_create_stores_texts_folded_and_logs(agent, library):
    article = library["en"]
    assert article.published_at is not None
    texts = {t.language: t for t in article.translations.all()}
    assert set(texts) == {"en", "tr"}
    assert texts["tr"].search_text.startswith("sifrenizi sifirlayin\n")
    assert ChangeLogEntry.objects.filter(model="service.article", object_id=article.pk).exists()
    assert ChangeLogEntry.objects.filter(model="service.articletranslation").count() >= 7


@pytest.mark.parametrize(
    ("query", "language", "slug"),
    [
        ("istanbul", "tr", "istanbul-teslimat"),
        ("İstanbul", "tr", "istanbul-teslimat"),
        ("ISTANBUL teslimati", "tr", "istanbul-teslimat"),
        ("igdir", "tr", "istanbul-teslimat"),
        ("cevapcici", "sr-latn", "cevapcici"),
        ("ĆEVAPČIĆI", "sr-latn", "cevapcici"),
        ("djak", "sr-latn", "cevapcici"),
        ("ћевапчићи", "sr-latn", "cevapcici"),
        ("كالا", "fa", "persian-return"),
        ("کالا", "fa", "persian-return"),
        ("كنيد", "fa", "persian-return"),
        ("forgot PASSWORD", "en", "reset-password"),
    ],
)
def test_search_folds_in_every_language(library, query, language, slug):
    results = article_search(query=query, language=language, public_only=True)
    assert [t.article.slug for t in results] == [slug]


def test_search_prefers_the_asked_language_and_ranks_title_first(agent, library):
    _article(agent, "password-body", {"en": ("Login help", "Forgot password? Reset it here.")})
    results = article_search(query="password", language="en", public_only=True)
    slugs = [t.article.slug for t in results]
    assert slugs[0] == "reset-password"
    assert "password-body" in slugs
    assert "draft-password" not in slugs
    tr = article_search(query="sifre", language="tr", public_only=True)
    assert [(t.article.slug, t.language) for t in tr] == [("reset-password", "tr")]


def test_public_only_never_returns_internal(library):
    assert article_search(query="refund", language="en", public_only=True) == []
    internal = article_search(query="refund", language="en", public_only=False)
    assert [t.article.slug for t in internal] == ["internal-refunds"]
    with pytest.raises(NotFound):
        public_article_get(slug="internal-refunds", language="en")
    with pytest.raises(NotFound):
        public_article_get(slug="draft-password", language="en")


def test_search_with_nothing_to_look_for(library):
    assert article_search(query="", language="en", public_only=False) == []
    assert article_search(query="   ", language="en", public_only=False) == []
    assert article_search(query="x" * 10_000, language="en", public_only=False) == []
    assert article_search(query="%", language="en", public_only=False) == []
    assert article_search(query="_", language="en", public_only=False) == []


def test_public_article_get_falls_back_to_english(library):
    assert public_article_get(slug="reset-password", language="tr").language == "tr"
    assert public_article_get(slug="reset-password", language="fa").language == "en"
    for bad in ("../etc", "", "x" * 500, "<script>"):
        with pytest.raises(NotFound):
            public_article_get(slug=bad, language="en")


def test_suggestions_use_subject_category_and_first_message(agent, library, queue):
    delivery = Category.objects.create(name="Teslimat", path="Teslimat › Gecikme")
    ticket = Ticket.objects.create(
        number="T-2026-900001",
        subject="Siparişim nerede?",
        category=delivery,
        queue=queue,
        owner=agent,
    )
    TicketMessage.objects.create(ticket=ticket, kind="customer", body="İstanbul'a kargo gelmedi")
    slugs = [t.article.slug for t in article_suggestions(ticket=ticket, language="tr")]
    assert slugs[0] == "istanbul-teslimat"
    # Internal articles are suggested to agents too.
    refund = Ticket.objects.create(number="T-2026-900002", subject="Refund approval please")
    slugs = [t.article.slug for t in article_suggestions(ticket=refund, language="en")]
    assert slugs == ["internal-refunds"]
    empty = Ticket.objects.create(number="T-2026-900003", subject="?")
    assert article_suggestions(ticket=empty, language="en") == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"slug": "", "translations": {"en": {"title": "a", "body": "b"}}}, "slug"),
        ({"slug": "Bad Slug!", "translations": {"en": {"title": "a", "body": "b"}}}, "slug"),
        ({"slug": 5, "translations": {"en": {"title": "a", "body": "b"}}}, "slug"),
        ({"slug": "ok"}, "translations"),
        ({"slug": "ok", "translations": {"xx": {"title": "a", "body": "b"}}}, "translations.xx"),
        ({"slug": "ok", "translations": {"en": {"title": "a", "body": ""}}}, "body_en"),
        ({"slug": "ok", "translations": {"en": {"title": "", "body": "b"}}}, "title_en"),
        ({"slug": "ok", "translations": {"en": {"title": 3, "body": "b"}}}, "title_en"),
        ({"slug": "ok", "translations": {"en": {"title": "a" * 301, "body": "b"}}}, "title_en"),
        ({"slug": "ok", "translations": "text"}, "translations"),
        (
            {
                "slug": "ok",
                "visibility": "secret",
                "translations": {"en": {"title": "a", "body": "b"}},
            },
            "visibility",
        ),
        (
            {"slug": "ok", "status": 1, "translations": {"en": {"title": "a", "body": "b"}}},
            "status",
        ),
        (
            {"slug": "ok", "category": "abc", "translations": {"en": {"title": "a", "body": "b"}}},
            "category",
        ),
        ({"slug": "ok", "color": "red"}, "color"),
    ],
)
def test_create_refuses_bad_input(agent, data, field):
    with pytest.raises(ValidationFailed) as exc:
        article_create(actor=agent, data=data)
    assert field in exc.value.fields
    assert not Article.objects.exists()


def test_duplicate_slug_is_refused(agent, library):
    with pytest.raises(ValidationFailed) as exc:
        _article(agent, "reset-password", {"en": ("Again", "Again")})
    assert "slug" in exc.value.fields


@pytest.mark.parametrize(
    "role", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER, Role.READ_ONLY]
)
def test_only_agents_and_admins_write(db, team, role, agent, library):
    user = UserFactory(role=role, team=team)
    with pytest.raises(PermissionDenied):
        _article(user, "mine", {"en": ("Title", "Text")})
    # Everyone reads the knowledge base (POLICIES["service.article"] view = all) ...
    assert article_get(actor=user, pk=library["internal"].pk).slug == "internal-refunds"
    # ... but only writers change it.
    with pytest.raises(PermissionDenied):
        article_update(actor=user, article_id=library["en"].pk, data={"status": "archived"})


def test_inactive_user_sees_nothing(db, team, library):
    user = UserFactory(role=Role.SERVICE_AGENT, team=team, is_active=False)
    with pytest.raises(NotFound):
        article_get(actor=user, pk=library["en"].pk)
    assert article_list(actor=user).items == []


def test_update_texts_and_version(agent, library):
    article = library["en"]
    version = article.version
    updated = article_update(
        actor=agent,
        article_id=article.pk,
        data={
            "translations": {
                "en": {"title": "Reset your password now", "body": "New text"},
                "tr": {"title": "", "body": ""},
                "fa": {"title": "بازنشانی گذرواژه", "body": "صفحه ورود را باز کنید"},
            }
        },
        expected_version=version,
    )
    assert updated.version == version + 1
    texts = {t.language: t.title for t in updated.translations.all()}
    assert texts == {"en": "Reset your password now", "fa": "بازنشانی گذرواژه"}
    assert article_search(query="گذرواژه", language="fa", public_only=True)[0].language == "fa"
    with pytest.raises(Conflict):
        article_update(
            actor=agent,
            article_id=article.pk,
            data={"translations": {"en": {"title": "Stale", "body": "Stale"}}},
            expected_version=version,
        )
    assert ArticleTranslation.objects.get(article=article, language="en").title != "Stale"


def test_update_cannot_remove_the_last_text(agent, library):
    with pytest.raises(ValidationFailed) as exc:
        article_update(
            actor=agent,
            article_id=library["internal"].pk,
            data={"translations": {"en": {"title": "", "body": ""}}},
        )
    assert "translations" in exc.value.fields


def test_publishing_stamps_the_date_once(agent, library):
    draft = library["draft"]
    assert draft.published_at is None
    published = article_update(actor=agent, article_id=draft.pk, data={"status": "published"})
    assert published.published_at is not None
    first = published.published_at
    article_update(actor=agent, article_id=draft.pk, data={"status": "archived"})
    again = article_update(actor=agent, article_id=draft.pk, data={"status": "published"})
    assert again.published_at == first


def test_views_and_helpful_votes(agent, library):
    article = library["en"]
    article_viewed(article_id=article.pk)
    article_viewed(article_id=article.pk)
    assert article_helpful(article_id=article.pk) == 1
    article.refresh_from_db()
    assert (article.view_count, article.helpful_count) == (2, 1)
    with pytest.raises(NotFound):
        article_helpful(article_id=library["internal"].pk)
    with pytest.raises(NotFound):
        article_helpful(article_id="abc")


@pytest.mark.parametrize("text", HOSTILE)
def test_body_is_rendered_escaped(text):
    html = str(render_article_body(f"{text}\nsecond line\n\nnew paragraph"))
    assert "<script>" not in html
    assert html.count("<p>") == 2
    assert "<br>" in html


def test_hostile_titles_are_stored_as_typed(agent):
    for i, text in enumerate(HOSTILE):
        article = _article(agent, f"hostile-{i}", {"en": (text[:300], text)})
        assert article.translations.get().title == text.strip()
