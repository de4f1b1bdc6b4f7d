"""The one place that knows about htmx request headers."""

from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx():
    """True for an htmx request that wants a fragment.

    History restores and boosted links/forms want whole pages, so they count as not htmx.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Boosted") != "true"
    )


def render(template, block=None, status=200, **context):
    """Render the named block for htmx requests, the whole page otherwise.

    The response varies on HX-Request so caches keep the two apart.
    """
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response

