"""The background worker: copies recordings into our storage, transcribes them, applies retention,
tells the team about messages and sends callers the texts they asked for.

Webhooks never wait for any of this. Jobs live in the messages table (which step a message is at,
and `next_try_at`), so any number of workers on any host can share them: a worker claims a message
by moving its `next_try_at` forward in one conditional UPDATE, and only the claimant works on it.
Failures are retried with growing pauses and stay visible on the message; a message whose copy
failed still shows in the queue with Twilio's URL.

No job waits for another. A pass starts every due job in a thread of its lane (downloads, transcriptions,
sends to the team and to callers) and goes on: a recording trickling in, a long transcription or a
mail server that does not answer holds one thread of its own lane, never the other jobs, nor the next
pass. Each job ends within its deadline, shorter than the lease its claim takes (see LEASE), so a job
still running is never claimed again, by this worker or another.

Run: `flask --app wsgi worker` (`make run` starts one beside the web server).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

import requests
from sqlalchemy import select, update
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient

from ivr import recordings, texts
from ivr.agents import throttle
from ivr.db import Database
from ivr.insights import rollup
from ivr.messages import audio_store, notify, search
from ivr.models import Message, MessageHistory, Notification, TextMessage
from ivr.prompts import Catalog
from ivr.speech import recognizer as speech
from ivr.speech.audio import load

log = logging.getLogger(__name__)

# A claimed job not finished within this time (a worker died) is free again. Every job ends well within
# it: a download within recordings.DEADLINE_SECONDS (1 min, from connecting to the last byte), a send
# within its timeouts (notify.TIMEOUT_SECONDS, TEXT_TIMEOUT_SECONDS: each step, not the whole send). A
# transcription is CPU work that a thread cannot stop: a message is at most 2 minutes and takes seconds
# to transcribe; one that took longer than the lease could be transcribed twice (the same words), never lost.
LEASE = dt.timedelta(minutes=5)
TEXT_TIMEOUT_SECONDS = 15
# Each kind of job runs in a lane, a pool of threads of its own, so that no kind waits for another:
# downloads and sends wait on other hosts, transcriptions on this host's cores. A lane has
# LANE_THREADS threads, or the worker's `threads` when that is more.
LANE_OF = {"download": "download", "transcribe": "transcribe", "notification": "send", "text": "send"}
LANE_THREADS = {"download": 4, "transcribe": 1, "send": 2}
DOWNLOAD_ATTEMPTS = 10
TRANSCRIPT_ATTEMPTS = 5
FIRST_PAUSE_SECONDS = 15
LONGEST_PAUSE_SECONDS = 3600


# A job: (the row's id, the pass's clock or None) -> 1 when this worker claimed the row and worked on it.
Job = Callable[[int, dt.datetime | None], int]


class DownloadError(Exception):
    pass


def pause(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min... up to an hour between tries."""
    return dt.timedelta(seconds=min(FIRST_PAUSE_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_PAUSE_SECONDS))


def _said(error: Exception) -> Exception:
    """A failure as agents may read it: the reason, not a library's repr of a connection pool."""
    if isinstance(error, requests.Timeout):
        return DownloadError("Twilio did not answer in time")
    if isinstance(error, requests.ConnectionError):
        return DownloadError("could not reach Twilio")
    return error


