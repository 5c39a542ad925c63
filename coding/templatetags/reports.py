"""The report's theme table, one row per theme applied.

A question can carry 300 themes: written as one Python loop the rows cost a
millisecond or two, where the template language spent more on them than on the
rest of the page (eight lookups, a URL and a number format per row).
"""

from __future__ import annotations

from html import escape

from django import template
from django.template.defaultfilters import floatformat
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def theme_rows(rows, answers_url: str, query: str) -> SafeString:
    """<tr>s of theme, respondents (linking to their answers) and percent."""
    link = f"{escape(answers_url)}?{escape(query)}&amp;theme="
    html = []
    for row in rows:
        theme = row.theme
        parent = theme.parent and f'<span class="muted small">{escape(theme.parent.name)} › </span>'
        html.append(
            f"<tr><td>{parent or ''}{escape(theme.name)}</td>"
            f'<td class="num"><a href="{link}{theme.pk}">{row.respondents}</a></td>'
            f'<td class="num">{floatformat(row.percent, 1)}%</td></tr>'
        )
    return mark_safe("\n".join(html))  # every value is escaped
