"""The demo company's marketing: two static segments ("At risk — win back", "Champions"),
message templates in Turkish, English, Serbian and Persian, two completed campaigns with
their recipients, responses, costs, a control group and conversions credited to real demo
orders, and one draft campaign for the coming Nowruz.

Written after the customers and orders (a campaign's conversions are the demo's own orders,
credited by ``vefa.marketing.services.reports.attribute_order``), from a fixed seed, through
the ORM: the tables are small.
"""

from __future__ import annotations

import datetime
import random
import secrets
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q

from vefa.customers.models import Customer
from vefa.demo.company import DEMO_DOMAIN, TEAM_MARKETING, DemoStaff
from vefa.marketing.choices import (
    CampaignChannel,
    CampaignObjective,
    CampaignStatus,
    MessageEventKind,
    RecipientStatus,
    SegmentKind,
)
from vefa.marketing.models import (
    Campaign,
    CampaignCost,
    CampaignRecipient,
    CampaignVariant,
    MarketingSettings,
    MessageEvent,
    MessageTemplate,
    Segment,
    SegmentMember,
    TemplateVersion,
)
from vefa.marketing.services.reports import attribute_order
from vefa.sales.choices import OrderStatus
from vefa.sales.models import Order

SEED = 6
AUDIENCE = 300
CHAMPIONS = 150
WINDOW_DAYS = 30

WIN_BACK = {
    "tr": (
        "{{ first_name }}, sizi özledik",
        "Size özel %15 indirim",
        "<p>Merhaba {{ first_name }},</p><p>Bir süredir görüşemedik. Bu hafta size özel "
        '<strong>%15 indirim</strong> var.</p><p><a href="https://vefa.example/kampanya">'
        "Alışverişe başlayın</a></p>",
    ),
    "en": (
        "{{ first_name }}, we miss you",
        "15% off, just for you",
        "<p>Hello {{ first_name }},</p><p>It has been a while. This week you get "
        '<strong>15% off</strong>.</p><p><a href="https://vefa.example/offer">Shop now</a></p>',
    ),
    "sr-latn": (
        "{{ first_name }}, nedostajete nam",
        "15% popusta samo za vas",
        "<p>Zdravo {{ first_name }},</p><p>Dugo se nismo videli. Ove nedelje imate "
        '<strong>15% popusta</strong>.</p><p><a href="https://vefa.example/ponuda">'
        "Kupujte sada</a></p>",
    ),
    "fa": (
        "{{ first_name }}، دلمان برایتان تنگ شده",
        "۱۵٪ تخفیف ویژه شما",
        '<p dir="rtl">سلام {{ first_name }}،</p><p dir="rtl">مدتی است از شما خبری نداریم. '
        "این هفته <strong>۱۵٪ تخفیف</strong> ویژه شماست.</p>"
        '<p dir="rtl"><a href="https://vefa.example/offer">خرید کنید</a></p>',
    ),
}
THANK_YOU = {
    "tr": "Teşekkürler {{ first_name }}! Sadık müşterilerimize özel erken erişim sizi bekliyor.",
    "en": "Thank you {{ first_name }}! Early access for our best customers is waiting for you.",
    "sr-latn": "Hvala, {{ first_name }}! Za naše najbolje kupce čeka vas rani pristup.",
    "fa": "سپاس {{ first_name }}! دسترسی زودهنگام ویژه بهترین مشتریان منتظر شماست.",
}
NOWRUZ = {
    "fa": ("نوروزتان پیروز، {{ first_name }}", '<p dir="rtl">سال نو مبارک!</p>'),
    "en": ("Happy Nowruz, {{ first_name }}", "<p>Happy new year!</p>"),
}


def _token() -> str:
    return secrets.token_hex(16)


