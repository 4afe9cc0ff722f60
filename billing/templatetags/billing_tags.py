from django import template

register = template.Library()

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


@register.filter
def money(cents, currency="usd") -> str:
    """4900, "usd" → "$49.00"; other currencies as "49.00 CHF"."""
    if cents is None:
        return ""
    amount = f"{int(cents) / 100:,.2f}"
    currency = (currency or "usd").lower()
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"


@register.filter
def price(cents, currency="usd") -> str:
    """A plan price in running text: 4900 → "$49", 4950 → "$49.50"."""
    return money(cents, currency).replace(".00", "")
