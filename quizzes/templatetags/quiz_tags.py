from django import template

register = template.Library()


@register.filter
def answers_for(answers: dict, row_pk) -> list[str]:
    """The values a learner sent for one attempt question (to refill a form that was rejected)."""
    return list((answers or {}).get(f"q-{row_pk}", []))


@register.filter
def as_str(value) -> str:
    return str(value)


@register.filter
def percent(value) -> str:
    """82.5 -> '82.5 %', 80.0 -> '80 %'."""
    if value is None:
        return "—"
    return f"{float(value):.1f}".removesuffix(".0") + " %"
