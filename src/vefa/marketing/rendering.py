"""Rendering a message for one customer: merge fields and conditions in a sandbox.

The template language is a small part of Django's: ``{{ first_name }}``, ``{{ city|default:"…" }}``,
``{% if points_balance > 100 %}…{% else %}…{% endif %}`` and ``{% for product in products %}…
{% empty %}…{% endfor %}``, with a handful of formatting filters. It runs in its own engine
with no loaders, so ``include``, ``extends``, ``load``, ``autoescape`` and ``safe`` do not
exist; the context holds only plain values (text, numbers, lists of small dictionaries), never
a model, so no template can reach into the database. In HTML every value is escaped; the
result is then sanitised (``vefa.marketing.sanitize``) and its links rewritten to signed
click-tracking addresses of the recipient.

Merge fields:

``first_name``, ``last_name``, ``display_name``, ``city``, ``points_balance``,
``unsubscribe_url``, ``view_url``, ``company`` and ``products`` (the personal
recommendations: each with ``name``, ``sku`` and ``url``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import Lexer, TokenType
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from vefa.common.errors import ValidationFailed
from vefa.marketing.sanitize import clean_html, html_to_text

if TYPE_CHECKING:
    from vefa.customers.models import Customer
    from vefa.marketing.models import CampaignRecipient, MessageTemplate, TemplateVersion

# --- the sandbox's tags and filters ------------------------------------------------------------

register = Library()
register.tag("if", defaulttags.do_if)
register.tag("for", defaulttags.do_for)
register.tag("firstof", defaulttags.firstof)
for _name in (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatechars",
    "truncatewords",
    "length",
    "first",
    "last",
    "floatformat",
    "date",
    "yesno",
    "pluralize",
    "linebreaksbr",
    "cut",
    "add",
):
    register.filter(_name, getattr(defaultfilters, _name))

MERGE_FIELDS = (
    "first_name",
    "last_name",
    "display_name",
    "city",
    "points_balance",
    "unsubscribe_url",
    "view_url",
    "company",
    "products",
)
# Names an expression may use besides merge fields (loop variables are added while checking).
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "None", "True", "False", "forloop"})
_OPERATORS = frozenset({"==", "!=", "<", ">", "<=", ">=", "(", ")"})
PRODUCT_LIMIT = 3


class SandboxEngine(Engine):
    """An engine with only the sandbox's tags and filters and no template loading."""

    default_builtins: list[str] = []


_engines: dict[tuple[bool, bool], SandboxEngine] = {}


def _engine(*, html: bool, debug: bool = False) -> SandboxEngine:
    key = (html, debug)
    engine = _engines.get(key)
    if engine is None:
        engine = SandboxEngine(
            dirs=[],
            app_dirs=False,
            loaders=[],
            autoescape=html,
            debug=debug,
            string_if_invalid="",
            builtins=["vefa.marketing.rendering"],
            libraries={},
        )
        _engines[key] = engine
    return engine


# --- checking a template text ------------------------------------------------------------------


def _names_in(expression: str) -> list[str]:
    """The variable names an expression or a tag's arguments refer to (not literals)."""
    names = []
    for bit in expression.replace("|", " | ").split():
        if bit in _OPERATORS or bit == "|":
            continue
        head = bit.split("|")[0]
        if head[:1] in {'"', "'"} or head[:1].isdigit() or head[:1] in {"-", "+", "."}:
            continue
        if ":" in head:
            head = head.split(":")[0]
        name = head.split(".")[0]
        if name and name not in _KEYWORDS:
            names.append(name)
    return names


def _unknown_names(text: str) -> list[tuple[str, int]]:
    unknown: list[tuple[str, int]] = []
    loop_names: set[str] = set()
    for token in Lexer(text).tokenize():
        if token.token_type == TokenType.VAR:
            contents = token.contents.split("|")[0].strip()
            candidates = _names_in(contents)
        elif token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            if not bits:
                continue
            if bits[0] == "for" and "in" in bits:
                position = bits.index("in")
                for loop_var in " ".join(bits[1:position]).split(","):
                    if loop_var.strip():
                        loop_names.add(loop_var.strip())
                candidates = _names_in(" ".join(bits[position + 1 :]))
            elif bits[0] in {"if", "elif", "firstof"}:
                candidates = [
                    name
                    for bit in bits[1:]
                    if not bit.startswith(("'", '"'))
                    for name in _names_in(bit.split("|")[0])
                ]
            else:
                continue
        else:
            continue
        for name in candidates:
            if name not in MERGE_FIELDS and name not in loop_names:
                unknown.append((name, token.lineno or 0))
    return unknown


