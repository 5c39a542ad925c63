"""The workbench's theme buttons and quote checkboxes, one per theme of the codebook,
and the chips and theme options of the grid and the other list tools.

A codebook of 300 themes makes these the bulk of every panel the workbench
sends back; written as one Python loop they cost a millisecond, where the
same markup through the template language (two {% url %} per button) cost
more than the rest of the request.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape  # the C-speed one: 1,200 calls a panel

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

PLACEHOLDER = 987654321  # stands for the theme id in a reversed URL


def _url_maker(name: str, answer_id: int):
    before, after = reverse(name, args=[answer_id, PLACEHOLDER]).split(str(PLACEHOLDER))
    return lambda theme_id: f"{before}{theme_id}{after}"


@lru_cache(maxsize=4096)
def _escaped(theme) -> tuple[str, str, str, str]:
    """A theme's attributes and label, escaped once per worker, not once per panel."""
    key = f' data-key="{escape(theme.shortcut)}"' if theme.shortcut else ""
    attributes = f'style="--chip: {escape(theme.colour)}"'
    title = f' title="{escape(theme.description)}"'
    label = f"<kbd>{escape(theme.shortcut) or '·'}</kbd> {escape(theme.name)}"
    return attributes, key, title, label


@register.simple_tag
def theme_buttons(themes, applied_ids, answer, can_code) -> SafeString:
    urls = _url_maker("apply", answer.pk), _url_maker("remove", answer.pk)
    disabled = "" if can_code else " disabled"
    buttons = (_button(theme, theme.pk in applied_ids, urls, disabled) for theme in themes)
    return mark_safe("\n".join(buttons))  # every value is escaped


@register.simple_tag
def theme_button(change, answer) -> SafeString:
    """The one button a theme applied or removed turns on or off, swapped out of band."""
    urls = _url_maker("apply", answer.pk), _url_maker("remove", answer.pk)
    return mark_safe(_button(change.theme, change.on, urls, "", ' hx-swap-oob="true"'))


def _button(theme, on: bool, urls, disabled: str, oob: str = "") -> str:
    url = urls[1](theme.pk) if on else urls[0](theme.pk)
    attributes, key, title, label = _escaped(theme)
    return (
        f'<button type="submit" id="theme-{theme.pk}" class="theme{" on" if on else ""}" '
        f'{attributes} formaction="{url}" hx-post="{url}"{key}{title}{disabled}{oob}>'
        f"{label}{' ✓' if on else ''}</button>"
    )


@register.simple_tag
def quote_checkboxes(themes, applied_ids) -> SafeString:
    return mark_safe(  # every value is escaped
        "".join(
            f'<label class="inline-check"><input type="checkbox" name="themes" '
            f'value="{theme.pk}"{" checked" if theme.pk in applied_ids else ""}> '
            f"{escape(theme.name)}</label>"
            for theme in themes
        )
    )


@register.simple_tag
def my_chips(answer) -> SafeString:
    """The chips of the themes I applied to an answer on a list (grid, tools), or "no theme"."""
    if not answer.mine:
        return mark_safe('<span class="muted small">no theme</span>' if answer.no_theme else "")
    return mark_safe(  # every value is escaped
        "".join(
            f'<span class="chip small" style="--chip: {escape(chip.colour)}">'
            f"{escape(chip.name)}</span>"
            for chip in answer.mine
        )
    )


@register.simple_tag
def theme_options(themes, chosen=()) -> SafeString:
    """<option>s of the codebook for the bulk bar's select."""
    chosen = chosen or ()  # a page that preselects nothing passes nothing
    return mark_safe(  # every value is escaped
        "".join(
            f'<option value="{theme.pk}"{" selected" if theme.pk in chosen else ""}>'
            f"{escape(theme.name)}</option>"
            for theme in themes
        )
    )
