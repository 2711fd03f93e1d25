"""Every string a person sees is translated into Turkish, Serbian (Latin) and Persian."""

import importlib.util
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent


def _i18n():
    spec = importlib.util.spec_from_file_location("vefa_i18n", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_catalogue_translates_every_string_and_is_compiled():
    problems = _i18n().problems()
    assert problems == [], "\n".join(problems[:50]) + f"\n… {len(problems)} problems in all"


@pytest.mark.parametrize(
    ("language", "bidi"), [("en", False), ("tr", False), ("sr-latn", False), ("fa", True)]
)
def test_each_language_is_active_and_only_persian_is_right_to_left(language, bidi):
    with translation.override(language):
        assert translation.get_language() == language
        assert translation.get_language_bidi() is bidi


@pytest.mark.django_db
def test_persian_login_page_is_right_to_left():
    client = Client(headers={"accept-language": "fa"})
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'dir="rtl"' in response.content.decode()
    assert 'lang="fa"' in response.content.decode()
