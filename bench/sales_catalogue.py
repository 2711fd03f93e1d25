"""Benchmark of the product list on 100,000 products (target: p95 ≤ 100 ms).

    # SQLite (a data directory of its own; the database is made afresh)
    VEFA_DATA_DIR=/tmp/vefa-bench-sales-catalogue python -m bench.sales_catalogue run

    # PostgreSQL (database vefa_bench_sales_catalogue, dropped and created afresh)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vefa_bench_sales_catalogue \
        python -m bench.sales_catalogue run

``run`` migrates an empty database and writes three users (an administrator, a sales
manager and a rep), 550 categories (50 at the top with 10 below each) and ``--products``
products (bulk inserts; names mix Turkish, Serbian and Persian words; one in ten inactive),
plus one price list with a price for every hundredth product, and puts the products in the
search index (as the services do after each save). Then every scenario is
requested ``--rounds`` times through Django's test client (server time: routing,
middleware, access rules, queries, template) as the rep and as the manager:

- the product list's first page, a page half way down (a "Show more" cursor), the htmx rows;
- search by SKU prefix, by a common name word (more matches than are listed), a word prefix,
  two words, a rare word and a word no product has;
- a top-level category (with its sub-categories), a leaf category, inactive products, and a
  category with a search;
- the API list and the API "price for" of a product;
- for reference, the customer list with no customers: what any list page of the
  application costs on the machine at that moment (the machine is shared).

Figures are printed and written to ``bench/results/sales-catalogue.md`` (the section of the
database in use is replaced).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.setup import is_pg, percentile
from bench.setup import setup as bench_setup

RESULTS = Path(__file__).resolve().parent / "results" / "sales-catalogue.md"
PG_NAME = "vefa_bench_sales_catalogue"
TARGET_MS = 100.0
WORDS = [
    "kahve", "çay", "filtre", "espresso", "kakao", "süt", "şeker", "bardak", "fincan",
    "kafa", "šolja", "mleko", "čaj", "šećer", "kafana",
    "قهوه", "چای", "شیر", "فنجان", "شکر",
    "premium", "organik", "klasik", "mini", "maxi", "paket", "kutu", "set",
]  # fmt: skip
RARE = "nadirkelime"


def setup(fresh: bool) -> None:
    bench_setup(PG_NAME, fresh=fresh)


# --- data ------------------------------------------------------------------------------------


def make_data(products: int, seed: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from vefa.accounts.models import Team, User
    from vefa.sales.models import PriceList, PriceListItem, Product, ProductCategory

    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():
        team = Team.objects.create(name="Bench")
        users = {
            "admin": User.objects.create_user(
                email="admin@bench.test", password="x", full_name="Admin", role="admin"
            ),
            "manager": User.objects.create_user(
                email="manager@bench.test",
                password="x",
                full_name="Manager",
                role="sales_manager",
                team=team,
            ),
            "rep": User.objects.create_user(
                email="rep@bench.test",
                password="x",
                full_name="Rep",
                role="sales_rep",
                team=team,
            ),
        }
        tops = ProductCategory.objects.bulk_create(
            ProductCategory(name=f"Kategori {i:02d} {rng.choice(WORDS)}") for i in range(50)
        )
        leaves = ProductCategory.objects.bulk_create(
            ProductCategory(name=f"Alt {i:03d}", parent=tops[i // 10]) for i in range(500)
        )
        every = [*tops, *leaves]
        batch: list[Product] = []
        for i in range(products):
            words = " ".join(rng.sample(WORDS, 3))
            name = f"{words} {RARE}" if i % 10_000 == 7 else words
            price = Decimal(rng.randint(100, 500_000)) / 100
            batch.append(
                Product(
                    sku=f"SKU-{i:06d}",
                    name=f"{name} {i}",
                    category=rng.choice(leaves) if rng.random() < 0.9 else rng.choice(every),
                    list_price=price,
                    unit_cost=(price * Decimal("0.6")).quantize(Decimal("0.01")),
                    currency="TRY",
                    tax_rate=rng.choice([Decimal(1), Decimal(10), Decimal(20)]),
                    is_active=rng.random() >= 0.1,
                )
            )
            if len(batch) == 5000:
                Product.objects.bulk_create(batch)
                batch = []
        Product.objects.bulk_create(batch)
        price_list = PriceList.objects.create(name="Genel", currency="TRY")
        ids = list(Product.objects.order_by("pk").values_list("pk", flat=True)[::100])
        PriceListItem.objects.bulk_create(
            PriceListItem(price_list=price_list, product_id=pk, unit_price=Decimal("9.90"))
            for pk in ids
        )
    # Services index products after commit; the bulk load indexes them in one go.
    from vefa.platform.search.indexer import rebuild

    rebuild(labels=["sales.product"], workers=1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"data: {products:,} products in {time.perf_counter() - started:.1f} s")
    return {"users": users, "top": tops[3], "leaf": leaves[42], "sample": ids[len(ids) // 2]}


# --- scenarios -------------------------------------------------------------------------------


def scenarios(data: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    from django.urls import reverse

    from vefa.common.paging import encode_cursor
    from vefa.sales.models import Product

    url = reverse("sales:product_list")
    middle = Product.objects.order_by("name", "pk").values_list("name", "pk")[
        Product.objects.count() // 2
    ]
    deep = encode_cursor(middle[0], middle[1], False)
    htmx = {"HX-Request": "true"}
    return [
        # Not a catalogue page: the customer list with no customers, the fixed cost of any
        # list page of the application on this machine at this moment (load included).
        ("reference: empty customer list", reverse("customers:list"), {}),
        ("first page", url, {}),
        ("page half way (cursor)", f"{url}?cursor={deep}", {}),
        ("htmx rows half way", f"{url}?cursor={deep}", htmx),
        ("SKU prefix", f"{url}?q=SKU-0421", {}),
        ("common name word", f"{url}?q=kahve", {}),
        ("word prefix", f"{url}?q=esp", {}),
        ("two words", f"{url}?q=kahve%20mleko", {}),
        ("rare name word", f"{url}?q={RARE}", {}),
        ("no match", f"{url}?q=yokboyle", {}),
        ("top category (+ subs)", f"{url}?category={data['top'].pk}", {}),
        ("leaf category", f"{url}?category={data['leaf'].pk}", {}),
        ("inactive", f"{url}?active=no", {}),
        ("category + search", f"{url}?category={data['top'].pk}&q=çay&active=yes", {}),
        ("htmx filter change", f"{url}?q=espresso&active=yes", htmx),
        ("API list", "/api/v1/sales/products?limit=50", {}),
        ("API list search", "/api/v1/sales/products?q=mleko&limit=50", {}),
        ("API price for", f"/api/v1/sales/products/{data['sample']}/price?currency=TRY", {}),
    ]


def measure(data: dict[str, Any], rounds: int) -> list[tuple[str, str, float, float, float]]:
    from django.test import Client

    rows = []
    for role in ("rep", "manager"):
        client = Client()
        client.force_login(data["users"][role])
        for name, path, headers in scenarios(data):
            response = client.get(path, headers=headers)  # warm-up
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            samples = []
            for _ in range(rounds):
                started = time.perf_counter()
                client.get(path, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
            p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
            rows.append((role, name, p50, p95, max(samples)))
            flag = "ok" if p95 <= TARGET_MS else "MISSED"
            print(
                f"{role:<8} {name:<26} p50 {p50:6.1f}  p95 {p95:6.1f}  "
                f"max {max(samples):6.1f} ms {flag}"
            )
    return rows


def report(vendor: str, products: int, rounds: int, rows: list[Any], command: str) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    worst = max(r[3] for r in rows if not r[1].startswith("reference"))
    lines = [
        f"## {vendor}",
        "",
        f"{datetime.date.today().isoformat()} · {products:,} products · {rounds} requests per "
        f"scenario and role · {platform.machine()}, {os.cpu_count()} CPUs shared with other "
        f"work (load {load:.1f}), Python {sys.version.split()[0]}",
        "",
        f"Command: `{command}`",
        "",
        f"Worst p95: **{worst:.1f} ms** (target {TARGET_MS:.0f} ms): "
        + ("met." if worst <= TARGET_MS else "missed."),
        "",
        "| role | scenario | p50 ms | p95 ms | max ms |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} |" for r in rows]
    section = "\n".join(lines) + "\n"
    head = (
        "# Sales catalogue: product list benchmark\n\n"
        "See `bench/sales_catalogue.py` for what is measured.\n\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else head
    parts = text.split("\n## ")
    kept = [p for p in parts[1:] if not p.startswith(vendor)]
    body = parts[0].rstrip("\n") + "\n\n" + "".join(f"## {p.rstrip()}\n\n" for p in kept)
    RESULTS.write_text(body + section)
    print(f"written to {RESULTS}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_catalogue")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    setup(fresh=True)
    from django.db import connection

    data = make_data(options.products, options.seed)
    rows = measure(data, options.rounds)
    prefix = (
        f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{PG_NAME} "
        if is_pg()
        else "VEFA_DATA_DIR=/tmp/vefa-bench-sales-catalogue "
    )
    command = (
        f"{prefix}python -m bench.sales_catalogue run "
        f"--products {options.products} --rounds {options.rounds}"
    )
    report(connection.vendor, options.products, options.rounds, rows, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
