"""Which languages a line speaks, which one a call gets, and the voice that speaks each.

`IVR_LANGUAGES="lv-LV,fi-FI,en-US"` offers those at the greeting (the first is the default; else the one
`IVR_LANGUAGE`, else en-US: this module alone reads them);
`IVR_NUMBER_LANGUAGES="+37160000000=lv-LV"` gives the callers of a number theirs with no choice asked;
`IVR_VOICES="fi-FI=Polly.Suvi-Neural"` picks the <Say> voice. A language is a prompts/<code>.yaml
catalog: its `language:` block says the rest (its own name, stemmer, number words, dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.errors import ConfigError

CODE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")
# Voices Twilio offers for each language (https://www.twilio.com/docs/voice/twiml/say/text-speech):
# Amazon Polly has no Latvian voice, Google's Standard voice speaks it.
DEFAULT_VOICES = {
    "en-US": "Polly.Joanna",
    "fi-FI": "Polly.Suvi-Neural",
    "lv-LV": "Google.lv-LV-Standard-A",
}


@dataclass(frozen=True)
class Languages:
    """The line's languages, first the default; by number called; a voice per language."""

    offered: tuple[str, ...]
    by_number: dict[str, str]
    voices: dict[str, str]

    @property
    def default(self) -> str:
        return self.offered[0]

    @property
    def several(self) -> bool:
        return len(self.offered) > 1

    def for_number(self, called: str) -> str | None:
        """The language of the number the caller dialled, when the line gives it one."""
        return self.by_number.get(re.sub(r"[^0-9+]", "", called or ""))

    def voice(self, language: str) -> str | None:
        return self.voices.get(language) or DEFAULT_VOICES.get(language)

    def known(self, language: str) -> str:
        """`language` when the line speaks it, else the default (a state from an older setting)."""
        return language if language in self.offered else self.default

    @classmethod
    def from_settings(cls, settings: dict[str, Any], catalogs: Iterable[str] | None = None) -> Languages:
        """Checked against the catalogs there are: a language without its prompts is a ConfigError."""
        offered = line_languages(settings)
        by_number = _pairs(str(settings.get("NUMBER_LANGUAGES") or ""), "IVR_NUMBER_LANGUAGES",
                           r"\+[0-9]{2,15}", CODE.pattern, "+37160000000=lv-LV")  # fmt: skip
        voices = _pairs(str(settings.get("VOICES") or ""), "IVR_VOICES",
                        CODE.pattern, r"[A-Za-z0-9._-]{1,60}", "fi-FI=Polly.Suvi-Neural")  # fmt: skip
        if settings.get("VOICE") and offered[0] not in voices:
            voices[offered[0]] = str(settings["VOICE"])
        for number, language in by_number.items():
            if language not in offered:
                raise ConfigError(f"IVR_NUMBER_LANGUAGES gives {number} {language}, which IVR_LANGUAGES does not offer")
        if catalogs is not None:
            missing = [code for code in offered if code not in set(catalogs)]
            if missing:
                raise ConfigError(f"IVR_LANGUAGES offers {', '.join(missing)}, with no prompts/<code>.yaml for it")
        return cls(offered, by_number, voices)


def line_languages(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages the line speaks, its default first: IVR_LANGUAGES, else the one IVR_LANGUAGE,
    else en-US. The one reading of these settings (the agents' pages, messages and their search too).

    A code that is not one (`fi-fi`, `english`), a list that names none (`,`) or names a language
    twice is a ConfigError, so create_app refuses to start: a line never runs on a part of what was
    meant."""
    setting = "IVR_LANGUAGES" if settings.get("LANGUAGES") else "IVR_LANGUAGE"
    offered = tuple(_codes(str(settings.get("LANGUAGES") or settings.get("LANGUAGE") or "en-US"), setting))
    if not offered:
        raise ConfigError(f"{setting} names no language: write e.g. IVR_LANGUAGES=lv-LV,fi-FI,en-US")
    if len(set(offered)) != len(offered):
        raise ConfigError(f"{setting} names a language twice: {','.join(offered)}")
    return offered


def _codes(text: str, setting: str) -> list[str]:
    codes = [c.strip() for c in text.split(",") if c.strip()]
    for code in codes:
        if not CODE.fullmatch(code):
            raise ConfigError(f"{setting}: {code!r} is not a language code like lv-LV, fi-FI or en-US")
    return codes


def _pairs(text: str, setting: str, left: str, right: str, example: str) -> dict[str, str]:
    """'a=b,c=d' -> {a: b, c: d}, each side matching its pattern."""
    found: dict[str, str] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not re.fullmatch(left, key) or not re.fullmatch(right, value):
            raise ConfigError(f"{setting}: cannot read {item!r}; write e.g. {example}")
        found[key] = value
    return found
