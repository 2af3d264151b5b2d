"""Results in a real S3 endpoint (moto's server over HTTP), from each credential source."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.helpers import leftover_workdirs, run_job, s3_client
from tests.media import decodes_cleanly, probe, stream


def addaudio(media_server: str, **extra) -> dict:
    return {"operation": "addaudio", "url_video": f"{media_server}/video.mp4", "url_audio": f"{media_server}/tone.mp3",
            "path": " videos/output/ ", "output_filename": "with audio.mp4", **extra}


def assert_plays_from_bucket(result: dict, settings: dict, bucket_name: str, tmp_path: Path) -> None:
    assert result.get("success"), result
    assert result["s3_key"] == "videos/output/with audio.mp4"
    head = s3_client(settings).head_object(Bucket=bucket_name, Key=result["s3_key"])
    assert head["ContentType"] == "video/mp4"
    assert head["ContentLength"] == result["size_bytes"]
    downloaded = tmp_path / "downloaded.mp4"
    with urllib.request.urlopen(result["video_url"]) as response:  # the URL the caller gets really downloads
        downloaded.write_bytes(response.read())
    assert downloaded.stat().st_size == result["size_bytes"]
    info = probe(downloaded)
    assert stream(info, "video")["codec_name"] == "h264"
    assert stream(info, "audio")["codec_name"] == "aac"
    assert decodes_cleanly(downloaded)


def test_environment_bucket_with_presigned_url(media_server, bucket, tmp_path, worker_env):
    result = run_job(addaudio(media_server))
    assert_plays_from_bucket(result, bucket, bucket["BUCKET_NAME"], tmp_path)
    assert "X-Amz-Signature=" in result["video_url"]
    assert "X-Amz-Expires=604800" in result["video_url"]
    assert leftover_workdirs(worker_env) == []


def test_public_url_base_is_used_when_set(media_server, bucket, monkeypatch):
    monkeypatch.setenv("BUCKET_PUBLIC_URL", "https://cdn.example.com/media/")
    result = run_job(addaudio(media_server))
    assert result["video_url"] == "https://cdn.example.com/media/videos/output/with%20audio.mp4"


def test_url_expiry_is_configurable(media_server, bucket, monkeypatch):
    monkeypatch.setenv("BUCKET_URL_EXPIRES", "3600")
    assert "X-Amz-Expires=3600" in run_job(addaudio(media_server))["video_url"]


def test_input_s3_config_wins_over_the_environment(media_server, s3_server, bucket, tmp_path):
    other = {**bucket, "BUCKET_NAME": "from-input"}
    s3_client(other).create_bucket(Bucket="from-input")
    config = {"endpoint_url": s3_server, "access_key": "k", "secret_key": "s", "bucket_name": "from-input",
              "region": "us-east-1"}
    result = run_job(addaudio(media_server, s3_config=config), s3Config={"bucketName": "ignored"})
    assert_plays_from_bucket(result, other, "from-input", tmp_path)
    assert s3_client(bucket).list_objects_v2(Bucket=bucket["BUCKET_NAME"]).get("KeyCount") == 0


def test_request_level_s3config(media_server, s3_server, bucket, tmp_path):
    s3_client(bucket).create_bucket(Bucket="from-request")
    request_config = {"endpointUrl": s3_server, "accessId": "k", "accessSecret": "s", "bucketName": "from-request"}
    result = run_job(addaudio(media_server), s3Config=request_config)
    assert_plays_from_bucket(result, {**bucket, "BUCKET_NAME": "from-request"}, "from-request", tmp_path)


def test_incomplete_request_s3config_is_named(media_server):
    result = run_job(addaudio(media_server), s3Config={"endpointUrl": "http://x", "accessId": "k"})
    assert result == {"error": "Invalid s3Config: missing accessSecret, bucketName."}


def test_missing_bucket_is_a_clear_error_naming_the_host(media_server, bucket, s3_server):
    result = run_job(addaudio(media_server, s3_config={"endpoint_url": s3_server, "access_key": "k",
                                                       "secret_key": "very-secret", "bucket_name": "nope"}))
    host = s3_server.split("//")[1]
    assert result == {"error": f"Upload to bucket 'nope' at {host} failed: the bucket does not exist."}


def test_no_bucket_when_deployed_is_an_error(media_server, monkeypatch):
    monkeypatch.setenv("RUNPOD_WEBHOOK_GET_JOB", "http://127.0.0.1:1/job-take/$ID")
    result = run_job(addaudio(media_server))
    assert result["error"].startswith("No bucket is configured")


def test_s3_urls_read_with_the_jobs_credentials(media_server, media_dir, bucket, tmp_path):
    client = s3_client(bucket)
    client.upload_file(str(media_dir / "tone.mp3"), bucket["BUCKET_NAME"], "inputs/tone.mp3")
    result = run_job(addaudio(media_server, url_audio=f"s3://{bucket['BUCKET_NAME']}/inputs/tone.mp3"))
    assert_plays_from_bucket(result, bucket, bucket["BUCKET_NAME"], tmp_path)


def test_s3_inputs_keep_their_fields_size_cap(media_server, bucket, tmp_path):
    """An 11 MB object as the SRT is refused in the SRT's own words, as an HTTP one is."""
    big = tmp_path / "big.srt"
    with big.open("wb") as out:
        out.truncate(11 * 2**20)
    s3_client(bucket).upload_file(str(big), bucket["BUCKET_NAME"], "inputs/big.srt")
    result = run_job({"operation": "caption", "url_video": f"{media_server}/video.mp4", "path": "out",
                      "url_srt": f"s3://{bucket['BUCKET_NAME']}/inputs/big.srt"})
    assert result == {"error": "url_srt: the file is larger than 10 MB; is it a subtitle file?"}


