"""What is measured: the customer list, the customer 360 page, global search, the API list.

A scenario is a list of requests (several variants of the same page) and a target for the
95th percentile of their server time. Users come from ``vefa bench-data``: an administrator
(sees everything) and a sales rep (sees one team's customers, 1/40 of them at a million).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from vefa.accounts.access import restrict
from vefa.accounts.choices import Role
from vefa.accounts.models import User
from vefa.common.paging import encode_cursor
from vefa.customers.models import Customer
from vefa.demo.bench.staff import BENCH_DOMAIN


@dataclass(frozen=True)
class Call:
    """One request: as whom, where, with which headers."""

    user: User
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass
class Scenario:
    name: str
    target_ms: float
    calls: list[Call]
    # Requests that make up one measured sample (a page and the partials it loads).
    group: int = 1


def _user(role: str) -> User:
    user = (
        User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}", role=role, is_active=True)
        .order_by("email")
        .first()
    )
    if user is None:
        raise SystemExit(f"no benchmark user with role {role}: run `vefa bench-data` first")
    return user


def _middle_cursor(queryset: QuerySet[Customer], field: str) -> str:
    """A keyset cursor pointing half way through ``queryset`` in ``field`` order (a deep page).

    Found once with OFFSET (slow, not measured); the page it opens is read by the index.
    """
    total = queryset.count()
    row = queryset.order_by(field, "pk").values_list(field, "pk")[total // 2]
    return encode_cursor(row[0], row[1], False)


def customer_list(admin: User, rep: User) -> Scenario:
    url = reverse("customers:list")
    visible = restrict(Customer.objects.all(), rep, "view")
    calls = [
        Call(admin, f"{url}", label="all, name A–Z, page 1"),
        Call(admin, f"{url}?sort=-last_contact", label="all, most recently contacted"),
        Call(admin, f"{url}?sort=last_contact", label="all, longest without contact"),
        Call(admin, f"{url}?stage=customer&sort=-created", label="stage, newest first"),
        Call(admin, f"{url}?country=TR&kind=organisation", label="country and kind"),
        Call(admin, f"{url}?tag=VIP", label="tag"),
        Call(admin, f"{url}?q=meh", label="name prefix"),
        Call(admin, f"{url}?city=Ankara&sort=-name", label="city, name Z–A"),
        Call(
            admin,
            f"{url}?cursor={_middle_cursor(Customer.objects.all(), 'name_key')}",
            label="all, deep page (keyset)",
        ),
        Call(rep, f"{url}", label="rep's team, page 1"),
        Call(rep, f"{url}?stage=lost&sort=-last_contact", label="rep, lost, recent"),
        Call(rep, f"{url}?owner=me", label="rep, own"),
        Call(
            rep,
            f"{url}?cursor={_middle_cursor(visible, 'name_key')}",
            label="rep, deep page (keyset)",
        ),
        Call(admin, f"{url}?sort=-created", {"HX-Request": "true"}, label="htmx partial"),
    ]
    return Scenario("customer list", 100, calls)


def customer_360(admin: User, rep: User, rng: random.Random, samples: int) -> Scenario:
    """The detail page and the three partials it loads (quick add, activities, timeline)."""
    top = Customer.objects.order_by("-last_interaction_at").values_list("pk", flat=True)[:2000]
    ids = rng.sample(list(top), min(samples, len(top)))
    visible_qs = restrict(Customer.objects.all(), rep, "view").order_by("-pk")
    visible = list(visible_qs.values_list("pk", flat=True)[:2000])
    calls: list[Call] = []
    for number, pk in enumerate(ids):
        user = admin
        if number % 2 and visible:
            user, pk = rep, rng.choice(visible)
        calls.append(Call(user, reverse("customers:detail", args=[pk]), label="page"))
        calls.append(
            Call(
                user,
                f"{reverse('interactions:quick_add')}?customer={pk}",
                {"HX-Request": "true"},
                label="quick add",
            )
        )
        for name in ("interactions:customer_activities", "interactions:customer_timeline"):
            label = name.split(":")[1]
            calls.append(Call(user, reverse(name, args=[pk]), {"HX-Request": "true"}, label=label))
    return Scenario("customer 360 page (page + 3 partials)", 150, calls, group=4)


SEARCH_TERMS = (
    "mehmet",
    "ayş",
    "yilmaz",
    "jovanović",
    "ђорђе",
    "علی",
    "محمدی",
    "smith",
    "oliver",
    "anadolu",
    "+90532",
    "info@",
    "istanbul",
    "beograd",
    "kaya elif",
    "zz-no-such-word",
)


def global_search(admin: User, rep: User) -> Scenario:
    url = reverse("platform:search")
    calls = []
    for number, term in enumerate(SEARCH_TERMS):
        user = rep if number % 2 else admin
        calls.append(Call(user, f"{url}?q={term}", label=f"page: {term}"))
        calls.append(
            Call(
                user,
                f"{url}?q={term}",
                {"HX-Request": "true", "HX-Target": "global-search-results"},
                label=f"dropdown: {term}",
            )
        )
    return Scenario("global search", 100, calls)


def api_list(admin: User, rep: User) -> Scenario:
    url = "/api/v1/customers"
    cursor = _middle_cursor(Customer.objects.all(), "name_key")
    calls = [
        Call(admin, f"{url}?limit=100", label="100, name order"),
        Call(admin, f"{url}?limit=100&sort=-created", label="100, newest"),
        Call(admin, f"{url}?limit=100&stage=customer&country=GB", label="100, filtered"),
        Call(admin, f"{url}?limit=100&cursor={cursor}", label="100, deep page"),
        Call(rep, f"{url}?limit=100", label="rep, 100"),
        Call(rep, f"{url}?limit=100&sort=-last_contact", label="rep, 100, recent contact"),
    ]
    return Scenario("API: list of 100 customers", 80, calls)


def all_scenarios(rng: random.Random, samples: int) -> list[Scenario]:
    admin, rep = _user(Role.ADMIN), _user(Role.SALES_REP)
    builders: list[Callable[[], Any]] = [
        lambda: customer_list(admin, rep),
        lambda: customer_360(admin, rep, rng, samples),
        lambda: global_search(admin, rep),
        lambda: api_list(admin, rep),
    ]
    return [build() for build in builders]
