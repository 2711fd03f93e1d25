"""``vefa demo``'s help desk: calendars and holidays, queues, categories, SLA policies, a year
of tickets with conversations, returns of real order lines, surveys and the knowledge base.

The demo company is loaded once for the module inside a transaction that is rolled back
afterwards (as in ``test_demo_sales``); each test reads it.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from tests.demo_loaded import demo_loaded
from vefa.accounts.models import User
from vefa.demo.service import RETURNS, TICKETS, turkish_holidays
from vefa.interactions.filters import user_zone
from vefa.service.choices import (
    OPEN_STATUSES,
    MessageKind,
    SlaState,
    SurveyKind,
    TicketStatus,
    TicketType,
)
from vefa.service.models import (
    Article,
    ArticleTranslation,
    BusinessCalendar,
    Category,
    Holiday,
    Queue,
    ReturnLine,
    ReturnRequest,
    SlaPolicy,
    SurveyInvitation,
    Ticket,
    TicketMessage,
)
from vefa.service.selectors.knowledge import public_article_get
from vefa.service.selectors.metrics import period_range, service_metrics


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo company, loaded once; everything is rolled back after the module."""
    with demo_loaded(django_db_blocker) as loaded:
        yield loaded


pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def reads(demo, db):
    """Each test reads the module's demo (its own writes are rolled back after it)."""


def test_turkish_holidays_are_the_official_days():
    days = dict(turkish_holidays(2026))
    assert days[datetime.date(2026, 10, 29)] == "Cumhuriyet Bayramı"
    assert days[datetime.date(2026, 4, 23)] == "Ulusal Egemenlik ve Çocuk Bayramı"
    assert days[datetime.date(2026, 5, 27)] == "Kurban Bayramı 1"
    assert days[datetime.date(2026, 5, 30)] == "Kurban Bayramı 4"
    assert days[datetime.date(2026, 3, 20)] == "Ramazan Bayramı 1"
    assert len(days) == 7 + 3 + 4


def test_calendars_queues_categories_and_policies(reads):
    istanbul = BusinessCalendar.objects.get(name="İstanbul ofisi")
    assert istanbul.time_zone == "Europe/Istanbul"
    assert istanbul.hours["1"] == [["09:00", "18:00"]] and "7" not in istanbul.hours
    year = timezone.now().year
    assert Holiday.objects.filter(calendar=istanbul, date=datetime.date(year, 10, 29)).exists()
    assert Holiday.objects.filter(calendar=istanbul, name__startswith="Kurban").exists()
    tehran = BusinessCalendar.objects.get(name="Tehran office")
    assert "6" in tehran.hours and "5" not in tehran.hours  # Saturday to Wednesday
    assert Queue.objects.count() >= 5
    assert Queue.objects.filter(is_default=True).count() == 1
    assert not Queue.objects.filter(team__isnull=True).exists()
    assert {q.team.name for q in Queue.objects.select_related("team")} >= {
        "Customer service",
        "Türkiye",
        "UK & US",
        "Balkans",
        "Iran",
    }
    late = Category.objects.get(name="Geç teslimat / Late delivery")
    assert late.parent.name == "Teslimat / Delivery"
    assert late.path == "Teslimat / Delivery › Geç teslimat / Late delivery"
    assert Category.objects.filter(parent__isnull=True).count() == 6
    assert SlaPolicy.objects.filter(priority="", value_class="").exists()  # the catch-all
    assert SlaPolicy.objects.filter(value_class="A").exists()


def test_a_year_of_tickets(reads, demo):
    tickets = Ticket.objects.all()
    assert tickets.count() == TICKETS
    span = tickets.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["first"] >= demo["started"] - datetime.timedelta(days=366)
    assert span["last"] <= timezone.now()
    numbers = list(tickets.values_list("number", flat=True))
    assert len(set(numbers)) == TICKETS
    assert all(re.fullmatch(r"T-\d{4}-\d{6}", n) for n in numbers)
    kinds = dict(tickets.values_list("type").annotate(n=Count("id")))
    assert kinds[TicketType.COMPLAINT] > kinds[TicketType.PRAISE] > 0
    statuses = dict(tickets.values_list("status").annotate(n=Count("id")))
    assert statuses[TicketStatus.CLOSED] > TICKETS / 2
    assert set(statuses) >= {TicketStatus.CLOSED, TicketStatus.RESOLVED, TicketStatus.OPEN}
    # Every ticket waits in a queue of its team and has an owner (MISSION §5).
    assert not tickets.filter(queue__isnull=True).exists()
    assert not tickets.exclude(team_id=F("queue__team_id")).exists()
    assert not tickets.filter(owner__isnull=True).exists()
    # Times in order.
    assert not tickets.filter(first_responded_at__lt=F("created_at")).exists()
    assert not tickets.filter(resolved_at__lt=F("created_at")).exists()
    assert not tickets.filter(status__in=OPEN_STATUSES, resolved_at__isnull=False).exists()
    assert not tickets.filter(status=TicketStatus.CLOSED, resolved_at__isnull=True).exists()


def test_sla_clocks_and_breaches(reads):
    tickets = Ticket.objects.all()
    assert not tickets.filter(sla_policy__isnull=True).exists()
    assert not tickets.filter(first_response_due_at__lte=F("created_at")).exists()
    assert not tickets.filter(resolution_due_at__lt=F("first_response_due_at")).exists()
    breached = tickets.filter(resolution_breached=True).count()
    assert 0 < breached < TICKETS / 2
    # A breach is a resolution after its due time (or still open past it).
    assert not tickets.filter(resolution_breached=True, resolved_at__lte=F("resolution_due_at"))
    assert not tickets.filter(resolution_breached=False, resolved_at__gt=F("resolution_due_at"))
    assert tickets.filter(sla_state=SlaState.MET).exists()
    assert not tickets.filter(status=TicketStatus.WAITING).exclude(sla_state=SlaState.PAUSED)
    # Urgent tickets follow the urgent policy.
    urgent = tickets.filter(priority="urgent").select_related("sla_policy")
    assert urgent and all(t.sla_policy.priority == "urgent" for t in urgent)


