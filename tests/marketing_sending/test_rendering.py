"""The sandboxed message templates: escaping, sanitising, languages, links, errors."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import override_settings

from tests.customers.factories import make_customer
from tests.marketing_sending.conftest import HOSTILE
from vefa.common.errors import ValidationFailed
from vefa.marketing.models import CampaignLink, CampaignRecipient, MessageTemplate, TemplateVersion
from vefa.marketing.rendering import (
    choose_version,
    link_signature_valid,
    register_recommendation_source,
    render_message,
    validate_template_text,
)
from vefa.marketing.sanitize import clean_html, html_to_text

pytestmark = pytest.mark.django_db


def _tags(text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The elements and attributes a browser would build from ``text``."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(text)
    return found


def _version(**fields) -> TemplateVersion:
    template = MessageTemplate.objects.create(name="T", channel="email", default_language="tr")
    fields.setdefault("language", "tr")
    return TemplateVersion.objects.create(template=template, **fields)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_customer_data_is_escaped(hostile):
    customer = make_customer(first_name=hostile, city=hostile)
    version = _version(
        subject="Hi {{ first_name }}",
        body_html='<p>{{ first_name }}</p><a href="{{ city }}">x</a>',
    )
    message = render_message(version=version, customer=customer)
    assert "<script" not in message.html
    tags = _tags(message.html)
    assert {name for name, _attrs in tags} <= {"p", "a"}
    assert not [a for _name, attrs in tags for a, _v in attrs if a.startswith("on")]
    # The customer's text is data: template syntax in it is not run.
    assert "{{ unsubscribe_url }}" not in message.html or "{{" in hostile
    assert "\n" not in message.subject
    if hostile.startswith("{{"):
        assert "{{ unsubscribe_url }}" in message.text


def test_template_authors_cannot_add_scripts_handlers_or_remote_css():
    customer = make_customer(first_name="Ada")
    version = _version(
        body_html=(
            '<script>alert(1)</script><p onclick="x()" style="color: red; '
            'background: url(https://evil.example/a.png)">Hi</p>'
            '<a href="javascript:alert(1)">bad</a><style>@import url(https://evil.example/x.css);</style>'
            '<form action="https://evil.example"><input name=a></form><iframe src="https://x"></iframe>'
        )
    )
    html = render_message(version=version, customer=customer).html
    assert "script" not in html
    assert "onclick" not in html
    assert "javascript:" not in html
    assert "evil.example" not in html
    assert "<form" not in html and "<iframe" not in html and "<input" not in html
    assert "Hi" in html


def test_style_without_loading_is_kept():
    assert 'style="color:red' in clean_html('<p style="color: red">x</p>')
    assert "style" not in clean_html('<p style="background-image: url(x)">x</p>')


def test_plain_text_is_derived_from_html():
    text = html_to_text(
        clean_html('<h1>Title</h1><p>One &amp; two</p><a href="https://a.example/">Go</a>')
    )
    assert "Title" in text and "One & two" in text
    assert "Go (https://a.example/)" in text


def test_sandbox_refuses_loading_and_unsafe_tags():
    for text in (
        "{% load static %}",
        '{% include "base.html" %}',
        '{% extends "base.html" %}',
        "{% autoescape off %}{{ first_name }}{% endautoescape %}",
        "{{ first_name|safe }}",
        "{% debug %}",
    ):
        with pytest.raises(ValidationFailed):
            validate_template_text(text)


def test_errors_name_the_line():
    with pytest.raises(ValidationFailed) as caught:
        validate_template_text("Hello\n{{ first_name }}\n{{ shoe_size }}")
    assert "Line 3" in caught.value.fields["text"][0]
    assert "shoe_size" in caught.value.fields["text"][0]
    with pytest.raises(ValidationFailed) as caught:
        validate_template_text("a\nb\n{% if first_name %}open")
    assert caught.value.fields["text"]


def test_valid_templates_pass():
    validate_template_text(
        "{% if points_balance > 100 %}{{ first_name|upper }}{% else %}{{ display_name }}{% endif %}"
        "{% for product in products %}{{ product.name }} {{ forloop.counter }}"
        "{% empty %}-{% endfor %}"
    )


def test_version_by_customer_language_with_fallback(template):
    assert choose_version(template, "en").language == "en"
    assert choose_version(template, "en-GB").language == "en"
    assert choose_version(template, "fa").language == "tr"
    assert choose_version(template, "").language == "tr"
    empty = MessageTemplate.objects.create(name="Empty", channel="email")
    with pytest.raises(ValidationFailed):
        choose_version(empty, "tr")


@override_settings(VEFA_BASE_URL="https://crm.example")
def test_links_rewritten_to_signed_tracking_urls(template, marketer):
    from tests.marketing_sending.conftest import make_campaign

    customer = make_customer(first_name="Ada", primary_email="ada@example.com")
    campaign = make_campaign(marketer, template, [customer])
    recipient = CampaignRecipient.objects.create(
        campaign=campaign, customer=customer, token="a" * 32
    )
    version = choose_version(template, "tr")
    message = render_message(version=version, customer=customer, recipient=recipient)
    link = CampaignLink.objects.get(campaign=campaign)
    assert link.url == "https://shop.example/spring?x=1"
    assert "shop.example" not in message.html
    assert f"https://crm.example/marketing/r/{'a' * 32}/{link.pk}/" in message.html
    # The unsubscribe link is left as it is, and the headers point at the one-click endpoint.
    assert f"https://crm.example/marketing/u/{'a' * 32}/" in message.html
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/one-click/" in message.headers["List-Unsubscribe"]
    signature = message.html.split(f"/{link.pk}/")[1].split("/")[0]
    assert link_signature_valid("a" * 32, link.pk, signature)
    assert not link_signature_valid("b" * 32, link.pk, signature)


def test_recommendation_block_uses_registered_source():
    def source(customer_id, limit):
        return [{"name": "<b>Tea</b>", "sku": "T1", "url": "https://shop.example/t1"}] * limit

    register_recommendation_source(source)
    customer = make_customer(first_name="Ada")
    version = _version(
        body_html="{% for p in products %}<li>{{ p.name }}</li>{% endfor %}",
    )
    html = render_message(version=version, customer=customer).html
    assert html.count("&lt;b&gt;Tea&lt;/b&gt;") == 3
