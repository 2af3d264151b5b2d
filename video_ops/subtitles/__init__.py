"""Subtitles as users have them (SRT in any common encoding) turned into a styled ASS script for libass."""
