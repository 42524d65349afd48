"""A simulated phone call: interprets the app's TwiML verb by verb, as Twilio does.

The call runs verbs until it needs the caller (a <Gather>, <Record> or <Dial>), then waits; each
caller action (press, say, silence, hang up...) resumes it. Every request carries Twilio's standard
parameters and signature, and the end of the call posts the status callback.
"""

from __future__ import annotations

import re
import secrets
import wave
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin
from xml.etree import ElementTree

from ivr.config import load_settings
from ivr.prompts import Catalog
from ivr.simulator import media
from ivr.simulator.transport import Transport
from ivr.speech import recognizer as speech
from ivr.speech.audio import AudioError
from ivr.speech.audio import load as load_audio
from ivr.speech.recognition import Recognition, Recognizer
from ivr.speech.recognizer import phrases_from_hints

DEFAULT_CALLER = "+15005550006"  # not a demo customer
DEFAULT_CALLED = "+15550100000"
MAX_REQUESTS = 200
SPEAKING_RATE = 15  # characters per second of text-to-speech, for the simulated call duration
# How a <Dial> can end, as Twilio posts it in DialCallStatus to the action URL. Twilio also has
# "canceled" (the REST API ended the call) and "answered" (<Dial><Conference>): no caller makes those.
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
RECORD_FINISH_KEYS = "1234567890*#"  # <Record finishOnKey>'s default: any key ends the recording


