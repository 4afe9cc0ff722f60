"""Headings go down one level at a time (h1, h2, h3...), so a screen reader's outline has no holes: the
catalog (its course cards) and the notebook editor (the notebook's own headings under the page's h1)."""

import itertools
import re

import pytest
from django.urls import reverse

from tests.factories import CourseFactory, SubscriptionFactory
from tests.grading.conftest import make_assignment, notebook

pytestmark = pytest.mark.django_db


def skips(html: str) -> list[str]:
    """Each place a heading goes down more than one level, as "h1 → h3"."""
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", main)]
    assert levels and levels[0] == 1, levels
    return [f"h{a} → h{b}" for a, b in itertools.pairwise(levels) if b > a + 1]


@pytest.mark.parametrize("who", ["visitor", "subscriber"])
def test_the_catalog_heading_order_has_no_holes(client, who):
    CourseFactory(title="Neural Networks")
    if who == "subscriber":  # no trial offer (and its h2) above the cards
        client.force_login(SubscriptionFactory().user)
    page = client.get(reverse("courses:catalog")).content.decode()
    assert "Neural Networks</a></h2>" in page
    assert skips(page) == []


def test_the_editor_heading_order_has_no_holes(client):
    starter = notebook("#md # Sigmoid\n## Your code\n#### A detail", "x = 1")
    assignment = make_assignment(starter=starter)
    client.force_login(SubscriptionFactory().user)
    page = client.get(reverse("grading:editor", args=[assignment.item.pk])).content.decode()
    assert "Sigmoid</h2>" in page and "Your code</h3>" in page
    assert skips(page) == ["h3 → h5"]  # a hole the notebook's author left stays theirs, one level down


def test_a_page_without_holes_passes_and_one_with_a_hole_is_named():
    assert skips('<main id="main"><h1>a</h1><h2>b</h2><h3>c</h3><h2>d</h2></main>') == []
    assert skips('<main id="main"><h1>a</h1><h3>b</h3></main>') == ["h1 → h3"]
