"""The hostile corpus: broken or malicious jobs, each with the exact error it must produce.

Each error is written out in full, as a caller reads it, so rows may run long. `{server}` stands for
the test media server's base URL and `{operations}` for the list of operations. Rows marked `guarded`
run with the SSRF guard as deployed (private addresses refused); the others may fetch the test media
from 127.0.0.1. The guarded rows download one URL only, so the guard's answer is the only error.
"""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hostile:
    name: str
    input: Any
    error: str
    guarded: bool = False
    request: dict[str, Any] = field(default_factory=dict)
    prefix: bool = False  # the error must start with `error` (the rest lists what this machine has)


def addaudio(**change: Any) -> dict[str, Any]:
    job = {"operation": "addaudio", "url_video": "{server}/video.mp4", "url_audio": "{server}/tone.mp3",
           "path": "out"}
    job.update(change)
    return job


def caption(**change: Any) -> dict[str, Any]:
    job = {"operation": "caption", "url_video": "{server}/video.mp4", "url_srt": "{server}/cues.srt", "path": "out"}
    job.update(change)
    return job


def highlight(**change: Any) -> dict[str, Any]:
    job = {key: value for key, value in caption(operation="caption_highlight").items() if key != "url_srt"}
    return {**job, "url_words_json": "{server}/words.json", **change}


def segments(**change: Any) -> dict[str, Any]:
    return caption(operation="caption_segments", **change)


def render(*scenes: Any, **change: Any) -> dict[str, Any]:
    job = {"operation": "render", "path": "out", "width": 64, "height": 36, "frame_rate": 10,
           "scenes": list(scenes) or [{"image_url": "{server}/tiny.png", "duration": 1}]}
    job.update(change)
    return job


def transcribe(**change: Any) -> dict[str, Any]:
    job = {"operation": "transcribe", "audio_url": "{server}/tone.mp3", "path": "out", "model": "tiny"}
    job.update(change)
    return job


def img2vid(images: Any = None, **change: Any) -> dict[str, Any]:
    job = {"operation": "img2vid", "path": "out", "width": 64, "height": 36,
           "images": images if images is not None else [{"id": "a", "image_url": "{server}/tiny.png",
                                                          "duracao": 0.5}]}
    job.update(change)
    return job


def trilhasonora(**change: Any) -> dict[str, Any]:
    job = {"operation": "trilhasonora", "url_video": "{server}/video.mp4", "trilha_sonora": "{server}/tone.mp3",
           "path": "out"}
    job.update(change)
    return job


def concatenate(*urls: Any, **change: Any) -> dict[str, Any]:
    job = {"operation": "concatenate", "path": "out",
           "video_urls": list(urls) or [{"video_url": "{server}/video.mp4"}, {"video_url": "{server}/silent.mp4"}]}
    job.update(change)
    return job


def concat_video_audio(**change: Any) -> dict[str, Any]:
    job = {"operation": "concat_video_audio", "path": "out", "video_urls": ["{server}/video.mp4"],
           "audio_url": "{server}/tone.mp3"}
    job.update(change)
    return job


def silence(**change: Any) -> dict[str, Any]:
    job = {"operation": "silence", "url_video": "{server}/tone.mp3"}
    job.update(change)
    return job


def remove_silence(**change: Any) -> dict[str, Any]:
    return {**silence(operation="remove_silence", path="out"), **change}


def extract_audio(**change: Any) -> dict[str, Any]:
    job = {"operation": "extract_audio", "url_video": "{server}/video.mp4", "path": "out"}
    job.update(change)
    return job


def audio_concatenate(*urls: Any, **change: Any) -> dict[str, Any]:
    job = {"operation": "audio_concatenate", "path": "out",
           "audio_urls": list(urls) or ["{server}/tone.mp3", {"audio_url": "{server}/video.mp4"}]}
    job.update(change)
    return job


def frames(**change: Any) -> dict[str, Any]:
    job = {"operation": "frames", "url_video": "{server}/video.mp4", "count": 2, "path": "out"}
    job.update(change)
    return {key: value for key, value in job.items() if value is not None}


def probe(**change: Any) -> dict[str, Any]:
    job = {"operation": "probe", "url": "{server}/video.mp4"}
    job.update(change)
    return {key: value for key, value in job.items() if value is not None}


def trim(**change: Any) -> dict[str, Any]:
    job = {"operation": "trim", "url_video": "{server}/video.mp4", "path": "out", "start": 0.5, "end": 1.5}
    job.update(change)
    return job


def cut(*cuts: Any, **change: Any) -> dict[str, Any]:
    job = {"operation": "cut", "url_video": "{server}/video.mp4", "path": "out",
           "cuts": list(cuts) or [{"start": 0.5, "end": 1.0}]}
    job.update(change)
    return job


def split(**change: Any) -> dict[str, Any]:
    job = {"operation": "split", "url_video": "{server}/video.mp4", "path": "out", "every_s": 1}
    job.update(change)
    return job


def convert(**change: Any) -> dict[str, Any]:
    job = {"operation": "convert", "url_video": "{server}/video.mp4", "path": "out"}
    job.update(change)
    return job


def compose(**change: Any) -> dict[str, Any]:
    job = {"operation": "compose", "inputs": [{"url": "{server}/video.mp4"}], "filter_complex": "[0:v]hflip[v]",
           "outputs": [{"filename": "out.mp4", "maps": ["[v]", "0:a"]}], "path": "out"}
    job.update(change)
    return job


GRAPH = "Invalid input: field 'filter_complex': "
DRAWTEXT_FILE = "the option 'textfile' of 'drawtext' is not accepted: drawtext reads no files here: give the words in 'text'."
FONTFILE = "the option 'fontfile' of 'drawtext' must be one of the worker's installed fonts (or give the family in 'font')."
ENV_FUNCTION = "drawtext's text function '%{env}' is not accepted (it knows e, eif, expr, expr_int_format, frame_num, gmtime, localtime, metadata, n, pict_type, pts)."
SUBTITLE_FILE = "subtitles draws a file of the job's own: its 'filename' must be the index of one of 'inputs' (0 to 0), not a path."
TIME = "seconds (such as 1.5) or HH:MM:SS.mmm"
DEMUXERS = "Invalid input: field 'inputs[0].options': 'f' must be one of these demuxers: mov, mp4, matroska, webm, mpegts, mpeg, avi, flv, asf, mxf, mp3, aac, wav, aiff, flac, ogg, gif, png_pipe, jpeg_pipe, webp_pipe, bmp_pipe, tiff_pipe, srt, ass, webvtt."
MUXERS = "Invalid input: field 'outputs[0].options': 'f' must be one of these muxers: adts, flac, gif, ipod, matroska, mov, mp3, mp4, mpegts, ogg, opus, wav, webm."
OUTPUT_OPTION = "Invalid input: field 'outputs[0].options': '{}' is not an option compose accepts here (it accepts c:v, c:a, b:v, b:a, crf, preset, tune, profile:v, pix_fmt, r, s, aspect, g, frames:v, ac, ar, ss, t, to, fps_mode, movflags, loop, f, shortest, an, vn)."
MAPS = "Invalid input: field 'outputs[0].maps': '{}' is neither an output label of 'filter_complex' ([name]) nor a stream of one of 'inputs' (such as 0:v, 1:a or 0:a?)."


def fetch(url: str) -> dict[str, Any]:
    """A job whose only download is `url`, so the guard's answer is the only possible error."""
    return img2vid(images=image(image_url=url))


def image(**change: Any) -> list[dict[str, Any]]:
    item = {"id": "a", "image_url": "{server}/tiny.png", "duracao": 0.5}
    item.update(change)
    return [item]


def refused(host: str, address: str, field: str = "images[0] (id 'a')") -> str:
    return (f"{field}: refused to download from {host!r}: it resolves to the non-public address "
            f"{address} (set RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS=true to allow private networks).")


LONG = "x" * 300
MODELS = ("Invalid input: field 'model': Input should be 'tiny', 'tiny.en', 'base', 'base.en', 'small', 'small.en', "
          "'medium', 'medium.en', 'large-v1', 'large-v2', 'large-v3', 'turbo', 'large-v3-turbo', 'distil-large-v3' "
          "or 'distil-small.en'.")
CUES_OR_SPEECH = ("Invalid input: give the cues as url_srt, or have them heard in the video's own speech with transcribe "
                  "(one of them).")
WORDS_SHAPES = ('{"words": [{"word", "start", "end"}, ...]}, a list of such words, a Whisper verbose_json '
                '(segments[].words[]) or a WhisperX file (word_segments)')