class Worker:
    def __init__(
        self, database: Database, settings: dict[str, Any], threads: int | None = None, catalog: Catalog | None = None,
        twilio_http: HttpClient | None = None,
    ) -> None:  # fmt: skip
        self.db = database
        self.settings = settings
        # Where copies are kept (IVR_RECORDINGS_STORE), read back and deleted.
        self.recordings = audio_store.for_line(settings, database)
        # How texts reach Twilio's REST API: the twilio package's own client, unless a test gives another.
        self.twilio_http = twilio_http
        # How each language's words are stemmed in a transcript's search document: the line's catalog.
        self.catalog = catalog if catalog is not None else Catalog.load()
        # Messages are transcribed side by side, one a thread (and copied on at least as many): a long
        # message being transcribed never holds up the others. One thread per core unless told otherwise.
        self.threads = max(threads or int(settings.get("WORKER_THREADS") or 0) or os.cpu_count() or 1, 1)
        self.calls_waiting = False  # ended calls left for the insights after a pass
        # The jobs running or waiting for a thread, by (kind, row id): a pass starts only the others.
        self._running: dict[tuple[str, int], Future[int]] = {}
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._closed = False

    # ---- the loop -------------------------------------------------------------------------

    def run_once(self, now: dt.datetime | None = None, wait: bool = True) -> int:
        """Start every job that is due now, each in its lane, then do the quick periodic jobs. With
        `wait` (tests, `worker --once`), return when this pass's jobs have ended: how many had work
        (a message's download and transcription count once). Without (run_forever): how many started.

        `now` is the pass's clock (tests move it); None: each job reads the clock when it starts, so
        that its claim's lease counts from then, not from when it began to wait for a thread."""
        clock = now or dt.datetime.now(dt.UTC)
        due: list[tuple[str, int, Job]] = [
            *((kind, message_id, self._claim_and_work) for kind, message_id in self._due(clock)),
            *(("notification", row, self._send_notification) for row in self._due_rows(Notification, clock)),
            *(("text", row, self._send_text) for row in self._due_rows(TextMessage, clock)),
        ]
        jobs = [started for kind, row, job in due if (started := self._start(kind, row, job, now)) is not None]
        done = self.periodic(clock)
        if not wait:
            return done + len(jobs)
        self.wait()
        return done + sum(job.result() for job in jobs)

    def periodic(self, now: dt.datetime) -> int:
        """The quick jobs of every pass, done in the loop itself: short database work that never waits
        on another host. A new periodic job goes here."""
        done = self.apply_retention(now)
        throttle.forget(self.db, now)  # not counted as jobs: nothing a person waits for
        # Not counted as jobs: a whole batch means more calls wait, and the loop goes on without a pause.
        self.calls_waiting = self.summarise_calls(now) >= rollup.BATCH
        return done

    def summarise_calls(self, now: dt.datetime) -> int:
        """Ended calls into the insights' day rows (ivr/insights/rollup.py): a bounded batch a pass."""
        with self.db.transaction() as session:
            return rollup.roll_up(session, self.settings, now, rollup.BATCH)

    def run_forever(self, interval: float = 1.0) -> None:
        log.info("worker started: recordings go to %s", self.recordings)
        try:
            while True:
                try:
                    if not self.run_once(wait=False) and not self.calls_waiting:
                        time.sleep(interval)
                except Exception:
                    log.exception("worker pass failed; trying again")
                    time.sleep(interval)
        finally:
            self.close(wait=False)

    def wait(self) -> None:
        """Until every job started has ended (with the transcriptions that downloads started)."""
        while True:
            with self._lock:
                running = [job for job in self._running.values() if not job.done()]
            if not running:
                return
            wait_for(running)

    def close(self, wait: bool = True) -> None:
        """Stop the lanes' threads (when the jobs running have ended); jobs not started stay due."""
        with self._lock:
            self._closed = True
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.shutdown(wait=wait, cancel_futures=True)

    def _start(self, kind: str, row_id: int, job: Job, now: dt.datetime | None) -> Future[int] | None:
        """Run `job(row_id, now)` in its kind's lane, unless it is running or waiting there already."""
        key = (kind, row_id)
        with self._lock:
            if key in self._running or self._closed:
                return None
            lane = LANE_OF[kind]
            if lane not in self._lanes:
                threads = max(LANE_THREADS[lane], self.threads)
                self._lanes[lane] = ThreadPoolExecutor(threads, thread_name_prefix=f"worker-{lane}")
            started = self._running[key] = self._lanes[lane].submit(job, row_id, now)
        started.add_done_callback(lambda ended: self._ended(key, ended))
        return started

    def _ended(self, key: tuple[str, int], job: Future[int]) -> None:
        with self._lock:
            if self._running.get(key) is job:
                del self._running[key]
        error = None if job.cancelled() else job.exception()
        if error is not None:
            log.error("%s job %s failed", *key, exc_info=error)

    def _due(self, now: dt.datetime) -> list[tuple[str, int]]:
        """The messages due: (the kind of their next job, their id); the oldest 50 of each kind, so that
        transcriptions waiting in their lane never keep new recordings from being copied, nor the reverse."""
        due = []
        with self.db.reading() as session:
            for kind, stored in (("download", False), ("transcribe", True)):
                query = (
                    select(Message.id)
                    .where(Message.next_try_at.is_not(None), Message.next_try_at <= now)
                    .where((Message.audio_status == "stored") if stored else (Message.audio_status != "stored"))
                    .order_by(Message.next_try_at)
                    .limit(50)
                )
                due += [(kind, message_id) for message_id in session.scalars(query)]
        return due

    def _due_rows(self, model: type[Notification] | type[TextMessage], now: dt.datetime) -> list[int]:
        """The notifications or texts due to be sent."""
        with self.db.reading() as session:
            return list(session.scalars(
                select(model.id).where(model.status == "pending", model.next_try_at <= now)
                .order_by(model.next_try_at).limit(20)
            ))  # fmt: skip

    def _claim_and_work(self, message_id: int, at: dt.datetime | None) -> int:
        """Claimed just before it is worked on, so a lease never runs out while a message waits its turn;
        1 when this worker claimed it, else 0."""
        now = at or dt.datetime.now(dt.UTC)
        if not self._claim(message_id, now):
            return 0
        if self._work(message_id, now):
            # Transcribed in its own lane (claimed again there), so that no download waits for it.
            self._start("transcribe", message_id, self._claim_and_work, at)
        return 1

    def _claim(self, message_id: int, now: dt.datetime) -> bool:
        with self.db.transaction() as session:
            claimed = session.execute(
                update(Message)
                .where(Message.id == message_id, Message.next_try_at.is_not(None), Message.next_try_at <= now)
                .values(next_try_at=now + LEASE)
            )
            return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _work(self, message_id: int, now: dt.datetime) -> bool:
        """The message's next step; True when it was a download that leaves the transcript to make."""
        with self.db.reading() as session:
            message = session.get(Message, message_id)
            if message is None:
                return False
            audio_status, transcript_status = message.audio_status, message.transcript_status
        if audio_status == "pending":
            return self.download(message_id, now)
        if audio_status == "stored" and transcript_status == "pending":
            self.transcribe(message_id, now)
        elif audio_status != "stored":
            self._set(message_id, next_try_at=None)
        return False

    # ---- jobs -----------------------------------------------------------------------------

    def download(self, message_id: int, now: dt.datetime) -> bool:
        """Copy the recording from Twilio (Basic auth: account SID and auth token) and check it."""
        with self.db.reading() as session:
            message = session.get(Message, message_id)
            assert message is not None
            url, account, attempts = message.recording_url, message.account_sid, message.audio_attempts + 1
        try:
            data = recordings.fetch(url, account, self.settings.get("TWILIO_AUTH_TOKEN", ""), self.settings)
            audio = load(data)  # a clear AudioError if it is not audio
            if audio.seconds <= 0:
                raise DownloadError("the recording is empty")
            kept = self.recordings.keep(message_id, data)
        except Exception as error:  # whatever it is, the attempt counts: a message always reaches "failed"
            self._failed(message_id, "audio", attempts, DOWNLOAD_ATTEMPTS, _said(error), now)
            return False
        self._set(
            message_id,
            audio_attempts=attempts,
            audio_error="",
            audio_status="stored",
            audio_path=kept,
            transcript_status="pending",
            next_try_at=now,
            history=("audio stored", f"{audio.seconds:.1f} s, attempt {attempts}"),
        )
        return True

    def transcribe(self, message_id: int, now: dt.datetime) -> None:
        """Free-form recognition with the offline recogniser for the message's language; none for a
        language no model here hears (said on the message, and never tried again)."""
        with self.db.reading() as session:
            message = session.get(Message, message_id)
            assert message is not None
            path, attempts, language = message.audio_path, message.transcript_attempts + 1, message.language
        try:
            choice = speech.recognizer_for(self.settings, language)
            if choice is not None:
                data = self.recordings.read(str(path))
                if data is None:
                    raise DownloadError("the stored recording is gone")
                heard = speech.transcribe(speech.get(choice), load(data))
        except Exception as error:  # the recogniser's failures are its own: record, retry
            self._failed(message_id, "transcript", attempts, TRANSCRIPT_ATTEMPTS, error, now)
            return
        if choice is None:  # nothing to try again: no model here hears the language
            self._set(message_id, transcript_status="no_model", next_try_at=None,
                      history=("no transcript", f"no speech model for {language} (IVR_VOSK_MODELS)"))  # fmt: skip
            return
        self._set(
            message_id,
            transcript=heard.text,
            transcript_words=[list(word) for word in heard.words],
            transcript_attempts=attempts,
            transcript_error="",
            transcript_status="done",
            next_try_at=None,
            history=(
                "transcribed",
                f"{heard.backend}, {heard.seconds:.1f} s" + (", uncertain" if heard.uncertain else ""),
            ),
        )
        with self.db.transaction() as session:  # found by its words from now on
            transcribed = session.get(Message, message_id)
            if transcribed is not None:
                search.refresh(session, transcribed, self.catalog)

    def send_notifications(self, now: dt.datetime) -> int:
        """Tell the team about messages left a little while ago, one after the other in this thread (a
        pass sends each in the send lane instead); a failure is tried again later."""
        return sum(self._send_notification(row, now) for row in self._due_rows(Notification, now))

    def _send_notification(self, notification_id: int, at: dt.datetime | None) -> int:
        """Send one notification if this worker claims it (one worker sends it); 1 when it did, else 0."""
        now = at or dt.datetime.now(dt.UTC)
        if not self._claim_pending(Notification, notification_id, now):
            return 0
        self._notify(notification_id, now)
        return 1

    def _notify(self, notification_id: int, now: dt.datetime) -> None:
        with self.db.reading() as session:
            notification = session.get(Notification, notification_id)
            assert notification is not None
            message = session.get(Message, notification.message_id)
            assert message is not None
            channel, attempts = notification.channel, notification.attempts + 1
            if message.status == "replaced":  # recorded again: the new message is told instead
                said = None
            else:
                said = notify.facts(session, message, self.settings)
        values: dict[str, Any]
        if said is None:
            values = {"status": "skipped", "next_try_at": None}
        else:
            try:
                notify.send(channel, said, self.settings)
                values = {"status": "sent", "sent_at": now, "next_try_at": None, "error": ""}
            except notify.NotSent as error:
                failed = attempts >= notify.ATTEMPTS
                log.warning("telling the team about message %s by %s failed (attempt %d): %s",
                            said["message_id"], channel, attempts, error)  # fmt: skip
                values = {"status": "failed" if failed else "pending", "error": str(error),
                          "next_try_at": None if failed else now + pause(attempts)}  # fmt: skip
        with self.db.transaction() as session:
            session.execute(update(Notification).where(Notification.id == notification_id)
                            .values(attempts=attempts, **values))  # fmt: skip
            if values["status"] == "failed":
                session.add(MessageHistory(message_id=message.id, action="not told",
                                           detail=f"{channel} failed after {attempts} tries: {values['error']}"))  # fmt: skip

    def send_texts(self, now: dt.datetime) -> int:
        """Texts to callers that are due (ivr/texts.py), one after the other in this thread (a pass sends
        each in the send lane instead), each claimed as notifications are; a failure is tried again
        later, up to texts.TEXT_ATTEMPTS."""
        return sum(self._send_text(row, now) for row in self._due_rows(TextMessage, now))

    def _send_text(self, text_id: int, at: dt.datetime | None) -> int:
        """Send one text if this worker claims it: 1 when it did (sent or not), else 0."""
        # The twilio package's own HTTP client for this text, with a timeout (it has none of its own),
        # its connections closed after it.
        http = self.twilio_http or TwilioHttpClient(timeout=TEXT_TIMEOUT_SECONDS)
        try:
            return self._text(text_id, at or dt.datetime.now(dt.UTC), http)
        finally:
            if http is not self.twilio_http and http.session is not None:
                http.session.close()

    def _claim_pending(self, model: type[Notification] | type[TextMessage], row_id: int, now: dt.datetime) -> bool:
        """Claim a pending notification or text that is due, as messages are claimed: moving its next
        try past the lease in one conditional UPDATE; only the claimant sends it."""
        with self.db.transaction() as session:
            claimed = session.execute(
                update(model)
                .where(model.id == row_id, model.status == "pending", model.next_try_at <= now)
                .values(next_try_at=now + LEASE)
            )
            return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _text(self, text_id: int, now: dt.datetime, http: HttpClient | None) -> int:
        """Send one text if this worker claims it; 1 when it did (sent or not), else 0."""
        if not self._claim_pending(TextMessage, text_id, now):
            return 0
        with self.db.reading() as session:
            text = session.get(TextMessage, text_id)
            assert text is not None
            attempts = text.attempts + 1
        values: dict[str, Any]
        try:
            sid = texts.send(text, self.settings, http)
            values = {"status": "sent", "sent_at": now, "next_try_at": None, "error": "", "twilio_sid": sid}
        except texts.NotSent as error:
            failed = attempts >= texts.TEXT_ATTEMPTS
            log.warning("text %s to a caller failed (attempt %d): %s", text_id, attempts, error)
            values = {"status": "failed" if failed else "pending", "error": str(error),
                      "next_try_at": None if failed else now + pause(attempts)}  # fmt: skip
        with self.db.transaction() as session:
            session.execute(update(TextMessage).where(TextMessage.id == text_id).values(attempts=attempts, **values))
        return 1

    def apply_retention(self, now: dt.datetime) -> int:
        """Delete the audio of messages older than the retention period; the messages stay."""
        days = int(self.settings.get("AUDIO_RETENTION_DAYS", 0) or 0)
        if days <= 0:
            return 0
        cutoff = now - dt.timedelta(days=days)
        with self.db.transaction() as session:
            old = session.scalars(
                select(Message).where(Message.audio_status == "stored", Message.created_at < cutoff).limit(100)
            ).all()
            for message in old:
                if message.audio_path:
                    self.recordings.delete(message.audio_path, session)
                message.audio_status, message.audio_path = "deleted", None
                session.add(MessageHistory(message_id=message.id, action="audio deleted", at=now,
                                           detail=f"retention: {days} days"))  # fmt: skip
            return len(old)

    def _failed(self, message_id: int, job: str, attempts: int, most: int, error: Exception, now: dt.datetime) -> None:
        """A job (audio or transcript) failed: tried again after a pause, or given up after `most` tries."""
        failed = attempts >= most
        log.warning("%s of message %s failed (attempt %d): %s", job, message_id, attempts, error)
        values = {
            f"{job}_attempts": attempts,
            f"{job}_error": str(error)[:500],
            f"{job}_status": "failed" if failed else "pending",
        }
        self._set(
            message_id,
            next_try_at=None if failed else now + pause(attempts),
            history=(f"{job} failed", f"gave up after {attempts} attempts: {error}") if failed else None,
            **values,
        )

    def _set(self, message_id: int, history: tuple[str, str] | None = None, **values: Any) -> None:
        with self.db.transaction() as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))
            if history is not None:
                session.add(MessageHistory(message_id=message_id, action=history[0], detail=history[1]))
