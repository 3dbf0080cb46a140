"""Staff groups with only what each job needs (least privilege; docs/security.md lists them).

Support answers shoppers and refunds; Fulfilment ships and delivers; Catalog keeps products, stock and
discounts; Voice operator runs the recovery calls. Nobody gets delete on orders or the audit trail (the
admin refuses those to everyone anyway)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Support": [
        "conversations.view_supportticket",
        "conversations.change_supportticket",
        "conversations.view_conversation",
        "conversations.view_message",
        "conversations.view_storepolicy",
        "conversations.change_storepolicy",
        "orders.view_order",
        "orders.refund_order",
        "accounts.view_user",
    ],
    "Fulfilment": ["orders.view_order", "orders.change_order", "catalog.view_product", "catalog.view_variant"],
    "Catalog": [
        f"{app}.{verb}_{model}"
        for app, model in (
            ("catalog", "product"),
            ("catalog", "variant"),
            ("catalog", "category"),
            ("carts", "discount"),
        )
        for verb in ("view", "add", "change")
    ],
    "Voice operator": [
        "voice.view_recoveryjob",
        "voice.change_recoveryjob",
        "voice.place_call",
        "voice.view_callattempt",
        "voice.view_voicesettings",
        "voice.change_voicesettings",
        "voice.view_suppression",
        "voice.add_suppression",
        "voice.change_suppression",
    ],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is None:
                raise RuntimeError(f"Permission {dotted} does not exist: the staff groups need it.")
            group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_trigger"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("orders", "0004_admin_permissions"),
        ("voice", "0002_admin_permissions"),
        ("conversations", "0004_message_planning"),
        ("catalog", "0002_search_and_price_index"),
        ("carts", "0001_initial"),
        ("accounts", "0002_rate_penalty"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
