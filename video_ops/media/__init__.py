"""Media building blocks: FFmpeg and ffprobe runners, encoders and the GPU probe, image frames."""
