"""factory-boy factories for tests (tests never call services' internals directly)."""

from __future__ import annotations

import factory

from vefa.accounts.choices import Role
from vefa.accounts.models import Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.SALES_REP
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(factory.django.DjangoModelFactory):
    """A person customer written straight to the table (services are under test elsewhere)."""

    class Meta:
        model = "customers.Customer"

    kind = "person"
    first_name = factory.Sequence(lambda n: f"Ayşe{n}")
    last_name = "Yılmaz"
    display_name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    name_key = factory.LazyAttribute(lambda o: o.display_name.casefold())
    lifecycle_stage = "customer"
