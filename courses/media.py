"""Lecture media: WebVTT captions from cues, and demo videos rendered locally (never downloaded).

A demo video is a sequence of slides (Pillow, with its bundled font, so no system fonts are needed)
encoded by the static ffmpeg that imageio-ffmpeg ships: H.264 video, silent AAC audio, faststart so
browsers can seek before the whole file arrives.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
import textwrap
from pathlib import Path

RENDERER_VERSION = "slides-v1"
WIDTH, HEIGHT = 960, 540


class MediaError(Exception):
    pass


def format_timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def captions_to_vtt(cues: list[dict]) -> str:
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        text = str(cue["text"]).replace("-->", "->")
        lines += [str(number), f"{format_timestamp(cue['start'])} --> {format_timestamp(cue['end'])}", text, ""]
    return "\n".join(lines)


def video_source_hash(*, title: str, subtitle: str, cues: list[dict]) -> str:
    payload = json.dumps([RENDERER_VERSION, title, subtitle, cues], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _slide(*, title: str, subtitle: str, bullets: list[str], path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), "#0f2a44")
    draw = ImageDraw.Draw(image)
    # A soft diagonal band gives the slide some depth without any asset files.
    for y in range(HEIGHT):
        shade = int(24 * y / HEIGHT)
        draw.line([(0, y), (WIDTH, y)], fill=(15 + shade, 42 + shade, 68 + shade))
    draw.rectangle([0, 0, 12, HEIGHT], fill="#f5a524")
    draw.text((56, 40), subtitle.upper(), font=_font(20), fill="#9ec5ea")
    y = 78
    for line in textwrap.wrap(title, width=38)[:3]:
        draw.text((56, y), line, font=_font(44), fill="#ffffff")
        y += 54
    y += 24
    for bullet in bullets:
        wrapped = textwrap.wrap(bullet, width=62)[:3]
        draw.ellipse([60, y + 10, 70, y + 20], fill="#f5a524")
        for line in wrapped:
            draw.text((88, y), line, font=_font(24), fill="#e8eef5")
            y += 32
        y += 12
        if y > HEIGHT - 60:
            break
    image.save(path)


def render_video(*, title: str, subtitle: str, cues: list[dict], out_path: Path) -> None:
    """Render slides that reveal one cue at a time, for as long as the cues last, into an MP4."""
    if not cues:
        cues = [{"start": 0.0, "end": 4.0, "text": title}]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        concat = []
        for index, cue in enumerate(cues):
            slide = tmpdir / f"slide{index:03d}.png"
            _slide(title=title, subtitle=subtitle, bullets=[c["text"] for c in cues[: index + 1]], path=slide)
            concat += [f"file '{slide.name}'", f"duration {cue['end'] - cue['start']:.3f}"]
        concat.append(f"file 'slide{len(cues) - 1:03d}.png'")  # the concat demuxer drops the last duration
        (tmpdir / "slides.txt").write_text("\n".join(concat) + "\n")
        duration = cues[-1]["end"]
        tmp_out = tmpdir / "out.mp4"
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(tmpdir / "slides.txt"),
            "-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=44100",
            "-t", f"{duration:.3f}", "-r", "12", "-vf", "format=yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "28",
            "-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart", "-shortest",
            str(tmp_out),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise MediaError(f"ffmpeg failed for {title!r}: {result.stderr.strip()[-500:]}")
        out_path.write_bytes(tmp_out.read_bytes())


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def probe_duration(path: Path | str) -> float:
    """A media file's duration in seconds, read from its container by imageio-ffmpeg's ffmpeg (which
    prints `Duration: HH:MM:SS.ss` for its input; nothing is decoded). Raises MediaError."""
    import re

    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, timeout=60
    )
    match = re.search(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", result.stderr)
    if match is None:
        raise MediaError(f"could not read the duration of {path}: {result.stderr.strip()[-300:]}")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


# A declared duration this far from the file's (as a share of the file's) is reported; the file wins.
DURATION_TOLERANCE = 0.02


def duration_mismatch(*, declared: float, probed: float) -> bool:
    return probed > 0 and abs(declared - probed) / probed > DURATION_TOLERANCE
