"""What callers hear, per language: `prompts/<language>.yaml` holds prompt texts and phrase lists.

Prompts are `str.format` templates; values come from handlers (already spoken forms) and from the
settings (`company`). Phrase lists are what a caller may say to choose an option or a command.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

from ivr.config import PROJECT_ROOT
from ivr.errors import PromptError
from ivr.knowledge.decision import Rules
from ivr.speech.matching import FILLER, HESITATION, Words, stemmer_for
from ivr.speech.numbers import NumberWords, vocabulary

PROMPTS_DIR = PROJECT_ROOT / "prompts"


# CLDR's plural categories: a prompt may have one text per category its language uses.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


@dataclass(frozen=True)
class Language:
    prompts: dict[str, str]
    phrases: dict[str, list[str]]
    # Prompts whose words follow a number: id -> (the value that counts, {CLDR category: text}).
    # `prompts` holds their "other" text too.
    plurals: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    # The catalog's `language:` block: its own name, stemmer, number words, date patterns...
    about: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def words(self) -> Words:
        """How callers of this language are heard: filler, hesitations and stemmer from `about`."""
        filler, hesitation = self.about.get("filler"), self.about.get("hesitation")
        return Words(
            filler=frozenset(str(filler).split()) if filler is not None else FILLER,
            hesitation=frozenset(str(hesitation).split()) if hesitation is not None else HESITATION,
            stemmer=str(self.about.get("stemmer", "english")),
            spoken=tuple((str(k).lower(), str(v).lower()) for k, v in (self.about.get("spoken") or {}).items()),
        )

    @cached_property
    def knowledge(self) -> Rules:
        """When the knowledge base answers a question in this language (`knowledge:` in `about`)."""
        return Rules.declared(self.about, self.words)

    @cached_property
    def numbers(self) -> NumberWords:
        """How callers of this language say numbers: `numbers:` (num2words' language) and the extra
        `number_words`, `repeat_words` and `number_fillers`; English when the block says nothing."""
        return NumberWords.declared(self.about)


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
        # Each language's file as loaded, by a hash of its bytes: part of the version a call heard.
        self.digests: dict[str, str] = {}

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
            catalog.digests[path.stem] = full = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            about = f"{catalog.file(path.stem)}, version {full[:8]}, saved {saved:%H:%M:%S}"
            catalog.versions[path.stem] = about.encode("ascii", "replace").decode()  # it travels as a header
        return catalog

    def digest(self, language: str) -> str:
        """The language's catalog file, as loaded, by a hash of its bytes ("" for a catalog not from files)."""
        return self.digests.get(language, "")

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
        """The prompt in `language` with its values; a plural prompt in the form its count takes."""
        values = {**self.defaults, **(values or {})}
        catalog = self._language(language)
        try:
            template = catalog.prompts[prompt_id]
        except KeyError:
            raise PromptError(f"prompt {prompt_id!r} is missing from {language}.yaml") from None
        if prompt_id in catalog.plurals:
            counted, forms = catalog.plurals[prompt_id]
            try:
                category = locale_of(language).plural_form(abs(int(values[counted])))
            except (KeyError, ValueError):
                raise PromptError(f"prompt {prompt_id!r} in {language}.yaml needs a whole number {counted}") from None
            template = forms.get(category, template)
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise PromptError(f"prompt {prompt_id!r} in {language}.yaml cannot be filled in ({exc})") from None

    def words(self, language: str) -> Words:
        """How callers of `language` are heard (its `language:` block), for matching what they say."""
        return self._language(language).words

    def about(self, language: str) -> dict[str, Any]:
        return self._language(language).about

    def knowledge(self, language: str) -> Rules:
        """When the knowledge base answers a question in `language` (its `language: knowledge:`)."""
        return self._language(language).knowledge

    def numbers(self, language: str) -> NumberWords:
        """How callers of `language` say numbers, for `spoken_digits` and `numbers_in`."""
        return self._language(language).numbers

    def phrases(self, language: str, name: str) -> list[str]:
        return self._language(language).phrases.get(name, [])

    def placeholders(self, language: str, prompt_id: str) -> set[str]:
        """The {names} a prompt uses (in any of its plural forms, and the value that counts);
        PromptError when its braces or fields are not plain names."""
        catalog = self._language(language)
        if prompt_id in catalog.plurals:
            counted, forms = catalog.plurals[prompt_id]
            return {counted}.union(*(_fields(prompt_id, text) for text in forms.values()))
        return _fields(prompt_id, catalog.prompts.get(prompt_id, ""))

    def plural_problems(self, language: str) -> list[str]:
        """Plural prompts that lack a form this language's numbers take (CLDR's plural rules)."""
        catalog, needed = self._language(language), locale_of(language).plural_form.tags | {"other"}
        return [f"{self.file(language)}: {prompt_id} has no {category!r} form, which {language} needs"
                for prompt_id, (_, forms) in sorted(catalog.plurals.items())
                for category in sorted(needed - forms.keys())]  # fmt: skip

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


def _fields(prompt_id: str, template: str) -> set[str]:
    """The {names} in one text; PromptError for a stray brace or a field that is not a plain name."""
    try:
        parsed = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)]
    except ValueError as exc:
        raise PromptError(f"{prompt_id} has a stray brace ({exc}); write {{{{ or }}}} for a brace") from None
    names = set()
    for name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            whole = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise PromptError(f"{prompt_id} uses {{{whole}}}; prompts take plain {{names}} only")
        names.add(name)
    return names


