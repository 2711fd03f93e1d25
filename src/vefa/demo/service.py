"""The demo company's help desk: queues per team on business calendars with Turkish public
holidays, a root-cause category tree in Turkish and English, SLA policies, a year of tickets
with their conversations, returns of real order lines, CSAT and NPS answers and a small
knowledge base in four languages.

The setup tables (calendars, holidays, queues, categories, policies) are few and written
through the ORM. Tickets, messages, returns, surveys and articles are made in memory from a
fixed seed and written in bulk with the demo loader (``bulk_create`` would overwrite the
historical creation times). SLA due times are computed with the queue calendar's
``BusinessClock``, so breaches in the demo are the ones the SLA job would have found.
Ticket and return numbers come from ``vefa.sales.numbering.reserve_numbers`` per year.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Count, Sum

from vefa.accounts.choices import Role
from vefa.accounts.models import Team, User
from vefa.common.text import fold
from vefa.customers.models import Customer
from vefa.demo.bench.generate import ts
from vefa.demo.bench.loaders import Loader
from vefa.demo.bench.tables import TableSpec
from vefa.demo.company import (
    TEAM_BALKANS,
    TEAM_IRAN,
    TEAM_SERVICE,
    TEAM_TURKIYE,
    TEAM_UK_US,
    DemoStaff,
)
from vefa.sales.models import Order, OrderLine
from vefa.sales.numbering import reserve_numbers
from vefa.service.choices import (
    ArticleStatus,
    ArticleVisibility,
    AssignmentMethod,
    DeliveryStatus,
    Disposition,
    EscalationAction,
    MessageKind,
    ReturnReason,
    ReturnStatus,
    SlaState,
    SurveyKind,
    SurveyStatus,
    TicketChannel,
    TicketPriority,
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
    Survey,
    SurveyInvitation,
    Ticket,
    TicketMessage,
)
from vefa.service.services.knowledge import translation_search_text
from vefa.service.sla import BusinessClock

SEED = 20_260_301
TICKETS = 420
RETURNS = 70
KEEP_OPEN_EVERY = 8  # of the A customers' complaints older than five days
NPS_AUDIENCE = 160
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
SEP = " › "

# The tables written in bulk, parents first.
MODELS: tuple[type[models.Model], ...] = (
    Ticket,
    TicketMessage,
    ReturnRequest,
    ReturnLine,
    Survey,
    SurveyInvitation,
    Article,
    ArticleTranslation,
)

WEEKDAYS = [str(d) for d in range(1, 6)]


@dataclass(frozen=True)
class CalendarSpec:
    name: str
    zone: str
    hours: dict[str, list[list[str]]]
    turkish_holidays: bool = False


CALENDARS = (
    CalendarSpec(
        "İstanbul ofisi",
        "Europe/Istanbul",
        {**{d: [["09:00", "18:00"]] for d in WEEKDAYS}, "6": [["10:00", "14:00"]]},
        turkish_holidays=True,
    ),
    CalendarSpec("London office", "Europe/London", {d: [["09:00", "17:30"]] for d in WEEKDAYS}),
    CalendarSpec(
        "Beograd kancelarija",
        "Europe/Belgrade",
        {d: [["08:00", "12:00"], ["12:30", "16:30"]] for d in WEEKDAYS},
    ),
    # Saturday to Wednesday.
    CalendarSpec(
        "Tehran office", "Asia/Tehran", {d: [["08:30", "17:00"]] for d in ("6", "7", "1", "2", "3")}
    ),
)

# Türkiye's public holidays: the fixed days, and the religious festivals (from the
# Presidency of Religious Affairs' calendar; the eve is a half day and is left out).
TURKISH_FIXED = (
    (1, 1, "Yılbaşı"),
    (4, 23, "Ulusal Egemenlik ve Çocuk Bayramı"),
    (5, 1, "Emek ve Dayanışma Günü"),
    (5, 19, "Atatürk'ü Anma, Gençlik ve Spor Bayramı"),
    (7, 15, "Demokrasi ve Millî Birlik Günü"),
    (8, 30, "Zafer Bayramı"),
    (10, 29, "Cumhuriyet Bayramı"),
)
TURKISH_FESTIVALS = {
    2024: ((4, 10, 3, "Ramazan Bayramı"), (6, 16, 4, "Kurban Bayramı")),
    2025: ((3, 30, 3, "Ramazan Bayramı"), (6, 6, 4, "Kurban Bayramı")),
    2026: ((3, 20, 3, "Ramazan Bayramı"), (5, 27, 4, "Kurban Bayramı")),
    2027: ((3, 9, 3, "Ramazan Bayramı"), (5, 16, 4, "Kurban Bayramı")),
    2028: ((2, 26, 3, "Ramazan Bayramı"), (5, 5, 4, "Kurban Bayramı")),
}


def turkish_holidays(year: int) -> list[tuple[datetime.date, str]]:
    """Türkiye's public holidays in ``year`` (festival days numbered: "Kurban Bayramı 2")."""
    days = [(datetime.date(year, m, d), name) for m, d, name in TURKISH_FIXED]
    for month, day, length, name in TURKISH_FESTIVALS.get(year, ()):
        first = datetime.date(year, month, day)
        days += [(first + i * DAY, f"{name} {i + 1}") for i in range(length)]
    return sorted(set(days))


