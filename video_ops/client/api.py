"""The `Client` API: jobs on RunPod's serverless REST API, one transport owning retries and errors."""

from __future__ import annotations

import email.utils
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

import video_ops.client.render_split as render_split
import video_ops.client.split as split_batches

DEFAULT_BASE_URL = "https://api.runpod.ai/v2"
PENDING = frozenset({"IN_QUEUE", "IN_PROGRESS"})
RENDER_SPLIT = "render-split:"  # ids of split renders, known to the client that split them
# The reference orchestrator's polling: 2 s, growing 1.5x per poll, never above 8 s.
POLL_FIRST_S = 2.0
POLL_FACTOR = 1.5
POLL_MAX_S = 8.0
RETRY_BASE_S = 0.5
RETRY_MAX_S = 8.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Connections kept open for reuse. requests keeps 10 by default; a program that calls from more threads at once
# (a web app, a batch script) had every connection past the tenth closed after one call, each call paying a new
# TCP handshake.
POOL_SIZE = 64

StatusCallback = Callable[[dict], None]


class VideoOpsError(Exception):
    """Base of every error this client raises."""


class ClientError(VideoOpsError):
    """The API refused a call (4xx/5xx), or it could not be reached at all (`status_code` None)."""

    def __init__(self, message: str, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(f"HTTP {status_code}: {message}" if status_code else message)
        self.message = message
        self.status_code = status_code
        self.body = body


class JobError(VideoOpsError):
    """A job is not (successfully) finished; `status` is RunPod's last status JSON."""

    def __init__(self, message: str, status: dict) -> None:
        super().__init__(message)
        self.status = status
        self.job_id = status.get("id")


class JobNotReady(JobError):
    """The job is still IN_QUEUE or IN_PROGRESS; `progress` is its latest progress object."""

    @property
    def progress(self) -> Any:
        return self.status.get("output")


class JobFailed(JobError):
    """The job ended FAILED; `error` is the worker's message."""

    def __init__(self, error: str, status: dict) -> None:
        super().__init__(error, status)
        self.error = error


class JobCancelled(JobError):
    """The job was cancelled."""


class JobTimedOut(JobError):
    """RunPod stopped the job at its execution timeout (status TIMED_OUT)."""


class JobTimeout(JobError):
    """`wait` gave up locally; the job keeps running remotely and can be waited for again."""


def decode_error(error: Any) -> str:
    """RunPod's error as one readable sentence.

    An exception raised in a handler reaches the caller as a JSON string carrying the traceback;
    the caller wants its `error_message`.
    """
    if isinstance(error, str):
        try:
            error = json.loads(error)
        except ValueError:
            return error
    if isinstance(error, dict):
        return str(error.get("error_message") or error.get("error") or json.dumps(error))
    return str(error)


def outcome(status: dict) -> Any:
    """The output of a COMPLETED status; any other state raises the matching `JobError`."""
    state = status.get("status")
    job = status.get("id")
    if state == "COMPLETED":
        return status.get("output")
    if state in PENDING:
        raise JobNotReady(f"job {job} is {state}", status)
    if state == "FAILED":
        raise JobFailed(decode_error(status.get("error", "job failed without an error message")), status)
    if state == "CANCELLED":
        raise JobCancelled(f"job {job} was cancelled", status)
    if state == "TIMED_OUT":
        raise JobTimedOut(f"job {job} reached its execution timeout", status)
    raise JobError(f"job {job} has unknown status {state!r}", status)


def poll_delays() -> Iterator[float]:
    """The guide's polling schedule: 2, 3, 4.5, 6.75, 8, 8, ... seconds."""
    delay = POLL_FIRST_S
    while True:
        yield delay
        delay = min(delay * POLL_FACTOR, POLL_MAX_S)


def _nothing_sent(exc: requests.RequestException) -> bool:
    """True when the request never reached the server, so even a submit is safe to repeat."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def request_body(
    job_input: dict, webhook: str | None = None, policy: dict | None = None, s3_config: dict | None = None
) -> dict:
    """RunPod's request body: the input plus the request-level options that are set."""
    extras = {"webhook": webhook, "policy": policy, "s3Config": s3_config}
    return {"input": job_input, **{key: value for key, value in extras.items() if value is not None}}


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header's value (delta-seconds or HTTP date), if it has one."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def retry_pause_s(
    idempotent: bool, attempt: int, retries: int, status_code: int, retry_after: str | None
) -> float | None:
    """How long to wait before asking again after an HTTP error; None when the error is the answer (it is final,
    the call is not safe to repeat, or the retries are spent)."""
    if not (idempotent and attempt < retries and status_code in RETRY_STATUSES):
        return None
    pause = retry_after_s(retry_after)
    return backoff_s(attempt) if pause is None else pause


