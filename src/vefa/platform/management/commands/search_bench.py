"""``vefa search-bench``: server time of the global search on the data in the database.

Queries are drawn from the indexed records themselves (names, name prefixes of 2–4 letters,
first and last name together, e-mail and phone prefixes, words of interaction subjects) and
run through the search page exactly as the navbar box calls it (htmx dropdown), once as an
administrator and once as a sales representative who sees only the team's records. Prints
p50, p95 and the maximum per user. Run it after ``vefa bench-data``.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.urls import reverse

from vefa.accounts.choices import Role
from vefa.accounts.models import User
from vefa.platform.models import SearchEntry


def _queries(rng: random.Random, count: int) -> list[str]:
    """Realistic things to type, taken from random index entries."""
    top = SearchEntry.objects.order_by("-id").values_list("id", flat=True).first()
    if top is None:
        return []
    queries: list[str] = []
    attempts = 0
    while len(queries) < count and attempts < count * 20:
        attempts += 1
        pk = rng.randint(1, top)
        entry = (
            SearchEntry.objects.filter(id__gte=pk)
            .order_by("id")
            .values("model", "title", "text")
            .first()
        )
        if entry is None:
            continue
        words = [w for w in entry["title"].split() if len(w) > 1]
        terms = [t for t in entry["text"].split() if len(t) > 2]
        if not words or not terms:
            continue
        kind = rng.randrange(6)
        if kind == 0:
            queries.append(words[0])
        elif kind == 1:
            word = rng.choice(words)
            queries.append(word[: rng.randint(2, 4)])
        elif kind == 2 and len(words) > 1:
            queries.append(f"{words[0]} {words[-1][:3]}")
        elif kind == 3:
            queries.append(rng.choice(terms)[:6])
        elif kind == 4:
            queries.append(rng.choice(terms))
        else:
            queries.append(" ".join(rng.sample(terms, min(2, len(terms)))))
    return queries


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class Command(BaseCommand):
    help = "Measure the server time of the global search (p50, p95, max) on this database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--full-page", action="store_true", help="the full results page")

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])  # noqa: S311 - repeatable samples, not secrets
        queries = _queries(rng, max(1, options["queries"]))
        if not queries:
            raise CommandError("The search index is empty: load data first (vefa bench-data).")
        users = [
            User.objects.filter(role=Role.ADMIN, is_active=True).first(),
            User.objects.filter(role=Role.SALES_REP, is_active=True, team__isnull=False).first(),
        ]
        url = reverse("platform:search")
        headers: dict[str, str] = {}
        if not options["full_page"]:
            headers = {"HX-Request": "true", "HX-Target": "global-search-results"}
        for user in users:
            if user is None:
                continue
            client = Client(SERVER_NAME="localhost")
            client.force_login(user)
            client.get(url, {"q": queries[0]}, headers=headers)  # warm up
            times: list[float] = []
            slowest = ("", 0.0)
            for query in queries:
                started = time.perf_counter()
                response = client.get(url, {"q": query}, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise CommandError(f"{query!r}: HTTP {response.status_code}")
                times.append(elapsed)
                if elapsed > slowest[1]:
                    slowest = (query, elapsed)
            self.stdout.write(
                f"{user.get_role_display()}: {len(times)} searches, "
                f"p50 {statistics.median(times):.1f} ms, p95 {_percentile(times, 0.95):.1f} ms, "
                f"max {max(times):.1f} ms ({slowest[0]!r})"
            )
