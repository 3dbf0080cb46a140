"""The home page's words (issue 17): written from whatever catalog is loaded, or staff's own words from
the admin, never the demo catalog's brands on another store's home page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from catalog.models import StorefrontSettings
from catalog.services import catalog_import
from catalog.tests.factories import import_record as record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def kitchen_catalog(db):
    """A store the demo never heard of: pans and knives, not shoes."""
    records = [
        record("Cast Iron Skillet", "Ferro", "Cookware > Pans", ["PAN-1"]),
        record("Carbon Steel Wok", "Ferro", "Cookware > Pans", ["PAN-2"]),
        record("Nonstick Saute Pan", "Panaro", "Cookware > Pans", ["PAN-3"]),
        record("Chef's Knife", "Edgeworth", "Cutlery > Knives", ["KNF-1"]),
        record("Paring Knife", "Edgeworth", "Cutlery > Knives", ["KNF-2"]),
        record("Linen Apron", "Hearth", "Textiles > Aprons", ["APR-1"]),
    ]
    catalog_import(records=records)


def test_the_home_page_describes_the_catalog_that_is_loaded(client, kitchen_catalog):
    html = client.get("/").content.decode()

    assert "<title>Shop cookware, cutlery and textiles" in html
    assert '<h1 id="hero-title">Shop cookware, cutlery and textiles</h1>' in html
    assert "Pans, knives and aprons from Edgeworth, Ferro, Hearth and more." in html
    assert 'placeholder="e.g. pans, knives, aprons"' in html
    assert '<meta name="description" content="Pans, knives and aprons from Edgeworth' in html
    assert "Northpeak" not in html and "running" not in html.lower() and "hoodie" not in html.lower()


def test_staff_words_from_the_admin_replace_the_written_ones_at_once(admin_client, kitchen_catalog, client):
    client.get("/")  # cached under the current catalog version

    opened = admin_client.get("/admin/catalog/storefrontsettings/")
    saved = admin_client.post(
        "/admin/catalog/storefrontsettings/1/change/",
        {"hero_headline": "Cook like you mean it", "hero_text": "Pans and knives that last a lifetime."},
    )
    html = client.get("/").content.decode()

    assert opened.status_code == 302 and opened["Location"] == "/admin/catalog/storefrontsettings/1/change/"
    assert saved.status_code == 302
    assert '<h1 id="hero-title">Cook like you mean it</h1>' in html
    assert "Pans and knives that last a lifetime." in html


def test_a_blank_field_keeps_the_catalogs_own_words(admin_client, kitchen_catalog, client):
    StorefrontSettings.objects.create(pk=1, hero_headline="Cook like you mean it", hero_text="")

    html = client.get("/").content.decode()

    assert "Cook like you mean it" in html and "from Edgeworth, Ferro, Hearth and more." in html


def test_the_settings_row_cannot_be_added_twice_or_deleted(admin_client, kitchen_catalog):
    admin_client.get("/admin/catalog/storefrontsettings/")

    assert admin_client.get("/admin/catalog/storefrontsettings/add/").status_code == 403
    assert (
        admin_client.post("/admin/catalog/storefrontsettings/1/delete/", {"post": "yes"}).status_code == 403
    )
    assert StorefrontSettings.objects.count() == 1


def test_an_empty_store_says_so_instead_of_an_empty_sentence(client, db):
    html = client.get("/").content.decode()

    assert '<h1 id="hero-title">New products are on their way</h1>' in html
    assert '<p class="muted"></p>' not in html


def test_the_demo_catalog_still_names_its_own_brands(client, db):
    records = json.loads((Path(settings.BASE_DIR) / "catalog/demo/demo_catalog.json").read_text())
    catalog_import(records=records)

    html = client.get("/").content.decode()

    hero = html[html.index('<section class="hero"') : html.index("</section>")]
    assert "from Stride, Urban Thread, Aerolite and more." in hero