CORPUS: list[Hostile] = [
    # The job's shape
    Hostile("input is a list", ["addaudio"], "Invalid input: the job's `input` must be a JSON object."),
    Hostile("input is a string", "addaudio", "Invalid input: the job's `input` must be a JSON object."),
    Hostile("no operation", {"url_video": "{server}/video.mp4"}, "Invalid input: missing required field 'operation' (one of: {operations})."),
    Hostile("unknown operation", {"operation": "transcode"}, "Invalid input: unknown operation 'transcode'; valid operations: {operations}."),
    Hostile("operation is a number", {"operation": 7}, "Invalid input: unknown operation '7'; valid operations: {operations}."),
    Hostile("typo in a field", addaudio(url_vidoe="x"), "Invalid input: unknown field 'url_vidoe' (did you mean 'url_video'?)."),
    Hostile("field of another operation", addaudio(images=[]), "Invalid input: unknown field 'images'."),
    # Key prefix and file name
    Hostile("path climbs out", addaudio(path="../../etc"), "Invalid input: field 'path' must be a name, not '..'."),
    Hostile("path climbs out midway", addaudio(path="videos/../../x"), "Invalid input: field 'path' must be a name, not '..'."),
    Hostile("absolute path", addaudio(path="/etc/cron.d"), "Invalid input: field 'path' must be a relative key prefix, not an absolute path."),
    Hostile("backslash path", addaudio(path="videos\\..\\x"), "Invalid input: field 'path' must not contain '/' or '\\'."),
    Hostile("NUL in path", addaudio(path="vid\x00eos"), "Invalid input: field 'path' contains a control or invisible character (U+0000)."),
    Hostile("newline inside path", addaudio(path="videos\noutput"), "Invalid input: field 'path' contains a control or invisible character (U+000A)."),
    Hostile("right-to-left override in path", addaudio(path="videos/\u202emp4.exe"), "Invalid input: field 'path' contains a control or invisible character (U+202E)."),
    Hostile("full-width slash in path", addaudio(path="videos\uff0f..\uff0fx"), "Invalid input: field 'path' contains a look-alike of '/' or '.' (U+FF0F)."),
    Hostile("overlong path segment", addaudio(path=LONG), "Invalid input: field 'path' is longer than 255 bytes."),
    Hostile("file name climbs out", addaudio(output_filename="../../x.mp4"), "Invalid input: field 'output_filename' must not contain '/' or '\\'."),
    Hostile("file name with a folder", addaudio(output_filename="a/b.mp4"), "Invalid input: field 'output_filename' must not contain '/' or '\\'."),
    Hostile("hidden file name", addaudio(output_filename=".x.mp4"), "Invalid input: field 'output_filename' must not start with '.'."),
    Hostile("file name of another type", addaudio(output_filename="x.exe"), "Invalid input: field 'output_filename' must end with .mp4, the format this operation writes."),
    Hostile("NUL in file name", addaudio(output_filename="x\x00.mp4"), "Invalid input: field 'output_filename' contains a control or invisible character (U+0000)."),
    Hostile("overlong file name", addaudio(output_filename=LONG + ".mp4"), "Invalid input: field 'output_filename' is longer than 255 bytes."),
    # Storage settings
    Hostile("s3_config without bucket", addaudio(s3_config={"access_key": "a", "secret_key": "s"}), "Invalid input: missing required field 's3_config.bucket_name'."),
    Hostile("s3_config with an unknown key", addaudio(s3_config={"access_key": "a", "secret_key": "s",
                                                                 "bucket_name": "b", "acl": "public-read"}), "Invalid input: unknown field 's3_config.acl'."),
    Hostile("s3Config is a string", addaudio(), "Invalid s3Config: it must be an object with endpointUrl, accessId, accessSecret, bucketName.", request={"s3Config": "bucket"}),
    # URL schemes and the SSRF guard
    Hostile("ftp URL", addaudio(url_video="ftp://example.com/v.mp4"), "url_video: unsupported URL scheme 'ftp'; use http, https or s3."),
    Hostile("file URL", addaudio(url_video="file:///etc/passwd"), "url_video: file:// URLs are refused (set VIDEO_OPS_ALLOW_FILE_URLS=1 for local runs)."),
    Hostile("javascript URL", addaudio(url_video="javascript:alert(1)"), "url_video: unsupported URL scheme 'javascript'; use http, https or s3."),
    Hostile("data URL", addaudio(url_audio="data:audio/mp3;base64,AAAA"), "url_audio: unsupported URL scheme 'data'; use http, https or s3."),
    Hostile("empty URL", addaudio(url_video=""), "Invalid input: field 'url_video': String should have at least 1 character."),
    Hostile("overlong URL", addaudio(url_video="http://example.com/" + "a" * 9000), "Invalid input: field 'url_video': String should have at most 8192 characters."),
    Hostile("URL without host", addaudio(url_video="http:///v.mp4"), "url_video: the URL http:///v.mp4 has no host."),
    Hostile("loopback", fetch("http://127.0.0.1:9/v.mp4"), refused("127.0.0.1", "127.0.0.1"), guarded=True),
    Hostile("localhost by name", fetch("http://localhost:9/v.mp4"), refused("localhost", "127.0.0.1"), guarded=True),
    Hostile("cloud metadata", fetch("http://169.254.169.254/latest/meta-data/"), refused("169.254.169.254", "169.254.169.254"), guarded=True),
    Hostile("private 10/8", fetch("http://10.0.0.1/v.mp4"), refused("10.0.0.1", "10.0.0.1"), guarded=True),
    Hostile("private 172.16/12", fetch("http://172.16.5.4/a.mp3"), refused("172.16.5.4", "172.16.5.4"), guarded=True),
    Hostile("CGNAT", fetch("http://100.64.1.1/v.mp4"), refused("100.64.1.1", "100.64.1.1"), guarded=True),
    Hostile("multicast", fetch("http://224.0.0.1/v.mp4"), refused("224.0.0.1", "224.0.0.1"), guarded=True),
    Hostile("IPv6 loopback", fetch("http://[::1]:9/v.mp4"), refused("::1", "::1"), guarded=True),
    Hostile("IPv6 unique local", fetch("http://[fc00::1]/v.mp4"), refused("fc00::1", "fc00::1"), guarded=True),
    Hostile("IPv6 link local", fetch("http://[fe80::1]/v.mp4"), refused("fe80::1", "fe80::1"), guarded=True),
    Hostile("IPv4-mapped IPv6", fetch("http://[::ffff:169.254.169.254]/"), refused("::ffff:169.254.169.254", "::ffff:169.254.169.254"), guarded=True),
    Hostile("decimal IP", fetch("http://2130706433:9/v.mp4"), refused("2130706433", "127.0.0.1"), guarded=True),
    Hostile("octal IP", fetch("http://0177.0.0.1:9/v.mp4"), refused("0177.0.0.1", "127.0.0.1"), guarded=True),
    Hostile("hex IP", fetch("http://0x7f000001:9/v.mp4"), refused("0x7f000001", "127.0.0.1"), guarded=True),
    Hostile("userinfo trick", fetch("http://example.com@127.0.0.1:9/v.mp4"), refused("127.0.0.1", "127.0.0.1"), guarded=True),
    Hostile("unspecified address", fetch("http://0.0.0.0:9/v.mp4"), refused("0.0.0.0", "0.0.0.0"), guarded=True),
    # Share links: Drive and Dropbox links are rewritten on their own hosts only; links that hold no file say what to share
    Hostile("Drive-looking path on another host", addaudio(url_video="{server}/file/d/1AbCdEfGhIjKlMnOp/view?usp=sharing"), "url_video: download failed: HTTP 404 File not found from {server}/file/d/1AbCdEfGhIjKlMnOp/view."),
    Hostile("Drive host as user info", fetch("http://drive.google.com@127.0.0.1:9/file/d/1AbCdEfGhIjKlMnOp/view"), refused("127.0.0.1", "127.0.0.1"), guarded=True),
    Hostile("Drive id that climbs", render(narration={"url": "https://drive.google.com/file/d/../view"}), "narration.url: the Google Drive link's file id is not valid (letters, digits, '-' and '_' only)."),
    Hostile("Drive id with a path", concatenate("{server}/video.mp4", "https://drive.google.com/open?id=../../etc/passwd"), "video_urls[1]: the Google Drive link's file id is not valid (letters, digits, '-' and '_' only)."),
    Hostile("Google Docs document as subtitles", caption(url_srt="https://docs.google.com/document/d/1AbCdEfGhIjKlMnOp/edit?usp=sharing"), 'url_srt: a Google Docs document is not a media file and cannot be downloaded as one; upload the video, audio or image file itself to Google Drive and share that file with "anyone with the link".'),
    Hostile("Google Sheets as words", highlight(url_words_json="https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOp/edit"), 'url_words_json: a Google Sheets spreadsheet is not a media file and cannot be downloaded as one; upload the video, audio or image file itself to Google Drive and share that file with "anyone with the link".'),
    Hostile("Google Slides as a scene", render({"image_url": "https://docs.google.com/presentation/d/1AbCdEfGhIjKlMnOp/edit", "duration": 1}), 'scenes[0]: a Google Slides presentation is not a media file and cannot be downloaded as one; upload the video, audio or image file itself to Google Drive and share that file with "anyone with the link".'),
    Hostile("Drive folder as music", render(music={"url": "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOp?usp=sharing"}), "music.url: a Google Drive folder link cannot be downloaded; share the file itself (its link looks like https://drive.google.com/file/d/<id>/view)."),
    Hostile("Drive folder as an image", img2vid(images=image(image_url="https://drive.google.com/drive/u/0/folders/1AbCdEfGhIjKlMnOp")), "images[0] (id 'a'): a Google Drive folder link cannot be downloaded; share the file itself (its link looks like https://drive.google.com/file/d/<id>/view)."),
    Hostile("Dropbox folder as narration", concat_video_audio(audio_url="https://www.dropbox.com/scl/fo/x9y8z7/AAB?rlkey=k7&dl=0"), "audio_url: a Dropbox folder link cannot be downloaded; share the file itself (its link looks like https://www.dropbox.com/scl/fi/...)."),
    Hostile("Dropbox folder as music", trilhasonora(trilha_sonora="https://www.dropbox.com/sh/a1b2c3/AAB?dl=0"), "trilha_sonora: a Dropbox folder link cannot be downloaded; share the file itself (its link looks like https://www.dropbox.com/scl/fi/...)."),
    # Media judged by ffprobe
    Hostile("missing file", addaudio(url_video="{server}/nothing.mp4"), "url_video: download failed: HTTP 404 File not found from {server}/nothing.mp4."),
    Hostile("HTML page as video", addaudio(url_video="{server}/page.html"), "url_video: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("empty file", addaudio(url_video="{server}/empty.mp4"), "url_video: the file is empty (0 bytes)."),
    # Playlists and lists naming files elsewhere on the worker: refused when probed, never opened for work
    Hostile("video that is an HLS playlist", addaudio(url_video="{server}/playlist.mp4"), "url_video: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("sound that is an HLS playlist", addaudio(url_audio="{server}/playlist.mp3"), "url_audio: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("join of a concat list", concatenate({"video_url": "{server}/list.mp4"}, {"video_url": "{server}/video.mp4"}), "video_urls[0]: the file is an FFmpeg concat list, which names other files to read; send the media file itself."),
    Hostile("trim of an HLS playlist", trim(url_video="{server}/playlist.mp4"), "url_video: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("sound of an HLS playlist", extract_audio(url_video="{server}/playlist.mp4"), "url_video: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("audio join of an HLS playlist", audio_concatenate("{server}/tone.mp3", "{server}/playlist.mp3"), "audio_urls[1]: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("frames of a concat list", frames(url_video="{server}/list.mp4"), "url_video: the file is an FFmpeg concat list, which names other files to read; send the media file itself."),
    Hostile("captions on a DASH manifest", caption(url_video="{server}/manifest.mp4"), "url_video: the file is a DASH manifest, which names other files to read; send the media file itself."),
    Hostile("compose of a file FFmpeg reads as metadata", compose(inputs=[{"url": "{server}/metadata.mp4"}]), "inputs[0].url: the file is read as 'ffmetadata', which compose does not read (it reads media files, not playlists or lists of other files)."),
    Hostile("probe of an HLS playlist", probe(url="{server}/playlist.mp4"), "url: the file is an HLS playlist, which names other files to read; send the media file itself."),
    Hostile("truncated MP4", addaudio(url_video="{server}/truncated.mp4"), "url_video: the file is not a media file FFmpeg can read (moov atom not found / Invalid data found when processing input)."),
    Hostile("audio given as video", addaudio(url_video="{server}/tone.mp3"), "url_video: the file has no video stream (found: audio)."),
    Hostile("MJPEG QuickTime FFmpeg cannot decode", caption(url_video="{server}/mjpeg-undecodable.mov"), "url_video: the video stream (mjpeg, QuickTime) cannot be decoded."),
    Hostile("HEVC TS without parameter sets", concatenate("{server}/video.mp4", "{server}/hevc-no-parameter-sets.ts"), "video_urls[1]: the video stream (hevc, MPEG-TS) cannot be decoded."),
    Hostile("video without audio as audio", addaudio(url_audio="{server}/silent.mp4"), "url_audio: the file has no audio stream (found: video)."),
    Hostile("image given as audio", addaudio(url_audio="{server}/tiny.png"), "url_audio: the file has no audio stream (found: video)."),
    # addaudio options
    Hostile("unknown mode", addaudio(mode="blend"), "Invalid input: field 'mode': Input should be 'replace' or 'mix'."),
    Hostile("unknown fit", addaudio(fit="longest"), "Invalid input: field 'fit': Input should be 'video', 'audio' or 'shortest'."),
    Hostile("volume too high", addaudio(audio_volume=11), "Invalid input: field 'audio_volume': Input should be less than or equal to 10."),
    Hostile("volume negative", addaudio(original_volume=-1), "Invalid input: field 'original_volume': Input should be greater than or equal to 0."),
    Hostile("volume as text", addaudio(audio_volume="1;rm -rf /"), "Invalid input: field 'audio_volume': Input should be a valid number, unable to parse string as a number."),
    # img2vid
    Hostile("no images", img2vid(images=[]), "Invalid input: field 'images': List should have at least 1 item after validation, not 0."),
    Hostile("images not a list", img2vid(images="a.png"), "Invalid input: field 'images': Input should be a valid list."),
    Hostile("too many images", img2vid(images=[{"id": str(n), "image_url": "x", "duracao": 1} for n in range(501)]),
            "Invalid input: field 'images': at most 500 images per job (raise it with VIDEO_OPS_MAX_IMAGES)."),
    Hostile("zero duration", img2vid(images=image(duracao=0)), "Invalid input: field 'images[0].duracao': Input should be greater than 0."),
    Hostile("negative duration", img2vid(images=image(duracao=-3)), "Invalid input: field 'images[0].duracao': Input should be greater than 0."),
    Hostile("clip too long", img2vid(images=image(duracao=3601)), "Invalid input: field 'images[0].duracao': at most 3600 s per clip (raise it with VIDEO_OPS_MAX_CLIP_SECONDS)."),
    Hostile("duration as text", img2vid(images=image(duracao="3s")), "Invalid input: field 'images[0].duracao': Input should be a valid number, unable to parse string as a number."),
    Hostile("both duration names", img2vid(images=image(duration=2)), "Invalid input: 'images[0].duration' repeats a field given under another name (give one of: duration, duracao)."),
    Hostile("id with a slash", img2vid(images=image(id="../a")), "Invalid input: field 'images[0].id' must not contain '/' or '\\'."),
    Hostile("id with a newline", img2vid(images=image(id="a\nb")), "Invalid input: field 'images[0].id' contains a control or invisible character (U+000A)."),
    Hostile("id with right-to-left override", img2vid(images=image(id="a\u202eb")), "Invalid input: field 'images[0].id' contains a control or invisible character (U+202E)."),
    Hostile("empty id", img2vid(images=image(id="")), "Invalid input: field 'images[0].id': String should have at least 1 character."),
    Hostile("missing image", img2vid(images=image(image_url="{server}/nothing.png")), "images[0] (id 'a'): download failed: HTTP 404 File not found from {server}/nothing.png."),
    Hostile("HTML page as image", img2vid(images=image(image_url="{server}/page.html")), "images[0] (id 'a'): the file is not an image in a supported format (JPEG, PNG, WebP, GIF, BMP or TIFF)."),
    Hostile("video as image", img2vid(images=image(image_url="{server}/video.mp4")), "images[0] (id 'a'): the file is not an image in a supported format (JPEG, PNG, WebP, GIF, BMP or TIFF)."),
    Hostile("decompression bomb", img2vid(images=image(image_url="{server}/bomb.png")), "images[0] (id 'a'): the image is far larger than the limit of 150 megapixels."),
    Hostile("truncated JPEG", img2vid(images=image(image_url="{server}/truncated.jpg")), "images[0] (id 'a'): the image header could not be read (Truncated File Read)."),
    Hostile("odd width", img2vid(width=65), "Invalid input: field 'width': must be an even number (H.264 4:2:0 video has even sizes)."),
    Hostile("width without height", img2vid(height=None), "Invalid input: give both 'width' and 'height' (e.g. 1080 and 1920 for vertical), or neither."),
    Hostile("huge frame", img2vid(width=8192, height=8192), "Invalid input: field 'width': Input should be less than or equal to 4096; field 'height': Input should be less than or equal to 4096."),
    Hostile("zero frame rate", img2vid(frame_rate=0), "Invalid input: field 'frame_rate': Input should be greater than or equal to 1."),
    Hostile("unknown motion", img2vid(zoom_types=["spin"]), "Invalid input: field 'zoom_types[0]': Input should be 'none', 'zoomin', 'zoomout', 'panleft', 'panright', 'panup', 'pandown' or 'zoompanright'."),
    Hostile("negative start index", img2vid(start_index=-1), "Invalid input: field 'start_index': Input should be greater than or equal to 0."),
    Hostile("unknown fit mode", img2vid(fit="stretch"), "Invalid input: field 'fit': Input should be 'cover' or 'contain'."),
    Hostile("background that is no colour", img2vid(background="url(javascript:x)"), "Invalid input: field 'background': must be a colour name or #RRGGBB."),
    # caption: the SRT, the style, force_style and fonts never reach the filter graph as text
    Hostile("empty SRT", caption(url_srt="{server}/empty.srt"), "url_srt: the subtitle file is empty."),
    Hostile("binary file as SRT", caption(url_srt="{server}/garbage.srt"), "url_srt: the file's character encoding could not be recognised; save it as UTF-8."),
    Hostile("SRT without timings", caption(url_srt="{server}/notimes.srt"), "url_srt: no subtitle cue found; line 2 is neither a cue number nor a timing like 00:00:01,000 --> 00:00:04,000: 'Hello there'."),
    Hostile("SRT whose only timing cannot be read", caption(url_srt="{server}/badtimes.srt"), "url_srt: no cue can be read; line 2 looks like a cue timing but cannot be read: '00:00:01,000 -->' (expected hours:minutes:seconds,milliseconds, like 00:00:01,000 --> 00:00:04,000)."),
    Hostile("missing SRT", caption(url_srt="{server}/nothing.srt"), "url_srt: download failed: HTTP 404 File not found from {server}/nothing.srt."),
    Hostile("force_style smuggling a filter option", caption(force_style="Fontname=DejaVu Sans,Outline=1:force_style=x"), "Invalid input: field 'force_style': Outline: must be a number."),
    Hostile("force_style smuggling a filter chain", caption(force_style="Fontsize=20'[0:v]drawtext=text=pwned"), "Invalid input: field 'force_style': Fontsize: must be a number."),
    Hostile("force_style unknown key", caption(force_style="Blur=5"), "Invalid input: field 'force_style': unknown key 'Blur'; accepted keys: Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV."),
    Hostile("force_style alignment out of range", caption(force_style="Alignment=12"), "Invalid input: field 'force_style': Alignment: must be one of 1, 2, 3, 4, 5, 6, 7, 8, 9."),
    Hostile("unknown font", caption(style={"font": {"name": "Comic Sans Pro"}}), "Invalid input: field 'style.font.name': unknown font 'Comic Sans Pro'; available: ", prefix=True),
    Hostile("font name smuggling a filter option", caption(style={"font": {"name": "DejaVu Sans:fontfile=/etc/passwd"}}), "Invalid input: field 'style.font.name': unknown font 'DejaVu Sans:fontfile=/etc/passwd'; available: ", prefix=True),
    Hostile("alignment out of range", caption(style={"position": {"alignment": 10}}), "Invalid input: field 'style.position.alignment': Input should be less than or equal to 9."),
    Hostile("colour smuggling text", caption(style={"colors": {"primary": "red;drop"}}), "Invalid input: field 'style.colors.primary': 'red;drop' is not a colour; use #RRGGBB, #RRGGBBAA or &HAABBGGRR."),
    Hostile("negative font size", caption(style={"font": {"size": -5}}), "Invalid input: field 'style.font.size': Input should be greater than 0."),
    Hostile("unknown style field", caption(style={"glow": True}), "Invalid input: unknown field 'style.glow'."),
    Hostile("unknown preset", caption(preset="tiktok"), "Invalid input: field 'preset': Input should be 'default', 'vertical' or 'boxed'."),
    Hostile("font URL of another scheme", caption(font_url="ftp://example.com/f.ttf"), "font_url: unsupported URL scheme 'ftp'; use http, https or s3."),
    Hostile("font URL that is no font", caption(font_url="{server}/cues.srt"), "font_url: the file is not a TrueType or OpenType font (.ttf, .otf or .ttc)."),
    Hostile("font URL and font name", caption(style={"font": {"name": "DejaVu Sans"}}, font_url="{server}/x.ttf"), "Invalid input: give either font_url or a font name (style.font.name), not both."),
    # trilhasonora: every bad input named before any loudness measurement or mixing
    Hostile("music without sound", trilhasonora(trilha_sonora="{server}/silent.mp4"), "trilha_sonora: the file has no audio stream (found: video)."),
    Hostile("a sound in, a video's name out", trilhasonora(url_video="{server}/tone.mp3", output_filename="x.mp4"), "Invalid input: field 'output_filename' must end with .mp3, the format this operation writes."),
    Hostile("music of 0 s", trilhasonora(trilha_sonora="{server}/zero.wav"), "trilha_sonora: the music lasts 0 s; there is nothing to play under the video."),
    Hostile("music reduction too high", trilhasonora(volume_reduction_db=41), "Invalid input: field 'volume_reduction_db': Input should be less than or equal to 40."),
    Hostile("music reduction negative", trilhasonora(volume_reduction_db=-3), "Invalid input: field 'volume_reduction_db': Input should be greater than or equal to 0."),
    Hostile("music reduction as text", trilhasonora(volume_reduction_db="-12dB"), "Invalid input: field 'volume_reduction_db': Input should be a valid number, unable to parse string as a number."),
    Hostile("music reduction as a yes", trilhasonora(volume_reduction_db=True), "Invalid input: field 'volume_reduction_db': Input should be a number, not true or false."),
    Hostile("music under both names", trilhasonora(url_music="{server}/tone.mp3"), "Invalid input: 'url_music' repeats a field given under another name (give one of: trilha_sonora, url_music)."),
    Hostile("missing music", trilhasonora(trilha_sonora="{server}/nothing.mp3"), "trilha_sonora: download failed: HTTP 404 File not found from {server}/nothing.mp3."),
    Hostile("ducking deeper than the limit", trilhasonora(ducking=True, duck_db=30), "Invalid input: field 'duck_db': Input should be less than or equal to 24."),
    Hostile("ducking on replace", addaudio(ducking=True), "Invalid input: 'ducking' needs mode 'mix' (the new track goes under the original)."),
    Hostile("loudness level and volume", addaudio(mode="mix", music_offset_lu=20, audio_volume=0.5), "Invalid input: give either 'audio_volume' or 'music_offset_lu' (the level by loudness), not both."),
    # concatenate and concat_video_audio: every clip is checked, and named, before any heavy work
    Hostile("concatenate with one clip", concatenate("{server}/video.mp4"), "Invalid input: field 'video_urls': List should have at least 2 items after validation, not 1."),
    Hostile("clip that is a web page", concatenate("{server}/video.mp4", "{server}/page.html"), "video_urls[1]: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("clip without a picture", concatenate("{server}/video.mp4", "{server}/video.mp4", "{server}/tone.mp3"), "video_urls[2]: the file has no video stream (found: audio)."),
    Hostile("clip of 0 s", concatenate("{server}/video.mp4", {"video_url": "{server}/zero.mp4"}), "video_urls[1]: the clip lasts 0 s."),
    Hostile("more clips than the limit", concatenate(*["{server}/video.mp4"] * 201), "Invalid input: field 'video_urls': at most 200 clips per job (raise it with VIDEO_OPS_MAX_CLIPS)."),
    Hostile("clip item of another shape", concatenate("{server}/video.mp4", {"url": "{server}/video.mp4"}), 'Invalid input: field \'video_urls[1]\': must be a URL or {"video_url": URL}.'),
    Hostile("clip fit that stretches", concatenate(fit="stretch"), "Invalid input: field 'fit': Input should be 'cover' or 'contain'."),
    Hostile("clip width without height", concatenate(width=640), "Invalid input: give both 'width' and 'height' (e.g. 1080 and 1920 for vertical), or neither."),
    Hostile("cycle without clips", concat_video_audio(video_urls=[]), "Invalid input: field 'video_urls': List should have at least 1 item after validation, not 0."),
    Hostile("cycle over the clip limit", concat_video_audio(video_urls=["{server}/video.mp4"] * 51), "Invalid input: field 'video_urls': at most 50 clips per job (raise it with VIDEO_OPS_MAX_CLIPS)."),
    Hostile("cycle of a 0 s clip", concat_video_audio(video_urls=["{server}/zero.mp4"]), "video_urls[0]: the clip lasts 0 s."),
    Hostile("narration without audio", concat_video_audio(audio_url="{server}/silent.mp4"), "audio_url: the file has no audio stream (found: video)."),
    Hostile("narration under both names", concat_video_audio(url_audio="{server}/tone.mp3"), "Invalid input: 'url_audio' repeats a field given under another name (give one of: audio_url, url_audio)."),

    # caption_highlight and caption_segments: words files, styles
    Hostile("highlight without words", highlight(url_words_json=None), "Invalid input: give the words as url_words_json or url_srt, or have them heard in the video's own speech with transcribe (one of them)."),
    Hostile("highlight with two word sources", highlight(url_srt="{server}/cues.srt"), "Invalid input: give the words as url_words_json or url_srt, or have them heard in the video's own speech with transcribe (one of them)."),
    Hostile("highlight with an empty word list", highlight(url_words_json="{server}/nowords.json"), "url_words_json: the file holds no words; expected " + WORDS_SHAPES + "."),
    Hostile("word ending before it starts", highlight(url_words_json="{server}/backwards.json"), "url_words_json: words[0] ends (0.5 s) before it starts (1.5 s)."),
    Hostile("word with a negative time", highlight(url_words_json="{server}/negative.json"), "url_words_json: words[0].start must be a finite number of seconds, 0 or more (got -2)."),
    Hostile("word with a NaN time", highlight(url_words_json="{server}/nan.json"), "url_words_json: segments[0].words[0].end must be a finite number of seconds, 0 or more (got nan)."),
    Hostile("words file of another shape", highlight(url_words_json="{server}/transcript.json"), "url_words_json: expected " + WORDS_SHAPES + "; got an object with the keys text, language."),
    Hostile("200 MB words file", highlight(url_words_json="{server}/huge.json"), "url_words_json: the file is larger than 20 MB; is it a words file?"),
    Hostile("200 MB subtitle file", caption(url_srt="{server}/huge.srt"), "url_srt: the file is larger than 10 MB; is it a subtitle file?"),
    Hostile("200 MB subtitle file for segments", segments(url_srt="{server}/huge.srt"), "url_srt: the file is larger than 10 MB; is it a subtitle file?"),
    Hostile("200 MB subtitle file for word highlights", highlight(url_words_json=None, url_srt="{server}/huge.srt"), "url_srt: the file is larger than 10 MB; is it a subtitle file?"),
    Hostile("200 MB words file for a render", render(captions={"words_url": "{server}/huge.json"}), "captions.words_url: the file is larger than 20 MB; is it a words file?"),
    Hostile("200 MB subtitle file for a render", render(captions={"srt_url": "{server}/huge.srt"}), "captions.srt_url: the file is larger than 10 MB; is it a subtitle file?"),
    Hostile("subtitle file as words", highlight(url_words_json="{server}/cues.srt"), "url_words_json: the file is not valid UTF-8 JSON; expected " + WORDS_SHAPES + "."),
    Hostile("unknown highlight mode", highlight(highlight_mode="glow"), "Invalid input: field 'highlight_mode': Input should be 'box', 'outline', 'color', 'karaoke' or 'pop'."),
    Hostile("highlight colour that is no colour", highlight(style={"highlight_cor": "#GG0000"}), "Invalid input: field 'style.highlight_cor': '#GG0000' is not a colour; use #RRGGBB, #RRGGBBAA or &HAABBGGRR."),
    Hostile("colour given twice", highlight(style={"texto_cor": "#FFFFFF", "texto_cor_r": 255}), "Invalid input: field 'style': give texto_cor or texto_cor_r/_g/_b, not both."),
    Hostile("colour channel out of range", highlight(style={"fundo_cor_r": 300}), "Invalid input: field 'style.fundo_cor_r': Input should be less than or equal to 255."),
    Hostile("no words per line", highlight(style={"words_per_line": 0}), "Invalid input: field 'style.words_per_line': Input should be greater than or equal to 1."),
    Hostile("highlight in an unknown font", highlight(style={"fonte": "Comic Sans Pro"}), "Invalid input: field 'style.fonte': unknown font 'Comic Sans Pro'; available: ", prefix=True),
    Hostile("segments border style 2", segments(style={"border": {"style": 2}}), "Invalid input: field 'style.border.style': Input should be 1, 3 or 4."),
    Hostile("segments style key of another shape", segments(style={"font": {"family": "x"}}), "Invalid input: unknown field 'style.font.family'."),
    # render: every scene, track and caption file checked, and named, before the encode
    Hostile("render scene with two sources", render({"image_url": "{server}/tiny.png", "video_url": "{server}/video.mp4", "duration": 1}), "Invalid input: field 'scenes[0]': give either 'image_url' or 'video_url'."),
    Hostile("render scene that is a web page", render({"image_url": "{server}/page.html", "duration": 1}), "scenes[0]: the file is not an image in a supported format (JPEG, PNG, WebP, GIF, BMP or TIFF)."),
    Hostile("render scene that is a bomb", render({"image_url": "{server}/bomb.png", "duration": 1}), "scenes[0]: the image is far larger than the limit of 150 megapixels."),
    Hostile("render clip without a picture", render({"image_url": "{server}/tiny.png", "duration": 1}, {"video_url": "{server}/tone.mp3"}), "scenes[1]: the file has no video stream (found: audio)."),
    Hostile("render clip of 0 s", render({"video_url": "{server}/zero.mp4"}), "scenes[0]: the clip lasts 0 s."),
    Hostile("render clip trimmed past its end", render({"video_url": "{server}/video.mp4", "trim_start": 9}), "scenes[0].trim_start: 9 s is past the clip's end (2.000 s)."),
    Hostile("render camera move on a clip", render({"video_url": "{server}/video.mp4", "motion": "zoomin"}), "Invalid input: field 'scenes[0]': 'motion' applies to image scenes only."),
    Hostile("render scene shorter than its fades", render({"image_url": "{server}/tiny.png", "duration": 1}, {"image_url": "{server}/tiny.png", "duration": 0.1}, transition={"type": "fade", "duration": 0.2}), "scenes[1].duration: 0.1 s is 1 frame at 10 fps; a scene needs at least 4 (twice the transition)."),
    Hostile("render with more scenes than the limit", render(*([{"image_url": "{server}/tiny.png", "duration": 1}] * 501)), "Invalid input: field 'scenes': at most 500 scenes per job (raise it with VIDEO_OPS_MAX_SCENES)."),
    Hostile("render fitted to no narration", render(fit_to_narration=True), "Invalid input: 'fit_to_narration' needs a 'narration'."),
    Hostile("render narration without sound", render(narration={"url": "{server}/silent.mp4"}), "narration.url: the file has no audio stream (found: video)."),
    Hostile("render music without sound", render(music={"url": "{server}/silent.mp4"}), "music.url: the file has no audio stream (found: video)."),
    # a split render's jobs (docs/render.md): the stages are exclusive, and the join copies only what fits
    Hostile("render sound and part at once", render(output_filename="x.mp4", sound_only=True, part={"start_frame": 0, "end_frame": 5, "index": 0}), "Invalid input: give at most one of 'plan_only', 'sound_only', 'part' and 'join'."),
    Hostile("render part past the end of an images-only timeline", render(output_filename="x.mp4", part={"start_frame": 0, "end_frame": 50, "index": 0}), "part.end_frame: 50 is past the timeline's 10 frames."),
    Hostile("render captions from an empty SRT", render(captions={"srt_url": "{server}/empty.srt"}), "captions.srt_url: the subtitle file is empty."),
    Hostile("render part captioned from an empty SRT", render(output_filename="x.mp4", part={"start_frame": 0, "end_frame": 5, "index": 0}, captions={"srt_url": "{server}/empty.srt"}), "captions.srt_url: the subtitle file is empty."),
    Hostile("render sound job without its final name", render(sound_only=True), "Invalid input: a split render's 'sound_only', 'part' and 'join' need the final 'output_filename'."),
    Hostile("render join without its sound", render(output_filename="x.mp4", join={"parts": ["{server}/video.mp4"]}), "Invalid input: missing required field 'join.sound'."),
    Hostile("render join of a soundless sound", render(output_filename="x.mp4", join={"parts": ["{server}/video.mp4"], "sound": "{server}/silent.mp4"}), "join.sound: not this render's sound (the timeline is 1.000 s long)."),
    Hostile("render join of another video's picture", render({"image_url": "{server}/tiny.png", "duration": 2}, output_filename="x.mp4", join={"parts": ["{server}/video.mp4"], "sound": "{server}/video.mp4"}), "join.parts[0]: not a 64x36 part of this render."),
    Hostile("render captions from two sources", render(captions={"srt_url": "{server}/cues.srt", "words_url": "{server}/nowords.json"}), "Invalid input: field 'captions': give one of 'srt_url', 'words_url' or 'from_narration'."),
    Hostile("render captions with a bad colour", render(captions={"words_url": "{server}/nowords.json", "style": {"highlight_cor": "#GG0000"}}), "Invalid input: field 'captions.style': 'highlight_cor': '#GG0000' is not a colour; use #RRGGBB, #RRGGBBAA or &HAABBGGRR."),
    Hostile("render captions without words", render(captions={"words_url": "{server}/nowords.json"}), "captions.words_url: the file holds no words; expected " + WORDS_SHAPES + "."),
    # trim, cut and split: times and ranges; a range partly past the end is clamped with a warning (tests/test_trim_cut.py)
    Hostile("trim that ends before it starts", trim(start=1.5, end=0.5), "Invalid input: start (1.5 s) must be before end (0.5 s)."),
    Hostile("trim of no length", trim(start=1, end="00:00:01.000"), "Invalid input: start (1 s) must be before end (1 s)."),
    Hostile("trim with both an end and a duration", trim(duration=0.5), "Invalid input: give 'end' or 'duration', not both."),
    Hostile("trim wholly past the end", trim(start=5, end=6), "start: the range starts at 5 s, after the media ends (2.000 s)."),
    Hostile("trim from a negative time", trim(start=-1), "Invalid input: field 'start': must not be negative."),
    Hostile("trim to an endless time", trim(end=float("inf")), 'Invalid input: field \'end\': must be a finite number of seconds or "HH:MM:SS.mmm".'),
    Hostile("trim from a time that is no number", trim(start=float("nan")), 'Invalid input: field \'start\': must be a finite number of seconds or "HH:MM:SS.mmm".'),
    Hostile("trim from a clock with 75 seconds", trim(start="00:01:75"), "Invalid input: field 'start': has 60 or more seconds in a minute."),
    Hostile("trim to a time in words", trim(end="soon"), 'Invalid input: field \'end\': must be a number of seconds or "HH:MM:SS.mmm".'),
    Hostile("trim of a duration of 0", trim(end=None, duration=0), "Invalid input: field 'duration': Input should be greater than 0."),
    Hostile("keyframe trim of a sound file", trim(url_video="{server}/tone.mp3", accuracy="keyframe"), 'accuracy: "keyframe" is for video; a sound file is cut to the sample.'),
    Hostile("cut that ends before it starts", cut({"start": 1.0, "end": 0.5}), "Invalid input: field 'cuts[0]': start (1 s) must be before end (0.5 s)."),
    Hostile("cut wholly past the end", cut({"start": 0.5, "end": 1.0}, {"start": 3, "end": 4}), "cuts[1]: the range starts at 3 s, after the media ends (2.000 s)."),
    Hostile("cuts that remove everything", cut({"start": 0, "end": 1.2}, {"start": 1, "end": 5}), "cuts: the cuts remove the whole media; nothing would be left."),
    Hostile("cut from a negative time", cut({"start": -0.5, "end": 1.0}), "Invalid input: field 'cuts[0].start': must not be negative."),
    Hostile("cut with more ranges than the limit", cut(*[{"start": n / 1000, "end": n / 1000 + 0.0005} for n in range(201)]), "Invalid input: field 'cuts': at most 200 ranges per job (raise it with VIDEO_OPS_MAX_RANGES)."),
    Hostile("cut with no ranges", cut(cuts=[]), "Invalid input: field 'cuts': Value should have at least 1 item after validation, not 0."),
    Hostile("split of a sound file", split(url_video="{server}/tone.mp3"), "url_video: the file has no video stream (found: audio)."),
    Hostile("split into more clips than the limit", split(every_s=0.005), "every_s: 0.005 s would make 400 clips of this 2.000 s video, over the limit of 200 (raise it with VIDEO_OPS_MAX_RANGES)."),
    Hostile("split every 0 s", split(every_s=0), "Invalid input: field 'every_s': Input should be greater than 0."),
    Hostile("split every endless seconds", split(every_s=float("inf")), "Invalid input: field 'every_s': Input should be a finite number."),
    Hostile("split by ranges and by seconds", split(splits=[{"start": 0, "end": 1}]), "Invalid input: give 'splits' or 'every_s' (one of them)."),
    Hostile("split by nothing", split(every_s=None), "Invalid input: give 'splits' or 'every_s' (one of them)."),
    Hostile("split range wholly past the end", split(every_s=None, splits=[{"start": 0, "end": 1}, {"start": 2.5, "end": 3}]), "splits[1]: the range starts at 2.5 s, after the media ends (2.000 s)."),
    Hostile("split with more ranges than the limit", split(every_s=None, splits=[{"start": 0, "end": 1}] * 201), "Invalid input: field 'splits': at most 200 ranges per job (raise it with VIDEO_OPS_MAX_RANGES)."),
    Hostile("split clip named out of its folder", split(every_s=None, splits=[{"start": 0, "end": 1, "output_filename": "../x.mp4"}]), "Invalid input: field 'splits[0].output_filename' must not contain '/' or '\\'."),
    # convert: pairs that cannot be, GIF limits, the frame's options, each named in one sentence
    Hostile("convert webm with h264", convert(container="webm", video_codec="h264"), "Invalid input: field 'video_codec': webm carries vp9 or av1, not h264."),
    Hostile("convert mov with vp9", convert(container="mov", video_codec="vp9"), "Invalid input: field 'video_codec': QuickTime (mov) plays h264 or hevc, not vp9."),
    Hostile("convert mp4 with vp9", convert(video_codec="vp9"), "Invalid input: field 'video_codec': vp9 in mp4 does not play in Safari; use container \"webm\" for vp9, or h264, hevc or av1 in mp4."),
    Hostile("convert GIF with a codec", convert(container="gif", video_codec="h264"), "Invalid input: field 'video_codec': a GIF has its own codec; leave video_codec out."),
    Hostile("convert GIF wider than 1080 px", convert(container="gif", width=1920), "Invalid input: field 'width': a GIF is at most 1080 px a side."),
    Hostile("convert GIF longer than 60 s", convert(container="gif", url_video="{server}/minute.mp4"), "url_video: the video lasts 61.0 s; a GIF is at most 60 s (trim it first)."),
    Hostile("convert with crf and bitrate", convert(crf=23, bitrate="4M"), "Invalid input: give 'crf' or 'bitrate', not both."),
    Hostile("convert crf past h264's scale", convert(crf=60), "Invalid input: field 'crf': h264 takes 0 to 51."),
    Hostile("convert focus outside the picture", convert(aspect="9:16", fit="crop", focus_x=1.2), "Invalid input: field 'focus_x': Input should be less than or equal to 1."),
    Hostile("convert pad colour that is no colour", convert(aspect="9:16", pad_color="blurple"), "Invalid input: field 'pad_color': must be a colour name or #RRGGBB."),
    Hostile("convert odd width", convert(width=719), "Invalid input: field 'width': must be an even number (H.264 4:2:0 video has even sizes)."),
    Hostile("convert fit without a frame", convert(fit="blur"), "Invalid input: field 'fit': there is no frame to fit the picture to; give 'aspect', or both 'width' and 'height'."),
    Hostile("convert a sound file", convert(url_video="{server}/tone.mp3"), "url_video: the file has no video stream (found: audio)."),
    Hostile("convert to an AV1 frame below its minimum", convert(container="webm", video_codec="av1", width=32), "video_codec: av1 frames are at least 64 px a side; this one would be 32x24."),
    # compose: FFmpeg's power inside the sandbox; no spelling reaches a file outside the job's folder (docs/compose.md)
    Hostile("compose movie reading /etc/passwd", compose(filter_complex="movie=/etc/passwd[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose amovie reading the environment", compose(filter_complex="amovie=/proc/self/environ[v]"), GRAPH + "the filter 'amovie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie in capitals", compose(filter_complex="MOVIE=/etc/passwd[v]"), GRAPH + "the filter 'MOVIE' is not on the allow-list (docs/compose.md lists it)."),
    Hostile("compose movie in full-width letters", compose(filter_complex="\uff4dovie=/etc/passwd[v]"), GRAPH + "the filter '?ovie' is not on the allow-list (docs/compose.md lists it)."),
    Hostile("compose movie spelled with a backslash", compose(filter_complex=r"mo\vie=/etc/passwd[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie spelled in quotes", compose(filter_complex="'mov'ie=/etc/passwd[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie after whitespace and a newline", compose(filter_complex="[0:v]hflip[a];\n\t movie=/etc/passwd[b];[a][b]overlay[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie after a drawtext text", compose(filter_complex="[0:v]drawtext=text=a,movie=/etc/passwd[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie inside an unclosed quote stays text", compose(filter_complex=r"[0:v]drawtext=text='a\'',movie=/etc/passwd[v]"), "Invalid input: field 'outputs[0].maps': '[v]' is neither an output label of 'filter_complex' ([name]) nor a stream of one of 'inputs' (such as 0:v, 1:a or 0:a?)."),
    Hostile("compose movie in a chain of its own", compose(filter_complex="[0:v]hflip[x];movie=/etc/passwd[v]"), GRAPH + "the filter 'movie' is not accepted: it opens a file by name; give the file as one of 'inputs'."),
    Hostile("compose movie after a NUL byte", compose(filter_complex="[0:v]hflip[v]\x00;movie=/etc/passwd"), GRAPH + "the graph holds a control character (U+0000)."),
    Hostile("compose sendcmd from a file", compose(filter_complex="[0:v]sendcmd=f=/etc/passwd,hflip[v]"), GRAPH + "the filter 'sendcmd' is not accepted: it sends commands that change other filters' options after they are checked."),
    Hostile("compose sendcmd reinitialising drawtext with a file", compose(filter_complex="[0:v]sendcmd=c='0 drawtext reinit textfile=/etc/passwd',drawtext=text=x[v]"), GRAPH + "the filter 'sendcmd' is not accepted: it sends commands that change other filters' options after they are checked."),
    Hostile("compose asendcmd", compose(filter_complex="[0:a]asendcmd=f=/etc/passwd,anull[v]"), GRAPH + "the filter 'asendcmd' is not accepted: it sends commands that change other filters' options after they are checked."),
    Hostile("compose zmq", compose(filter_complex="[0:v]zmq,hflip[v]"), GRAPH + "the filter 'zmq' is not accepted: it takes commands from a network socket."),
    Hostile("compose azmq", compose(filter_complex="[0:a]azmq[v]"), GRAPH + "the filter 'azmq' is not accepted: it takes commands from a network socket."),
    Hostile("compose lv2 plugin", compose(filter_complex=r"[0:a]lv2=p=http\\://x[v]"), GRAPH + "the filter 'lv2' is not accepted: it loads a plugin library."),
    Hostile("compose ladspa library", compose(filter_complex="[0:a]ladspa=f=/tmp/evil.so[v]"), GRAPH + "the filter 'ladspa' is not accepted: it loads a plugin library."),
    Hostile("compose frei0r library", compose(filter_complex="[0:v]frei0r=filter_name=../../tmp/evil[v]"), GRAPH + "the filter 'frei0r' is not accepted: it loads a plugin library."),
    Hostile("compose sofalizer file", compose(filter_complex="[0:a]sofalizer=sofa=/etc/passwd[v]"), GRAPH + "the filter 'sofalizer' is not accepted: it reads a SOFA file from the worker's disk."),
    Hostile("compose lut3d file", compose(filter_complex="[0:v]lut3d=file=/etc/passwd[v]"), GRAPH + "the filter 'lut3d' is not accepted: it reads a LUT file from the worker's disk (haldclut takes the LUT as an input stream instead)."),
    Hostile("compose lut1d file by position", compose(filter_complex="[0:v]lut1d=/proc/self/environ[v]"), GRAPH + "the filter 'lut1d' is not accepted: it reads a LUT file from the worker's disk (haldclut takes the LUT as an input stream instead)."),
    Hostile("compose metadata written to a file", compose(filter_complex="[0:v]metadata=mode=print:file=/tmp/x[v]"), GRAPH + "the filter 'metadata' is not accepted: it reads or writes files on the worker's disk."),
    Hostile("compose filter not on the list", compose(filter_complex="[0:v]nosuchfilter[v]"), GRAPH + "the filter 'nosuchfilter' is not on the allow-list (docs/compose.md lists it)."),
    Hostile("compose drawtext textfile", compose(filter_complex="[0:v]drawtext=textfile=/etc/passwd[v]"), GRAPH + DRAWTEXT_FILE),
    Hostile("compose drawtext textfile of the environment, reloaded", compose(filter_complex="[0:v]drawtext=textfile=/proc/self/environ:reload=1[v]"), GRAPH + DRAWTEXT_FILE),
    Hostile("compose drawtext textfile quoted in pieces", compose(filter_complex="[0:v]drawtext='text''file'='/etc/pass'wd[v]"), GRAPH + DRAWTEXT_FILE),
    Hostile("compose drawtext option read from a file", compose(filter_complex="[0:v]drawtext=/text=/etc/passwd[v]"), GRAPH + "the option '/text' of 'drawtext' asks FFmpeg to read its value from a file."),
    Hostile("compose drawtext fontfile outside the fonts", compose(filter_complex="[0:v]drawtext=fontfile=/etc/passwd:text=x[v]"), GRAPH + FONTFILE),
    Hostile("compose drawtext fontfile climbing out of the fonts", compose(filter_complex="[0:v]drawtext=fontfile=/usr/share/fonts/../../../etc/passwd:text=x[v]"), GRAPH + FONTFILE),
    Hostile("compose drawtext fontfile given by position", compose(filter_complex="[0:v]drawtext=/etc/passwd[v]"), GRAPH + "the filter 'drawtext' takes its options by name here (all of them as key=value)."),
    Hostile("compose drawtext environment escaped once", compose(filter_complex=r"[0:v]drawtext=text=%{env\:AWS_SECRET_ACCESS_KEY}[v]"), GRAPH + "the filter 'drawtext' has a value without a name after a named option; FFmpeg refuses that order."),
    Hostile("compose drawtext environment escaped twice", compose(filter_complex=r"[0:v]drawtext=text=%{env\\\:AWS_SECRET_ACCESS_KEY}[v]"), GRAPH + ENV_FUNCTION),
    Hostile("compose drawtext environment quoted with spaces", compose(filter_complex=r"[0:v]drawtext=text='%{ env\:BUCKET_SECRET_ACCESS_KEY}'[v]"), GRAPH + ENV_FUNCTION),
    Hostile("compose drawtext strftime expansion", compose(filter_complex="[0:v]drawtext=text=x:expansion=strftime[v]"), GRAPH + "the option 'expansion' of 'drawtext' must be 'none' or 'normal'."),
    Hostile("compose drawtext font pattern naming a file", compose(filter_complex=r"[0:v]drawtext=font='Sans\:file=/etc/passwd':text=x[v]"), GRAPH + "the option 'font' of 'drawtext' must be a font family name (letters, digits, spaces, '_' and '-')."),
    Hostile("compose drawtext option name with a Cyrillic letter", compose(filter_complex="[0:v]drawtext=t\u0435xtfile=/etc/passwd[v]"), GRAPH + "the filter 'drawtext' takes its options by name here (all of them as key=value)."),
    Hostile("compose subtitles from /etc/passwd", compose(filter_complex="[0:v]subtitles=/etc/passwd[v]"), GRAPH + SUBTITLE_FILE),
    Hostile("compose subtitles from a path climbing out", compose(filter_complex="[0:v]subtitles=filename=../../../../etc/passwd[v]"), GRAPH + SUBTITLE_FILE),
    Hostile("compose subtitles from an input that does not exist", compose(filter_complex="[0:v]subtitles=3[v]"), GRAPH + SUBTITLE_FILE),
    Hostile("compose subtitles by Arabic-Indic digits", compose(filter_complex="[0:v]subtitles=\u0660[v]"), GRAPH + SUBTITLE_FILE),
    Hostile("compose subtitles from a data URL", compose(filter_complex=r"[0:v]subtitles='data\:text/plain,hi'[v]"), GRAPH + SUBTITLE_FILE),
    Hostile("compose ass from the environment", compose(filter_complex="[0:v]ass=f=/proc/self/environ[v]"), GRAPH + SUBTITLE_FILE.replace("subtitles", "ass")),
    Hostile("compose subtitles with a fonts folder", compose(inputs=[{"url": "{server}/video.mp4"}, {"url": "{server}/cues.srt"}], filter_complex="[0:v]subtitles=1:fontsdir=/etc[v]"), GRAPH + "the option 'fontsdir' of 'subtitles' is not accepted: subtitles draws with the worker's installed fonts; 'fontsdir' is not accepted."),
    Hostile("compose label naming a file", compose(filter_complex="[/etc/passwd]hflip[v]"), GRAPH + "the label [/etc/passwd] of 'hflip' may hold only letters, digits, '_', '.' and ':'."),
    Hostile("compose label percent-encoded", compose(filter_complex="[%2Fetc%2Fpasswd]hflip[v]"), GRAPH + "the label [%2Fetc%2Fpasswd] of 'hflip' may hold only letters, digits, '_', '.' and ':'."),
    Hostile("compose label of an input that does not exist", compose(filter_complex="[4:v]hflip[v]"), GRAPH + "the label [4:v] of 'hflip' is neither a job input (0 to 0) nor the output of a filter."),
    Hostile("compose filter instance with a path", compose(filter_complex="[0:v]hflip@../x[v]"), GRAPH + "the filter 'hflip' has an instance name other than letters, digits and '_'."),
    Hostile("compose two commas in a row", compose(filter_complex="[0:v]hflip,,vflip[v]"), GRAPH + "it is not a filter graph FFmpeg would read: a filter has no name (two separators in a row, or a label with no filter)."),
    Hostile("compose graph longer than the limit", compose(filter_complex="[0:v]" + ",".join(["null"] * 4000) + "[v]"), GRAPH + "the graph is 20007 characters long, over the limit of 20000."),
    Hostile("compose input from a file URL", compose(inputs=[{"url": "file:///etc/passwd"}]), "inputs[0].url: file:// URLs are refused (set VIDEO_OPS_ALLOW_FILE_URLS=1 for local runs)."),
    Hostile("compose input from a data URL", compose(inputs=[{"url": "data:text/plain,hi"}]), "inputs[0].url: unsupported URL scheme 'data'; use http, https or s3."),
    Hostile("compose input from the cloud metadata", compose(inputs=[{"url": "http://169.254.169.254/latest/meta-data/"}]), refused("169.254.169.254", "169.254.169.254", "inputs[0].url"), guarded=True),
    Hostile("compose input read as a lavfi graph", compose(inputs=[{"url": "{server}/video.mp4", "options": {"f": "lavfi"}}]), DEMUXERS),
    Hostile("compose input read as a concat list", compose(inputs=[{"url": "{server}/video.mp4", "options": {"f": "concat"}}]), DEMUXERS),
    Hostile("compose input read as an image2 pattern", compose(inputs=[{"url": "{server}/video.mp4", "options": {"f": "image2"}}]), DEMUXERS),
    Hostile("compose input with a second -i", compose(inputs=[{"url": "{server}/video.mp4", "options": {"-i": "/etc/passwd"}}]), "Invalid input: field 'inputs[0].options': '-i' is not an option compose accepts here (it accepts ss, t, to, itsoffset, stream_loop, loop, r, framerate, f)."),
    Hostile("compose input with its own protocol whitelist", compose(inputs=[{"url": "{server}/video.mp4", "options": {"protocol_whitelist": "file,http,concat"}}]), "Invalid input: field 'inputs[0].options': 'protocol_whitelist' is not an option compose accepts here (it accepts ss, t, to, itsoffset, stream_loop, loop, r, framerate, f)."),
    Hostile("compose input dumping attachments", compose(inputs=[{"url": "{server}/video.mp4", "options": {"dump_attachment:t": "/tmp/x"}}]), "Invalid input: field 'inputs[0].options': 'dump_attachment:t' is not an option compose accepts here (it accepts ss, t, to, itsoffset, stream_loop, loop, r, framerate, f)."),
    Hostile("compose input seek to a file", compose(inputs=[{"url": "{server}/video.mp4", "options": {"ss": "file:/etc/passwd"}}]), "Invalid input: field 'inputs[0].options': 'ss' names a file or a protocol; compose reads only the files in 'inputs' and writes only its 'outputs' ('ss' must be " + TIME + ")."),
    Hostile("compose input length of a subfile", compose(inputs=[{"url": "{server}/video.mp4", "options": {"t": "subfile,,start,0,end,0,,:/etc/passwd"}}]), "Invalid input: field 'inputs[0].options': 't' names a file or a protocol; compose reads only the files in 'inputs' and writes only its 'outputs' ('t' must be " + TIME + ")."),
    Hostile("compose input looped past the limit", compose(inputs=[{"url": "{server}/video.mp4", "options": {"stream_loop": 5000}}]), "Invalid input: field 'inputs[0].options': 'stream_loop' must be a whole number from -1 (for ever, until the output ends) to 1000."),
    Hostile("compose output named out of its folder", compose(outputs=[{"filename": "../../etc/passwd.mp4", "maps": ["[v]"]}]), "Invalid input: field 'outputs[0].filename' must not contain '/' or '\\'."),
    Hostile("compose output as an HLS playlist", compose(outputs=[{"filename": "out.m3u8", "maps": ["[v]"]}]), "Invalid input: field 'outputs[0].filename' must end with one of .aac, .flac, .gif, .m4a, .mkv, .mov, .mp3, .mp4, .ogg, .opus, .ts, .wav, .webm (or give the muxer in 'f')."),
    Hostile("compose output through the tee muxer", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"f": "tee"}}]), MUXERS),
    Hostile("compose output through the segment muxer", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"f": "segment"}}]), MUXERS),
    Hostile("compose output with a filter script", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"filter_complex_script": "/etc/passwd"}}]), OUTPUT_OPTION.format("filter_complex_script")),
    Hostile("compose output attaching a file", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"-attach": "/etc/passwd"}}]), OUTPUT_OPTION.format("-attach")),
    Hostile("compose output metadata", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"metadata": "title=x"}}]), OUTPUT_OPTION.format("metadata")),
    Hostile("compose output length smuggling a second output", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"t": "1 /tmp/x.mp4"}}]), "Invalid input: field 'outputs[0].options': 't' names a file or a protocol; compose reads only the files in 'inputs' and writes only its 'outputs' ('t' must be " + TIME + ")."),
    Hostile("compose output movflags smuggling an input", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"movflags": "+faststart -i passwd"}}]), "Invalid input: field 'outputs[0].options': 'movflags' must be flags such as +faststart, among faststart, frag_keyframe, empty_moov, default_base_moof, separate_moof, omit_tfhd_offset, negative_cts_offsets, disable_chpl, write_colr, use_metadata_tags."),
    Hostile("compose output preset without an encoder", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"preset": "veryslow"}}]), "Invalid input: field 'outputs[0].options': 'preset' needs an encoder named in 'c:v' (libx264, libx265, h264_nvenc...); 'h264' uses the worker's own settings on whichever encoder it has."),
    Hostile("compose output encoder not on the list", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]"], "options": {"c:v": "h264_vaapi"}}]), "Invalid input: field 'outputs[0].options': 'c:v' must be one of h264, hevc, vp9, av1, libx264, libx265, h264_nvenc, hevc_nvenc, libvpx-vp9, libsvtav1, libaom-av1, mpeg4, gif, copy."),
    Hostile("compose output map of a path", compose(outputs=[{"filename": "out.mp4", "maps": ["/etc/passwd"]}]), MAPS.format("/etc/passwd")),
    Hostile("compose output map of a label not in the graph", compose(outputs=[{"filename": "out.mp4", "maps": ["[v]", "[secret]"]}]), MAPS.format("[secret]")),
    Hostile("compose output label mapped twice", compose(outputs=[{"filename": "a.mp4", "maps": ["[v]"]}, {"filename": "b.mp4", "maps": ["[v]"]}]), "Invalid input: field 'outputs': [v] is mapped twice; split it (split, asplit) to send it to two outputs."),
    Hostile("compose graph output left unmapped", compose(outputs=[{"filename": "out.mp4", "maps": ["0:v"]}]), "Invalid input: field 'filter_complex': the graph's output [v] is in no output's 'maps'."),
    Hostile("compose five outputs", compose(filter_complex=None, outputs=[{"filename": f"o{n}.mp4", "maps": ["0:v"]} for n in range(5)]), "Invalid input: field 'outputs': List should have at most 4 items after validation, not 5."),
    Hostile("compose with a filter script field", compose(filter_complex_script="/etc/passwd"), "Invalid input: unknown field 'filter_complex_script' (did you mean 'filter_complex'?)."),
    # transcribe and render's captions from the narration: every check runs before a model is loaded
    Hostile("transcribe without a sound", {"operation": "transcribe", "path": "out"}, "Invalid input: missing required field 'audio_url'."),
    Hostile("transcribe a video without sound", transcribe(audio_url="{server}/silent.mp4"), "audio_url: the file has no audio stream (found: video)."),
    Hostile("transcribe a web page", transcribe(audio_url="{server}/page.html"), "audio_url: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("transcribe a WAV of 0 samples", transcribe(audio_url="{server}/zero.wav"), "audio_url: the file has no readable duration (is it truncated?)."),
    Hostile("transcribe under two names", transcribe(url_video="{server}/video.mp4"), "Invalid input: 'url_video' repeats a field given under another name (give one of: audio_url, url_video, url_audio)."),
    Hostile("transcribe in an unknown language", transcribe(language="xx"), "Invalid input: field 'language': unknown language code 'xx'; give an ISO 639-1 code Whisper knows, such as en, pt or es, or leave it out to have it detected."),
    Hostile("transcribe with a model outside the list", transcribe(model="large-v4"), MODELS),
    Hostile("transcribe with a model path", transcribe(model="../../etc"), MODELS),
    Hostile("transcribe with a beam of 11", transcribe(beam_size=11), "Invalid input: field 'beam_size': Input should be less than or equal to 10."),
    Hostile("transcribe at temperature 2", transcribe(temperature=2), "Invalid input: field 'temperature': Input should be less than or equal to 1."),
    Hostile("transcribe into a format it has not", transcribe(output_formats=["pdf"]), "Invalid input: field 'output_formats[0]': Input should be 'srt', 'vtt', 'json', 'ass', 'vtt_karaoke' or 'lrc'."),
    Hostile("transcribe into no format", transcribe(output_formats=[]), "Invalid input: field 'output_formats': List should have at least 1 item after validation, not 0."),
    Hostile("transcribe Portuguese with an English-only model", transcribe(model="tiny.en", language="pt"), "Invalid input: field 'language': the model 'tiny.en' hears English only; give language 'en', leave it out, or choose a multilingual model such as 'small' or 'large-v3'."),
    Hostile("translate with an English-only model", transcribe(model="distil-small.en", task="translate"), "Invalid input: field 'task': the model 'distil-small.en' cannot translate; choose a multilingual model trained to, such as 'small', 'medium' or 'large-v3'."),
    Hostile("translate with turbo", transcribe(model="large-v3-turbo", task="translate"), "Invalid input: field 'task': the model 'large-v3-turbo' cannot translate; choose a multilingual model trained to, such as 'small', 'medium' or 'large-v3'."),
    Hostile("transcribe into an unknown task", transcribe(task="summarize"), "Invalid input: field 'task': Input should be 'transcribe' or 'translate'."),
    Hostile("transcribe into 5-character lines", transcribe(max_chars_per_line=5), "Invalid input: field 'max_chars_per_line': Input should be greater than or equal to 16."),
    Hostile("transcribe into cues of 9 lines", transcribe(max_lines=9), "Invalid input: field 'max_lines': Input should be less than or equal to 4."),
    Hostile("transcribe into cues shortest above longest", transcribe(min_duration_s=5, max_duration_s=2), "Invalid input: field 'min_duration_s': it must not exceed 'max_duration_s'."),
    Hostile("transcribe into cues of infinite length", transcribe(max_duration_s="inf"), "Invalid input: field 'max_duration_s': Input should be a finite number."),
    Hostile("transcribe with a 5000-character prompt", transcribe(initial_prompt="x" * 5000), "Invalid input: field 'initial_prompt': String should have at most 2000 characters."),
    Hostile("transcribe from the cloud metadata", transcribe(audio_url="http://169.254.169.254/latest/meta-data/"), refused("169.254.169.254", "169.254.169.254", "audio_url"), guarded=True),
    # extract_audio and audio_concatenate: every field checked, each input named by its position, before decoding
    Hostile("extract audio from a video without sound", extract_audio(url_video="{server}/silent.mp4"), "url_video: the file has no audio stream (found: video)."),
    Hostile("extract audio from a web page", extract_audio(url_video="{server}/page.html"), "url_video: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("extract audio into an unknown format", extract_audio(format="aiff"), "Invalid input: field 'format': Input should be 'mp3', 'm4a', 'wav', 'opus' or 'flac'."),
    Hostile("extract audio at a bitrate mp3 has not", extract_audio(bitrate=500), "Invalid input: 'bitrate' for mp3 must be 32 to 320 kb/s (got 500)."),
    Hostile("extract audio with a bitrate for lossless flac", extract_audio(format="flac", bitrate="256k"), "Invalid input: 'bitrate' does not apply to flac, which is lossless."),
    Hostile("extract audio with a bitrate that is not a number", extract_audio(bitrate="fast"), "Invalid input: field 'bitrate': Input should be a valid integer, unable to parse string as an integer."),
    Hostile("extract audio at a rate opus has not", extract_audio(format="opus", sample_rate=44100), "Invalid input: 'sample_rate' for opus must be one of 8000, 12000, 16000, 24000 or 48000 Hz (got 44100)."),
    Hostile("extract audio at 1 MHz", extract_audio(format="wav", sample_rate=1000000), "Invalid input: field 'sample_rate': Input should be less than or equal to 192000."),
    Hostile("extract audio in six channels of mp3", extract_audio(channels=6), "Invalid input: 'channels' for mp3 must be 1 to 2 (got 6)."),
    Hostile("extract audio in nine channels", extract_audio(format="flac", channels=9), "Invalid input: field 'channels': Input should be less than or equal to 8."),
    Hostile("extract audio in true channels", extract_audio(channels=True), "Invalid input: field 'channels': Input should be a number, not true or false."),
    Hostile("extract audio at a loudness above 0", extract_audio(loudness_lufs=3), "Invalid input: field 'loudness_lufs': Input should be less than or equal to -5."),
    Hostile("audio concatenate of one file", audio_concatenate("{server}/tone.mp3"), "Invalid input: field 'audio_urls': List should have at least 2 items after validation, not 1."),
    Hostile("audio concatenate of 501 files", audio_concatenate(*(["{server}/tone.mp3"] * 501)), "Invalid input: field 'audio_urls': at most 500 audio files per job (raise it with VIDEO_OPS_MAX_AUDIO_FILES)."),
    Hostile("audio concatenate of an object of another shape", audio_concatenate("{server}/tone.mp3", {"url": "{server}/tone.mp3"}), 'Invalid input: field \'audio_urls[1]\': must be a URL or {"audio_url": URL}.'),
    Hostile("audio concatenate of a video without sound", audio_concatenate("{server}/tone.mp3", "{server}/tone.mp3", "{server}/video.mp4", "{server}/silent.mp4"), "audio_urls[3]: the file has no audio stream (found: video)."),
    Hostile("audio concatenate of a web page", audio_concatenate("{server}/tone.mp3", "{server}/page.html"), "audio_urls[1]: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("audio concatenate of a WAV of 0 samples", audio_concatenate("{server}/zero.wav", "{server}/tone.mp3"), "audio_urls[0]: the file has no readable duration (is it truncated?)."),
    Hostile("audio concatenate with a crossfade longer than a file", audio_concatenate(crossfade_s=2.5), "crossfade_s: 2.5 s is longer than audio_urls[1], which lasts about 2.0 s."),
    Hostile("audio concatenate crossfaded and spaced", audio_concatenate(crossfade_s=0.5, silence_between_s=1), "Invalid input: give 'crossfade_s' or 'silence_between_s', not both."),
    Hostile("audio concatenate with a negative silence", audio_concatenate(silence_between_s=-1), "Invalid input: field 'silence_between_s': Input should be greater than or equal to 0."),
    Hostile("audio concatenate into an unknown format", audio_concatenate(format="mp4"), "Invalid input: field 'format': Input should be 'mp3', 'm4a', 'wav', 'opus' or 'flac'."),
    Hostile("audio concatenate from the cloud metadata", audio_concatenate("http://169.254.169.254/latest/meta-data/", "http://169.254.169.254/latest/meta-data/"), refused("169.254.169.254", "169.254.169.254", "audio_urls[0]"), guarded=True),
    Hostile("render captions from a narration it has not", render(captions={"from_narration": True}), "Invalid input: 'captions.from_narration' needs a 'narration'."),
    Hostile("render captions with a model for a words file", render(captions={"words_url": "{server}/nowords.json", "model": "tiny"}), "Invalid input: field 'captions': 'model' applies to 'from_narration' only."),
    Hostile("render captions from a narration in an unknown language", render(narration={"url": "{server}/tone.mp3"}, captions={"from_narration": True, "language": "klingon"}), "Invalid input: field 'captions.language': unknown language code 'klingon'; give an ISO 639-1 code Whisper knows, such as en, pt or es, or leave it out to have it detected."),
    # captions heard in the video's own speech: one source, a sound to hear, the options checked before a model loads
    Hostile("caption from an SRT and the speech", caption(transcribe={"model": "tiny"}), CUES_OR_SPEECH),
    Hostile("caption from nothing", caption(url_srt=None), CUES_OR_SPEECH),
    Hostile("caption_segments from an SRT and the speech", segments(transcribe={"model": "tiny"}), CUES_OR_SPEECH),
    Hostile("highlight from a words file and the speech", highlight(transcribe={"model": "tiny"}), "Invalid input: give the words as url_words_json or url_srt, or have them heard in the video's own speech with transcribe (one of them)."),
    Hostile("caption the speech of a video without sound", caption(url_srt=None, url_video="{server}/silent.mp4", transcribe={"model": "tiny"}), "url_video: the file has no audio stream (found: video)."),
    Hostile("highlight the speech of a video without sound", highlight(url_words_json=None, url_video="{server}/silent.mp4", transcribe={"model": "tiny"}), "url_video: the file has no audio stream (found: video)."),
    Hostile("caption the speech with a model outside the list", segments(url_srt=None, transcribe={"model": "large-v4"}), MODELS.replace("field 'model'", "field 'transcribe.model'")),
    Hostile("caption the speech in an unknown language", highlight(url_words_json=None, transcribe={"model": "tiny", "language": "klingon"}), "Invalid input: field 'transcribe.language': unknown language code 'klingon'; give an ISO 639-1 code Whisper knows, such as en, pt or es, or leave it out to have it detected."),
    Hostile("caption the speech with an option transcribe has not", caption(url_srt=None, transcribe={"model": "tiny", "output_formats": ["srt"]}), "Invalid input: unknown field 'transcribe.output_formats'."),
    # silence and remove_silence: the numbers that reach silencedetect are checked first
    Hostile("silence of a video without sound", silence(url_video="{server}/silent.mp4"), "url_video: the file has no audio stream (found: video)."),
    Hostile("silence of a web page", silence(url_video="{server}/page.html"), "url_video: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("silence louder than full scale", silence(noise_db=3), "Invalid input: field 'noise_db': Input should be less than 0."),
    Hostile("silence at a noise level of NaN", silence(noise_db=float("nan")), "Invalid input: field 'noise_db': Input should be a finite number."),
    Hostile("silence that never ends", silence(min_silence_s=float("inf")), "Invalid input: field 'min_silence_s': Input should be a finite number."),
    Hostile("silence of a millisecond", silence(min_silence_s=0.001), "Invalid input: field 'min_silence_s': Input should be greater than or equal to 0.05."),
    Hostile("silence minimum given as true", silence(min_silence_s=True), "Invalid input: field 'min_silence_s': Input should be a number, not true or false."),
    Hostile("silence with a file name", silence(output_filename="x.mp4"), "Invalid input: unknown field 'output_filename'."),
    Hostile("remove_silence of a video without sound", remove_silence(url_video="{server}/silent.mp4"), "url_video: the file has no audio stream (found: video)."),
    Hostile("remove_silence of a sound that is all silence", remove_silence(noise_db=-1), "url_video: all of the sound lies below -1 dB, so taking out the silence would leave nothing (a lower noise_db counts quieter sound as speech)."),
    Hostile("remove_silence with negative padding", remove_silence(padding_s=-0.1), "Invalid input: field 'padding_s': Input should be greater than or equal to 0."),
    Hostile("remove_silence with endless padding", remove_silence(padding_s=float("inf")), "Invalid input: field 'padding_s': Input should be a finite number."),
    # frames: the way the frames are chosen, their number and the sheet are checked before any download
    Hostile("frames of more than 1000 counted", frames(count=1001), "Invalid input: field 'count': Input should be less than or equal to 1000."),
    Hostile("frames at more than 1000 times", frames(count=None, at=[1] * 1001), "Invalid input: field 'at': List should have at most 1000 items after validation, not 1001."),
    Hostile("frames on a sheet of over 100 tiles", frames(count=None, sheet={"columns": 11, "rows": 10}), "Invalid input: field 'sheet': at most 100 tiles (11 columns x 10 rows is 110)."),
    Hostile("frames counted past the sheet's tiles", frames(count=10, sheet={"columns": 2, "rows": 2}), "Invalid input: 10 frames were asked for, more than the sheet's 4 tiles."),
    Hostile("frames on a sheet too wide", frames(count=None, sheet={"columns": 10, "rows": 1}, width=2000), "Invalid input: a sheet of 10 columns of 2000-pixel tiles would be 20000 pixels wide, over 16383."),
    Hostile("frames chosen no way", frames(count=None), "Invalid input: give 'at' (times), 'count' (evenly spaced frames), 'scenes': true or a 'sheet'."),
    Hostile("frames chosen two ways", frames(at=[1]), "Invalid input: give one of 'at', 'count' or 'scenes', not at and count."),
    Hostile("frames threshold without scenes", frames(threshold=0.4), "Invalid input: 'threshold' applies to 'scenes' only."),
    Hostile("frames scene threshold of 1", frames(count=None, scenes=True, threshold=1), "Invalid input: field 'threshold': Input should be less than 1."),
    Hostile("frames at a negative time", frames(count=None, at=[-1]), "Invalid input: field 'at[0]': must not be negative."),
    Hostile("frames counted as true", frames(count=True), "Invalid input: field 'count': Input should be a number, not true or false."),
    Hostile("frames as a GIF", frames(format="gif"), "Invalid input: field 'format': Input should be 'jpg', 'png' or 'webp'."),
    Hostile("frames named for another format", frames(output_filename="still.png"), "Invalid input: field 'output_filename' must end with .jpg, the format this operation writes."),
    Hostile("frames of a sound file", frames(url_video="{server}/tone.mp3"), "url_video: the file has no video stream (found: audio)."),
    Hostile("frames of an undecodable video", frames(url_video="{server}/mjpeg-undecodable.mov"), "url_video: the video stream (mjpeg, QuickTime) cannot be decoded."),
    Hostile("frames of a web page", frames(url_video="{server}/page.html"), "url_video: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    # probe: nothing is uploaded, but the file is fetched as any input is
    Hostile("probe without a URL", probe(url=None), "Invalid input: missing required field 'url'."),
    Hostile("probe under two names", probe(url_video="{server}/video.mp4"), "Invalid input: 'url_video' repeats a field given under another name (give one of: url, url_video, url_audio)."),
    Hostile("probe of a web page", probe(url="{server}/page.html"), "url: the file is not a media file FFmpeg can read (Invalid data found when processing input)."),
    Hostile("probe of an empty file", probe(url="{server}/empty.mp4"), "url: the file is empty (0 bytes)."),
    Hostile("probe of a missing file", probe(url="{server}/nothing.mp4"), "url: download failed: HTTP 404 File not found from {server}/nothing.mp4."),
    Hostile("probe with loudness of 2", probe(loudness=2), "Invalid input: field 'loudness': Input should be a valid boolean, unable to interpret input."),
    Hostile("probe of the cloud metadata", probe(url="http://169.254.169.254/latest/meta-data/"), refused("169.254.169.254", "169.254.169.254", "url"), guarded=True),
]