def validate_template_text(text: str) -> None:
    """Raise ``ValidationFailed`` naming the line of the first syntax error or of each
    unknown merge field; the ``text`` field carries the messages."""
    if not text:
        return
    messages: list[str] = []
    try:
        Template(text, engine=_engine(html=True, debug=True))
    except TemplateSyntaxError as exc:
        line = getattr(exc, "template_debug", {}).get("line")
        detail = str(exc.args[0]) if exc.args else str(exc)
        if line:
            messages.append(
                _("Line %(line)d: %(error)s") % {"line": line, "error": _syntax_message(detail)}
            )
        else:
            messages.append(_syntax_message(detail))
    if not messages:
        for name, line in _unknown_names(text):
            messages.append(
                _("Line %(line)d: unknown merge field “%(name)s”.") % {"line": line, "name": name}
            )
    if messages:
        raise ValidationFailed(_("The template has errors."), fields={"text": messages})


def _syntax_message(detail: str) -> str:
    if "Invalid block tag" in detail:
        tag = detail.split("'")[1] if "'" in detail else ""
        return _("“%(tag)s” is not allowed here (allowed: if, for, firstof).") % {"tag": tag}
    if "Invalid filter" in detail:
        name = detail.split("'")[1] if "'" in detail else ""
        return _("The filter “%(name)s” is not allowed.") % {"name": name}
    if "Unclosed tag" in detail:
        return _("A tag is not closed (a missing endif or endfor).")
    return _("Syntax error: %(detail)s") % {"detail": detail}


# --- compiled templates, cached per version ----------------------------------------------------


@dataclass
class _Compiled:
    subject: Template
    html: Template | None
    text: Template | None
    names: frozenset[str]


_compiled: dict[tuple[int, str, str], _Compiled] = {}
_compiled_lock = threading.Lock()
_COMPILED_MAX = 256


def _compile(version: TemplateVersion, subject: str) -> _Compiled:
    stamp = version.updated_at.isoformat() if getattr(version, "updated_at", None) else ""
    key = (version.pk or 0, stamp, subject)
    found = _compiled.get(key) if version.pk else None
    if found is not None:
        return found
    try:
        compiled = _Compiled(
            subject=Template(subject or version.subject or "", engine=_engine(html=False)),
            html=Template(version.body_html, engine=_engine(html=True))
            if version.body_html.strip()
            else None,
            text=Template(version.body_text, engine=_engine(html=False))
            if version.body_text.strip()
            else None,
            names=frozenset(
                name
                for part in (subject or version.subject or "", version.body_html, version.body_text)
                for name, _line in _used_names(part)
            ),
        )
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            _("The template has errors."), fields={"text": [_syntax_message(str(exc))]}
        ) from None
    if version.pk:
        with _compiled_lock:
            if len(_compiled) >= _COMPILED_MAX:
                _compiled.clear()
            _compiled[key] = compiled
    return compiled


def _used_names(text: str) -> list[tuple[str, int]]:
    if not text:
        return []
    names: list[tuple[str, int]] = []
    for token in Lexer(text).tokenize():
        if token.token_type in (TokenType.VAR, TokenType.BLOCK):
            names += [(name, token.lineno or 0) for name in _names_in(token.contents)]
    return names


# --- versions -----------------------------------------------------------------------------------


def _language_match(codes: list[str], language: str) -> str | None:
    language = (language or "").lower()
    if not language:
        return None
    lowered = {code.lower(): code for code in codes}
    if language in lowered:
        return lowered[language]
    base = language.split("-")[0].split("_")[0]
    if base in lowered:
        return lowered[base]
    for code in codes:
        if code.lower().split("-")[0].split("_")[0] == base:
            return code
    return None


def pick_version(
    versions: list[TemplateVersion], language: str, default_language: str
) -> TemplateVersion | None:
    """The version in ``language`` (or its base language), else the default language's,
    else the first; ``None`` when there are none."""
    if not versions:
        return None
    by_code = {version.language: version for version in versions}
    codes = list(by_code)
    for wanted in (language, default_language):
        code = _language_match(codes, wanted)
        if code is not None:
            return by_code[code]
    return sorted(versions, key=lambda version: version.language)[0]


def choose_version(template: MessageTemplate, language: str) -> TemplateVersion:
    """The template's version for a customer speaking ``language``, falling back to the
    template's default language."""
    versions = list(template.versions.all())
    version = pick_version(versions, language, template.default_language)
    if version is None:
        raise ValidationFailed(
            _("The template has no version."),
            fields={"template": [_("Add a version of the template first.")]},
        )
    return version


# --- recommendations ----------------------------------------------------------------------------

RecommendationSource = Callable[[int, int], list[dict[str, Any]]]
RecommendationBatch = Callable[[list[int], int], dict[int, list[dict[str, Any]]]]
_recommendation_sources: list[RecommendationSource] = []
_recommendation_batches: dict[RecommendationSource, RecommendationBatch] = {}