@lru_cache(maxsize=64)
def locale_of(language: str) -> Locale:
    """Babel's locale for a language code ("lv-LV"): its plural rules, dates, money and lists."""
    return Locale.parse(language.replace("-", "_"))


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
    about = data.get("language") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(prompts or {}, dict) or not isinstance(phrases or {}, dict):
        raise PromptError(f"{shown(path)}: must hold 'prompts:' and 'phrases:', each a mapping")
    if not isinstance(about or {}, dict):
        raise PromptError(f"{shown(path)}: 'language:' must be a mapping (name, stemmer, numbers, date...)")
    texts: dict[str, str] = {}
    plurals: dict[str, tuple[str, dict[str, str]]] = {}
    for prompt_id, text in (prompts or {}).items():
        if isinstance(text, dict):
            plurals[str(prompt_id)] = _plural(path, str(prompt_id), text)
            texts[str(prompt_id)] = plurals[str(prompt_id)][1]["other"]
        elif isinstance(text, str | int | float):
            texts[str(prompt_id)] = str(text).strip()
        else:
            raise PromptError(f"{shown(path)}: prompt {prompt_id} must be a text, not a {type(text).__name__}")
    for name, said in (phrases or {}).items():
        if not isinstance(said, list) or not all(isinstance(p, str | int) for p in said):
            raise PromptError(f"{shown(path)}: phrases for {name} must be a list of texts")
    stemmer = str((about or {}).get("stemmer", "english"))
    try:
        stemmer_for(stemmer)
    except ValueError as exc:
        raise PromptError(f"{shown(path)}: language: {exc}") from None
    spoken = (about or {}).get("spoken") or {}
    if not isinstance(spoken, dict) or not all(
        isinstance(v, str) and str(k).startswith("-") == v.startswith("-") for k, v in spoken.items()
    ):
        raise PromptError(
            f"{shown(path)}: language: spoken: must map each spoken form to its written one"
            ' ("takas: takaisin"), an ending to an ending ("-ks: -ksi")'
        )
    try:
        vocabulary(NumberWords.declared(about or {}))  # its number words, generated once, here
    except ValueError as exc:
        raise PromptError(f"{shown(path)}: language: {exc}") from None
    language = Language(
        texts, {str(k): [str(p) for p in v] for k, v in (phrases or {}).items()}, plurals, dict(about or {})
    )
    Rules.declared(language.about, language.words, f"{shown(path)}: ")  # its knowledge rules, checked here
    return language


def _plural(path: Path, prompt_id: str, forms: dict) -> tuple[str, dict[str, str]]:
    """`{plural: count, one: "...", other: "..."}`: the value that counts, and a text per category."""
    counted = forms.get("plural")
    texts = {str(k): str(v).strip() for k, v in forms.items() if k != "plural"}
    unknown = sorted(set(texts) - set(PLURAL_CATEGORIES))
    if not isinstance(counted, str) or not counted.isidentifier() or "other" not in texts or unknown:
        raise PromptError(
            f"{shown(path)}: prompt {prompt_id}: a plural prompt is 'plural: <the value that counts>' and a text"
            f" for 'other' and any of {', '.join(PLURAL_CATEGORIES[:-1])}"
            + (f" (not {', '.join(unknown)})" if unknown else "")
        )
    return counted, texts


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is under it, as a developer would type it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
