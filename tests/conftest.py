"""Shared fixtures: users in every role, teams, an API client with a token, a real SMTP
server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.factories import TeamFactory, UserFactory
from tests.smtp import IN_CI as IN_CI  # imported from here by many test modules
from tests.smtp import Inbox, point_settings_at, running
from vefa.accounts.choices import Role


@pytest.fixture(scope="session")
def browser():
    """One Chromium for every browser test of a test process (Playwright's sync API allows
    one running instance per thread), whichever folder the test lives in."""
    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium_path

    path = _chromium_path()
    if path is None:
        message = "Chromium is not installed (make test installs Debian's chromium package)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    """A real SMTP server on loopback that keeps what it receives; Vefa is pointed at it."""
    inbox = Inbox()
    with running(inbox) as port:
        point_settings_at(settings, port)
        yield inbox


@pytest.fixture(autouse=True)
def _default_pipelines(request):
    """The default pipelines a data migration creates, present in every database test.

    A transactional test (browser tests) ends by emptying every table, data-migration rows
    included, so the next test would start without them; they are put back here.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    from django.conf import settings

    from vefa.sales.defaults import create_default_pipelines
    from vefa.sales.models import Pipeline, Stage

    create_default_pipelines(Pipeline, Stage, settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _forget_cached_field_definitions():
    """Each test starts without the searchable custom fields an earlier test cached.

    A test's definitions are rolled back, and a rollback sends no signal to clear the cache.
    """
    from vefa.customers import search

    search._searchable.clear()
    yield
    search._searchable.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language and time zone.

    A request activates its user's (or portal contact's) language in the thread that serves
    it; in production the next request activates its own, but a later test's code outside a
    request would inherit the earlier test's language.
    """
    from django.utils import timezone, translation

    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture
def team(db):
    return TeamFactory(name="North")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="South")


@pytest.fixture
def admin_user(db, team):
    return UserFactory(role=Role.ADMIN, team=team, is_staff=True, is_superuser=True)


@pytest.fixture
def rep(db, team):
    return UserFactory(role=Role.SALES_REP, team=team)


@pytest.fixture
def rep_same_team(db, team):
    return UserFactory(role=Role.SALES_REP, team=team)


@pytest.fixture
def rep_other_team(db, other_team):
    return UserFactory(role=Role.SALES_REP, team=other_team)


@pytest.fixture
def manager(db, team):
    return UserFactory(role=Role.SALES_MANAGER, team=team)


@pytest.fixture
def read_only(db, team):
    return UserFactory(role=Role.READ_ONLY, team=team)