# (queue name, team, calendar, e-mail, default)
QUEUES = (
    ("Müşteri hizmetleri", TEAM_SERVICE, "İstanbul ofisi", "destek@vefa.example", True),
    ("Türkiye satış sonrası", TEAM_TURKIYE, "İstanbul ofisi", "", False),
    ("UK & US support", TEAM_UK_US, "London office", "support@vefa.example", False),
    ("Balkans podrška", TEAM_BALKANS, "Beograd kancelarija", "podrska@vefa.example", False),
    ("Iran support", TEAM_IRAN, "Tehran office", "", False),
)
MARKET_QUEUE = {
    "TR": "Türkiye satış sonrası",
    "GB": "UK & US support",
    "US": "UK & US support",
    "RS": "Balkans podrška",
    "IR": "Iran support",
}

# The root-cause tree: (Turkish / English) names, children under their parent.
CATEGORY_TREE: dict[str, tuple[str, ...]] = {
    "Teslimat / Delivery": (
        "Geç teslimat / Late delivery",
        "Taşımada hasar / Damaged in transit",
        "Eksik parça / Missing parts",
    ),
    "Ürün kalitesi / Product quality": (
        "Arıza / Defect",
        "Yanlış ürün / Wrong item",
        "Açıklamaya uymuyor / Not as described",
    ),
    "Kurulum ve servis / Installation and repair": (
        "Kurulum gecikmesi / Installation delay",
        "Teknisyen randevusu / Technician appointment",
    ),
    "Fatura ve ödeme / Billing and payment": (
        "Hatalı fatura / Wrong invoice",
        "Para iadesi / Refund",
    ),
    "Hizmet kalitesi / Service quality": (
        "Temsilci tutumu / Staff conduct",
        "Ulaşılamama / Could not reach us",
    ),
    "Bilgi talebi / Information request": (),
}
# How often each leaf is the root cause of a complaint (others share the rest evenly).
LEAF_WEIGHTS = {
    "Geç teslimat / Late delivery": 9,
    "Taşımada hasar / Damaged in transit": 6,
    "Arıza / Defect": 7,
    "Kurulum gecikmesi / Installation delay": 4,
    "Ulaşılamama / Could not reach us": 3,
}

# (name, priority, value class, first response, resolution (business minutes), escalation)
POLICIES = (
    ("Acil / Urgent", TicketPriority.URGENT, "", 30, 240, EscalationAction.REASSIGN),
    ("A sınıfı / Class A", "", "A", 60, 600, EscalationAction.NOTIFY),
    ("Yüksek / High", TicketPriority.HIGH, "", 120, 960, EscalationAction.NOTIFY),
    ("Standart / Standard", "", "", 240, 1920, EscalationAction.NOTIFY),
)

TYPES = (
    (TicketType.COMPLAINT, 44),
    (TicketType.REQUEST, 18),
    (TicketType.QUESTION, 24),
    (TicketType.RETURN_REQUEST, 9),
    (TicketType.PRAISE, 5),
)
CHANNELS = (
    (TicketChannel.EMAIL, 35),
    (TicketChannel.PHONE, 25),
    (TicketChannel.CALL_CENTRE, 12),
    (TicketChannel.PORTAL, 12),
    (TicketChannel.WEB_FORM, 8),
    (TicketChannel.SOCIAL, 5),
    (TicketChannel.WALK_IN, 3),
)
PRIORITIES = (
    (TicketPriority.LOW, 15),
    (TicketPriority.NORMAL, 58),
    (TicketPriority.HIGH, 21),
    (TicketPriority.URGENT, 6),
)

