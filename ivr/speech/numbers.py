"""Spoken numbers to digits: "five zero zero one", "fifty oh one", "five thousand and one" -> 5001.

Callers read numbers in many ways; every number entry (orders, accounts) goes through here. Words
that are not numbers are ignored, and an answer with no number at all gives None (a no-match, so
the caller is asked again rather than told a wrong number was not found).

The number words of each language are not written here: they are generated from `num2words`
(its words for 0-999 and the thousands), each word given a value and a kind (a digit, a teen, a
ten, a compound under 100, a scale that multiplies: hundred, thousand). Words written together
(Finnish "viisisataa" = 500, "viisikymmentäyksi" = 51) are read as the words they are made of,
so a caller may say them together or apart. What callers say beyond num2words' words (English
"oh", "double", "a hundred") is declared in the catalog's `language:` block (`NumberWords`).

One reading for every language: a run of number words with a scale in it is a quantity ("five
thousand and one", "pieci tūkstoši viens", "viisituhatta yksi" -> 5001); any other run is read
digit by digit, a ten and the digit after it taken together and a compound as its digits ("fifty
oh one", "piecdesmit nulle viens", "viisikymmentä nolla yksi" -> 5001).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple

# The kinds of word a number is made of.
DIGIT, TEEN, TEN, COMPOUND, SCALE = "digit", "teen", "ten", "compound", "scale"
DIGITS, REPEAT = "digits", "repeat"  # "5001" as written; "double"
SCALES = (100, 1000)
# Where a filler may stand inside a number: between two number words ("one hundred and five"),
# or before a scale ("a hundred").
BETWEEN, BEFORE_SCALE = "between", "before_scale"
# What num2words is asked to say, to learn a language's words: 0-999 and the thousands.
SAID = (*range(1000), *range(1000, 1_000_000, 1000))
# Words other than number words remembered per language, at most (how each was read).
KEPT_WORDS = 20_000

TOKEN = re.compile(r"[^\W\d_]+|[0-9]+")  # words in any alphabet; ASCII digits (int() takes others too)


@dataclass(frozen=True)
class NumberWords:
    """How one language's callers say numbers: num2words' language, and the catalog's extras
    (`number_words`, `repeat_words`, `number_fillers` in its `language:` block)."""

    code: str = "en"  # num2words' language: en, fi, lv...
    extra_digits: tuple[tuple[str, int], ...] = ()  # ("oh", 0)
    repeats: tuple[tuple[str, int], ...] = ()  # ("double", 2)
    fillers: tuple[tuple[str, str], ...] = ()  # ("a", BEFORE_SCALE)
    # Everyday forms of num2words' words: ("simt", "simts"), ("viiskyt", "viisikymmentä"), ("piec", "pieci")
    # (a stem, so that "piecsimt" is 500); they are also parts of words run together.
    aliases: tuple[tuple[str, str], ...] = ()

    @classmethod
    def declared(cls, about: Mapping[str, Any]) -> NumberWords:
        """From a catalog's `language:` block; English as always when it says nothing of numbers.
        ValueError when a key is not what it should be, or num2words does not know the language."""
        if "numbers" not in about:
            return ENGLISH_NUMBERS
        from num2words import CONVERTER_CLASSES

        code = str(about["numbers"])
        if code not in CONVERTER_CLASSES:
            raise ValueError(f"numbers: {code!r} is not a language num2words knows (en, fi, lv...)")
        return cls(
            code,
            extra_digits=_declared(about, "number_words", range(10), "a digit 0-9"),
            repeats=_declared(about, "repeat_words", range(2, 10), "a count 2-9"),
            fillers=_declared(about, "number_fillers", (BETWEEN, BEFORE_SCALE), f"{BETWEEN} or {BEFORE_SCALE}"),
            aliases=tuple(
                (w, _normal(str(t))) for w, t in _declared(about, "number_aliases", _Words(), "a number word")
            ),
        )


class _Words:
    """Any one word (a value `_declared` allows for number_aliases)."""

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and TOKEN.fullmatch(_normal(value)) is not None


def _declared(about: Mapping[str, Any], key: str, allowed: Container, what: str) -> tuple[tuple[str, Any], ...]:
    """`{word: value}` under `key`, as sorted pairs of one-word, one-case words (hashable)."""
    given = about.get(key) or {}
    if not isinstance(given, Mapping):
        raise ValueError(f"{key}: must be a mapping of words ({{word: {what}}})")
    pairs = []
    for word, value in given.items():
        if not isinstance(word, str) or type(value) not in (int, str) or value not in allowed:
            raise ValueError(f"{key}: {word!r}: {value!r} should be {what} (quote words YAML reads otherwise)")
        if not TOKEN.fullmatch(_normal(word)):
            raise ValueError(f"{key}: {word!r} should be one word, as callers' words are heard one at a time")
        pairs.append((_normal(word), value))
    return tuple(sorted(pairs))


ENGLISH_NUMBERS = NumberWords(
    "en",
    extra_digits=(("nil", 0), ("nought", 0), ("o", 0), ("oh", 0)),
    repeats=(("double", 2), ("triple", 3)),
    fillers=(("a", BEFORE_SCALE), ("and", BETWEEN)),
)


class Atom(NamedTuple):
    """One piece of a number: its value and kind (and, for digits as written, the digits)."""

    value: int
    kind: str
    text: str = ""


def _normal(text: str) -> str:
    # Composed (a recogniser may send "ā" as a + U+0304, which is not a letter on its own), one case.
    return unicodedata.normalize("NFC", text).casefold()


def _tokens(text: str) -> list[str]:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", _normal(text))  # "5,001" -> "5001"
    return TOKEN.findall(text)


def _kind(n: int) -> str:
    return DIGIT if n < 10 else TEEN if n < 20 else TEN if n % 10 == 0 else COMPOUND


@dataclass(frozen=True)
class _Generated:
    """One num2words language: every word it writes for 0-999 and the thousands, as atoms."""

    atoms: dict[str, Atom]  # the words others are made of (a digit, a teen, a ten, a compound, a scale)
    words: dict[str, tuple[Atom, ...]]  # every word written, compounds as their atoms
    joiners: frozenset[str]  # words written between number words that add nothing ("and")


@cache
def _generated(code: str) -> _Generated:
    """Learn a language's number words from num2words; ValueError if what it writes for some
    number does not read back as that number."""
    from num2words import num2words

    def said(n: int) -> list[str]:
        return _tokens(num2words(n, lang=code))

    atoms: dict[str, Atom] = {}
    for n in range(100):  # words that say a number under 100 alone
        if len(words := said(n)) == 1:
            atoms.setdefault(words[0], Atom(n, _kind(n)))
    for scale in SCALES:  # "one hundred", "simts", "divi simti", "kaksisataa": what is left is the scale
        for count in range(1, 10):
            count_word = "".join(said(count))
            for word in said(count * scale):
                if word in atoms:
                    continue
                if count > 1 and word.startswith(count_word) and len(word) > len(count_word):
                    word = word[len(count_word) :]  # Finnish writes them together
                atoms.setdefault(word, Atom(scale, SCALE))
    words = {word: (atom,) for word, atom in atoms.items()}
    joiners: set[str] = set()
    for n in SAID:
        for word in said(n):
            if word in words or word in joiners:
                continue
            if (parts := _split(word, atoms)) is not None:
                words[word] = parts
                continue
            # A word seen only here (Latvian "simtu" in "simtu viens" = 101; English "and"): what
            # it must mean for the number to read back.
            for role in (None, *(Atom(scale, SCALE) for scale in SCALES)):
                trial_words, trial_joiners = ({**words, word: (role,)}, joiners) if role else (words, {*joiners, word})
                if _reading(said(n), trial_words, trial_joiners) == str(n):
                    words, joiners = trial_words, trial_joiners
                    break
            else:
                raise ValueError(
                    f"num2words({n}, lang={code!r}) says {num2words(n, lang=code)!r}: {word!r} not understood"
                )
        if _reading(said(n), words, joiners) != str(n):
            raise ValueError(f"num2words({n}, lang={code!r}) says {num2words(n, lang=code)!r}, read as not {n}")
    return _Generated(atoms, words, frozenset(joiners))


def _reading(said: list[str], words: Mapping[str, tuple[Atom, ...]], joiners: Iterable[str]) -> str:
    """What one run of known words means (to check a language's words as they are learnt)."""
    return _read([atom for word in said if word not in joiners for atom in words[word]])


def _split(word: str, atoms: Mapping[str, Atom]) -> tuple[Atom, ...] | None:
    """A word made of two or more number words ("kaksikymmentäyksituhatta" = 21 x 1000), in the
    fewest pieces; None when it is not one."""
    longest = max(map(len, atoms), default=0)
    best: list[tuple[Atom, ...] | None] = [(), *[None] * len(word)]  # best[i]: the pieces of word[:i]
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - longest), end):
            before, piece, now = best[start], atoms.get(word[start:end]), best[end]
            if before is not None and piece is not None and (now is None or len(before) + 1 < len(now)):
                best[end] = (*before, piece)
    found = best[-1]
    return found if found is not None and len(found) > 1 else None


