"""Write a cut: copied packets from the source and the encoded pieces' packets, timed by the plan, with the
cut sound beside them, into one web-ready MP4.

Packets are moved, never decoded: a copied frame is the source's bytes. Each packet's display time comes
from the plan; decode times keep the source's lead (its B-frame delay), so the copied runs' own order
holds and the encoded runs (no B-frames) sit between them with rising decode times.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from video_ops.base.errors import JobError
from video_ops.media.cut_plan import Piece, RangePlan
from video_ops.media.frame_index import FrameIndex
from video_ops.media.param_sets import ParamSets, as_broken_link, merged_avcc, read_param_sets

_INBAND_TAGS = {"h264": "avc3", "hevc": "hev1"}


@dataclass(frozen=True)
class CutVideo:
    """The source's picture stream and its index, and the file each encoded piece was written to."""

    source: Path
    stream_index: int
    codec: str
    index: FrameIndex
    plans: list[RangePlan]
    encoded: dict[tuple[int, int], Path]  # (range position, piece first frame) -> file
    matched: bool  # the encoded pieces are in the source's format (a smart cut), else all is encoded

    @property
    def codec_out(self) -> str:
        return self.codec if self.matched else "h264"


def write_cut(video: CutVideo, audio: Path | None, output: Path, samples: int = 0) -> None:
    """Mux the cut (runs in a thread: packet moves only). `samples`: the sound's exact length, which the
    last audio packet's duration carries into the edit list (the encoder pads its last frame)."""
    options = {"movflags": "+faststart", **_exact_length(audio)}
    with av.open(str(video.source)) as source, av.open(str(output), "w", format="mp4", options=options) as out:
        stream = source.streams[video.stream_index]
        if video.matched:
            picture = out.add_stream_from_template(stream)
        else:
            with av.open(str(next(iter(video.encoded.values())))) as first:
                picture = out.add_stream_from_template(first.streams.video[0])
        inband = _choose_param_sets(video, picture)
        streams: list[Iterator[tuple[Fraction, int, av.Packet]]] = [
            _timed(_video_packets(video, source, stream, picture, inband), 0)]
        sound = av.open(str(audio)) if audio is not None else None
        try:
            if sound is not None:
                sound_in = sound.streams.audio[0]
                sound_out = out.add_stream_from_template(sound_in)
                streams.append(_timed(_moved(sound.demux(sound_in), sound_out, samples), 1))
            for _, _, packet in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
                out.mux(packet)
        finally:
            if sound is not None:
                sound.close()


def _exact_length(audio: Path | None) -> dict[str, str]:
    """MP4 states a track's length (its edit list) in the movie's timescale, 1000 by default: a sound cut to
    the sample would be said to end on a whole millisecond. The sound's own rate keeps it exact."""
    if audio is None:
        return {}
    with av.open(str(audio)) as sound:
        return {"movie_timescale": str(sound.streams.audio[0].rate)}


def _choose_param_sets(video: CutVideo, picture: av.VideoStream) -> bool:
    """Give the decoder every run's parameter sets: all in the sample entry when H.264 ids differ, else
    in-band at each run's first frame (returns True for in-band). Runs with the sample entry's own sets
    need neither."""
    entry = read_param_sets(video.codec_out, picture.codec_context.extradata)
    runs = [_piece_sets(video.codec_out, path) for path in video.encoded.values()]
    if any(piece.copied for plan in video.plans for piece in plan.pieces):
        runs.append(video.index.param_sets)
    others = {sets.units: sets for sets in runs if sets is not None and entry is not None and sets.units != entry.units}
    if entry is None or not others:
        return False
    ids = [entry.ids(), *(sets.ids() for sets in others.values())]
    if video.codec_out == "h264" and len(set().union(*ids)) == sum(len(group) for group in ids):
        avcc = bytes(picture.codec_context.extradata)
        for sets in others.values():
            avcc = merged_avcc(avcc, sets)
        picture.codec_context.extradata = avcc
        return False
    picture.codec_context.codec_tag = _INBAND_TAGS[video.codec_out]
    return True


