"""Filters for the agreement pages: bands, proportions as percents, dictionary lookups."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from coding import agreement_report

register = template.Library()


@register.filter
def band(value: float | None) -> str:
    return agreement_report.band(value)


@register.filter
def percentage(proportion: float | None) -> str:
    """0.9612 → "96.1%"."""
    return "" if proportion is None else f"{100 * proportion:.1f}%"


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.simple_tag
def figure(value: float | None) -> str:
    """A coefficient coloured by its band: a tag, where an include per cell of a
    300-theme table cost a tenth of a second."""
    if value is None:
        return mark_safe('<span class="muted">no variation</span>')
    name = band(value)
    return format_html(
        '<span class="figure {}" title="{}">{}</span>', name, name, floatformat(value, 3)
    )
