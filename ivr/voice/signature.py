"""Twilio's webhook requests: their signatures (the only module that knows the auth token's use) and
their form values, read within limits.

The URL Twilio signed is the public one. Behind a TLS-terminating proxy the app sees http and an
inner host, so either IVR_PUBLIC_URL names the public base, or IVR_PROXY_HOPS trusts the proxy's
X-Forwarded-* headers (werkzeug's ProxyFix). RequestValidator tries the URL with and without the
default port, as Twilio's own signing is inconsistent about it.
"""

from __future__ import annotations

import base64
import functools
import hmac
import io
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote_plus

from flask import Response, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.wsgi import get_host

from ivr.security import MAX_VALUE, clean

log = logging.getLogger(__name__)
# What stays as it is in a URL's path (RFC 3986 unreserved and sub-delims, ":", "@", "/", and escapes).
URL_SAFE = "/:@!$&'()*+,;=-._~%"


# Twilio's webhook bodies are a few hundred bytes; anything far larger is not Twilio.
MAX_FIELDS = 200
MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"


def posted(environ: dict[str, Any]) -> dict[str, str]:
    """Twilio's POST parameters (what the signature covers), parsed once per request.

    Read straight from the WSGI environ into a plain dict: werkzeug's form parsing (a stream, a
    MultiDict, content-type options) cost more than the signature check it serves. The body stays
    readable for anyone after us. Twilio never repeats a name.
    """
    params = environ.get("ivr.posted")
    if params is None:
        params = {}
        length = environ.get("CONTENT_LENGTH", "")
        if environ.get("CONTENT_TYPE", "").startswith(FORM) and length.isdigit() and int(length) <= MAX_BODY:
            body = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(body)
            params = parse_form(body.decode("utf-8", "replace"))
        environ["ivr.posted"] = params
    return params


def parse_form(body: str) -> dict[str, str]:
    """application/x-www-form-urlencoded as parse_qsl(keep_blank_values=True) reads it, into a dict;
    {} for more fields than any Twilio request has."""
    params: dict[str, str] = {}
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        name = unquote_plus(name) if "%" in name or "+" in name else name
        params[name] = unquote_plus(value) if "%" in value or "+" in value else value
        if len(params) > MAX_FIELDS:
            return {}
    return params


def query_values(environ: dict[str, Any] | None = None) -> dict[str, str]:
    """The step URL's query parameters (our own, such as the step number), parsed once."""
    environ = request.environ if environ is None else environ
    query = environ.get("ivr.query")
    if query is None:
        query = environ["ivr.query"] = parse_form(environ.get("QUERY_STRING", ""))
    return query


def webhook_values() -> dict[str, str]:
    """Everything Twilio sent: the POST parameters, and the query string's (which win, as in Flask),
    cleaned (after the signature, which covers them as sent): no control characters, no NUL, each
    at most MAX_VALUE characters, before anything is stored, rendered or fetched."""
    environ = request.environ
    values = environ.get("ivr.values")
    if values is None:
        values = {**posted(environ), **query_values(environ)}
        if not all(value.isprintable() and len(value) <= MAX_VALUE for value in values.values()):
            values = {name: clean(value) for name, value in values.items()}
        environ["ivr.values"] = values
    return values


# Nothing Twilio sends is longer (a RecordingUrl, a SpeechResult).
def signed_url(environ: dict[str, Any], public_url: str = "") -> str:
    """The absolute URL Twilio requested, as Twilio saw it (percent-encoded, as it was sent).

    Built from the WSGI environ's parts (paths are the request's bytes, as latin-1 text): werkzeug's
    request.url turns the URL into an IRI first, which cost more than the rest of the signature check.
    """
    query = environ.get("QUERY_STRING", "")
    query = f"?{query}" if query else ""
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe=URL_SAFE)
    public = public_url.rstrip("/")
    if public:
        return f"{public}{path}{query}"
    script_root = quote(environ.get("SCRIPT_NAME", "").encode("latin-1"), safe=URL_SAFE)
    return f"{environ['wsgi.url_scheme']}://{get_host(environ)}{script_root}{path}{query}"


class SignedParams(dict[str, str]):
    """The POST parameters as RequestValidator reads them fastest.

    It asks each parameter for `getall()` (werkzeug's MultiDict), then `getlist()` (Django's), and
    reads a plain dict only after both raised AttributeError: two exceptions per parameter, which
    cost more than the HMAC itself. Twilio never repeats a name, so one value each.
    """

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def signature_of(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's signature of a request: base64 of HMAC-SHA1 over the URL and each parameter's name
    and value in name order (what RequestValidator.compute_signature gives for one value per name),
    in one C call: the library's loop of string additions and sets cost more than the HMAC."""
    signed = url + "".join([name + params[name] for name in sorted(params)])
    return base64.b64encode(hmac.digest(token.encode(), signed.encode(), "sha1")).decode()


def is_signed_by_twilio(environ: dict[str, Any], settings: dict[str, Any]) -> bool:
    token = settings.get("TWILIO_AUTH_TOKEN", "")
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not token or not signature:
        return False
    url, params = signed_url(environ, settings.get("PUBLIC_URL", "")), posted(environ)
    # The URL as seen is almost always the one signed: one HMAC, compared in constant time (in C).
    # Only when it differs does the library try the other port spellings (it always computes both).
    expected = signature_of(token, url, params)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return RequestValidator(token).validate(url, SignedParams(params), signature)


def twilio_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request not signed with our auth token, unless checks are turned off."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.config
        length = request.environ.get("CONTENT_LENGTH", "")
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY:
            # Not Twilio's (its bodies are small), but whoever is on the line still hears something.
            log.warning("refused a %s-byte body at %s from %s", length, request.path, request.remote_addr)
            return current_app.extensions["ivr.too_large"]()
        signed = request.environ["ivr.signed"] = is_signed_by_twilio(request.environ, settings)
        if settings.get("VALIDATE_SIGNATURES", True) and not signed:
            log.warning("refused unsigned or forged request to %s from %s", request.path, request.remote_addr)
            return Response(
                "Forbidden: this endpoint only answers requests signed by Twilio.\n", 403, mimetype="text/plain"
            )
        return view(*args, **kwargs)

    return checked
