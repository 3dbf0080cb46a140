"""A week of store activity with known figures, for the staff dashboard's tests (page and browser).

Rows are written through the models with their timestamps set afterwards (``auto_now_add`` fields);
"today" rows sit between midnight UTC and now, so the figures hold at any hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from catalog.tests.factories import VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.tests.factories import UserFactory
from conversations.models import Conversation, Message, SupportTicket
from orders.models import Order, Refund
from voice.models import RecoveryJob
from voice.tests.factories import abandoned_cart, job_for, shopper

_numbers = count(1)


@dataclass(frozen=True)
class Expected:
    """What the dashboard must show for :func:`store_week`: (today, last 7 days) per figure."""

    orders = ("2", "3")
    revenue = ("130.00", "170.00")
    aov = ("65.00", "56.67")
    conversion = ("25.0%", "40.0%")
    abandoned = ("2", "3")
    recovered = ("1", "1")
    containment = ("66.7%", "75.0%")
    open_tickets = "1"
    low_stock = "2"


def _at(model, obj, **stamps: datetime) -> None:
    model.objects.filter(pk=obj.pk).update(**stamps)


def _order(user, total: str, when: datetime, status: str = Order.Status.PAID) -> Order:
    order = Order.objects.create(
        number=f"DASH{next(_numbers):06d}",
        user=user,
        status=status,
        subtotal=Decimal(total),
        discount=Decimal("0"),
        tax=Decimal("0"),
        shipping=Decimal("0"),
        total=Decimal(total),
        shipping_address={"line1": "1 Main St"},
    )
    _at(Order, order, created_at=when)
    return order


def _session(when: datetime, user=None) -> ShopperSession:
    session = ShopperSession.objects.create(user=user, channel=ShopperSession.Channel.WEB)
    _at(ShopperSession, session, created_at=when)
    return session


def _conversation(when: datetime, *, ticket: bool = False) -> Conversation:
    user = UserFactory()
    conversation = Conversation.objects.create(user=user)
    message = Message.objects.create(conversation=conversation, role=Message.Role.USER, content="hello")
    _at(Message, message, created_at=when)
    if ticket:
        opened = SupportTicket.objects.create(user=user, subject="Help", conversation=conversation)
        _at(SupportTicket, opened, created_at=when)
    return conversation


def _job(when: datetime, *, recovered_at: datetime | None = None) -> RecoveryJob:
    job = job_for(abandoned_cart(shopper()))
    _at(RecoveryJob, job, created_at=when)
    if recovered_at is not None:
        _at(RecoveryJob, job, recovered=True, recovered_at=recovered_at, recovered_amount=Decimal("10.00"))
    return job


def store_week(now: datetime | None = None) -> type[Expected]:
    now = now or timezone.now()
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    earlier_today = midnight + (now - midnight) / 2
    first_today = midnight + (now - midnight) / 4
    three_days_ago = midnight - timedelta(days=3) + timedelta(hours=12)
    ten_days_ago = midnight - timedelta(days=10)

    # Sales: today 100 + 50 (20 refunded) and a cancelled one; 3 days ago 40; 10 days ago 500 (outside).
    ada, bob = UserFactory(), UserFactory()
    _order(ada, "100.00", earlier_today)
    refunded = _order(bob, "50.00", earlier_today)
    Refund.objects.create(order=refunded, amount=Decimal("20.00"))
    _order(UserFactory(), "999.00", earlier_today, status=Order.Status.CANCELLED)
    _order(bob, "40.00", three_days_ago)
    _order(UserFactory(), "500.00", ten_days_ago)

    # Conversion: today 1 of 4 sessions ordered (Ada's); over the week 2 of 5 (Bob's, 3 days ago).
    _session(first_today, user=ada)
    for _ in range(3):
        _session(first_today)
    _session(three_days_ago - timedelta(hours=1), user=bob)

    # Voice: 2 carts found abandoned today (1 recovered today), 1 three days ago.
    _job(first_today, recovered_at=earlier_today)
    _job(first_today)
    _job(three_days_ago)

    # Assistant: 3 conversations today, 1 with a ticket; 1 more 3 days ago without one.
    _conversation(earlier_today, ticket=True)
    _conversation(earlier_today)
    _conversation(earlier_today)
    _conversation(three_days_ago)
    closed = SupportTicket.objects.create(user=ada, subject="Old", status=SupportTicket.Status.CLOSED)
    _at(SupportTicket, closed, created_at=ten_days_ago)

    # Stock: two low variants (3 and 5 left), one sold out, one plentiful (plus the carts' variants).
    for stock in (3, 5, 0, 20):
        VariantFactory(stock=stock)
    return Expected