def _piece_sets(codec: str, path: Path) -> ParamSets | None:
    with av.open(str(path)) as container:
        return read_param_sets(codec, container.streams.video[0].codec_context.extradata)


def _video_packets(video: CutVideo, source: av.container.InputContainer, stream: av.VideoStream,
                   picture: av.VideoStream, inband: bool) -> Iterator[av.Packet]:
    index, last_dts = video.index, None
    for position, plan in enumerate(video.plans):
        for number, piece in enumerate(plan.pieces):
            if piece.copied:
                packets = _copied(source, stream, index, piece)
                sets = index.param_sets
            else:
                path = video.encoded[(position, piece.first)]
                packets, sets = _encoded(path, piece, video.codec_out, index.lead)
            first_of_run = True
            for packet, display, lead in packets:
                data = None
                if first_of_run and inband and sets is not None:
                    data = sets.inband() + bytes(packet)
                if first_of_run and piece.copied and video.codec == "hevc" and (position or number):
                    data = as_broken_link(data or bytes(packet))
                first_of_run = False
                moved = av.Packet(data) if data is not None else packet
                pts = plan.out_time(index.shown[display])
                dts = min(pts - lead, pts)
                if last_dts is not None and dts <= last_dts:
                    dts = last_dts + 1
                if dts > pts:
                    raise JobError("url_video: the frames' decode times do not leave room for a join.")
                last_dts = dts
                moved.pts, moved.dts = pts, dts
                moved.duration = plan.out_time(min(index.ends[display], plan.end)) - pts
                moved.is_keyframe = packet.is_keyframe
                moved.time_base = index.time_base
                moved.stream = picture
                yield moved


def _copied(source: av.container.InputContainer, stream: av.VideoStream, index: FrameIndex,
            piece: Piece) -> Iterator[tuple[av.Packet, int, int]]:
    """The source's packets in decode order (but the leading pictures the copy leaves out), each with its
    display index and its decode lead in ticks."""
    first_dts = index.dts[piece.first]
    source.seek(first_dts, stream=stream, backward=True)
    position = piece.first
    for packet in source.demux(stream):
        if packet.size == 0 or packet.dts is None or packet.dts < first_dts:
            continue
        if packet.dts != index.dts[position]:
            raise JobError("url_video: the video's packets changed while it was being cut.")
        if not piece.first < position <= piece.first + piece.skipped:
            yield packet, index.rank[position], index.pts[position] - index.dts[position]
        position += 1
        if position > piece.last:
            return
    raise JobError("url_video: the video ends before the frames the cut keeps (is the file truncated?).")


def _encoded(path: Path, piece: Piece, codec: str, lead: int
             ) -> tuple[Iterator[tuple[av.Packet, int, int]], ParamSets | None]:
    """An encoded piece's packets (no B-frames: decode order is display order), decoded `lead` ticks ahead
    of their display as the source's frames are, so decode times rise through each join."""
    container = av.open(str(path))
    stream = container.streams.video[0]
    sets = read_param_sets(codec, stream.codec_context.extradata)

    def packets() -> Iterator[tuple[av.Packet, int, int]]:
        try:
            taken = 0
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if taken == piece.frames:
                    break
                yield packet, piece.first + taken, lead
                taken += 1
            if taken != piece.frames:
                raise JobError(f"url_video: {taken} of the {piece.frames} frames next to a cut were encoded.")
        finally:
            container.close()

    return packets(), sets


def _moved(packets: Iterator[av.Packet], stream: av.Stream, samples: int) -> Iterator[av.Packet]:
    """The sound's packets for the output; the last one ends where the sound does, to the sample."""
    held = None
    for packet in packets:
        if packet.size == 0:
            continue
        packet.stream = stream
        if held is not None:
            yield held
        held = packet
    if held is not None:
        if samples and held.pts is not None and held.time_base == Fraction(1, stream.sample_rate):
            held.duration = max(min(held.duration or samples, samples - held.pts), 1)
        yield held


def _timed(packets: Iterator[av.Packet], order: int) -> Iterator[tuple[Fraction, int, av.Packet]]:
    for packet in packets:
        yield Fraction(packet.dts if packet.dts is not None else packet.pts) * packet.time_base, order, packet
