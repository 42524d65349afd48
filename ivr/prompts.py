"""What callers hear, per language: `prompts/<language>.yaml` holds prompt texts and phrase lists.

Prompts are `str.format` templates; values come from handlers (already spoken forms) and from the
settings (`company`). Phrase lists are what a caller may say to choose an option or a command.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
    def __init__(
        self,
        languages: dict[str, Language],
        defaults: dict[str, str] | None = None,
        paths: dict[str, Path] | None = None,
    ) -> None:
        self.languages = languages
        self.defaults = defaults or {}
        # Where each language was read from, for problems and for the simulator's "hearing ..." line.
        self.paths = paths or {}
        self.versions: dict[str, str] = {}

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR, defaults: dict[str, str] | None = None) -> Catalog:
        """Every `<language>.yaml` in `directory`; a file that is not a catalog is a PromptError
        naming the file (and the line, for YAML errors)."""
        languages: dict[str, Language] = {}
        paths = sorted(directory.glob("*.yaml"))
        for path in paths:
            languages[path.stem] = _read(path)
        if not languages:
            raise PromptError(f"{shown(directory)}: no prompt catalogs (*.yaml) in it")
        catalog = cls(languages, defaults, {path.stem: path for path in paths})
        for path in paths:
            saved = dt.datetime.fromtimestamp(path.stat().st_mtime)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
            about = f"{catalog.file(path.stem)}, version {digest}, saved {saved:%H:%M:%S}"
            catalog.versions[path.stem] = about.encode("ascii", "replace").decode()  # it travels as a header
        return catalog

    def version(self, language: str) -> str:
        """Which catalog file this process speaks from, and which edit of it, as loaded: what a
        developer needs to tell whether the server has picked up a change."""
        return self.versions.get(language, "")

    def file(self, language: str) -> str:
        """The catalog's file as a developer would type it (relative to here when it can be)."""
        return shown(self.paths.get(language, PROMPTS_DIR / f"{language}.yaml"))

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
        """The {names} a prompt uses; PromptError when its braces or fields are not plain names."""
        template = self._language(language).prompts.get(prompt_id, "")
        try:
            fields = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(template)]
        except ValueError as exc:
            raise PromptError(f"{prompt_id} has a stray brace ({exc}); write {{{{ or }}}} for a brace") from None
        names = set()
        for field, spec, conversion in fields:
            if field is None:
                continue
            if not field.isidentifier() or spec or conversion:
                whole = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                raise PromptError(f"{prompt_id} uses {{{whole}}}; prompts take plain {{names}} only")
            names.add(field)
        return names

    def missing(self, prompt_ids: set[str], phrase_names: set[str]) -> list[str]:
        """Problems: prompts or phrase lists some language lacks, or has that nothing uses."""
        problems = []
        for language, catalog in sorted(self.languages.items()):
            where = self.file(language)
            problems += [f"{where}: prompt {p} is missing" for p in sorted(prompt_ids - catalog.prompts.keys())]
            problems += [
                f"{where}: phrases for {n} are missing" for n in sorted(phrase_names) if not catalog.phrases.get(n)
            ]
            problems += [
                f"{where}: prompt {p} is used by no node or handler"
                for p in sorted(catalog.prompts.keys() - prompt_ids)
            ]
            problems += [f"{where}: phrases for {n} are used by no option, command or handler"
                         for n in sorted(catalog.phrases.keys() - phrase_names)]  # fmt: skip
        return problems


def _read(path: Path) -> Language:
    """One language's catalog: `prompts:` (id: text) and `phrases:` (name: [what callers say])."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise PromptError(f"{shown(path)}: {line}not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{shown(path)}: cannot be read ({exc})") from None
    prompts, phrases = (data.get(part) if isinstance(data, dict) else None for part in ("prompts", "phrases"))
    if not isinstance(data, dict) or not isinstance(prompts or {}, dict) or not isinstance(phrases or {}, dict):
        raise PromptError(f"{shown(path)}: must hold 'prompts:' and 'phrases:', each a mapping")
    for prompt_id, text in (prompts or {}).items():
        if not isinstance(text, str | int | float):
            raise PromptError(f"{shown(path)}: prompt {prompt_id} must be a text, not a {type(text).__name__}")
    for name, said in (phrases or {}).items():
        if not isinstance(said, list) or not all(isinstance(p, str | int) for p in said):
            raise PromptError(f"{shown(path)}: phrases for {name} must be a list of texts")
    return Language(
        {str(k): str(v).strip() for k, v in (prompts or {}).items()},
        {str(k): [str(p) for p in v] for k, v in (phrases or {}).items()},
    )


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is under it, as a developer would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
