"""What every response tells the browser about itself, for the desk, the help centre and audio alike.

Pages and their parts come from this server only, no other site may frame them (the desk's "Take
over", "Mark done" and "Give to" are one click), a response is only ever the type it says, and the
address of a desk page (a message's number, a search for a caller's number) never goes to another
site. A route with a stricter policy of its own (audio, diagrams) keeps it.
"""

from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, current_app, has_request_context, request

POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Charts drawn by a library (pygal) carry a <style> of their own: inline styles, never scripts.
INLINE_STYLES = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that do not read frame-ancestors
    "Referrer-Policy": "same-origin",
}


def with_styles(*blocks: str) -> str:
    """POLICY, also allowing these inline <style> blocks (by their hashes): a page drawn whole by a library."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks)
    return POLICY.replace("style-src 'self'", f"style-src 'self' {hashes}")


def _add(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def secure_cookies() -> bool:
    """Cookies are Secure when the public URL is https (or IVR_SECURE_COOKIES says so) and whenever the
    request itself came over https (behind a proxy, IVR_PROXY_HOPS): never sent back in clear."""
    return bool(current_app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.after_request(_add)