def backoff_s(attempt: int) -> float:
    """Exponential backoff with jitter, so many clients do not retry in step."""
    return min(RETRY_MAX_S, RETRY_BASE_S * 2**attempt) * random.uniform(0.5, 1.0)


def json_answer(method: str, url: str, status_code: int, text: str) -> Any:
    """A successful call's JSON body; a body that is not JSON is the API's fault, said in one sentence."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ClientError(f"{method} {url} answered non-JSON", status_code, text) from exc


def api_error(status_code: int, text: str, reason: str | None) -> ClientError:
    """RunPod's error as a ClientError: its message (bodies are JSON, text, or empty) and the parsed body."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    if isinstance(body, dict):
        message = body.get("error") or body.get("message") or json.dumps(body)
    else:
        message = body or reason or "no message"
    return ClientError(decode_error(message), status_code, body)


class Client:
    """One RunPod endpoint running the video-ops worker.

    `clock` and `sleep` are injectable so polling and retries can be tested without waiting.
    """

    def __init__(
        self,
        endpoint_id: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 4,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        endpoint_id = endpoint_id or os.environ.get("RUNPOD_ENDPOINT_ID")
        if not endpoint_id:
            raise VideoOpsError("no endpoint id: pass endpoint_id or set RUNPOD_ENDPOINT_ID")
        base_url = base_url or os.environ.get("RUNPOD_ENDPOINT_BASE_URL") or DEFAULT_BASE_URL
        self.url = f"{base_url.rstrip('/')}/{endpoint_id}"
        self.timeout = timeout
        self.retries = retries
        self._clock = clock
        self._sleep = sleep
        self.session = requests.Session()
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
        self._render_splits: dict[str, render_split.RenderSplit] = {}  # split renders this client drives
        api_key = api_key or os.environ.get("RUNPOD_API_KEY")
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    # --- transport -------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        route: str,
        *,
        idempotent: bool,
        body: dict | None = None,
        params: dict | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> Any:
        """One API call, retried when repeating it cannot do harm; returns the JSON body."""
        url = f"{self.url}/{route}"
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, json=body, params=params, timeout=timeout or self.timeout)
            except requests.RequestException as exc:
                if attempt == self.retries or not (idempotent or _nothing_sent(exc)):
                    raise ClientError(f"{method} {url} failed: {exc}") from exc
                pause = backoff_s(attempt)
            else:
                if response.ok:
                    return json_answer(method, url, response.status_code, response.text)
                pause = retry_pause_s(idempotent, attempt, self.retries, response.status_code,
                                      response.headers.get("Retry-After"))
                if pause is None:
                    raise api_error(response.status_code, response.text, response.reason)
            self._sleep(pause)
            attempt += 1

    # --- RunPod's routes -------------------------------------------------------------------------
    def submit(
        self,
        job_input: dict,
        *,
        webhook: str | None = None,
        policy: dict | None = None,
        s3_config: dict | None = None,
    ) -> str:
        """Queue a job (POST /run) and return its id."""
        body = request_body(job_input, webhook, policy, s3_config)
        return self._call("POST", "run", idempotent=False, body=body)["id"]

    def status(self, job_id: str) -> dict:
        """RunPod's status JSON for a job, as is; for a split img2vid batch, its parts' merged; for a split
        render, its plan's, parts' or join's as one job (submitting its next jobs when their time comes)."""
        if job_id in self._render_splits:
            return self._render_split_status(job_id, self._render_splits[job_id])
        parts = split_batches.parse_composite(job_id)
        if parts is None:
            return self._call("GET", f"status/{job_id}", idempotent=True)
        statuses = [self.status(part) for part, _, _ in parts]
        merged = split_batches.merge(job_id, parts, statuses)
        if merged["status"] in split_batches.ENDED_BADLY:  # one part ended badly: the others stop too
            for part in split_batches.pending_parts(parts, statuses):
                self.cancel(part)
        return merged

    def result(self, job_id: str) -> Any:
        """The output of a COMPLETED job; raises `JobNotReady`, `JobFailed`, ... otherwise."""
        return outcome(self.status(job_id))

    def cancel(self, job_id: str) -> dict:
        """Cancel a queued or running job (cancelling twice is harmless, so it is retried); every part of a
        split batch or render."""
        if job_id in self._render_splits:
            split = self._render_splits[job_id]
            split.cancelled = True
            for part in split.current():
                self.cancel(part)
            return self.status(job_id)
        parts = split_batches.parse_composite(job_id)
        if parts is not None:
            for part, _, _ in parts:
                self.cancel(part)
            return self.status(job_id)
        return self._call("POST", f"cancel/{job_id}", idempotent=True)

    def retry(self, job_id: str) -> dict:
        """Queue a FAILED, CANCELLED or TIMED_OUT job again under the same id."""
        return self._call("POST", f"retry/{job_id}", idempotent=False)

    def health(self) -> dict:
        """Counts of jobs and workers on the endpoint."""
        return self._call("GET", "health", idempotent=True)

    # --- waiting ---------------------------------------------------------------------------------
    def wait(self, job_id: str, timeout: float | None = None, on_update: StatusCallback | None = None) -> Any:
        """Poll until the job finishes and return its output (raising as `result` does).

        `on_update` sees the status JSON whenever the state or progress changes. `JobTimeout` after
        `timeout` seconds leaves the job running remotely.
        """
        deadline = None if timeout is None else self._clock() + timeout
        delays = poll_delays()
        seen = None
        while True:
            status = self.status(job_id)
            current = (status.get("status"), status.get("output"))
            if on_update is not None and current != seen:
                on_update(status)
            seen = current
            if status.get("status") not in PENDING:
                return outcome(status)
            delay = next(delays)
            if deadline is not None:
                left = deadline - self._clock()
                if left <= 0:
                    raise JobTimeout(f"job {job_id} still {status.get('status')} after {timeout} s", status)
                delay = min(delay, left)
            self._sleep(delay)

    def run(
        self,
        job_input: dict,
        timeout: float | None = None,
        on_update: StatusCallback | None = None,
        **submit_options: Any,
    ) -> Any:
        """Submit a job and wait for its output."""
        return self.wait(self.submit(job_input, **submit_options), timeout=timeout, on_update=on_update)

    def run_sync(
        self,
        job_input: dict,
        wait_s: float = 90.0,
        timeout: float | None = None,
        on_update: StatusCallback | None = None,
        **submit_options: Any,
    ) -> Any:
        """POST /runsync; when RunPod answers before the job ends, keep polling instead of returning None."""
        start = self._clock()
        connect = self.timeout[0] if isinstance(self.timeout, tuple) else self.timeout
        status = self._call(
            "POST",
            "runsync",
            idempotent=False,
            body=request_body(job_input, **submit_options),
            params={"wait": int(wait_s * 1000)},
            timeout=(connect, wait_s + 30.0),
        )
        if status.get("status") not in PENDING:
            return outcome(status)
        if on_update is not None:
            on_update(status)
        left = None if timeout is None else max(0.0, timeout - (self._clock() - start))
        return self.wait(status["id"], timeout=left, on_update=on_update)

    # --- typed helpers ---------------------------------------------------------------------------
    def caption(
        self,
        url_video: str,
        url_srt: str | None = None,
        path: str = "",
        output_filename: str | None = None,
        style: Any = None,
        force_style: str | None = None,
        preset: str | None = None,
        transcribe: dict[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Submit a caption job (burn an SRT into a video, or with `transcribe` instead, e.g. `{"model": "small"}`,
        the video's own speech heard in the same job); returns the job id."""
        return self._submit_operation("caption", locals())

    def img2vid(
        self,
        images: list[dict],
        path: str,
        frame_rate: float | None = None,
        start_index: int | None = None,
        width: int | None = None,
        height: int | None = None,
        fit: str | None = None,
        background: str | None = None,
        zoom_types: list[str] | None = None,
        split: int | None = None,
        **extra: Any,
    ) -> str:
        """Submit an img2vid job (one video per image); returns the job id.

        With `split`, a batch of more images is sent as parts of that many, which a RunPod endpoint with
        several workers renders at once; the id returned then names them all (`parts:...`), and
        `status`, `result`, `wait` and `cancel` treat them as one job with one result in input order.
        """
        arguments = {key: value for key, value in locals().items() if key != "split"}
        if not split or len(images) <= split:
            return self._submit_operation("img2vid", arguments)
        parts: list[split_batches.Part] = []
        try:
            for part_input, offset, count in split_batches.plan(self._wire_input("img2vid", arguments), split):
                parts.append((self.submit(part_input), offset, count))
        except BaseException:
            for part, _, _ in parts:
                self.cancel(part)
            raise
        return split_batches.composite_id(parts)

    def render(self, job: dict, *, split_seconds: float | None = None) -> str:
        """Submit a render job (`job`: render's fields); returns the job id.

        With `split_seconds`, a longer timeline is cut into parts of about that length, rendered at once
        by as many workers, then joined (docs/render.md); the id (`render-split:...`) names them all for
        `status`, `result`, `wait` and `cancel` of this client, with one result as the unsplit render's.
        """
        job_input = {**job, "operation": "render"}
        if not split_seconds or not render_split.worth_splitting(job_input, split_seconds):
            return self.submit(job_input)
        name = uuid.uuid4().hex[:12]
        split = render_split.RenderSplit.start(job_input, split_seconds, name)
        split.plan_id = self.submit(split.plan_input())
        job_id = RENDER_SPLIT + name
        self._render_splits[job_id] = split
        return job_id

    def _render_split_status(self, job_id: str, split: render_split.RenderSplit) -> dict:
        current = split.current()
        statuses = [self.status(part) for part in current]
        view, inputs = split.step(job_id, statuses)
        if inputs:
            split.submitted(inputs, [self.submit(one) for one in inputs])
        if view["status"] in render_split.ENDED_BADLY:  # one part ended badly: the others stop too
            for part, status in zip(current, statuses, strict=True):
                if status.get("status") in PENDING:
                    self.cancel(part)
        return view

    def addaudio(
        self,
        url_video: str,
        url_audio: str,
        path: str,
        output_filename: str | None = None,
        mode: str | None = None,
        fit: str | None = None,
        audio_volume: float | None = None,
        original_volume: float | None = None,
        **extra: Any,
    ) -> str:
        """Submit an addaudio job (put an audio track on a video); returns the job id."""
        return self._submit_operation("addaudio", locals())

    def transcribe(
        self,
        audio_url: str,
        path: str,
        model: str | None = None,
        language: str | None = None,
        output_formats: list[str] | None = None,
        task: str | None = None,
        max_chars_per_line: int | None = None,
        max_lines: int | None = None,
        min_duration_s: float | None = None,
        max_duration_s: float | None = None,
        **extra: Any,
    ) -> str:
        """Submit a transcribe job (speech -> SRT, VTT, words JSON, karaoke ASS and WebVTT, enhanced LRC); returns
        the job id. Its result's `files.words.json` goes straight into caption_highlight's `url_words_json`.
        `task: "translate"` writes English text; the `max_*`/`min_*` options shape the subtitle cues."""
        return self._submit_operation("transcribe", locals())

    def caption_segments(self, url_video: str, url_srt: str | None = None, path: str = "",
                         output_filename: str | None = None, style: Any = None,
                         transcribe: dict[str, Any] | None = None, **extra: Any) -> str:
        """Submit a caption_segments job (one caption at a time, styled; the cues of `url_srt` or, with
        `transcribe`, of the video's speech heard in the job); returns the job id."""
        return self._submit_operation("caption_segments", locals())

    def caption_highlight(self, url_video: str, path: str, url_words_json: str | None = None,
                          output_filename: str | None = None, style: Any = None,
                          transcribe: dict[str, Any] | None = None, **extra: Any) -> str:
        """Submit a caption_highlight job (karaoke captions from word timings: `url_words_json`, `url_srt`, or
        with `transcribe` the video's speech heard in the job); returns the job id."""
        return self._submit_operation("caption_highlight", locals())

    def concatenate(self, video_urls: list[Any], path: str, output_filename: str | None = None,
                    **extra: Any) -> str:
        """Submit a concatenate job (clips joined end to end); returns the job id."""
        return self._submit_operation("concatenate", locals())

    def concat_video_audio(self, video_urls: list[Any], audio_url: str, path: str,
                           output_filename: str | None = None, **extra: Any) -> str:
        """Submit a concat_video_audio job (clips joined under one sound track); returns the job id."""
        return self._submit_operation("concat_video_audio", locals())

    def trilhasonora(self, url_video: str, trilha_sonora: str, path: str, output_filename: str | None = None,
                     **extra: Any) -> str:
        """Submit a trilhasonora job (music under a narrated video); returns the job id."""
        return self._submit_operation("trilhasonora", locals())

    def trim(
        self,
        url_video: str,
        path: str,
        start: float | str | None = None,
        end: float | str | None = None,
        duration: float | str | None = None,
        accuracy: str | None = None,
        output_filename: str | None = None,
        **extra: Any,
    ) -> str:
        """Submit a trim job (one range, frame-exact; times in seconds or "HH:MM:SS.mmm"); returns the job id."""
        return self._submit_operation("trim", locals())

    def cut(self, url_video: str, cuts: list[dict], path: str, output_filename: str | None = None,
            **extra: Any) -> str:
        """Submit a cut job (`cuts`: [{start, end}] taken out, the rest kept in order); returns the job id."""
        return self._submit_operation("cut", locals())

    def split(self, url_video: str, path: str, splits: list[dict] | None = None, every_s: float | None = None,
              **extra: Any) -> str:
        """Submit a split job (`splits`: [{start, end, output_filename?}], or `every_s`); returns the job id."""
        return self._submit_operation("split", locals())

    def silence(self, url_video: str, noise_db: float | None = None, min_silence_s: float | None = None,
                **extra: Any) -> str:
        """Submit a silence job (where the sound pauses and where it speaks, to the millisecond; nothing is
        stored); returns the job id."""
        return self._submit_operation("silence", locals())

    def remove_silence(
        self,
        url_video: str,
        path: str,
        padding_s: float | None = None,
        noise_db: float | None = None,
        min_silence_s: float | None = None,
        output_filename: str | None = None,
        **extra: Any,
    ) -> str:
        """Submit a remove_silence job (a jump cut: the pauses taken out, `padding_s` kept beside the speech);
        returns the job id."""
        return self._submit_operation("remove_silence", locals())

    def extract_audio(self, url_video: str, path: str, format: str | None = None, bitrate: int | None = None,
                      sample_rate: int | None = None, channels: int | None = None,
                      loudness_lufs: float | None = None, output_filename: str | None = None, **extra: Any) -> str:
        """Submit an extract_audio job (the sound of any media as mp3, m4a, wav, opus or flac; copied when it
        already is what was asked); returns the job id."""
        return self._submit_operation("extract_audio", locals())

    def audio_concatenate(self, audio_urls: list[Any], path: str, format: str | None = None,
                          crossfade_s: float | None = None, silence_between_s: float | None = None,
                          loudness_lufs: float | None = None, output_filename: str | None = None,
                          **extra: Any) -> str:
        """Submit an audio_concatenate job (sounds end to end to the sample, or crossfaded, or spaced by
        silence; `audio_urls`: URLs or {"audio_url": URL}); returns the job id."""
        return self._submit_operation("audio_concatenate", locals())

    def frames(
        self,
        url_video: str,
        path: str,
        at: list[float | str] | None = None,
        count: int | None = None,
        scenes: bool | None = None,
        threshold: float | None = None,
        format: str | None = None,
        width: int | None = None,
        sheet: dict | None = None,
        output_filename: str | None = None,
        **extra: Any,
    ) -> str:
        """Submit a frames job (pictures `at` times, `count` evenly spaced, or at `scenes` changes; `sheet`:
        {columns, rows} for one contact sheet); returns the job id."""
        return self._submit_operation("frames", locals())

    def probe(self, url: str, loudness: bool | None = None, keyframes: bool | None = None, **extra: Any) -> str:
        """Submit a probe job (container, streams, chapters; optionally loudness and keyframe times; nothing is
        uploaded); returns the job id."""
        return self._submit_operation("probe", locals())

    def convert(
        self,
        url_video: str,
        path: str,
        container: str | None = None,
        video_codec: str | None = None,
        crf: int | None = None,
        bitrate: int | str | None = None,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        aspect: str | None = None,
        fit: str | None = None,
        focus_x: float | None = None,
        pad_color: str | None = None,
        output_filename: str | None = None,
        **extra: Any,
    ) -> str:
        """Submit a convert job (`container`: mp4, mov, webm, mkv or gif; `aspect` "9:16"... with `fit` crop, pad
        or blur); returns the job id."""
        return self._submit_operation("convert", locals())

    def compose(self, inputs: list[dict], outputs: list[dict], path: str, filter_complex: str | None = None,
                metadata: bool | None = None, **extra: Any) -> str:
        """Submit a compose job: `inputs` [{url, options}], an FFmpeg `filter_complex`, `outputs` [{filename, maps,
        options}] (1 to 4), run in the worker's sandbox (docs/compose.md); returns the job id."""
        return self._submit_operation("compose", locals())

    def _submit_operation(self, operation: str, arguments: dict) -> str:
        return self.submit(self._wire_input(operation, arguments))

    @staticmethod
    def _wire_input(operation: str, arguments: dict) -> dict:
        """The wire input from a helper's arguments, leaving out the ones not given."""
        fields = {**arguments, **arguments["extra"]}
        fields = {k: v for k, v in fields.items() if k not in ("self", "extra") and v is not None}
        return {"operation": operation, **fields}
