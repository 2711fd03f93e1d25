"""The demo company: Vefa Home & Office, a furniture and home-appliance business selling to
households and firms in Türkiye, the United Kingdom, the United States, Serbia and Iran.

Its people log in with the fixed demo logins below (``vefa demo`` prints them; the README
quotes them). Users are created through ``user_create``, so passwords are validated and
hashed and each user has its change-log row.
"""

from __future__ import annotations

from dataclasses import dataclass

from vefa.accounts.choices import Role
from vefa.accounts.models import Team, User
from vefa.accounts.services import user_create

DEMO_DOMAIN = "vefa.example"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
ADMIN_PASSWORD = "vefa-admin-demo"  # noqa: S105 (the published demo login)


@dataclass(frozen=True)
class DemoLogin:
    """A demo user: who they are, what they do and how they log in."""

    email: str
    password: str
    full_name: str
    role: str
    team: str  # "" for no team
    language: str
    time_zone: str
    markets: tuple[str, ...] = ()  # locale keys whose customers this person looks after


TEAM_TURKIYE = "Türkiye"
TEAM_UK_US = "UK & US"
TEAM_BALKANS = "Balkans"
TEAM_IRAN = "Iran"
TEAM_SERVICE = "Customer service"
TEAM_MARKETING = "Marketing"
TEAMS = (TEAM_TURKIYE, TEAM_UK_US, TEAM_BALKANS, TEAM_IRAN, TEAM_SERVICE, TEAM_MARKETING)
# Which sales team looks after the customers of each market.
MARKET_TEAMS = {
    "tr-TR": TEAM_TURKIYE,
    "en-GB": TEAM_UK_US,
    "en-US": TEAM_UK_US,
    "sr-RS": TEAM_BALKANS,
    "fa-IR": TEAM_IRAN,
}

LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(
        ADMIN_EMAIL, ADMIN_PASSWORD, "Administrator", Role.ADMIN, "", "en", "Europe/Istanbul"
    ),
    DemoLogin(
        f"manager@{DEMO_DOMAIN}",
        "vefa-team-lead-demo",
        "Zeynep Arslan",
        Role.SALES_MANAGER,
        TEAM_TURKIYE,
        "tr",
        "Europe/Istanbul",
        ("tr-TR",),
    ),
    DemoLogin(
        f"rep.tr@{DEMO_DOMAIN}",
        "vefa-sales-demo",
        "Emre Yıldız",
        Role.SALES_REP,
        TEAM_TURKIYE,
        "tr",
        "Europe/Istanbul",
        ("tr-TR",),
    ),
    DemoLogin(
        f"rep.uk@{DEMO_DOMAIN}",
        "vefa-sales-demo",
        "Oliver Bennett",
        Role.SALES_REP,
        TEAM_UK_US,
        "en",
        "Europe/London",
        ("en-GB", "en-US"),
    ),
    DemoLogin(
        f"rep.rs@{DEMO_DOMAIN}",
        "vefa-sales-demo",
        "Marko Petrović",
        Role.SALES_REP,
        TEAM_BALKANS,
        "sr-latn",
        "Europe/Belgrade",
        ("sr-RS",),
    ),
    DemoLogin(
        f"rep.ir@{DEMO_DOMAIN}",
        "vefa-sales-demo",
        "Amir Hosseini",
        Role.SALES_REP,
        TEAM_IRAN,
        "fa",
        "Asia/Tehran",
        ("fa-IR",),
    ),
    DemoLogin(
        f"service@{DEMO_DOMAIN}",
        "vefa-helpdesk-demo",
        "Jelena Marković",
        Role.SERVICE_AGENT,
        TEAM_SERVICE,
        "sr-latn",
        "Europe/Belgrade",
    ),
    DemoLogin(
        f"marketing@{DEMO_DOMAIN}",
        "vefa-campaign-demo",
        "Parisa Karimi",
        Role.MARKETER,
        TEAM_MARKETING,
        "fa",
        "Asia/Tehran",
    ),
    DemoLogin(
        f"viewer@{DEMO_DOMAIN}",
        "vefa-viewer-demo",
        "Daniel Clarke",
        Role.READ_ONLY,
        "",
        "en",
        "Europe/London",
    ),
)

# The user whose existence tells that the demo company was loaded (the administrator may
# exist before, made by ``vefa init``).
MARKER_EMAIL = f"manager@{DEMO_DOMAIN}"


@dataclass
class DemoStaff:
    """The demo users and teams, by e-mail and by name."""

    users: dict[str, User]
    teams: dict[str, Team]

    def by_role(self, role: str) -> list[User]:
        return [u for u in self.users.values() if u.role == role]

    def sellers_for(self, market: str) -> list[User]:
        return [
            self.users[login.email]
            for login in LOGINS
            if market in login.markets and login.email in self.users
        ]


def ensure_staff() -> DemoStaff:
    """The demo teams and users; existing ones (e.g. the admin from ``vefa init``) are kept."""
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
    users: dict[str, User] = {}
    for login in LOGINS:
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = user_create(
                actor=None,
                email=login.email,
                full_name=login.full_name,
                password=login.password,
                role=login.role,
                team=teams[login.team] if login.team else None,
                language=login.language,
                time_zone=login.time_zone,
            )
        users[login.email] = user
    return DemoStaff(users=users, teams=teams)


def login_lines() -> list[str]:
    """The demo logins as printed after loading (the administrator's password is the one
    ``vefa demo`` gives ``vefa init`` unless the administrator existed before)."""
    lines = []
    for login in LOGINS:
        user = User.objects.filter(email=login.email).first()
        shown = login.password
        if user is not None and not user.check_password(login.password):
            shown = "(the password set when this user was created)"
        role = Role(login.role).label
        team = f", {login.team}" if login.team else ""
        lines.append(f"  {login.email:<26} {shown:<22} {role}{team}")
    return lines