def register_recommendation_source(
    source: RecommendationSource, *, many: RecommendationBatch | None = None
) -> None:
    """Register ``source(customer_id, limit) -> [{"name", "sku", "url"}, …]``: the products
    to recommend to a customer, best first (the analytics app registers its next-best
    products). ``many(customer_ids, limit) -> {customer_id: [...]}``, when given, answers
    for a whole sending batch at once (the sender then asks once per batch, not once per
    message). Registering the same function twice has no effect."""
    if source not in _recommendation_sources:
        _recommendation_sources.append(source)
    if many is not None:
        _recommendation_batches[source] = many


def _clean_products(products: Any, limit: int) -> list[dict[str, str]]:
    return [
        {
            "name": str(product.get("name", "")),
            "sku": str(product.get("sku", "")),
            "url": str(product.get("url", "")),
        }
        for product in (products or [])[:limit]
        if isinstance(product, dict)
    ]


def recommended_products(customer_id: int, limit: int = PRODUCT_LIMIT) -> list[dict[str, str]]:
    """Plain dictionaries (name, sku, url) from the first source that has any."""
    for source in _recommendation_sources:
        clean = _clean_products(source(customer_id, limit), limit)
        if clean:
            return clean
    return []


def recommended_products_for(
    customer_ids: list[int], limit: int = PRODUCT_LIMIT
) -> dict[int, list[dict[str, str]]]:
    """``recommended_products`` for many customers: each from the first source that has any
    for them, a source with a batch form asked once for all still without products."""
    found: dict[int, list[dict[str, str]]] = {pk: [] for pk in customer_ids}
    waiting = list(found)
    for source in _recommendation_sources:
        if not waiting:
            break
        many = _recommendation_batches.get(source)
        if many is not None:
            answers = many(waiting, limit) or {}
            for pk in waiting:
                found[pk] = _clean_products(answers.get(pk), limit)
        else:
            for pk in waiting:
                found[pk] = _clean_products(source(pk, limit), limit)
        waiting = [pk for pk in waiting if not found[pk]]
    return found


# --- links ----------------------------------------------------------------------------------------


def setting_text(name: str, default: str = "") -> str:
    """A setting by ``name``, else the environment variable of that name, else ``default``."""
    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name, "")
    return str(value or default)


def base_url() -> str:
    return setting_text("VEFA_BASE_URL", "http://localhost:8000").rstrip("/")


_CLICK_SALT = "vefa.marketing.click"
_hmac_keys: dict[str, bytes] = {}


def link_signature(token: str, link_id: int) -> str:
    """``salted_hmac("vefa.marketing.click", "<token>.<link>")``, shortened; the salted key
    is derived once per secret key instead of once per link."""
    secret = str(settings.SECRET_KEY)
    key = _hmac_keys.get(secret)
    if key is None:
        key = hashlib.sha1((_CLICK_SALT + secret).encode()).digest()  # noqa: S324 (Django's salted_hmac)
        _hmac_keys.clear()
        _hmac_keys[secret] = key
    message = f"{token}.{link_id}".encode()
    return hmac.new(key, msg=message, digestmod=hashlib.sha1).hexdigest()[:24]


def link_signature_valid(token: str, link_id: int, signature: str) -> bool:
    return constant_time_compare(link_signature(token, link_id), signature)


# A message has seven addresses of the recipient; each URL pattern is reversed once (with
# markers in place of the token, link and signature) and then filled in by formatting.
_MARKERS = {"token": "vefatokenmarker", "link_id": 987654321, "signature": "vefasignmarker"}
_url_shapes: dict[tuple[str, str, str], str] = {}


def _shape(name: str) -> str:
    key = (name, get_script_prefix(), str(get_urlconf() or ""))
    found = _url_shapes.get(key)
    if found is None:
        wanted = ("token",) if name != "marketing:track_click" else tuple(_MARKERS)
        path = reverse(name, kwargs={k: _MARKERS[k] for k in wanted})
        found = path.replace("{", "{{").replace("}", "}}")
        for marker in wanted:
            found = found.replace(str(_MARKERS[marker]), "{" + marker + "}")
        _url_shapes[key] = found
    return found


def click_url(token: str, link_id: int) -> str:
    path = _shape("marketing:track_click").format(
        token=token, link_id=link_id, signature=link_signature(token, link_id)
    )
    return base_url() + path


def unsubscribe_url(token: str) -> str:
    return base_url() + _shape("marketing:unsubscribe").format(token=token)


def one_click_url(token: str) -> str:
    return base_url() + _shape("marketing:unsubscribe_one_click").format(token=token)


def view_url(token: str) -> str:
    return base_url() + _shape("marketing:view_message").format(token=token)


def open_pixel_url(token: str) -> str:
    return base_url() + _shape("marketing:track_open").format(token=token)


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


