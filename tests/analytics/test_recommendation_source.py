"""The next-best products campaign messages show: one customer at a time and a batch at once
give the same answer."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, UserFactory
from vefa.accounts.choices import Role
from vefa.analytics.apps import next_best_products, next_best_products_many
from vefa.analytics.models import CustomerScore
from vefa.sales.services.catalogue import product_create

pytestmark = pytest.mark.django_db


def test_a_batch_answers_like_each_customer_alone(django_assert_max_num_queries):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    products = [
        product_create(actor=admin, sku=f"P-{i}", name=f"Ürün <b>{i}</b>") for i in range(4)
    ]
    products[3].is_active = False
    products[3].save()
    customers = [CustomerFactory() for _ in range(4)]
    now = timezone.now()
    wants = [
        [products[2].pk, products[0].pk, products[1].pk],
        [products[3].pk, products[1].pk],  # an inactive product is left out
        ["x", None, products[0].pk],  # hostile JSON in the score is ignored
    ]
    for customer, ids in zip(customers, wants, strict=False):
        CustomerScore.objects.create(
            customer=customer, computed_at=now, currency="TRY", next_best=ids
        )
    ids = [c.pk for c in customers]
    with django_assert_max_num_queries(2):
        batch = next_best_products_many(ids, 2)
    assert batch == {pk: next_best_products(pk, 2) for pk in ids}
    assert [p["sku"] for p in batch[customers[0].pk]] == ["P-2", "P-0"]
    assert [p["sku"] for p in batch[customers[1].pk]] == ["P-1"]
    assert batch[customers[3].pk] == []  # no score yet
    assert next_best_products_many([], 3) == {}