def test_missing_s3_input_names_the_field(media_server, bucket):
    result = run_job(addaudio(media_server, url_audio=f"s3://{bucket['BUCKET_NAME']}/nothing.mp3"))
    assert result["error"].startswith(f"url_audio: could not read s3://{bucket['BUCKET_NAME']}/nothing.mp3")


def test_local_folder_without_a_bucket(media_server, worker_env, tmp_path):
    result = run_job(addaudio(media_server))
    out = tmp_path / "output" / "videos" / "output" / "with audio.mp4"
    assert result["video_url"] == out.resolve().as_uri()
    assert decodes_cleanly(out)


@pytest.mark.parametrize("secret_source", ["input", "request", "environment"])
def test_secrets_never_appear_in_results(media_server, bucket, s3_server, secret_source, monkeypatch, capfd, caplog):
    secret = "TOP-SECRET-KEY-123"
    config = {"endpoint_url": s3_server, "access_key": "k", "secret_key": secret, "bucket_name": "nope"}
    extra = {}
    job = addaudio(media_server)
    if secret_source == "input":
        job["s3_config"] = config
    elif secret_source == "request":
        extra["s3Config"] = {"endpointUrl": s3_server, "accessId": "k", "accessSecret": secret, "bucketName": "nope"}
    else:
        monkeypatch.setenv("BUCKET_SECRET_ACCESS_KEY", secret)
        monkeypatch.setenv("BUCKET_NAME", "nope")
    result = run_job(job, **extra)
    assert "error" in result
    assert secret not in str(result)
    captured = capfd.readouterr()
    assert secret not in captured.out + captured.err + caplog.text


def test_bucket_answering_503_is_retried_then_named(media_server, tricky, monkeypatch):
    """The tricky server plays a bucket that always answers 503."""
    monkeypatch.setenv("VIDEO_OPS_S3_ATTEMPTS", "2")
    config = {"endpoint_url": f"{tricky.url}/status/503", "access_key": "k", "secret_key": "s", "bucket_name": "b"}
    result = run_job(addaudio(media_server, s3_config=config))
    host = tricky.url.split("//")[1]
    assert result == {"error": f"Upload to bucket 'b' at {host} failed: the bucket answered HTTP 503 on every attempt."}


def test_slow_bucket_is_named(media_server, tricky, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_S3_ATTEMPTS", "2")
    monkeypatch.setenv("VIDEO_OPS_S3_READ_TIMEOUT_S", "0.5")
    config = {"endpoint_url": f"{tricky.url}/slow", "access_key": "k", "secret_key": "s", "bucket_name": "b"}
    result = run_job(addaudio(media_server, s3_config=config))
    host = tricky.url.split("//")[1]
    assert result == {"error": f"Upload to bucket 'b' at {host} failed: the bucket's endpoint did not answer in time."}
    assert sum(n for path, n in tricky.hits.items() if path.startswith("/slow/b/")) >= 2  # retried


def test_bucket_down_is_named(media_server, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_S3_ATTEMPTS", "2")
    config = {"endpoint_url": "http://127.0.0.1:9", "access_key": "k", "secret_key": "s", "bucket_name": "b"}
    result = run_job(addaudio(media_server, s3_config=config))
    expected = "Upload to bucket 'b' at 127.0.0.1:9 failed: the bucket's endpoint could not be reached."
    assert result == {"error": expected}


def test_output_size_limit(media_server, bucket, monkeypatch):
    monkeypatch.setenv("VIDEO_OPS_MAX_OUTPUT_BYTES", "1000")
    result = run_job(addaudio(media_server, output_filename="big.mp4"))
    assert result["error"].startswith("The output big.mp4 is ")
    assert result["error"].endswith("over the limit of 1000 bytes (raise it with VIDEO_OPS_MAX_OUTPUT_BYTES).")
    assert s3_client(bucket).list_objects_v2(Bucket=bucket["BUCKET_NAME"]).get("KeyCount") == 0
