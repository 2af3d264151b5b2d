"""A Whisper model with random weights in CTranslate2's format, made with numpy alone.

It has the real multilingual layout of large-v3 (51,866 tokens: text, special, 100 language and 1,501
timestamp tokens) but four-wide layers, so it loads and decodes in a fraction of a second. Its text is noise; it
exists so that the loading, caching and decoding code runs for real where no weights can be downloaded
(tests, the bench, a smoke test of an image): `python -m video_ops.speech.tiny_model FOLDER`.
"""

from __future__ import annotations

import itertools
import json
import string
import sys
from pathlib import Path

import numpy as np

from video_ops.speech.languages import LANGUAGES

TEXT_TOKENS = 50257  # GPT-2's byte-level BPE size, as in every multilingual Whisper
TASK_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nocaptions|>",
               "<|notimestamps|>")
TIMESTAMPS = 1501  # <|0.00|> .. <|30.00|>
WIDTH, HEADS, MEL_BINS, AUDIO_POSITIONS, TEXT_POSITIONS = 64, 2, 80, 1500, 448


def vocabulary() -> list[str]:
    """Every token in id order: byte-level text tokens, then the special, language and timestamp tokens."""
    alphabet = _byte_alphabet()
    letters = string.ascii_lowercase
    words = ("\u0120" + "".join(chars) for size in (2, 3, 4) for chars in itertools.product(letters, repeat=size))
    # CTranslate2 takes a model for multilingual when its vocabulary holds the empty token, as Whisper's does.
    text = [*alphabet, *itertools.islice(words, TEXT_TOKENS - len(alphabet) - 1), ""]
    return [*text, "<|endoftext|>", "<|startoftranscript|>", *(f"<|{code}|>" for code in LANGUAGES), *TASK_TOKENS,
            *(f"<|{n * 0.02:.2f}|>" for n in range(TIMESTAMPS))]


def _byte_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shifted, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            shifted[byte] = chr(byte)
        else:
            shifted[byte] = chr(256 + extra)
            extra += 1
    return [shifted[byte] for byte in range(256)]


def tokenizer_json(tokens: list[str]) -> dict:
    """A `tokenizers` byte-level BPE over the text tokens, with the rest as special added tokens."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": n, "content": token, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}
                         for n, token in enumerate(tokens) if n >= TEXT_TOKENS],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {token: n for n, token in enumerate(tokens[:TEXT_TOKENS])}, "merges": []},
    }


def make(folder: Path, seed: int = 0) -> Path:
    """Write the model (model.bin, config.json, vocabulary.json, tokenizer.json) into `folder`."""
    from ctranslate2.specs import model_spec, whisper_spec

    tokens = vocabulary()
    spec = whisper_spec.WhisperSpec(1, HEADS, 1, HEADS)
    rng = np.random.default_rng(seed)

    def fill(layer: object, name: str, value: object) -> None:
        if value is None or (name.endswith("/bias") and value == model_spec.OPTIONAL) or name.endswith("encodings"):
            setattr(layer, name.rsplit("/", 1)[-1], _weights(rng, name, len(tokens)))

    model_spec.visit_spec(spec, fill)
    spec.register_vocabulary(tokens)
    first_language = tokens.index(f"<|{LANGUAGES[0]}|>")
    spec.config.suppress_ids = []
    spec.config.suppress_ids_begin = [tokens.index("\u0120aa"), TEXT_TOKENS]
    spec.config.lang_ids = list(range(first_language, first_language + len(LANGUAGES)))
    spec.config.alignment_heads = [[0, head] for head in range(HEADS)]
    spec.validate()
    spec.optimize(quantization="float16")
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer_json(tokens)), encoding="utf-8")
    return folder


def _weights(rng: np.random.Generator, name: str, vocabulary_size: int) -> np.ndarray:
    """Random weights of the shape CTranslate2 expects for the variable `name`."""
    leaf = name.rsplit("/", 1)[-1]
    if leaf == "gamma":
        return np.ones(WIDTH, np.float32)
    if leaf == "beta":
        return np.zeros(WIDTH, np.float32)
    if leaf == "encodings":
        return _random(rng, (AUDIO_POSITIONS if name.startswith("encoder") else TEXT_POSITIONS, WIDTH))
    rows = {"self_attention/linear_0": 3 * WIDTH, "attention/linear_1": 2 * WIDTH, "ffn/linear_0": 4 * WIDTH,
            "decoder/embeddings": vocabulary_size, "decoder/projection": vocabulary_size}
    out = next((size for part, size in rows.items() if part in name), WIDTH)
    if leaf == "bias":
        return np.zeros(out, np.float32)
    if "conv" in name:
        return _random(rng, (WIDTH, MEL_BINS if "conv1" in name else WIDTH, 3))
    return _random(rng, (out, 4 * WIDTH if "ffn/linear_1" in name else WIDTH))


def _random(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return (rng.standard_normal(shape) * 0.2).astype(np.float32)


if __name__ == "__main__":
    print(make(Path(sys.argv[1])))