def test_conversations(reads):
    first = TicketMessage.objects.filter(kind=MessageKind.CUSTOMER).values("ticket").distinct()
    assert first.count() == TICKETS  # every ticket opens with the customer's message
    replies = dict(
        Ticket.objects.annotate(
            n=Count("messages", filter=Q(messages__kind=MessageKind.REPLY))
        ).values_list("id", "n")
    )
    counted = dict(Ticket.objects.values_list("id", "reply_count"))
    assert sum(1 for pk, n in replies.items() if n == counted[pk]) > TICKETS * 0.9
    assert TicketMessage.objects.filter(kind=MessageKind.NOTE).exists()
    assert not TicketMessage.objects.filter(created_at__lt=F("ticket__created_at")).exists()
    assert Ticket.objects.filter(reopen_count=1).exists()


def test_high_value_customers_with_open_complaints(reads):
    assert Ticket.objects.filter(
        type=TicketType.COMPLAINT, value_class="A", status__in=OPEN_STATUSES
    ).exists()
    assert set(Ticket.objects.values_list("value_class", flat=True)) <= {"A", "B", "C", ""}


def test_returns_of_real_order_lines(reads):
    returns = ReturnRequest.objects.all()
    assert 0 < returns.count() <= RETURNS
    assert all(re.fullmatch(r"R-\d{4}-\d{6}", n) for n in returns.values_list("number", flat=True))
    lines = ReturnLine.objects.select_related("order_line", "return_request")
    assert lines.count() == returns.count()
    for line in lines:
        assert line.order_line.order_id == line.return_request.order_id
        assert 0 < line.quantity <= line.order_line.quantity
        assert line.product_id == line.order_line.product_id
    assert not returns.exclude(customer_id=F("order__customer_id")).exists()
    assert returns.filter(status="completed").exclude(disposition="").exists()
    assert not returns.filter(status="completed", disposition="").exists()
    assert not returns.filter(created_at__lt=F("order__ordered_at")).exists()


def test_csat_and_nps_answers(reads):
    csat = SurveyInvitation.objects.filter(kind=SurveyKind.CSAT)
    nps = SurveyInvitation.objects.filter(kind=SurveyKind.NPS)
    assert csat.filter(score__isnull=False).count() > 50
    assert set(csat.exclude(score=None).values_list("score", flat=True)) <= {1, 2, 3, 4, 5}
    assert not csat.filter(ticket__resolved_at__isnull=True).exists()
    assert nps.filter(score__isnull=False).count() > 30
    assert set(nps.exclude(score=None).values_list("score", flat=True)) <= set(range(11))
    assert not SurveyInvitation.objects.filter(score__isnull=False, responded_at__isnull=True)
    hashes = list(SurveyInvitation.objects.values_list("token_hash", flat=True))
    assert len(set(hashes)) == len(hashes)
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes)


def test_knowledge_base_in_four_languages(reads):
    assert Article.objects.count() == 5
    public = Article.objects.filter(visibility="public", status="published")
    assert public.count() == 4
    for article in public:
        languages = set(article.translations.values_list("language", flat=True))
        assert languages == {"en", "tr", "sr-latn", "fa"}
    text = public_article_get(slug="teslimat-suresi", language="tr")
    assert text.title == "Teslimat ne kadar sürer?"
    assert not ArticleTranslation.objects.filter(search_text="").exists()


def test_the_dashboard_has_figures(reads):
    admin = User.objects.get(email="admin@vefa.example")
    # The demo opens its tickets over the last 365 days to the second, and the dashboard's
    # days are the user's days: the window ends today in the administrator's time zone (as
    # the page and the API take it; after 21:00 UTC that is already tomorrow in Istanbul)
    # and reaches one day further back.
    today = timezone.now().astimezone(user_zone(admin)).date()
    start, end = period_range(366, today)
    report = service_metrics(actor=admin, start=start, end=end, use_cache=False)
    assert report["summary"]["opened"] == TICKETS
    assert report["first_response_hours"]["median"] is not None
    assert report["resolution_hours"]["p90"] > report["resolution_hours"]["median"]
    assert 0.3 < report["first_contact_resolution"]["share"] < 0.95
    assert 0 < report["reopen"]["rate"] < 0.2
    assert 0.3 < report["sla"]["resolution"]["share"] < 1
    assert report["high_value_open_complaints"]
    assert report["top_categories"][0]["count"] > 0
    assert report["returns"]["total"] > 0


def test_a_contact_person_can_sign_in_to_the_portal(reads):
    from vefa.customers.models import CustomerRelationship
    from vefa.portal.models import PortalAccount
    from vefa.portal.services import login_password

    account = PortalAccount.objects.get(email="portal@vefa.example")
    # A contact person who works at the organisation whose data the portal shows.
    assert CustomerRelationship.objects.filter(
        from_customer=account.contact, to_customer=account.customer, kind="works_at"
    ).exists()
    assert Ticket.objects.filter(customer=account.customer).exists()
    signed_in = login_password(
        email="PORTAL@vefa.example", password="vefa-portal-demo", ip_address="127.0.0.1"
    )
    assert signed_in.pk == account.pk
