import pytest
from django.template import Context, Template
from django.urls import reverse

from memory.models import Affinity, InteractionSummary, Preference
from memory.services import affinity_apply_signal, interaction_summary_record, preferences_update

pytestmark = pytest.mark.django_db
PAGE = "/account/memory/"


@pytest.fixture
def page_client(client, user):
    client.force_login(user)
    client.user = user
    return client


def test_the_page_needs_a_signed_in_shopper(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    assert reverse("memory:page") == PAGE


def test_the_page_shows_stated_and_inferred_memory_and_history(page_client, store):
    user = page_client.user
    preferences_update(user=user, changes={"sizes": {"tops": "M"}, "brands": ["Stride"], "priceMax": "90"})
    affinity_apply_signal(user_id=user.pk, product_ids=[store.jeans.pk], signal="purchase", event_key="o")
    interaction_summary_record(user=user, conversation_label="c", text="Asked about returns", channel="voice")
    html = page_client.get(PAGE).content.decode()
    for text in (
        "Size for tops",
        "Stride",
        "up to",
        "Classic Jeans",
        "strong interest",
        "Asked about returns",
    ):
        assert text in html
    assert 'aria-label="Forget Stride"' in html
    assert reverse("memory:export") in html and reverse("memory:clear") in html


def test_saving_the_form_updates_preferences(page_client, store):
    response = page_client.post(
        PAGE,
        {
            "size_tops": "L",
            "size_shoes": "9.5",
            "brands": "stride, aerolite",
            "colors": "navy",
            "price_max": "100",
        },
    )
    assert response.status_code == 302
    keys = dict(Preference.objects.filter(user=page_client.user).values_list("key", "value"))
    assert keys == {
        "sizes.tops": "L",
        "sizes.shoes": "9.5",
        "brands": ["Stride", "Aerolite"],
        "colors": ["navy"],
        "priceMax": "100.00",
    }
    assert Preference.objects.get(user=page_client.user, key="brands").source == "page"


def test_form_errors_are_shown_on_the_fields(page_client, store):
    response = page_client.post(PAGE, {"size_shoes": "M", "brands": "Strde"})
    assert response.status_code == 400
    form = response.context["form"]
    assert "not a size for shoes" in form.errors["size_shoes"][0]
    assert "Did you mean Stride?" in form.errors["brands"][0]
    assert not Preference.objects.exists()


def test_emptying_a_field_forgets_it(page_client, store):
    preferences_update(user=page_client.user, changes={"brands": ["Stride"], "colors": ["black"]})
    page_client.post(PAGE, {"brands": "Stride", "colors": ""})
    assert set(Preference.objects.values_list("key", flat=True)) == {"brands"}


def test_htmx_forget_swaps_only_the_preferences_section(page_client, store):
    preferences_update(user=page_client.user, changes={"brands": ["Stride", "Aerolite"]})
    response = page_client.post(
        reverse("memory:forget-preference", args=["brands"]), {"value": "Stride"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="memory-preferences"') and "<html" not in html
    assert "Forgotten: “Stride”." in html and "Aerolite" in html
    assert Preference.objects.get(key="brands").value == ["Aerolite"]


def test_forget_without_javascript_redirects_back(page_client, store):
    preferences_update(user=page_client.user, changes={"sizes": {"tops": "M"}})
    response = page_client.post(reverse("memory:forget-preference", args=["sizes.tops"]))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not Preference.objects.exists()
    response = page_client.post(reverse("memory:forget-preference", args=["nonsense"]), follow=True)
    assert "There is no preference called" in response.content.decode()


def test_forget_one_interest_and_one_conversation(page_client, store):
    user = page_client.user
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="v")
    summary = interaction_summary_record(user=user, conversation_label="c", text="hello")
    brand = Affinity.objects.get(user=user, kind="brand")
    response = page_client.post(reverse("memory:forget-affinity", args=[brand.pk]), HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<section id="memory-affinities"')
    assert not Affinity.objects.filter(pk=brand.pk).exists()
    response = page_client.post(reverse("memory:forget-summary", args=[summary.pk]), HTTP_HX_REQUEST="true")
    assert "No conversations remembered." in response.content.decode()
    assert not InteractionSummary.objects.exists()


def test_forget_everything_asks_first(page_client, store):
    user = page_client.user
    preferences_update(user=user, changes={"brands": ["Stride"]})
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="v")
    interaction_summary_record(user=user, conversation_label="c", text="hello")
    confirm = page_client.get(reverse("memory:clear"))
    assert "Forget everything?" in confirm.content.decode() and "3 interests" in confirm.content.decode()
    page_client.post(reverse("memory:clear"))  # no confirmation box ticked
    assert Preference.objects.exists()
    response = page_client.post(reverse("memory:clear"), {"confirm": "yes"})
    assert response.status_code == 302
    for model in (Preference, Affinity, InteractionSummary):
        assert not model.objects.filter(user=user).exists()


def test_download_my_data(page_client, store):
    preferences_update(user=page_client.user, changes={"colors": ["black"]})
    response = page_client.get(reverse("memory:export"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.json()["preferences"]["colors"] == ["black"]


def render_row(user) -> str:
    return Template("{% load memory_tags %}{% for_you_row user %}").render(Context({"user": user}))


def test_for_you_row_shows_ranked_products_with_reasons(user, store):
    preferences_update(user=user, changes={"styles": ["denim"]})
    html = render_row(user)
    assert "For you" in html and "Classic Jeans" in html and "Because you like denim" in html


def test_for_you_row_is_empty_for_guests_and_shoppers_without_memory(user, store):
    from django.contrib.auth.models import AnonymousUser

    assert render_row(AnonymousUser()).strip() == ""
    assert render_row(user).strip() == ""
