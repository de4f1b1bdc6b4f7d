"""Browser-side defences: a Content-Security-Policy and its companion headers on every response."""

import base64
import hashlib

# The style attributes markdown-it writes for aligned table columns in a plan
# (app.plans.core.markdown); no other inline style exists.
TABLE_ALIGN_STYLES = ("text-align:left", "text-align:center", "text-align:right")


def style_hash(value):
    """The CSP source expression that allows exactly this inline style."""
    digest = hashlib.sha256(value.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


# Scripts are our files only: no inline scripts, no on* attributes, no eval. htmx evaluates
# hx-on, "js:" values and trigger filters with Function(), so base.html turns allowEval off,
# and turns off the indicator <style> htmx would inject (codex.css carries those rules).
# Styles are our files too; the only inline styles allowed are the table alignments above, by
# hash ('unsafe-hashes' covers style attributes only: no inline <style>, no scripts).
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": " ".join(("'unsafe-hashes'", *map(style_hash, TABLE_ALIGN_STYLES))),
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in POLICY.items())

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Our URLs carry namespaces and object names: other sites never see them.
    "Referrer-Policy": "same-origin",
    # frame-ancestors for browsers that predate it.
    "X-Frame-Options": "DENY",
}


def init_app(app):
    @app.after_request
    def _browser_defences(response):
        # Static files, error pages and event streams included: every document or script the
        # browser gets from us is covered.
        response.headers.update(HEADERS)
        return response