class MarketingDemo:
    def __init__(self, staff: DemoStaff, now: datetime.datetime) -> None:
        self.now = now
        self.rng = random.Random(SEED)  # noqa: S311 (made-up data, not secrets)
        self.marketer = staff.users[f"marketing@{DEMO_DOMAIN}"]
        self.team = staff.teams[TEAM_MARKETING]

    def owned(self) -> dict[str, Any]:
        return {
            "owner": self.marketer,
            "team": self.team,
            "created_by": self.marketer,
            "updated_by": self.marketer,
        }

    # --- audiences ----------------------------------------------------------------------

    def _buyers_between(self, start: datetime.datetime, end: datetime.datetime) -> list[int]:
        rows = (
            Order.objects.filter(ordered_at__gte=start, ordered_at__lt=end)
            .exclude(status=OrderStatus.CANCELLED)
            .values_list("customer_id", flat=True)
            .distinct()
            .order_by("customer_id")
        )
        return list(rows[:5000])

    def win_back_audience(self, start: datetime.datetime) -> list[int]:
        """Customers quiet for four months before ``start``; some of them buy afterwards."""
        quiet = (
            Customer.objects.filter(merged_into__isnull=True)
            .annotate(last=Max("orders__ordered_at", filter=Q(orders__ordered_at__lt=start)))
            .filter(last__lt=start - datetime.timedelta(days=120))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        buyers = self._buyers_between(start, start + datetime.timedelta(days=WINDOW_DAYS))
        returning = list(quiet.filter(pk__in=buyers)[:45])
        silent = list(quiet.exclude(pk__in=buyers)[:3000])
        self.rng.shuffle(silent)
        chosen = returning[:45] + silent[: AUDIENCE - min(45, len(returning))]
        return sorted(chosen)

    def champions(self) -> list[int]:
        rows = (
            Customer.objects.filter(merged_into__isnull=True)
            .annotate(n=Count("orders"))
            .filter(n__gt=0)
            .order_by("-n", "pk")
            .values_list("pk", flat=True)
        )
        return list(rows[:CHAMPIONS])

    def segment(self, name: str, description: str, members: list[int]) -> Segment:
        segment = Segment.objects.create(
            name=name,
            description=description,
            kind=SegmentKind.STATIC,
            **self.owned(),
            last_count=len(members),
            last_counted_at=self.now,
        )
        SegmentMember.objects.bulk_create(
            [
                SegmentMember(segment=segment, customer_id=pk, added_by=self.marketer)
                for pk in members
            ]
        )
        return segment

    # --- templates ----------------------------------------------------------------------

    def templates(self) -> dict[str, MessageTemplate]:
        win_back = MessageTemplate.objects.create(
            name="Win-back: 15% off",
            channel=CampaignChannel.EMAIL,
            default_language="tr",
            description="Sent to customers who have not bought for four months.",
            **self.owned(),
        )
        for language, (subject, preheader, html) in WIN_BACK.items():
            TemplateVersion.objects.create(
                template=win_back,
                language=language,
                subject=subject,
                preheader=preheader,
                body_html=html,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
        win_back_b = MessageTemplate.objects.create(
            name="Win-back: a gift with your next order",
            channel=CampaignChannel.EMAIL,
            default_language="tr",
            **self.owned(),
        )
        for language, (subject, preheader, html) in WIN_BACK.items():
            TemplateVersion.objects.create(
                template=win_back_b,
                language=language,
                subject="🎁 " + subject,
                preheader=preheader,
                body_html=html,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
        thanks = MessageTemplate.objects.create(
            name="Champions: thank you",
            channel=CampaignChannel.SMS,
            default_language="tr",
            **self.owned(),
        )
        for language, text in THANK_YOU.items():
            TemplateVersion.objects.create(
                template=thanks,
                language=language,
                body_text=text,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
        nowruz = MessageTemplate.objects.create(
            name="Nowruz greetings",
            channel=CampaignChannel.EMAIL,
            default_language="fa",
            **self.owned(),
        )
        for language, (subject, html) in NOWRUZ.items():
            TemplateVersion.objects.create(
                template=nowruz,
                language=language,
                subject=subject,
                body_html=html,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
        return {"win_back": win_back, "win_back_b": win_back_b, "thanks": thanks, "nowruz": nowruz}

    # --- campaigns ----------------------------------------------------------------------

    def sent_campaign(
        self,
        *,
        name: str,
        objective: str,
        channel: str,
        segment: Segment,
        audience: list[int],
        variants: list[tuple[str, MessageTemplate, int]],
        start: datetime.datetime,
        costs: list[tuple[str, Decimal, str]],
        budget: Decimal,
        rates: dict[str, float],
    ) -> Campaign:
        finished = start + datetime.timedelta(hours=2)
        campaign = Campaign.objects.create(
            name=name,
            objective=objective,
            channel=channel,
            status=CampaignStatus.COMPLETED,
            control_percent=10,
            starts_at=start,
            ends_at=start + datetime.timedelta(days=14),
            started_at=start,
            finished_at=finished,
            audience_drawn_at=start,
            budget=budget,
            currency="TRY",
            attribution_days=WINDOW_DAYS,
            **self.owned(),
        )
        campaign.segments.set([segment])
        made = [
            CampaignVariant.objects.create(
                campaign=campaign,
                code=code,
                template=template,
                weight=weight,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
            for code, template, weight in variants
        ]
        customers = {
            c.pk: c
            for c in Customer.objects.filter(pk__in=audience).only(
                "pk", "language", "primary_email", "primary_phone"
            )
        }
        buyers = set(self._buyers_between(start, start + datetime.timedelta(days=WINDOW_DAYS)))
        ids = sorted(customers)
        # The hold-out is drawn at random, a little less often among later buyers, so the
        # demo report shows an uplift (a real campaign's hold-out is drawn blindly).
        control = {pk for pk in ids if self.rng.random() < (0.04 if pk in buyers else 0.11)}
        rows: list[CampaignRecipient] = []
        for pk in ids:
            customer = customers[pk]
            if pk in control:
                rows.append(
                    CampaignRecipient(
                        campaign=campaign,
                        customer_id=pk,
                        status=RecipientStatus.CONTROL,
                        token=_token(),
                        language=customer.language or "tr",
                    )
                )
                continue
            variant = self.rng.choices(made, weights=[v.weight for v in made], k=1)[0]
            address = (
                customer.primary_email
                if channel == CampaignChannel.EMAIL
                else customer.primary_phone
            ) or ""
            if not address:
                rows.append(
                    CampaignRecipient(
                        campaign=campaign,
                        customer_id=pk,
                        variant=variant,
                        status=RecipientStatus.NO_ADDRESS,
                        token=_token(),
                    )
                )
                continue
            sent = start + datetime.timedelta(seconds=self.rng.randint(0, 7200))
            row = CampaignRecipient(
                campaign=campaign,
                customer_id=pk,
                variant=variant,
                status=RecipientStatus.SENT,
                token=_token(),
                address=address[:254],
                language=customer.language or "tr",
                claimed_at=sent,
                sent_at=sent,
                attempts=1,
            )
            lift = 1.3 if variant.code == "B" else 1.0
            if self.rng.random() < rates["bounce"]:
                row.bounced_at = sent + datetime.timedelta(minutes=3)
            else:
                row.delivered_at = sent + datetime.timedelta(seconds=20)
                if self.rng.random() < rates["click"] * lift or pk in buyers:
                    row.clicked_at = sent + datetime.timedelta(hours=self.rng.randint(1, 48))
                if self.rng.random() < rates["reply"]:
                    row.replied_at = sent + datetime.timedelta(hours=self.rng.randint(2, 72))
                if self.rng.random() < rates["unsubscribe"]:
                    row.unsubscribed_at = sent + datetime.timedelta(hours=self.rng.randint(1, 96))
            rows.append(row)
        CampaignRecipient.objects.bulk_create(rows)
        events: list[MessageEvent] = []
        for row in CampaignRecipient.objects.filter(campaign=campaign, status="sent"):
            for kind, when in (
                (MessageEventKind.DELIVERED, row.delivered_at),
                (MessageEventKind.CLICKED, row.clicked_at),
                (MessageEventKind.REPLIED, row.replied_at),
                (MessageEventKind.BOUNCED, row.bounced_at),
                (MessageEventKind.UNSUBSCRIBED, row.unsubscribed_at),
            ):
                if when is not None:
                    events.append(MessageEvent(recipient=row, kind=kind, occurred_at=when))
        MessageEvent.objects.bulk_create(events)
        for description, amount, currency in costs:
            CampaignCost.objects.create(
                campaign=campaign,
                incurred_on=start.date(),
                description=description,
                amount=amount,
                currency=currency,
                created_by=self.marketer,
                updated_by=self.marketer,
            )
        orders = (
            Order.objects.filter(
                customer_id__in=ids,
                ordered_at__gte=start,
                ordered_at__lt=start + datetime.timedelta(days=WINDOW_DAYS),
            )
            .exclude(status=OrderStatus.CANCELLED)
            .order_by("ordered_at", "pk")
            .values_list("pk", flat=True)
        )
        for order_id in orders:
            attribute_order(order_id)
        return campaign

    def build(self) -> dict[str, int]:
        MarketingSettings.objects.update_or_create(
            pk=1,
            defaults={
                "from_name": "Vefa Kahve",
                "from_email": f"news@{DEMO_DOMAIN}",
                "reply_to": f"marketing@{DEMO_DOMAIN}",
                "postal_address": "Vefa Kahve, Vefa Cd. 1, 34134 Fatih / İstanbul",
                "attribution_days": WINDOW_DAYS,
            },
        )
        templates = self.templates()
        win_back_start = self.now - datetime.timedelta(days=75)
        at_risk = self.segment(
            "At risk — win back",
            "Customers without a purchase for four months, drawn for the spring win-back.",
            self.win_back_audience(win_back_start),
        )
        champions = self.segment(
            "Champions", "The customers who order most often.", self.champions()
        )
        self.sent_campaign(
            name="Spring win-back",
            objective=CampaignObjective.WIN_BACK,
            channel=CampaignChannel.EMAIL,
            segment=at_risk,
            audience=[m.customer_id for m in at_risk.members.all()],
            variants=[("A", templates["win_back"], 50), ("B", templates["win_back_b"], 50)],
            start=win_back_start,
            costs=[
                ("Design and copy (agency)", Decimal("4500.00"), "TRY"),
                ("E-mail delivery", Decimal("20.00"), "EUR"),
            ],
            budget=Decimal("6000.00"),
            rates={"bounce": 0.03, "click": 0.08, "reply": 0.01, "unsubscribe": 0.01},
        )
        self.sent_campaign(
            name="Champions thank-you",
            objective=CampaignObjective.LOYALTY,
            channel=CampaignChannel.SMS,
            segment=champions,
            audience=[m.customer_id for m in champions.members.all()],
            variants=[("A", templates["thanks"], 100)],
            start=self.now - datetime.timedelta(days=40),
            costs=[("SMS provider", Decimal("900.00"), "TRY")],
            budget=Decimal("1000.00"),
            rates={"bounce": 0.01, "click": 0.12, "reply": 0.03, "unsubscribe": 0.005},
        )
        nowruz = Campaign.objects.create(
            name="Nowruz greetings",
            objective=CampaignObjective.RETENTION,
            channel=CampaignChannel.EMAIL,
            status=CampaignStatus.DRAFT,
            control_percent=10,
            starts_at=self.now + datetime.timedelta(days=20),
            ends_at=self.now + datetime.timedelta(days=27),
            budget=Decimal("2500.00"),
            currency="TRY",
            **self.owned(),
        )
        nowruz.segments.set([champions])
        CampaignVariant.objects.create(
            campaign=nowruz,
            code="A",
            template=templates["nowruz"],
            weight=100,
            created_by=self.marketer,
            updated_by=self.marketer,
        )
        return {
            "marketing_segment": Segment.objects.count(),
            "marketing_campaign": Campaign.objects.count(),
            "marketing_campaignrecipient": CampaignRecipient.objects.count(),
        }


def load_marketing(staff: DemoStaff, now: datetime.datetime) -> dict[str, int]:
    """Write the demo marketing (after the customers and orders). Rows per table."""
    return MarketingDemo(staff, now).build()
