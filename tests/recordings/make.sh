#!/usr/bin/env bash
# Makes the recordings in this folder with FFmpeg, each reproducing one defect found in real
# recordings (see README.md). Run from the repository root: bash tests/recordings/make.sh
set -euo pipefail
cd "$(dirname "$0")"
ff() { ffmpeg -v error -nostdin -y "$@"; }
tone=(-f lavfi -i "sine=frequency=440:sample_rate=48000")

# A phone's portrait clip: landscape pixels, 90 degrees of rotation metadata, AAC sound starting 79 ms after
# the picture (an iPhone's starts 44 ms after it; 79 ms here, past a frame, so that a late mix shows).
ff -f lavfi -i "testsrc2=size=192x108:rate=30" "${tone[@]}" -t 1.0 -c:v libx264 -preset veryfast -bf 2 \
   -pix_fmt yuv420p -c:a aac -b:a 48k -shortest phone-plain.mp4
ff -i phone-plain.mp4 -itsoffset 0.1 -i phone-plain.mp4 -map 0:v -map 1:a -c copy -metadata:s:v:0 rotate=90 \
   phone-rotated.mp4 && rm phone-plain.mp4

# Slow motion: H.264 with B-frames at 30 fps whose container times change pace after 0.4 s, as a phone
# writes a 120 fps burst played at a quarter speed (the timestamps say so, the frames are untouched).
ff -f lavfi -i "testsrc2=size=160x90:rate=30" -t 1.2 -c:v libx264 -preset veryfast -bf 3 -g 30 -pix_fmt yuv420p \
   -video_track_timescale 90000 slowmo-cfr.mp4
ff -i slowmo-cfr.mp4 -c copy -bsf:v "setts=pts='if(lt(PTS\,36000)\,PTS\,36000+(PTS-36000)/4)':dts='if(lt(DTS\,36000)\,DTS\,36000+(DTS-36000)/4)'" \
   slowmo-bframes.mp4
rm slowmo-cfr.mp4

# A phone's MP4 whose header ends a frame before its last frame does: the last decode time's duration is one
# tick (as Samsung's slow motion times its packets), so the track's length is one frame short of its frames.
ff -f lavfi -i "testsrc2=size=160x90:rate=30" "${tone[@]}" -t 1.0 -c:v libx264 -preset veryfast -bf 2 -g 30 \
   -pix_fmt yuv420p -c:a aac -b:a 48k -video_track_timescale 90000 short-source.mp4
ff -i short-source.mp4 -c copy -bsf:v "setts=pts=PTS:dts=DTS:duration='if(gte(DTS\,81000)\,1\,DURATION)'" short-header.mp4
rm short-source.mp4

# An edit list: the first 0.4 s of a B-frame clip cut by the container only (packets before it stay).
ff -f lavfi -i "testsrc2=size=160x90:rate=25" "${tone[@]}" -t 1.6 -c:v libx264 -preset veryfast -bf 2 -g 25 \
   -pix_fmt yuv420p -c:a aac -b:a 48k edit-source.mp4
ff -ss 0.4 -i edit-source.mp4 -c copy edit-list.mp4 && rm edit-source.mp4

# An edit list's delay: the picture starts 0.5 s after the sound (an empty edit first), as a recorder that
# started its sound early writes it.
ff -f lavfi -i "testsrc2=size=160x90:rate=25" "${tone[@]}" -t 1.0 -c:v libx264 -preset veryfast -bf 2 -g 25 \
   -pix_fmt yuv420p -c:a aac -b:a 48k late-source.mp4
ff -i late-source.mp4 -itsoffset 0.5 -i late-source.mp4 -map 1:v -map 0:a -c copy late-picture.mp4
rm late-source.mp4

# Open-GOP HEVC (CRA pictures, leading B-frames) in MP4.
ff -f lavfi -i "testsrc2=size=160x90:rate=25" "${tone[@]}" -t 1.2 -c:v libx265 -preset fast \
   -x265-params "open-gop=1:keyint=10:min-keyint=10:bframes=3:log-level=error" -pix_fmt yuv420p -tag:v hvc1 \
   -c:a aac -b:a 48k hevc-open-gop.mp4

# Broadcast TS: interlaced H.264 at 25 fps, timestamps 19304 s from zero, cut so that it starts mid-GOP.
ff -f lavfi -i "testsrc2=size=192x108:rate=25" "${tone[@]}" -t 2.4 -vf "tinterlace=interleave_top,fieldorder=tff" \
   -c:v libx264 -preset veryfast -flags +ildct+ilme -x264-params "interlaced=1:keyint=25" -pix_fmt yuv420p \
   -c:a mp2 -b:a 64k -output_ts_offset 19304 -f mpegts broadcast-whole.ts
size=$(stat -c %s broadcast-whole.ts)
tail -c +$(( (size / 188 / 5) * 188 + 1 )) broadcast-whole.ts > broadcast-midgop.ts && rm broadcast-whole.ts

# QuickTime MJPEG whose frames FFmpeg cannot decode: the start of each JPEG (markers, tables) is zeroed.
ff -f lavfi -i "testsrc2=size=160x90:rate=10" -t 0.5 -c:v mjpeg -q:v 5 -f mov mjpeg-undecodable.mov
python3 - <<'PY'
from pathlib import Path
path = Path("mjpeg-undecodable.mov")
data = bytearray(path.read_bytes())
at = data.find(b"mdat")
while (at := data.find(b"\xff\xd8", at + 1)) != -1:
    data[at:at + 400] = bytes(400)
path.write_bytes(data)
PY

# HEVC in TS without its parameter sets (VPS, SPS, PPS removed): nothing can be decoded.
ff -f lavfi -i "testsrc2=size=160x90:rate=25" -t 0.8 -c:v libx265 -preset fast -x265-params log-level=error \
   -pix_fmt yuv420p -bsf:v "filter_units=remove_types=32|33|34" -f mpegts hevc-no-parameter-sets.ts
ls -l