LinkCache = dict[tuple[int, str], int]


def campaign_link_id(campaign_id: int, url: str, cache: LinkCache | None = None) -> int:
    """The id of the campaign's link to ``url``, written the first time it is seen;
    ``cache`` (one per sending batch) saves the lookup for the next recipients."""
    from vefa.marketing.models import CampaignLink

    key = (campaign_id, url)
    found = cache.get(key) if cache is not None else None
    if found is not None:
        return found
    digest = url_hash(url)
    link_id = (
        CampaignLink.objects.filter(campaign_id=campaign_id, url_hash=digest)
        .values_list("pk", flat=True)
        .first()
    )
    if link_id is None:
        try:
            with transaction.atomic():
                link_id = CampaignLink.objects.create(
                    campaign_id=campaign_id, url=url, url_hash=digest
                ).pk
        except IntegrityError:
            link_id = CampaignLink.objects.get(campaign_id=campaign_id, url_hash=digest).pk
    if cache is not None:
        cache[key] = link_id
    return link_id


def _trackable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and len(url) <= 2000


# --- rendering --------------------------------------------------------------------------------


@dataclass
class RenderedMessage:
    subject: str
    html: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


def points_balance(customer_id: int) -> int:
    from vefa.marketing.models import PointsEntry

    total = PointsEntry.objects.filter(customer_id=customer_id).aggregate(total=Sum("points"))
    return int(total["total"] or 0)


def merge_context(
    customer: Customer,
    recipient: CampaignRecipient | None,
    *,
    names: frozenset[str] = frozenset(MERGE_FIELDS),
    company: str = "",
    balance: int | None = None,
    products: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The plain values a template sees; the costly ones only when the template uses them."""
    token = recipient.token if recipient is not None else ""
    context: dict[str, Any] = {
        "first_name": customer.first_name or "",
        "last_name": customer.last_name or "",
        "display_name": customer.display_name or "",
        "city": customer.city or "",
        "company": company or str(getattr(settings, "VEFA_COMPANY_NAME", "") or ""),
        "unsubscribe_url": unsubscribe_url(token) if token else "#",
        "view_url": view_url(token) if token else "#",
        "points_balance": 0,
        "products": [],
    }
    if "points_balance" in names:
        context["points_balance"] = balance if balance is not None else points_balance(customer.pk)
    if "products" in names:
        context["products"] = (
            products if products is not None else recommended_products(customer.pk)
        )
    return context


def _one_line(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())[:998]


def render_message(
    *,
    version: TemplateVersion,
    customer: Customer,
    recipient: CampaignRecipient | None = None,
    subject: str = "",
    company: str = "",
    balance: int | None = None,
    products: list[dict[str, str]] | None = None,
    track_opens: bool = False,
    link_cache: LinkCache | None = None,
) -> RenderedMessage:
    """The message for ``customer``: subject (``subject`` replaces the version's), sanitised
    HTML with tracked links, a plain-text part (given, or derived from the HTML) and the
    unsubscribe headers. Without ``recipient`` (a preview) links are left as written."""
    compiled = _compile(version, subject)
    context = Context(
        merge_context(
            customer,
            recipient,
            names=compiled.names,
            company=company,
            balance=balance,
            products=products,
        ),
        autoescape=False,
    )
    rendered_subject = _one_line(compiled.subject.render(context))
    html_body = ""
    if compiled.html is not None:
        raw = compiled.html.render(Context(context.flatten(), autoescape=True))
        rewrite = None
        if recipient is not None:
            token = recipient.token
            campaign_id = recipient.campaign_id
            own_prefix = base_url() + "/marketing/"

            def rewrite(element: str, attribute: str, value: str) -> str | None:
                if element == "a" and attribute == "href" and _trackable(value):
                    if value.startswith(own_prefix):
                        return value
                    return click_url(token, campaign_link_id(campaign_id, value, link_cache))
                return value

        html_body = clean_html(raw, rewrite=rewrite)
        if recipient is not None and track_opens:
            html_body += (
                f'<img src="{open_pixel_url(recipient.token)}" width="1" height="1" alt="">'
            )
    if compiled.text is not None:
        text_body = compiled.text.render(context).strip()
    else:
        text_body = html_to_text(html_body)
    headers: dict[str, str] = {}
    if recipient is not None:
        targets = [f"<{one_click_url(recipient.token)}>"]
        mailto = setting_text("VEFA_MARKETING_UNSUBSCRIBE_MAILTO")
        if mailto:
            targets.append(f"<mailto:{mailto}?subject=unsubscribe%20{recipient.token}>")
        headers["List-Unsubscribe"] = ", ".join(targets)
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return RenderedMessage(
        subject=rendered_subject, html=html_body, text=text_body, headers=headers
    )
