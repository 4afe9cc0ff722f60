"""Template tags of the item frame: the panels other apps register under every item page."""

import logging

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from courses import api as courses

register = template.Library()
log = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def item_panels(context, item) -> str:
    """Every registered panel for this item (courses.api.register_item_panel), in registration order.

    A provider returns a fragment it built from escaping templates (or None); a provider that fails is
    logged and skipped, so one broken panel never takes the lecture page down with it."""
    request = context.get("request")
    if request is None or item is None:
        return ""
    fragments = []
    for provider in courses.item_panels():
        try:
            html = provider(request, item)
        except Exception:
            log.exception("item panel %r failed for item %s", provider, getattr(item, "pk", item))
            continue
        if html:
            fragments.append((mark_safe(html),))  # noqa: S308 - providers render through escaping templates
    if not fragments:
        return ""
    return format_html_join("\n", '<div class="item-panel">{}</div>', fragments)
