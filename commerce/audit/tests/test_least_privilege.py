"""Least privilege in the admin: every action declares its permission, a view-only staff member can run
no action and delete nothing, each staff group can do its job and not another's, every action run is
an entry of the audit trail."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from commerce.accounts.tests.factories import UserFactory
from commerce.audit.models import AuditEvent
from orders.models import Order

pytestmark = pytest.mark.django_db


def _view_only_staff():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return staff


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_every_admin_action_declares_the_permission_it_needs():
    for model_admin in admin.site._registry.values():
        for action in model_admin.actions or []:
            func = getattr(model_admin, action) if isinstance(action, str) else action
            assert getattr(func, "allowed_permissions", None), f"{type(model_admin).__name__}.{action}"


def test_a_view_only_staff_member_is_offered_no_action_and_can_delete_nothing():
    request = _request(_view_only_staff())
    for model, model_admin in admin.site._registry.items():
        name = model._meta.label
        assert model_admin.has_delete_permission(request) is False, name
        assert not model_admin.get_actions(request), name


def test_a_view_only_staff_member_posting_an_action_changes_nothing(client, user):
    staff = _view_only_staff()
    client.force_login(staff)
    order = _paid_order(user)
    response = client.post(
        "/admin/orders/order/", {"action": "refund_in_full", "_selected_action": [order.pk]}, follow=True
    )
    order.refresh_from_db()
    assert order.status == "paid" and response.status_code in (200, 403)
    assert not AuditEvent.objects.filter(action="admin.refund_in_full").exists()


def _paid_order(user) -> Order:
    from carts.services import cart_add_item
    from catalog.tests.factories import VariantFactory
    from commerce.accounts.models import ShopperSession
    from commerce.accounts.shoppers import Shopper
    from orders.services import order_place

    variant = VariantFactory(stock=5, price=Decimal("10.00"))
    cart_add_item(
        shopper=Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user)),
        variant_id=variant.pk,
        quantity=1,
    )
    order, _ = order_place(
        user=user,
        shipping_address={"name": "A", "line1": "1 Main", "city": "X", "postalCode": "1", "country": "US"},
        payment_method={"type": "card", "token": "pm_test_visa"},
    )
    return order


@pytest.mark.parametrize(
    ("group", "can", "cannot"),
    [
        ("Fulfilment", {"mark_shipped", "mark_delivered"}, {"refund_in_full"}),
        ("Support", {"refund_in_full"}, {"mark_shipped", "mark_delivered"}),
        ("Catalog", set(), {"refund_in_full", "mark_shipped"}),
    ],
)
def test_each_group_is_offered_its_own_order_actions_only(group, can, cannot):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=group))
    offered = set(admin.site._registry[Order].get_actions(_request(staff)))
    assert can <= offered and not (cannot & offered)


def test_the_voice_operator_may_place_calls_and_support_may_not():
    from voice.models import RecoveryJob

    operator = UserFactory(is_staff=True)
    operator.groups.add(Group.objects.get(name="Voice operator"))
    support = UserFactory(is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    job_admin = admin.site._registry[RecoveryJob]
    assert "retry_now" in job_admin.get_actions(_request(operator))
    # The list's "Scan and process now" button (no selection needed) is for those who may place calls.
    assert job_admin.has_place_call_permission(_request(operator))
    assert not job_admin.get_actions(_request(support))
    assert not job_admin.has_place_call_permission(_request(support))


def test_running_an_admin_action_is_an_entry_of_the_audit_trail(client, user):
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="Fulfilment"))
    client.force_login(staff)
    order = _paid_order(user)
    client.post("/admin/orders/order/", {"action": "mark_delivered", "_selected_action": [order.pk]})
    entry = AuditEvent.objects.get(action="admin.mark_delivered")
    assert entry.actor == staff and entry.summary["ids"] == [str(order.pk)]
    assert entry.object_type == "orders.order"