@lru_cache(maxsize=4096)
def _compound(code: str, word: str) -> tuple[Atom, ...] | None:
    """A caller's word num2words never writes, but made of its words (Finnish run together)."""
    return _split(word, _generated(code).atoms)


class _Vocabulary:
    """The words of `NumberWords`: generated and declared, ready to read callers."""

    def __init__(self, declared: NumberWords) -> None:
        generated = _generated(declared.code)
        self.code = declared.code
        self.words = dict(generated.words)
        self.words.update({word: (Atom(value, DIGIT),) for word, value in declared.extra_digits})
        self.words.update({word: (Atom(count, REPEAT),) for word, count in declared.repeats})
        for word, target in declared.aliases:
            found = self.words.get(target) or _compound(declared.code, target)
            if found is None:
                raise ValueError(
                    f"number_aliases: {word!r} stands for {target!r}, which num2words ({declared.code}) never says"
                )
            self.words[word] = found
        # The pieces of words run together: num2words' own, and the declared one-piece words.
        self.pieces = {
            **generated.atoms,
            **{w: a[0] for w, a in self.words.items() if len(a) == 1 and a[0].kind != REPEAT},
        }
        self.between = generated.joiners | {word for word, where in declared.fillers if where == BETWEEN}
        self.before_scale = frozenset(word for word, where in declared.fillers if where == BEFORE_SCALE)
        # Other words, as read before: whether a word is made of number words is worked out once
        # (callers say the same words; most are none).
        self.others: dict[str, tuple[Atom, ...] | None] = {}

    def atoms(self, token: str) -> tuple[Atom, ...] | None:
        if token.isascii() and token.isdigit():  # "①" and "²" are digits to str.isdigit, not to int()
            return (Atom(int(token), DIGITS, token),)
        if token in self.words:
            return self.words[token]
        if token not in self.others:
            if len(self.others) >= KEPT_WORDS:
                self.others.clear()
            self.others[token] = _compound(self.code, token) or _split(token, self.pieces)
        return self.others[token]