class CallError(AssertionError):
    """The app answered something Twilio could not follow, or the caller did the impossible."""


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class SimulatedCall:
    def __init__(
        self,
        transport: Transport,
        caller: str = DEFAULT_CALLER,
        called: str = DEFAULT_CALLED,
        echo: Callable[[str, str], None] | None = None,
        recognizer: Recognizer | None = None,
    ) -> None:
        self.transport = transport
        self._recognizer = recognizer
        self.caller, self.called = caller, called
        self.call_sid = _sid("CA")
        # The account the app is configured with, if it names one (it fetches recordings with it).
        app = getattr(transport, "app", None)
        configured = app.config.get("TWILIO_ACCOUNT_SID", "") if app is not None else ""
        self.account_sid = configured or _sid("AC")
        self.recordings: list[str] = []  # the RecordingUrl of each clip recorded in this call
        self.echo = echo or (lambda who, text: None)
        self.trace: list[dict] = []
        self.transcript: list[tuple[str, str]] = []
        self.ended = False
        self.seconds = 0.0
        self._heard: list[str] = []
        # The prompt catalog the app answers from (file, version, when saved), as it last said.
        self.prompts = ""
        self._requests = 0
        self._document_url = ""
        self._waiting = None  # the verb that waits for the caller
        self._rest: list[ElementTree.Element] = []  # verbs after it

    # ---- what the caller heard --------------------------------------------------------

    @property
    def heard(self) -> str:
        """All the caller heard since their previous action."""
        return " ".join(self._heard)

    def hears(self, pattern: str) -> str:
        found = re.search(pattern, self.heard, re.IGNORECASE)
        if not found:
            raise AssertionError(f"the caller did not hear /{pattern}/; they heard: {self.heard!r}")
        return found.group(0)

    @property
    def waiting_for(self) -> str | None:
        """'gather', 'record', 'dial', or None when the call is not waiting for the caller."""
        return None if self._waiting is None else self._waiting.tag.lower()

    @property
    def hints(self) -> list[str]:
        """The hints of the <Gather> waiting now: the phrases the app expects."""
        if self._waiting is None or self._waiting.tag != "Gather":
            return []
        return [h.strip() for h in self._waiting.get("hints", "").split(",") if h.strip()]

    @property
    def waiting_attributes(self) -> dict[str, str]:
        """The attributes of the verb waiting for the caller (finishOnKey, numDigits, input, timeout...)."""
        return dict(self._waiting.attrib) if self._waiting is not None else {}

    # ---- caller actions ------------------------------------------------------------------

    def dial(self) -> SimulatedCall:
        self._say_line("caller", f"calls {self.called} from {self.caller}")
        self._post("/voice/incoming", {}, first=True)
        return self

    def choose_language(self, language: str) -> bool:
        """Where the line asks for a language (its language menu), say that language's own name, as
        a caller would ("suomeksi"); False when it did not ask (one language, or the number called
        gave it)."""
        if self.waiting_for != "gather" or "/voice/step/language_menu" not in (self._waiting.get("action") or ""):
            return False
        app = getattr(self.transport, "app", None)
        catalog = app.extensions["ivr.catalog"] if app is not None else Catalog.load()
        if language not in catalog.languages:
            raise CallError(
                f"no prompts/{language}.yaml here, so the simulator does not know what {language} is called"
            )
        self.say(str(catalog.about(language).get("name") or language))
        return True

    def press(self, keys: str) -> None:
        """Keys at a <Gather>; at a <Record>, a finishOnKey ends the recording with nothing recorded."""
        gather = self._expect(("Gather", "Record"), f"press {keys!r}")
        if gather.tag == "Record":
            self._finish_recording(gather, keys)
            return
        self._say_line("caller", f"presses {keys}")
        finish = gather.get("finishOnKey", "#")
        digits = keys.split(finish, 1)[0] if finish and finish in keys else keys
        num_digits = gather.get("numDigits")
        if num_digits and num_digits.isascii() and num_digits.isdigit():
            digits = digits[: int(num_digits)]
        self.seconds += len(keys) * 0.5
        if digits:
            self._post_action(gather, {"Digits": digits, "FinishedOnKey": finish if finish in keys else ""})
        else:
            self._nothing_gathered(gather)

    def say(self, text: str, confidence: float = 0.92) -> None:
        gather = self._expect("Gather", f"say {text!r}")
        self._say_line("caller", f'says "{text}"')
        self.seconds += max(1.0, len(text) / SPEAKING_RATE)
        self._speech(gather, text, confidence)

    def say_audio(self, path: str | Path) -> Recognition:
        """Speak a recorded clip: recognised offline with the Gather's hints as phrases, as Twilio does."""
        gather = self._expect("Gather", f"say the audio {path}")
        try:
            audio = load_audio(path)
        except AudioError as error:
            raise CallError(str(error)) from None
        num_digits = gather.get("numDigits", "")
        heard = self.recognizer.recognize(
            audio,
            phrases_from_hints(gather.get("hints", "")) or None,
            int(num_digits) if num_digits.isascii() and num_digits.isdigit() and 0 < int(num_digits) <= 20 else None,
        )
        self.seconds += audio.seconds
        if not heard.text:
            # Twilio's speech recogniser heard no words: nothing is posted and the call goes on.
            self._say_line("caller", f"says {Path(path).name}, recognised as nothing ({heard.backend})")
            self.seconds += float(gather.get("timeout", "5") or 5)
            self._nothing_gathered(gather)
            return heard
        self._say_line(
            "caller", f'says {Path(path).name}, recognised as "{heard.text}" ({heard.backend}, {heard.confidence:.2f})'
        )
        self._speech(gather, heard.text, heard.confidence)
        return heard

    @property
    def recognizer(self) -> Recognizer:
        """The offline recogniser, loaded the first time the caller speaks audio."""
        if self._recognizer is None:
            app = getattr(self.transport, "app", None)
            self._recognizer = speech.for_settings(app.config if app is not None else load_settings())
        return self._recognizer

    def _speech(self, gather: ElementTree.Element, text: str, confidence: float) -> None:
        if "speech" not in gather.get("input", "dtmf"):
            self._say_line("note", "this prompt listens for keys only: the speech is not recognised")
            self._nothing_gathered(gather)
            return
        self._post_action(gather, {"SpeechResult": text, "Confidence": f"{confidence:.2f}"})

    def silence(self) -> None:
        verb = self._expect(("Gather", "Record"), "stay silent")
        self._say_line("caller", "stays silent")
        self.seconds += float(verb.get("timeout", "5") or 5)
        if verb.tag == "Gather":
            self._nothing_gathered(verb)
        else:
            self._nothing_recorded(verb)

    def answer(self, outcome: str = "completed") -> None:
        """How the <Dial> ends: completed, busy, no-answer or failed."""
        if outcome not in DIAL_OUTCOMES:
            raise CallError(
                f"{outcome!r} is no way a transfer ends: Twilio's DialCallStatus is one of {', '.join(DIAL_OUTCOMES)}"
            )
        dial = self._expect("Dial", f"answer {outcome!r}")
        self._say_line("caller", f"the other side: {outcome}")
        if dial.get("action"):
            duration = "30" if outcome == "completed" else "0"
            self._post(self._url(dial.get("action")), {"DialCallStatus": outcome, "DialCallDuration": duration})
        else:
            self._continue()

    def record(self, path: str | Path, then_hangup: bool = False, fail_downloads: int = 0, callbacks: int = 1) -> None:
        """Speak a clip while <Record> runs, as Twilio records it.

        The clip is served at a Twilio-shaped RecordingUrl by the local media server, behind Basic
        auth. Twilio posts the action, then (when asked) the recording status callback. An empty
        clip (silence, or under a second) makes no action request: the call goes on to the next
        verb, and the callback says "absent". `then_hangup`: the caller hangs up while recording;
        Twilio still posts both, and ignores the action's answer. `fail_downloads`: the media server
        answers 503 to that many downloads first. `callbacks`: Twilio's retries of the status
        callback, all posted at once (a storm).
        """
        verb = self._expect("Record", f"record {path}")
        clip = Path(path)
        duration = wav_seconds(clip)
        empty = is_empty_recording(clip)
        self._say_line("caller", f"records {clip.name} ({duration:.1f} s)" + (" and hangs up" if then_hangup else ""))
        self.seconds += duration
        if empty:
            self._nothing_recorded(verb, then_hangup)
            return
        sid = _sid("RE")
        callback = self._url(verb.get("recordingStatusCallback")) if verb.get("recordingStatusCallback") else None
        token = getattr(self.transport, "token", "")
        url = media.server().publish(clip, self.account_sid, token, sid, fail_first=fail_downloads)
        self.recordings.append(url)
        params = {
            "RecordingUrl": url,
            "RecordingSid": sid,
            "RecordingDuration": str(max(1, round(duration))),
            "Digits": "hangup" if then_hangup else "#",
        }
        status = {"RecordingStatus": "completed", "RecordingChannels": "1", "RecordingSource": "RecordVerb",
                  **{k: params[k] for k in ("RecordingUrl", "RecordingSid", "RecordingDuration")}}  # fmt: skip

        def status_callbacks() -> None:
            if callback and callbacks <= 1:
                self._request(callback, status)
            elif callback:
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(callbacks) as pool:
                    list(pool.map(lambda _: self._request(callback, status), range(callbacks)))

        if then_hangup:
            self._waiting = None
            reply, _turn = self._request(self._url(verb.get("action")), params)
            if reply.status != 200:
                raise CallError(f"{reply.url} answered {reply.status} to the recording of a caller who hung up")
            status_callbacks()
            self._end()
            return
        self._post_action(verb, params, meanwhile=status_callbacks)

    def _finish_recording(self, record, keys: str) -> None:  # type: ignore[no-untyped-def]
        """A finishOnKey pressed before the caller said anything: an empty recording."""
        finish = record.get("finishOnKey")
        finish = RECORD_FINISH_KEYS if finish is None else finish
        if not any(key in finish for key in keys):
            ends = f"its finishOnKey is {finish!r}" if finish else "no key ends it"
            raise CallError(f"pressing {keys!r} does not end this recording ({ends})")
        pressed = next(key for key in keys if key in finish)
        self._say_line("caller", f"presses {pressed} before saying anything: nothing is recorded")
        self.seconds += 0.5
        self._nothing_recorded(record)

    def _nothing_recorded(self, record, then_hangup: bool = False) -> None:  # type: ignore[no-untyped-def]
        """Twilio's empty recording: no request to the action URL, the call goes on with the verb
        after <Record>; the status callback says "absent" when it was asked for."""
        callback = self._url(record.get("recordingStatusCallback")) if record.get("recordingStatusCallback") else None
        events = (record.get("recordingStatusCallbackEvent") or "completed").split()
        if callback and "absent" in events:
            absent = {"RecordingSid": _sid("RE"), "RecordingStatus": "absent", "RecordingDuration": "0"}
            self._request(callback, absent)
        if then_hangup:
            self._end()
        else:
            self._continue()

    def hangup(self) -> None:
        if self.ended:
            return
        self._say_line("caller", "hangs up")
        self._end()

    # ---- interpreting TwiML ---------------------------------------------------------------

    def _expect(self, tags, doing: str):  # type: ignore[no-untyped-def]
        tags = (tags,) if isinstance(tags, str) else tags
        if self.ended:
            raise CallError(f"the caller cannot {doing}: the call has ended")
        if self._waiting is None or self._waiting.tag not in tags:
            raise CallError(f"the caller cannot {doing}: the call is waiting for {self.waiting_for or 'nothing'}")
        self._heard = []
        return self._waiting

    def _url(self, url: str | None) -> str:
        return urljoin(self._document_url, url) if url else self._document_url

    def _base_params(self, first: bool) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.called,
            "Caller": self.caller,
            "Called": self.called,
            "CallStatus": "ringing" if first else "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    def _request(self, url: str, extra: dict[str, str], first: bool = False):  # type: ignore[no-untyped-def]
        self._requests += 1
        if self._requests > MAX_REQUESTS:
            raise CallError(f"more than {MAX_REQUESTS} requests in one call: the app is looping")
        params = {**self._base_params(first), **extra}
        reply = self.transport.post(url, params)
        turn = {"url": reply.url, "params": extra, "status": reply.status, "heard": []}
        self.trace.append(turn)
        return reply, turn

    def _post(self, url: str, extra: dict[str, str], first: bool = False, meanwhile=None) -> None:  # type: ignore[no-untyped-def]
        """Request `url` and follow the TwiML it answers; `meanwhile` runs between the two (a
        callback Twilio sends on its own while the call goes on)."""
        reply, turn = self._request(url, extra, first)
        if reply.prompts and reply.prompts != self.prompts:
            # Said when the call starts and whenever a reloaded server answers from an edited catalog.
            self.prompts = reply.prompts
            self.echo("simulator:", f"hearing {reply.prompts}")
        if meanwhile is not None:
            meanwhile()
        if reply.status != 200 or reply.content_type != "text/xml":
            raise CallError(
                f"{reply.url} answered {reply.status} {reply.content_type!r}: Twilio would say "
                f"'an application error has occurred' and drop the caller. Body: {reply.body[:300]!r}"
            )
        try:
            root = ElementTree.fromstring(reply.body)
        except ElementTree.ParseError as exc:
            raise CallError(f"{reply.url} answered TwiML that does not parse ({exc}): {reply.body[:300]!r}") from None
        if root.tag != "Response":
            raise CallError(f"{reply.url} answered <{root.tag}>, not <Response>")
        self._document_url = reply.url
        self._run(list(root), turn)

    def _post_action(self, verb, extra: dict[str, str], end_after: bool = False, meanwhile=None) -> None:  # type: ignore[no-untyped-def]
        self._waiting = None
        if verb.get("method", "POST").upper() not in ("POST", "GET"):
            raise CallError(f"<{verb.tag}> has an unknown method {verb.get('method')!r}")
        self._post(self._url(verb.get("action")), extra, meanwhile=meanwhile)
        if end_after and not self.ended:
            self._end()

    def _nothing_gathered(self, gather) -> None:  # type: ignore[no-untyped-def]
        if gather.get("actionOnEmptyResult", "false").lower() == "true":
            self._post_action(gather, {})
        else:
            self._continue()

    def _continue(self) -> None:
        rest, self._waiting, self._rest = self._rest, None, []
        self._run(rest, self.trace[-1] if self.trace else {"heard": []})

    def _run(self, verbs: list[ElementTree.Element], turn: dict) -> None:
        for index, verb in enumerate(verbs):
            tag = verb.tag
            if tag in ("Say", "Play", "Pause"):
                self._play(verb, turn)
            elif tag == "Gather":
                for child in verb:
                    self._play(child, turn)
                turn["hints"] = verb.get("hints", "")
                self._wait(verb, verbs[index + 1 :])
                return
            elif tag in ("Record", "Dial"):
                if tag == "Dial":
                    number = "".join(verb.itertext()).strip()
                    self._say_line("IVR", f"[connects the caller to {number}]")
                else:
                    self._say_line("IVR", "[beep: recording]")
                self._wait(verb, verbs[index + 1 :])
                return
            elif tag == "Redirect":
                self._post(self._url((verb.text or "").strip()), {})
                return
            elif tag in ("Hangup", "Reject"):
                self._say_line("IVR", "[hangs up]")
                self._end()
                return
            else:
                raise CallError(f"unknown TwiML verb <{tag}>")
        self._say_line("IVR", "[end of instructions: the call hangs up]")
        self._end()

    def _play(self, verb, turn: dict) -> None:  # type: ignore[no-untyped-def]
        if verb.tag == "Say":
            self._hear((verb.text or "").strip(), turn)
        elif verb.tag == "Play":
            self._hear(f"[plays {(verb.text or '').strip()}]", turn)
        elif verb.tag == "Pause":
            self.seconds += float(verb.get("length", "1"))
        else:
            raise CallError(f"<{verb.tag}> cannot be nested in <Gather>")

    def _wait(self, verb, rest) -> None:  # type: ignore[no-untyped-def]
        self._waiting, self._rest = verb, list(rest)

    def _hear(self, text: str, turn: dict) -> None:
        if text:
            self._heard.append(text)
            turn.setdefault("heard", []).append(text)
            self.seconds += len(text) / SPEAKING_RATE
            self._say_line("IVR", text)

    def _say_line(self, who: str, text: str) -> None:
        self.transcript.append((who, text))
        self.echo(who, text)

    def _end(self) -> None:
        self.ended = True
        self._waiting, self._rest = None, []
        reply, turn = self._request(
            "/voice/status", {"CallStatus": "completed", "CallDuration": str(int(self.seconds))}
        )
        turn["status_callback"] = True
        if not 200 <= reply.status < 300:
            raise CallError(f"the status callback answered {reply.status}: {reply.body[:200]!r}")


