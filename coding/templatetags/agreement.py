"""Filters for the agreement pages: bands, proportions as percents, dictionary lookups."""

from __future__ import annotations

from django import template

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
