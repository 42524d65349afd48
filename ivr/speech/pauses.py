"""Where a caller pauses: the voice activity detector that ships with PocketSphinx, frame by frame.

Used to tell a caller who said nothing from one who spoke, and to cut a long voice message into
pieces at its pauses, so a transcript is made a piece at a time and one long message never holds a
recogniser for minutes while others wait.
"""

from __future__ import annotations

from ivr.speech.audio import TARGET_RATE, Audio

FRAME_SECONDS = 0.03
BYTES_PER_SECOND = TARGET_RATE * 2
# A piece of a long message is cut at the longest pause in its last part, no later than this.
LONGEST_PIECE_SECONDS = 20.0
# ...looking back at most this far for the pause (an unbroken stream of words is cut at the limit).
LOOK_BACK_SECONDS = 8.0


def voiced(pcm: bytes) -> list[bool]:
    """For every 30 ms frame of 16 kHz PCM, whether it holds a voice."""
    from pocketsphinx import Vad

    vad = Vad(Vad.LOOSE, TARGET_RATE, FRAME_SECONDS)
    size = vad.frame_bytes
    return [vad.is_speech(pcm[i : i + size]) for i in range(0, len(pcm) - size + 1, size)]


def voiced_seconds(pcm: bytes) -> float:
    return sum(voiced(pcm)) * FRAME_SECONDS


def pieces(audio: Audio, longest: float = LONGEST_PIECE_SECONDS) -> list[Audio]:
    """`audio` cut at pauses into pieces of at most `longest` seconds (one piece when it is short)."""
    if audio.seconds <= longest:
        return [audio]
    frames = voiced(audio.pcm)
    per_piece, look_back = int(longest / FRAME_SECONDS), int(LOOK_BACK_SECONDS / FRAME_SECONDS)
    cuts, start = [0], 0
    while len(frames) - start > per_piece:
        window_start, end = start + max(per_piece - look_back, 1), start + per_piece
        cut = _middle_of_longest_pause(frames, window_start, end) or end
        cuts.append(cut)
        start = cut
    frame_bytes = int(FRAME_SECONDS * BYTES_PER_SECOND)
    edges = [cut * frame_bytes for cut in cuts] + [len(audio.pcm)]
    return [Audio(audio.pcm[a:b], (b - a) / BYTES_PER_SECOND) for a, b in zip(edges, edges[1:], strict=False)]


def _middle_of_longest_pause(frames: list[bool], start: int, end: int) -> int | None:
    best, best_length, run_start = None, 0, None
    for i in range(start, end + 1):
        silent = i < end and not frames[i]
        if silent and run_start is None:
            run_start = i
        elif not silent and run_start is not None:
            if i - run_start > best_length:
                best, best_length = (run_start + i) // 2, i - run_start
            run_start = None
    return best
