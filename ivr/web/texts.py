"""What the help centre's pages say, per language: `prompts/web/<code>.yaml`, beside what callers hear.

Each file maps a text's name to the text, `{names}` filled in by the page. A language the line speaks
with no file of its own reads the English one; a text a file lacks is the English text (the tests
hold every shipped language complete)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.config import PROJECT_ROOT
from ivr.errors import PromptError

WEB_DIR = PROJECT_ROOT / "prompts" / "web"
FALLBACK = "en-US"


@dataclass(frozen=True)
class Texts:
    languages: dict[str, dict[str, str]]

    @classmethod
    def load(cls, directory: Path = WEB_DIR) -> Texts:
        """Every `<code>.yaml` in `directory`; PromptError naming a file that is not a mapping of texts."""
        languages = {}
        for path in sorted(directory.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                raise PromptError(f"{path}: cannot be read as YAML ({exc})") from None
            if not isinstance(data, dict) or not all(isinstance(v, str | int | float) for v in data.values()):
                raise PromptError(f"{path}: must map each text's name to its text")
            languages[path.stem] = {str(k): str(v).strip() for k, v in data.items()}
        if FALLBACK not in languages:
            raise PromptError(f"{directory}: no {FALLBACK}.yaml, the texts every other language falls back on")
        return cls(languages)

    def of(self, language: str) -> dict[str, str]:
        """`language`'s texts, each it lacks in English."""
        return {**self.languages[FALLBACK], **self.languages.get(language, {})}

    def name(self, language: str) -> str:
        """The language's name in itself, as a visitor looks for it ("suomi", "latviešu")."""
        return self.languages.get(language, {}).get("name", language)
