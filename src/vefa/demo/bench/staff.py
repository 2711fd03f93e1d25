"""Teams and users of the benchmark company, in every role, sized to the customer count.

Customers and their history are spread over the teams' sales reps, so the record-level
access filters (own / team / all) select realistic shares of a million rows: a rep sees one
team's customers (about 1/teams of them), a manager changes them, an admin sees all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from vefa.accounts.choices import Role
from vefa.accounts.models import Team, User
from vefa.demo.people import FastRandom
from vefa.demo.pools import locales

# One password for every benchmark user (hashed once): the benchmark logs in with it.
BENCH_PASSWORD = "vefa-bench-password"  # noqa: S105 (a fixed, documented test login)
BENCH_DOMAIN = "bench.vefa.example"
REPS_PER_TEAM = 6
SERVICE_PER_TEAM = 2
CUSTOMERS_PER_TEAM = 25_000
MAX_TEAMS = 40


@dataclass
class BenchTeam:
    team_id: int
    manager_id: int
    rep_ids: list[int]
    service_ids: list[int]


@dataclass
class Staff:
    """The ids the generator assigns records to."""

    teams: list[BenchTeam] = field(default_factory=list)
    marketer_ids: list[int] = field(default_factory=list)
    admin_id: int = 0
    read_only_id: int = 0


def team_count(customers: int) -> int:
    return max(2, min(MAX_TEAMS, customers // CUSTOMERS_PER_TEAM))


def bench_email(role: str, team: int | None = None, number: int | None = None) -> str:
    parts = [role.replace("_", "-")]
    if team is not None:
        parts.append(f"t{team:02d}")
    if number is not None:
        parts.append(str(number))
    return f"{'.'.join(parts)}@{BENCH_DOMAIN}"


def ensure_staff(*, customers: int, seed: int) -> Staff:
    """The benchmark's teams and users, created on the first run and reused afterwards."""
    rng = FastRandom(seed)
    names = [
        f"{rng.choice(loc.female + loc.male)} {rng.choice(loc.surnames)}"
        for loc in locales()
        for _ in range(200)
    ]
    password = make_password(BENCH_PASSWORD)
    existing = {u.email: u for u in User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}")}
    new_users: list[User] = []

    def user(email: str, role: str, team: Team | None) -> str:
        if email not in existing:
            candidate = User(
                email=email,
                full_name=names[(len(existing) + len(new_users)) % len(names)],
                role=role,
                team=team,
                password=password,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
            new_users.append(candidate)
        return email

    layout: list[tuple[Team, str, list[str], list[str]]] = []
    for number in range(1, team_count(customers) + 1):
        team, _ = Team.objects.get_or_create(name=f"Bench team {number:02d}")
        manager = user(bench_email("manager", number), Role.SALES_MANAGER, team)
        reps = [
            user(bench_email("rep", number, r), Role.SALES_REP, team)
            for r in range(1, REPS_PER_TEAM + 1)
        ]
        service = [
            user(bench_email("service", number, s), Role.SERVICE_AGENT, team)
            for s in range(1, SERVICE_PER_TEAM + 1)
        ]
        layout.append((team, manager, reps, service))
    marketers = [user(bench_email("marketer", None, m), Role.MARKETER, None) for m in (1, 2, 3)]
    admin = user(bench_email("admin"), Role.ADMIN, None)
    read_only = user(bench_email("read-only"), Role.READ_ONLY, None)
    User.objects.bulk_create(new_users)
    ids = dict(User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").values_list("email", "pk"))
    return Staff(
        teams=[
            BenchTeam(
                team_id=team.pk,
                manager_id=ids[manager],
                rep_ids=[ids[e] for e in reps],
                service_ids=[ids[e] for e in service],
            )
            for team, manager, reps, service in layout
        ],
        marketer_ids=[ids[e] for e in marketers],
        admin_id=ids[admin],
        read_only_id=ids[read_only],
    )