@lru_cache(maxsize=32)
def vocabulary(words: NumberWords) -> _Vocabulary:
    """Generated once per language (and its extras); ValueError when num2words' words do not fit."""
    return _Vocabulary(words)


def _read(run: list[Atom]) -> str:
    """A run with a scale in it as a quantity; any other digit by digit."""
    if any(atom.kind == SCALE for atom in run):
        total, current = 0, 0
        for atom in run:
            if atom.kind == SCALE and atom.value < 1000:
                current = (current or 1) * atom.value  # "twelve hundred", "pieci simti"
            elif atom.kind == SCALE:
                total += (current or 1) * atom.value
                current = 0
            elif atom.kind != REPEAT:
                current += atom.value
        return str(total + current)
    out: list[str] = []
    repeat = 1
    i = 0
    while i < len(run):
        atom = run[i]
        following = run[i + 1] if i + 1 < len(run) else None
        if atom.kind == REPEAT:
            repeat = atom.value
            i += 1
            continue
        if atom.kind == DIGITS:
            out.append(atom.text * repeat)
        elif atom.kind == DIGIT:
            out.append(str(atom.value) * repeat)
        elif atom.kind == TEN and following is not None and following.kind == DIGIT and following.value != 0:
            out.append(str(atom.value + following.value))  # "fifty one", "piecdesmit viens"
            i += 1
        else:
            out.append(str(atom.value))  # a teen, a ten, a compound: "nineteen", "viisikymmentäyksi"
        repeat = 1
        i += 1
    return "".join(out)


def spoken_digits(text: str, words: NumberWords = ENGLISH_NUMBERS) -> str | None:
    """The digits a caller meant, or None when they said no number."""
    return "".join(numbers_in(text, words)) or None


def numbers_in(text: str, words: NumberWords = ENGLISH_NUMBERS) -> list[str]:
    """Each number said in `text` ("order five zero zero one, not fifty" -> ["5001", "50"])."""
    known = vocabulary(words)
    tokens = _tokens(text)
    read = [known.atoms(token) for token in tokens]
    runs: list[list[Atom]] = [[]]
    for i, (token, atoms) in enumerate(zip(tokens, read, strict=True)):
        following = read[i + 1] if i + 1 < len(tokens) else None
        if atoms is not None:
            runs[-1].extend(atoms)
        elif token in known.before_scale and following and following[0].kind == SCALE:
            continue  # "a hundred"
        elif token in known.between and runs[-1] and following and following[0].kind != DIGITS:
            continue  # "one hundred and five"
        elif runs[-1]:
            runs.append([])
    return [reading for reading in map(_read, runs) if reading]