# Subjects and opening messages per language; "{product}" and "{order}" are filled in.
SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "tr": {
        TicketType.COMPLAINT: (
            "{order} siparişim hâlâ gelmedi",
            "{product} arızalı çıktı",
            "{product} kutusu hasarlı geldi",
            "Kurulum randevusuna kimse gelmedi",
            "Faturada yanlış tutar var",
        ),
        TicketType.REQUEST: ("{product} için kurulum randevusu", "Fatura adresimi değiştirin"),
        TicketType.QUESTION: ("{product} garantisi ne kadar?", "{order} ne zaman kargoda?"),
        TicketType.RETURN_REQUEST: ("{product} iade etmek istiyorum",),
        TicketType.PRAISE: ("Teknisyeniniz çok yardımcı oldu",),
    },
    "en": {
        TicketType.COMPLAINT: (
            "Order {order} has still not arrived",
            "{product} stopped working",
            "{product} arrived damaged",
            "Nobody came for the installation",
            "Wrong amount on my invoice",
        ),
        TicketType.REQUEST: ("Installation appointment for {product}", "Change my billing address"),
        TicketType.QUESTION: ("How long is the warranty on {product}?", "When will {order} ship?"),
        TicketType.RETURN_REQUEST: ("I would like to return {product}",),
        TicketType.PRAISE: ("Your technician was very helpful",),
    },
    "sr": {
        TicketType.COMPLAINT: (
            "Porudžbina {order} još nije stigla",
            "{product} ne radi",
            "{product} je stigao oštećen",
            "Niko nije došao na montažu",
        ),
        TicketType.REQUEST: ("Termin za montažu: {product}",),
        TicketType.QUESTION: ("Koliko traje garancija za {product}?",),
        TicketType.RETURN_REQUEST: ("Želim da vratim {product}",),
        TicketType.PRAISE: ("Serviser je bio odličan",),
    },
    "fa": {
        TicketType.COMPLAINT: (
            "سفارش {order} هنوز نرسیده است",
            "{product} خراب است",
            "{product} آسیب‌دیده رسید",
        ),
        TicketType.REQUEST: ("وقت نصب برای {product}",),
        TicketType.QUESTION: ("گارانتی {product} چقدر است؟",),
        TicketType.RETURN_REQUEST: ("می‌خواهم {product} را مرجوع کنم",),
        TicketType.PRAISE: ("از تکنسین شما سپاسگزارم",),
    },
}
OPENING = {
    "tr": "Merhaba,\n\n{subject}. Yardımcı olabilir misiniz?\n\nTeşekkürler",
    "en": "Hello,\n\n{subject}. Could you help, please?\n\nThank you",
    "sr": "Poštovani,\n\n{subject}. Možete li da pomognete?\n\nHvala",
    "fa": "سلام،\n\n{subject}. لطفاً کمک کنید.\n\nبا تشکر",
}
REPLIES = {
    "tr": (
        "Bildiriminiz için teşekkürler; konuyu inceliyoruz.",
        "Kargo firmasıyla görüştük, ürününüz yarın teslim edilecek.",
        "Teknisyenimiz sizi arayıp randevu verecek.",
    ),
    "en": (
        "Thank you for letting us know; we are looking into it.",
        "We spoke to the carrier: your delivery arrives tomorrow.",
        "Our technician will call you to book a visit.",
    ),
    "sr": (
        "Hvala na prijavi; proveravamo.",
        "Razgovarali smo sa kurirskom službom: isporuka stiže sutra.",
    ),
    "fa": ("از اطلاع شما سپاسگزاریم؛ در حال بررسی هستیم.",),
}
FOLLOW_UPS = {
    "tr": "Hâlâ bir gelişme yok, lütfen bilgi verin.",
    "en": "Still nothing has happened, please update me.",
    "sr": "Još uvek ništa, molim vas za informaciju.",
    "fa": "هنوز خبری نیست، لطفاً اطلاع دهید.",
}
NOTES = (
    "Kargo takip numarası müşteriye iletildi.",
    "Checked with the warehouse: the item left on time.",
    "Replacement part ordered from the supplier.",
)
NPS_COMMENTS = (
    "Hızlı teslimat, teşekkürler.",
    "Great sofa, slow delivery.",
    "Montaža je kasnila dva dana.",
    "",
    "",
)

LANGUAGES = ("en", "tr", "sr-latn", "fa")
ARTICLES: tuple[tuple[str, str, dict[str, tuple[str, str]]], ...] = (
    (
        "teslimat-suresi",
        "public",
        {
            "en": (
                "How long does delivery take?",
                "Furniture is delivered within 5 to 10 working days; appliances within 3.",
            ),
            "tr": (
                "Teslimat ne kadar sürer?",
                "Mobilyalar 5–10 iş günü, beyaz eşyalar 3 iş günü içinde teslim edilir.",
            ),
            "sr-latn": (
                "Koliko traje isporuka?",
                "Nameštaj isporučujemo za 5 do 10 radnih dana, aparate za 3.",
            ),
            "fa": ("ارسال چقدر طول می‌کشد؟", "مبلمان ظرف ۵ تا ۱۰ روز کاری و لوازم خانگی ظرف ۳ روز."),
        },
    ),
    (
        "iade-kosullari",
        "public",
        {
            "en": (
                "Returning a product",
                "You can return a product within 14 days of delivery in its original box. "
                "Open a return in the customer portal and we arrange the pickup.",
            ),
            "tr": (
                "Ürün iadesi",
                "Ürünü teslimattan sonraki 14 gün içinde orijinal kutusunda iade edebilirsiniz. "
                "Müşteri portalında iade talebi açın, kargoyu biz ayarlayalım.",
            ),
            "sr-latn": (
                "Vraćanje proizvoda",
                "Proizvod možete vratiti u roku od 14 dana od isporuke, u originalnoj kutiji.",
            ),
            "fa": ("مرجوع کردن کالا", "تا ۱۴ روز پس از تحویل می‌توانید کالا را مرجوع کنید."),
        },
    ),
    (
        "garanti",
        "public",
        {
            "en": ("Warranty", "Appliances carry a two-year warranty; furniture five years."),
            "tr": ("Garanti", "Beyaz eşyalar iki yıl, mobilyalar beş yıl garantilidir."),
            "sr-latn": ("Garancija", "Aparati imaju dve godine garancije, nameštaj pet."),
            "fa": ("گارانتی", "لوازم خانگی دو سال و مبلمان پنج سال گارانتی دارند."),
        },
    ),
    (
        "kurulum-randevusu",
        "public",
        {
            "en": (
                "Booking an installation",
                "Our technician calls you within two working days of delivery.",
            ),
            "tr": (
                "Kurulum randevusu",
                "Teknisyenimiz teslimattan sonraki iki iş günü içinde sizi arar.",
            ),
            "sr-latn": ("Zakazivanje montaže", "Serviser vas zove u roku od dva radna dana."),
            "fa": ("وقت نصب", "تکنسین ما ظرف دو روز کاری پس از تحویل با شما تماس می‌گیرد."),
        },
    ),
    (
        "hasarli-teslimat-proseduru",
        "internal",
        {
            "en": (
                "Damaged delivery: what to do",
                "Ask for photos, open a return with reason 'damaged', order a replacement and "
                "file the claim with the carrier the same day.",
            ),
            "tr": (
                "Hasarlı teslimat prosedürü",
                "Fotoğraf isteyin, 'hasarlı' nedeniyle iade açın, yenisini sipariş edin ve "
                "aynı gün kargo firmasına tutanak gönderin.",
            ),
        },
    ),
)


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _lang(customer_language: str, country: str) -> str:
    code = (customer_language or "").lower()
    if code.startswith("tr") or country == "TR":
        return "tr"
    if code.startswith("sr") or country == "RS":
        return "sr"
    if code.startswith("fa") or country == "IR":
        return "fa"
    return "en"


