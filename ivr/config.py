"""Settings: defaults that work with no configuration, overridden by IVR_* variables.

This is the only module that reads the environment (and the `.env` file beside the project).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from ivr.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # SQLite file under db/; PostgreSQL works with postgresql+psycopg://user:pass@host/db
    "DATABASE_URL": f"sqlite:///{PROJECT_ROOT / 'db' / 'ivr.sqlite3'}",
    # Twilio signs every webhook with this token; without it every webhook is refused.
    "TWILIO_AUTH_TOKEN": "",
    "VALIDATE_SIGNATURES": True,
    # The public base URL Twilio calls (e.g. https://ivr.example.com); when set, signatures are
    # checked against it instead of the URL the request arrived on.
    "PUBLIC_URL": "",
    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    "PROXY_HOPS": 0,
    # The languages callers may choose (comma-separated, each with its prompts/<code>.yaml); the
    # first is the default. Empty: LANGUAGE alone, and nothing is asked.
    "LANGUAGES": "",
    "LANGUAGE": "en-US",
    # The language by the number called, with no choice asked: "+37160000000=lv-LV,+358900000000=fi-FI".
    "NUMBER_LANGUAGES": "",
    # <Say> voices per language, "fi-FI=Polly.Suvi-Neural,..." over the defaults in ivr/languages.py;
    # VOICE (if set) is the default language's when VOICES does not name it.
    "VOICES": "",
    "VOICE": "",
    # Money callers hear (ISO 4217), in each language's own way of saying it.
    "CURRENCY": "USD",
    "COMPANY_NAME": "Northwind",
    # Seconds a caller has to start answering a prompt.
    "GATHER_TIMEOUT": 5,
    "MAX_RETRIES": 3,
    "SECRET_KEY": "",
    # Opening hours of the agents' line (see ivr/hours.py for the format) and where calls go.
    "TIMEZONE": "America/New_York",
    "OPENING_HOURS": "mon-fri 09:00-17:00; sat 10:00-14:00",
    # Closed all day: MM-DD every year, or YYYY-MM-DD once.
    "HOLIDAYS": "01-01, 07-04, 12-25",
    # The agents' phone number a caller who asks for a person is transferred to (E.164).
    "AGENTS_NUMBER": "+15550100099",
    "TRANSFER_TIMEOUT": 20,
    # Fix the clock (e.g. 2026-12-24T21:30:00+02:00) for demonstrations and tests; empty = real time.
    "CLOCK": "",
    # The percentage of callers who got something done asked "did we solve what you called about?"
    # before the goodbye (0 to 100; 0: never).
    "SURVEY_SHARE": 30,
    # A callback nobody answered is tried once more, this many minutes later (in opening hours).
    "CALLBACK_RETRY_MINUTES": 60,
    # Voice messages: the longest recording, and the silence that ends it (seconds).
    "VOICEMAIL_MAX_SECONDS": 120,
    "VOICEMAIL_SILENCE_SECONDS": 5,
    # Where the copies of callers' recordings are kept (recordings/ inside it).
    "DATA_DIR": str(PROJECT_ROOT / "data"),
    # Where the worker keeps new copies of recordings: "folder" (DATA_DIR/recordings, one host) or
    # "database" (every host reads them); empty: the database on PostgreSQL, the folder on SQLite.
    "RECORDINGS_STORE": "",
    # Whose credentials fetch recordings; empty: the account Twilio names in its signed callbacks.
    "TWILIO_ACCOUNT_SID": "",
    # Hosts besides Twilio's API hosts that recordings may be fetched from (http allowed there), as
    # "host" (any port) or "host:port", comma-separated: the simulator's media server is 127.0.0.1.
    "TWILIO_MEDIA_HOSTS": "",
    # The IVR's own Twilio number: click-to-call rings the agent from it, then connects the caller.
    "PHONE_NUMBER": "",
    # The number texts to callers are sent from (E.164, an SMS-capable Twilio number): with it (and
    # IVR_PUBLIC_URL and IVR_TWILIO_ACCOUNT_SID) a caller may have the link to what they heard texted.
    "SMS_FROM": "",
    # Agent pages' session cookie: Secure (https only) when "auto" sees an https IVR_PUBLIC_URL.
    "SECURE_COOKIES": "auto",
    # Set for the gunicorn workers that answer Twilio only (`make run` and docs/production.md run the
    # desk and help centre in workers of their own): anything but /voice/ is sent there (307), so that
    # nothing a browser (or a flood of log-ins) asks ever holds a worker a caller waits for.
    "DESK_URL": "",
    # Telling the team a message waits (ivr/messages/notify.py), sent by the worker a little after the message
    # was left (a caller may record it again meanwhile), retried with the worker's back-off.
    # E-mail: to these addresses (comma-separated) through this SMTP server.
    "NOTIFY_EMAIL": "",
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,
    "MAIL_FROM": "",
    # A JSON POST to this URL per message; with a secret, signed (X-IVR-Signature: sha256=HMAC of the body).
    "NOTIFY_WEBHOOK_URL": "",
    "NOTIFY_WEBHOOK_SECRET": "",
    "NOTIFY_DELAY_SECONDS": 60,
    # A claim nobody has touched (no note, no action) for this many hours shows as stale in the queue.
    "CLAIM_STALE_HOURS": 24,
    # How often an open queue, message or team page asks whether it changed (it updates in place).
    "LIVE_SECONDS": 15,
    # Recordings' audio is deleted this many days after the message was left (the message is kept).
    "AUDIO_RETENTION_DAYS": 90,
    # Messages the worker copies and transcribes side by side; 0: one per core.
    "WORKER_THREADS": 0,
    # Offline speech recognition (simulator, voicemail transcripts): auto, vosk or pocketsphinx.
    "SPEECH_BACKEND": "auto",
    # A Vosk model folder; empty means models/vosk-model-small-en-us-0.15 when `make model` put it there.
    "VOSK_MODEL_PATH": "",
    # Vosk models for languages besides en-US, "fi-FI=models/vosk-model-small-fi-0.22,lv-LV=...": a
    # message in a language none hears gets no transcript, and its page says so.
    "VOSK_MODELS": "",
}

_BOOLEAN_TRUE = {"1", "true", "yes", "on"}
_BOOLEAN_FALSE = {"0", "false", "no", "off", ""}


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _BOOLEAN_TRUE:
            return True
        if value in _BOOLEAN_FALSE:
            return False
        raise ConfigError(f"IVR_{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"IVR_{name} must be a whole number, not {raw!r}") from None
    return raw


def load_settings(
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    env_file: Path | None = PROJECT_ROOT / ".env",
) -> dict[str, Any]:
    """Defaults, then `.env`, then the process environment, then explicit overrides."""
    environ = dict(os.environ) if environ is None else environ
    from_file: dict[str, str] = {}
    if env_file is not None and env_file.exists():
        from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    settings = dict(DEFAULTS)
    for source in (from_file, environ):
        for key, raw in source.items():
            if key.startswith("IVR_") and key[4:] in DEFAULTS:
                settings[key[4:]] = _coerce(key[4:], raw, DEFAULTS[key[4:]])
    settings.update(overrides or {})
    return settings
