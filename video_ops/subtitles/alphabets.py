"""The letters beyond ASCII that each language's text uses: evidence of which code page a file is in.

Bytes of one single-byte code page read as another are still letters, but letters no one language
uses together (`Èekaj, šta æe` is Serbian `Čekaj, šta će` read as Windows-1252): the right code page
is the one whose reading is a real alphabet. Lowercase here; a letter's capital counts the same.
"""

from __future__ import annotations

import functools

_CYRILLIC_CORE = "абвгдежзийклмнопрстуфхцчшщъыьэюя"
LETTERS = {
    "Portuguese": "áâãàçéêíóôõú",
    "Spanish": "áéíóúñü",
    "French": "àâæçéèêëîïôœùûüÿ",
    "German": "äöüß",
    "Italian": "àèéìíîòóù",
    "Dutch": "áéëïóöüèĳ",
    "Catalan": "àçéèíïòóúü",
    "Swedish/Finnish": "åäöšž",
    "Danish/Norwegian": "æøåéó",
    "Icelandic": "áðéíóúýþæö",
    "Estonian": "äõöüšž",
    "Serbian/Croatian/Bosnian": "čćđšž",
    "Slovenian": "čšžćđ",
    "Czech": "áčďéěíňóřšťúůýž",
    "Slovak": "áäčďéíĺľňóôŕšťúýž",
    "Polish": "ąćęłńóśźż",
    "Hungarian": "áéíóöőúüű",
    "Romanian": "ăâîşţșț",
    "Turkish": "çğıöşüâîû",
    "Lithuanian": "ąčęėįšųūž",
    "Latvian": "āčēģīķļņšūž",
    "Albanian": "çë",
    "Russian": _CYRILLIC_CORE + "ё",
    "Ukrainian": _CYRILLIC_CORE.replace("ъ", "").replace("ы", "").replace("э", "") + "ґєії",
    "Belarusian": _CYRILLIC_CORE.replace("и", "").replace("щ", "").replace("ъ", "") + "ёіў",
    "Bulgarian": _CYRILLIC_CORE.replace("ы", "").replace("э", ""),
    "Serbian (Cyrillic)": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "Macedonian": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
    "Greek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώϊϋΐΰς",
}


@functools.lru_cache(maxsize=1)
def alphabets() -> dict[str, frozenset[str]]:
    """Each language's letters in both cases (a capital that is two characters, like `SS`, is left out)."""
    result = {}
    for language, letters in LETTERS.items():
        capitals = {letter.upper() for letter in letters if len(letter.upper()) == 1}
        result[language] = frozenset(letters) | capitals | ({"İ"} if language == "Turkish" else set())
    return result