class _Rows:
    """Rows per model in memory, with ids after the table's current maximum."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.rows: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        self.next: dict[type[models.Model], int] = {}

    def add(self, model: type[models.Model], row: dict[str, Any]) -> dict[str, Any]:
        if model not in self.next:
            table = model._meta.db_table
            self.next[model] = int(
                self.loader.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
            )
        self.next[model] += 1
        row["id"] = self.next[model]
        self.rows[model].append(row)
        return row

    def write(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for model in MODELS:
            rows = self.rows.get(model, [])
            if not rows:
                continue
            spec = TableSpec.of(model)
            suffix = self.loader.ts_suffix
            out = []
            for row in rows:
                values = {}
                for key, value in row.items():
                    if isinstance(value, datetime.datetime):
                        value = ts(int(value.timestamp())) + suffix
                    elif isinstance(value, datetime.date):
                        value = value.isoformat()
                    elif isinstance(value, Decimal):
                        value = str(value)
                    values[key] = value
                out.append(spec.row(values))
            counts[model._meta.db_table] = self.loader.copy(spec.table, spec.columns, out)
        self.loader.reset_sequences(list(MODELS))
        return counts


def _stamps(at: datetime.datetime, user_id: int | None) -> dict[str, Any]:
    return {
        "created_at": at,
        "updated_at": at,
        "created_by_id": user_id,
        "updated_by_id": user_id,
        "version": 1,
    }


@dataclass
class Setup:
    calendars: dict[str, BusinessCalendar]
    queues: dict[str, Queue]
    clocks: dict[int, BusinessClock]
    leaves: list[Category]
    leaf_weights: list[int]
    policies: list[SlaPolicy]


def setup_tables(staff: DemoStaff, today: datetime.date) -> Setup:
    """Calendars with holidays, queues per team, the category tree and the SLA policies."""
    teams = staff.teams
    calendars: dict[str, BusinessCalendar] = {}
    for spec in CALENDARS:
        calendar, _ = BusinessCalendar.objects.get_or_create(
            name=spec.name, defaults={"time_zone": spec.zone, "hours": spec.hours}
        )
        calendars[spec.name] = calendar
        if spec.turkish_holidays:
            for year in (today.year - 1, today.year, today.year + 1):
                for day, name in turkish_holidays(year):
                    Holiday.objects.get_or_create(
                        calendar=calendar, date=day, defaults={"name": name}
                    )
    queues: dict[str, Queue] = {}
    for name, team, calendar_name, email, default in QUEUES:
        queue, _ = Queue.objects.get_or_create(
            name=name,
            defaults={
                "team": teams.get(team),
                "calendar": calendars[calendar_name],
                "email_address": email,
                "is_default": default and not Queue.objects.filter(is_default=True).exists(),
                "assignment": AssignmentMethod.ROUND_ROBIN
                if team == TEAM_SERVICE
                else AssignmentMethod.LEAST_OPEN,
            },
        )
        queues[name] = queue
    leaves: list[Category] = []
    weights: list[int] = []
    service_queue = queues[QUEUES[0][0]]
    for root_name, children in CATEGORY_TREE.items():
        root, _ = Category.objects.get_or_create(
            parent=None, name=root_name, defaults={"path": root_name}
        )
        if not children:
            leaves.append(root)
            weights.append(2)
        for child_name in children:
            child, _ = Category.objects.get_or_create(
                parent=root,
                name=child_name,
                defaults={"path": root_name + SEP + child_name, "queue": service_queue},
            )
            leaves.append(child)
            weights.append(LEAF_WEIGHTS.get(child_name, 2))
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    policies = []
    for name, priority, value_class, first, resolution, escalation in POLICIES:
        policy, _ = SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "priority": priority,
                "value_class": value_class,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "escalation": escalation,
                "escalate_to": admin,
            },
        )
        policies.append(policy)
    clocks = {c.pk: BusinessClock(c) for c in calendars.values()}
    return Setup(calendars, queues, clocks, leaves, weights, policies)


def _policy(policies: Sequence[SlaPolicy], priority: str, value_class: str) -> SlaPolicy:
    """The most specific policy: priority and class, then one of them, then the catch-all."""
    best = None
    best_score = -1
    for p in policies:
        if p.priority and p.priority != priority:
            continue
        if p.value_class and p.value_class != value_class:
            continue
        score = (2 if p.priority else 0) + (1 if p.value_class else 0)
        if score > best_score:
            best, best_score = p, score
    assert best is not None  # the catch-all matches everything
    return best


def value_classes(customer_ids: Iterable[int]) -> dict[int, str]:
    """A, B or C by revenue rank among the customers with orders (top 20 %, next 30 %, rest),
    as the analytics refresh will compute them after the load."""
    totals = list(
        Order.objects.filter(customer_id__in=list(customer_ids))
        .exclude(status__in=("draft", "cancelled"))
        .values("customer_id")
        .annotate(total=Sum("total"), n=Count("id"))
        .order_by("-total", "customer_id")
    )
    out: dict[int, str] = {}
    for rank, row in enumerate(totals):
        share = rank / max(len(totals), 1)
        out[row["customer_id"]] = "A" if share < 0.2 else "B" if share < 0.5 else "C"
    return out


class ServiceDemo:
    """Makes the help desk's rows for the demo company."""

    def __init__(self, staff: DemoStaff, loader: Loader, now: datetime.datetime) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 (made-up data, not secrets)
        self.staff = staff
        self.now = now
        self.today = now.date()
        self.rows = _Rows(loader)
        self.setup = setup_tables(staff, self.today)
        self.agents = self._agents()
        self.tickets: list[dict[str, Any]] = []
        self.old_a_complaints = 0

    def _agents(self) -> dict[int, list[int]]:
        """The people who answer each queue's tickets: the team's users (the service team's
        agents for the service queue), the administrator when a team has nobody."""
        by_team: dict[int, list[int]] = defaultdict(list)
        for user in User.objects.filter(is_active=True, team__isnull=False).order_by("pk"):
            by_team[int(user.team_id or 0)].append(user.pk)
        admin = User.objects.filter(role=Role.ADMIN).order_by("pk").values_list("pk", flat=True)
        fallback = list(admin[:1])
        return {
            q.pk: by_team.get(int(q.team_id or 0)) or fallback for q in self.setup.queues.values()
        }

    # --- customers and their orders -------------------------------------------------------

    def _customers(self) -> list[dict[str, Any]]:
        with_orders = (
            Order.objects.exclude(status__in=("draft", "cancelled"))
            .values_list("customer_id", flat=True)
            .distinct()
        )
        rows: list[dict[str, Any]] = [
            dict(row)
            for row in Customer.objects.filter(pk__in=with_orders)
            .order_by("pk")
            .values("id", "display_name", "primary_email", "language", "country", "kind")
        ]
        self.rng.shuffle(rows)
        return rows[: max(TICKETS // 2, 1)]

    def _orders(self, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        orders: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in (
            Order.objects.filter(customer_id__in=customer_ids)
            .exclude(status__in=("draft", "cancelled"))
            .order_by("ordered_at", "pk")
            .values("id", "number", "customer_id", "ordered_at", "currency", "owner_id", "team_id")
        ):
            orders[row["customer_id"]].append(dict(row))
        return orders

    def _lines(self, order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in (
            OrderLine.objects.filter(order_id__in=order_ids)
            .order_by("order_id", "position", "pk")
            .values("id", "order_id", "product_id", "description", "quantity", "total")
        ):
            lines[row["order_id"]].append(dict(row))
        return lines

    # --- tickets --------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        customers = self._customers()
        ids = [c["id"] for c in customers]
        classes = value_classes(ids)
        orders = self._orders(ids)
        lines = self._lines([o["id"] for rows in orders.values() for o in rows])
        start = self.now - 365 * DAY
        for _ in range(TICKETS):
            customer = self.rng.choice(customers) if customers else None
            opened = start + datetime.timedelta(seconds=self.rng.randrange(365 * 86_400))
            self.ticket(customer, opened, classes, orders, lines)
        self.numbers()
        self.returns(orders, lines)
        self.surveys()
        self.articles()
        return self.rows.write()

    def _queue(self, customer: dict[str, Any] | None) -> Queue:
        queues = self.setup.queues
        if customer is None or self.rng.random() < 0.55:
            return queues[QUEUES[0][0]]
        return queues[MARKET_QUEUE.get(customer.get("country") or "", QUEUES[0][0])]

    def ticket(
        self,
        customer: dict[str, Any] | None,
        opened: datetime.datetime,
        classes: dict[int, str],
        orders: dict[int, list[dict[str, Any]]],
        lines: dict[int, list[dict[str, Any]]],
    ) -> None:
        rng = self.rng
        kind = _pick(rng, TYPES)
        priority = _pick(rng, PRIORITIES)
        queue = self._queue(customer)
        owner = rng.choice(self.agents[queue.pk]) if self.agents[queue.pk] else None
        lang = _lang(customer["language"], customer["country"]) if customer else "en"
        past = (
            [o for o in orders.get(customer["id"], []) if o["ordered_at"] < opened]
            if customer
            else []
        )
        order = past[-1] if past and rng.random() < 0.7 else None
        line = lines.get(order["id"], [None])[0] if order else None
        product = (line or {}).get("description") or "Vefa"
        subject = rng.choice(SUBJECTS[lang][kind]).format(
            product=product[:80], order=order["number"] if order else "—"
        )
        value_class = classes.get(customer["id"], "") if customer else ""
        policy = _policy(self.setup.policies, priority, value_class)
        clock = self.setup.clocks[int(queue.calendar_id or 0)]
        fr_due = clock.add(opened, policy.first_response_minutes)
        res_due = clock.add(opened, policy.resolution_minutes)
        age = self.now - opened
        # Most answers come within the first-response target; some are late.
        answer = opened + datetime.timedelta(minutes=rng.lognormvariate(4.3, 1.0))
        first_at: datetime.datetime | None = answer if answer <= self.now else None
        resolve_hours = rng.lognormvariate(3.0, 1.0)
        resolved_at: datetime.datetime | None = opened + datetime.timedelta(hours=resolve_hours)
        if first_at is not None and resolved_at is not None and resolved_at < first_at:
            resolved_at = first_at + datetime.timedelta(minutes=rng.randrange(5, 240))
        reopened = rng.random() < 0.08
        replies = 1 if rng.random() < 0.62 else rng.randrange(2, 5)
        if age < 3 * DAY and rng.random() < 0.6:
            resolved_at = None
        if resolved_at is not None and resolved_at > self.now:
            resolved_at = None
        if first_at is None:
            replies = 0
        if resolved_at is None:
            status = rng.choice((TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.OPEN))
            if first_at is None:
                status = TicketStatus.NEW
            reopened = reopened and first_at is not None and rng.random() < 0.3
            if reopened:
                status = TicketStatus.OPEN
        else:
            status = TicketStatus.CLOSED if age > 14 * DAY else TicketStatus.RESOLVED
        # A few old tickets are still open: the high-value complaints the dashboard lists.
        # Every eighth such complaint, the first included, so that the list is never empty,
        # whatever day the demo is loaded on (the random stream depends on the dates).
        if kind == TicketType.COMPLAINT and value_class == "A" and age > 5 * DAY:
            if self.old_a_complaints % KEEP_OPEN_EVERY == 0:
                status, resolved_at, reopened = TicketStatus.OPEN, None, False
            self.old_a_complaints += 1
        fr_breached = (first_at is None and self.now > fr_due) or bool(
            first_at and first_at > fr_due
        )
        end = resolved_at or self.now
        res_breached = end > res_due
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            sla_state = SlaState.BREACHED if res_breached else SlaState.MET
        elif status == TicketStatus.WAITING:
            sla_state = SlaState.PAUSED
        else:
            sla_state = SlaState.BREACHED if res_breached or fr_breached else SlaState.RUNNING
        updated = max(t for t in (opened, first_at, resolved_at) if t is not None)
        category = (
            rng.choices(self.setup.leaves, weights=self.setup.leaf_weights)[0]
            if kind in (TicketType.COMPLAINT, TicketType.RETURN_REQUEST) or rng.random() < 0.5
            else None
        )
        body = OPENING[lang].format(subject=subject)
        row = self.rows.add(
            Ticket,
            {
                "number": "",
                "subject": subject[:300],
                "description": body,
                "customer_id": customer["id"] if customer else None,
                "contact_id": None,
                "requester_email": (customer or {}).get("primary_email") or "",
                "requester_name": (customer or {}).get("display_name") or "",
                "type": kind,
                "channel": _pick(rng, CHANNELS),
                "category_id": category.pk if category else None,
                "priority": priority,
                "status": status,
                "queue_id": queue.pk,
                "owner_id": owner,
                "team_id": queue.team_id,
                "order_id": order["id"] if order else None,
                "product_id": (line or {}).get("product_id"),
                "value_class": value_class,
                "first_responded_at": first_at,
                "resolved_at": resolved_at,
                "closed_at": resolved_at + 7 * DAY
                if status == TicketStatus.CLOSED and resolved_at
                else None,
                "reopen_count": 1 if reopened else 0,
                "reply_count": replies,
                "last_customer_message_at": opened,
                "last_reply_at": first_at,
                "sla_policy_id": policy.pk,
                "sla_state": sla_state,
                "first_response_due_at": fr_due,
                "resolution_due_at": res_due,
                "sla_paused_at": updated if status == TicketStatus.WAITING else None,
                "first_response_breached": fr_breached,
                "resolution_breached": res_breached,
                "custom_fields": "{}",
                "message_id": "",
                "search_text": "",
                **_stamps(opened, None),
                "updated_at": updated,
            },
        )
        row["_lang"] = lang
        row["_line"] = line
        self.tickets.append(row)
        self.conversation(row, lang, owner, customer)

    def conversation(
        self,
        ticket: dict[str, Any],
        lang: str,
        owner: int | None,
        customer: dict[str, Any] | None,
    ) -> None:
        rng = self.rng
        author = {
            "author_contact_id": None,
            "author_email": ticket["requester_email"],
            "author_name": ticket["requester_name"][:200],
        }
        opened = ticket["created_at"]
        self._message(ticket, MessageKind.CUSTOMER, ticket["description"], opened, None, author)
        first = ticket["first_responded_at"]
        if first is None:
            return
        when = first
        replies = REPLIES[lang]
        for n in range(ticket["reply_count"]):
            text = replies[n % len(replies)]
            self._message(ticket, MessageKind.REPLY, text, when, owner, {})
            if rng.random() < 0.25:
                note_at = when + datetime.timedelta(minutes=rng.randrange(5, 90))
                self._message(ticket, MessageKind.NOTE, rng.choice(NOTES), note_at, owner, {})
            if n + 1 < ticket["reply_count"]:
                when = when + datetime.timedelta(hours=rng.uniform(0.5, 20))
                if when > self.now:
                    break
                self._message(ticket, MessageKind.CUSTOMER, FOLLOW_UPS[lang], when, None, author)
                when = when + datetime.timedelta(hours=rng.uniform(0.2, 6))
                if when > self.now:
                    break
        if ticket["reopen_count"] and ticket["resolved_at"] is not None:
            back = ticket["resolved_at"] + datetime.timedelta(hours=rng.uniform(2, 48))
            if back < self.now:
                self._message(ticket, MessageKind.CUSTOMER, FOLLOW_UPS[lang], back, None, author)

    def _message(
        self,
        ticket: dict[str, Any],
        kind: str,
        body: str,
        at: datetime.datetime,
        author_id: int | None,
        contact: dict[str, Any],
    ) -> None:
        self.rows.add(
            TicketMessage,
            {
                "ticket_id": ticket["id"],
                "kind": kind,
                "body": body,
                "author_id": author_id,
                "author_contact_id": contact.get("author_contact_id"),
                "author_email": contact.get("author_email", ""),
                "author_name": contact.get("author_name", ""),
                "interaction_id": None,
                "message_id": "",
                "in_reply_to": "",
                "references": "",
                "delivery": DeliveryStatus.SENT if kind == MessageKind.REPLY else "",
                "delivery_error": "",
                "sent_at": at if kind == MessageKind.REPLY else None,
                **_stamps(at, author_id),
            },
        )

    def numbers(self) -> None:
        """Ticket numbers in the order the tickets were opened, per year."""
        by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in sorted(self.tickets, key=lambda r: (r["created_at"], r["id"])):
            by_year[row["created_at"].year].append(row)
        for year, rows in sorted(by_year.items()):
            for row, number in zip(
                rows, reserve_numbers("ticket", len(rows), year=year), strict=True
            ):
                row["number"] = number
                row["search_text"] = fold(
                    " ".join(
                        p
                        for p in (
                            number,
                            row["subject"],
                            row["requester_email"],
                            row["requester_name"],
                        )
                        if p
                    )
                )[:2000]
        for row in self.tickets:
            row.pop("_lang", None)
            row.pop("_line", None)

    # --- returns --------------------------------------------------------------------------

    def returns(
        self, orders: dict[int, list[dict[str, Any]]], lines: dict[int, list[dict[str, Any]]]
    ) -> None:
        """Returns of real order lines, at most one per order line, with their steps."""
        rng = self.rng
        candidates = [
            (order, line)
            for rows in orders.values()
            for order in rows
            for line in lines.get(order["id"], [])[:1]
            if order["ordered_at"] > self.now - 360 * DAY
        ]
        rng.shuffle(candidates)
        tickets = {t["order_id"]: t for t in self.tickets if t["type"] == TicketType.RETURN_REQUEST}
        customers = dict(Customer.objects.filter(
            pk__in={o["customer_id"] for o, _ in candidates}
        ).values_list("pk", "display_name"))  # fmt: skip
        made: list[tuple[datetime.datetime, dict[str, Any]]] = []
        for order, line in candidates[:RETURNS]:
            opened = order["ordered_at"] + datetime.timedelta(days=rng.uniform(3, 20))
            if opened > self.now:
                continue
            age = self.now - opened
            reason = rng.choice(list(ReturnReason))
            if age < 5 * DAY:
                status = rng.choice((ReturnStatus.REQUESTED, ReturnStatus.APPROVED))
            elif age < 15 * DAY:
                status = rng.choice(
                    (ReturnStatus.PICKUP, ReturnStatus.IN_TRANSIT, ReturnStatus.RECEIVED)
                )
            else:
                status = rng.choices(
                    (ReturnStatus.COMPLETED, ReturnStatus.REJECTED, ReturnStatus.CANCELLED),
                    weights=(80, 12, 8),
                )[0]
            steps = list(ReturnStatus).index(ReturnStatus(status))
            pickup = (
                opened + DAY if steps >= 2 and status not in ("rejected", "cancelled") else None
            )
            received = (
                opened + 4 * DAY if steps >= 4 and status not in ("rejected", "cancelled") else None
            )
            inspected = (
                opened + 6 * DAY if steps >= 5 and status not in ("rejected", "cancelled") else None
            )
            completed = opened + 9 * DAY if status == ReturnStatus.COMPLETED else None
            disposition = ""
            refund = Decimal(0)
            if status == ReturnStatus.COMPLETED:
                disposition = rng.choice(list(Disposition))
                if disposition == Disposition.REFUND:
                    refund = Decimal(line["total"])
            ticket = tickets.get(order["id"])
            row = self.rows.add(
                ReturnRequest,
                {
                    "number": "",
                    "customer_id": order["customer_id"],
                    "contact_id": None,
                    "order_id": order["id"],
                    "ticket_id": ticket["id"] if ticket else None,
                    "status": status,
                    "reason": reason,
                    "reason_detail": "",
                    "carrier": "Yurtiçi Kargo" if pickup else "",
                    "tracking_number": f"YK{order['id']:09d}" if pickup else "",
                    "pickup_at": pickup,
                    "received_at": received,
                    "inspected_at": inspected,
                    "completed_at": completed,
                    "storage_location": "İST-DEPO-A3" if received else "",
                    "inspection_notes": "",
                    "disposition": disposition,
                    "refund_amount": refund,
                    "currency": order["currency"],
                    "owner_id": order["owner_id"],
                    "team_id": order["team_id"],
                    "custom_fields": "{}",
                    "search_text": "",
                    **_stamps(opened, order["owner_id"]),
                    "updated_at": completed or inspected or received or pickup or opened,
                },
            )
            row["_order_number"] = order["number"]
            row["_customer"] = customers.get(order["customer_id"], "")
            quantity = Decimal(line["quantity"])
            self.rows.add(
                ReturnLine,
                {
                    "return_request_id": row["id"],
                    "order_line_id": line["id"],
                    "product_id": line["product_id"],
                    "quantity": min(quantity, Decimal(1)) if quantity >= 1 else quantity,
                    "reason": reason,
                    "condition": "",
                    "disposition": disposition,
                    **_stamps(opened, order["owner_id"]),
                },
            )
            made.append((opened, row))
        by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for opened, row in sorted(made, key=lambda m: (m[0], m[1]["id"])):
            by_year[opened.year].append(row)
        for year, rows in sorted(by_year.items()):
            for row, number in zip(
                rows, reserve_numbers("return", len(rows), year=year), strict=True
            ):
                row["number"] = number
                parts = (number, row.pop("_order_number"), row.pop("_customer"), row["carrier"],
                         row["tracking_number"], row["storage_location"])  # fmt: skip
                row["search_text"] = fold(" ".join(p for p in parts if p))[:2000]

    # --- surveys --------------------------------------------------------------------------

    def _token_hash(self) -> str:
        return hashlib.sha256(self.rng.randbytes(32)).hexdigest()

    def surveys(self) -> None:
        """CSAT after most resolved tickets (most answered), and one NPS survey."""
        rng = self.rng
        for ticket in self.tickets:
            if ticket["customer_id"] is None or ticket["resolved_at"] is None:
                continue
            if rng.random() > 0.7:
                continue
            sent = ticket["resolved_at"] + datetime.timedelta(minutes=5)
            answered = sent + datetime.timedelta(hours=rng.uniform(1, 72))
            score = None
            if answered < self.now and rng.random() < 0.65:
                good = not ticket["resolution_breached"] and not ticket["reopen_count"]
                score = rng.choices(
                    (5, 4, 3, 2, 1), weights=(55, 25, 10, 5, 5) if good else (15, 20, 25, 20, 20)
                )[0]
            self.rows.add(
                SurveyInvitation,
                {
                    "kind": SurveyKind.CSAT,
                    "survey_id": None,
                    "ticket_id": ticket["id"],
                    "customer_id": ticket["customer_id"],
                    "contact_id": None,
                    "email": ticket["requester_email"],
                    "language": "",
                    "token_hash": self._token_hash(),
                    "sent_at": sent,
                    "expires_at": sent + 30 * DAY,
                    "responded_at": answered if score is not None else None,
                    "score": score,
                    "comment": "",
                    "owner_id": ticket["owner_id"],
                    "team_id": ticket["team_id"],
                    **_stamps(sent, None),
                },
            )
        sent = self.now - 40 * DAY
        manager = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
        team = Team.objects.filter(name=TEAM_SERVICE).first()
        survey = self.rows.add(
            Survey,
            {
                "kind": SurveyKind.NPS,
                "name": "NPS — müşteri memnuniyeti / customer loyalty",
                "question": "How likely are you to recommend Vefa to a friend?",
                "audience": "lifecycle_stage=customer",
                "status": SurveyStatus.SENT,
                "sent_at": sent,
                "owner_id": manager.pk if manager else None,
                "team_id": team.pk if team else None,
                **_stamps(sent - DAY, manager.pk if manager else None),
            },
        )
        audience = list(
            Customer.objects.filter(lifecycle_stage="customer")
            .order_by("pk")
            .values_list("pk", "primary_email")[: NPS_AUDIENCE * 4]
        )
        rng.shuffle(audience)
        for customer_id, email in audience[:NPS_AUDIENCE]:
            answered = sent + datetime.timedelta(hours=rng.uniform(1, 240))
            score = None
            if rng.random() < 0.55:
                score = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30))[0]
            self.rows.add(
                SurveyInvitation,
                {
                    "kind": SurveyKind.NPS,
                    "survey_id": survey["id"],
                    "ticket_id": None,
                    "customer_id": customer_id,
                    "contact_id": None,
                    "email": email or "",
                    "language": "",
                    "token_hash": self._token_hash(),
                    "sent_at": sent,
                    "expires_at": sent + 30 * DAY,
                    "responded_at": answered if score is not None else None,
                    "score": score,
                    "comment": rng.choice(NPS_COMMENTS) if score is not None else "",
                    "owner_id": survey["owner_id"],
                    "team_id": survey["team_id"],
                    **_stamps(sent, None),
                },
            )

    # --- knowledge base -------------------------------------------------------------------

    def articles(self) -> None:
        categories = {c.name: c.pk for c in self.setup.leaves}
        written = self.now - 200 * DAY
        category_of = {
            "teslimat-suresi": "Geç teslimat / Late delivery",
            "iade-kosullari": "Para iadesi / Refund",
            "garanti": "Arıza / Defect",
            "kurulum-randevusu": "Kurulum gecikmesi / Installation delay",
            "hasarli-teslimat-proseduru": "Taşımada hasar / Damaged in transit",
        }
        existing = set(Article.objects.values_list("slug", flat=True))
        for slug, visibility, texts in ARTICLES:
            if slug in existing:
                continue
            article = self.rows.add(
                Article,
                {
                    "slug": slug,
                    "visibility": ArticleVisibility(visibility),
                    "status": ArticleStatus.PUBLISHED,
                    "category_id": categories.get(category_of.get(slug, "")),
                    "published_at": written,
                    "view_count": self.rng.randrange(20, 900),
                    "helpful_count": self.rng.randrange(5, 120),
                    **_stamps(written, None),
                },
            )
            for language in LANGUAGES:
                if language not in texts:
                    continue
                title, body = texts[language]
                self.rows.add(
                    ArticleTranslation,
                    {
                        "article_id": article["id"],
                        "language": language,
                        "title": title,
                        "body": body,
                        "search_text": translation_search_text(title, body),
                        **_stamps(written, None),
                    },
                )


def load_service(staff: DemoStaff, loader: Loader, now: datetime.datetime) -> dict[str, int]:
    """Write the demo help desk (after the customers and sales are written). Rows per table."""
    return ServiceDemo(staff, loader, now).build()