def is_empty_recording(path: Path) -> bool:
    """What Twilio keeps no recording of: under a second, or nothing above line hiss."""
    if wav_seconds(path) < 1.0:
        return True
    try:
        audio = load_audio(path)
    except AudioError as exc:
        raise CallError(f"{path}: {exc}") from None
    import numpy as np

    samples = np.frombuffer(audio.pcm, dtype="<i2")
    return samples.size == 0 or int(np.abs(samples.astype(np.int32)).max()) < 500


def wav_seconds(path: Path) -> float:
    """Length of a WAV file; reads the RIFF header itself for mu-law, which `wave` refuses."""
    if not path.is_file():
        raise CallError(f"{path}: no such file")
    try:
        with wave.open(str(path)) as clip:
            if not clip.getframerate():
                raise CallError(f"{path}: a WAV file with a sample rate of 0")
            return clip.getnframes() / clip.getframerate()
    except (wave.Error, EOFError):
        pass
    except OSError as exc:
        raise CallError(f"{path}: {exc.strerror or exc}") from None
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise CallError(f"{path} is not a WAV file")
    byte_rate, position, size = 0, 12, 0
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"fmt ":
            byte_rate = int.from_bytes(data[position + 16 : position + 20], "little")
        elif chunk == b"data":
            break
        position += 8 + size + (size & 1)
    if not byte_rate:
        raise CallError(f"{path} has no WAV format chunk")
    return size / byte_rate
