"""How the simulator's requests reach the app: in-process or over HTTP, always signed like Twilio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin

from twilio.request_validator import RequestValidator


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str
    url: str
    # The app's X-IVR-Prompts: which catalog file and version answered.
    prompts: str = ""


class Transport(Protocol):
    base_url: str

    def post(self, url: str, params: dict[str, str]) -> Reply: ...


def _signature(token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(token).compute_signature(url, params)


class FlaskTransport:
    """Posts through Flask's test client: the whole app, no network."""

    def __init__(self, app, token: str, base_url: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.token = token
        # Signed as Twilio signs: for the app's public URL when it has one.
        self.base_url = (base_url or app.config.get("PUBLIC_URL") or "http://localhost").rstrip("/")

    def post(self, url: str, params: dict[str, str]) -> Reply:
        absolute = urljoin(self.base_url + "/", url)
        path = absolute[len(self.base_url) :] or "/"
        # A client per request: the simulator may post Twilio's retried callbacks from several threads.
        response = self.app.test_client().post(
            path,
            data=params,
            headers={"X-Twilio-Signature": _signature(self.token, absolute, params)},
            base_url=self.base_url,
        )
        prompts = response.headers.get("X-IVR-Prompts", "")
        return Reply(response.status_code, response.mimetype or "", response.get_data(as_text=True), absolute, prompts)


class HttpTransport:
    """Posts to a running server (`simulate --url`), signed as Twilio signs: the public URL."""

    def __init__(self, base_url: str, token: str, sign_base_url: str | None = None) -> None:
        import requests

        self.session = requests.Session()
        self.base_url = base_url.rstrip("/")
        self.sign_base_url = (sign_base_url or base_url).rstrip("/")
        self.token = token

    def post(self, url: str, params: dict[str, str]) -> Reply:
        absolute = urljoin(self.base_url + "/", url)
        signed = self.sign_base_url + absolute[len(self.base_url) :]
        response = self.session.post(
            absolute, data=params, headers={"X-Twilio-Signature": _signature(self.token, signed, params)}, timeout=30
        )
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Reply(
            response.status_code, content_type, response.text, absolute, response.headers.get("X-IVR-Prompts", "")
        )
