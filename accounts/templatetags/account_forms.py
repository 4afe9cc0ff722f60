"""Form rendering for allauth's pages: each field's errors under that field, tied to it for screen readers."""

from django import template

register = template.Library()


@register.filter
def error_id(field) -> str:
    return f"{field.auto_id}-errors"


@register.filter
def help_id(field) -> str:
    return f"{field.auto_id}-help"


@register.simple_tag
def field_widget(field):
    """The field's widget with aria-describedby naming its errors and help text, and aria-invalid."""
    attrs = {}
    described = []
    if field.errors:
        described.append(error_id(field))
        attrs["aria-invalid"] = "true"
    if field.help_text:
        described.append(help_id(field))
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)
