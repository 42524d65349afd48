"""What callers hear, per language: `prompts/<language>.yaml` holds prompt texts and phrase lists.

Prompts are `str.format` templates; values come from handlers (already spoken forms) and from the
settings (`company`). Phrase lists are what a caller may say to choose an option or a command.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.config import PROJECT_ROOT
from ivr.errors import PromptError

PROMPTS_DIR = PROJECT_ROOT / "prompts"


@dataclass(frozen=True)
class Language:
    prompts: dict[str, str]
    phrases: dict[str, list[str]]


class Catalog:
    def __init__(self, languages: dict[str, Language], defaults: dict[str, str] | None = None) -> None:
        self.languages = languages
        self.defaults = defaults or {}

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR, defaults: dict[str, str] | None = None) -> Catalog:
        languages: dict[str, Language] = {}
        for path in sorted(directory.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            prompts = {str(k): str(v).strip() for k, v in (data.get("prompts") or {}).items()}
            phrases = {str(k): [str(p) for p in v] for k, v in (data.get("phrases") or {}).items()}
            languages[path.stem] = Language(prompts, phrases)
        if not languages:
            raise PromptError(f"no prompt catalogs (*.yaml) in {directory}")
        return cls(languages, defaults)

    def _language(self, language: str) -> Language:
        try:
            return self.languages[language]
        except KeyError:
            raise PromptError(f"no prompt catalog for language {language!r}") from None

    def text(self, language: str, prompt_id: str, values: dict[str, str] | None = None) -> str:
        try:
            template = self._language(language).prompts[prompt_id]
        except KeyError:
            raise PromptError(f"prompt {prompt_id!r} is missing from {language}.yaml") from None
        try:
            return template.format(**{**self.defaults, **(values or {})})
        except (KeyError, IndexError) as exc:
            raise PromptError(f"prompt {prompt_id!r} in {language}.yaml needs a value for {exc}") from None

    def phrases(self, language: str, name: str) -> list[str]:
        return self._language(language).phrases.get(name, [])

    def placeholders(self, language: str, prompt_id: str) -> set[str]:
        template = self._language(language).prompts.get(prompt_id, "")
        return {field for _, field, _, _ in string.Formatter().parse(template) if field}

    def missing(self, prompt_ids: set[str], phrase_names: set[str]) -> list[str]:
        """Problems: prompts or phrase lists some language lacks."""
        problems = []
        for language, catalog in sorted(self.languages.items()):
            problems += [
                f"prompt {p!r} is missing from {language}.yaml" for p in sorted(prompt_ids - catalog.prompts.keys())
            ]
            problems += [
                f"phrases for {n!r} are missing from {language}.yaml"
                for n in sorted(phrase_names)
                if not catalog.phrases.get(n)
            ]
        return problems
