"""The Vietnamese alphabetical order, for the agency names shown sorted: pure Python, like
`competition.scoring` (no ICU needed).

Python compares strings by code point, which puts every letter with a diacritic after "z" and
"Đ" after "Z". Vietnamese orders its letters a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư
v x y (the Latin letters it does not use, f j w z, where the Latin alphabet has them), and the
tones only after the letters: a word without a tone, then with the grave, the hook, the tilde,
the acute and the dot below (ngang, huyền, hỏi, ngã, sắc, nặng)."""

import unicodedata

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER = {letter: index for index, letter in enumerate(ALPHABET)}
# The marks that make a letter of the alphabet (ă â ê ô ơ ư), and the tones, as NFD writes them.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_key(text):
    """A sort key putting `text` in Vietnamese alphabetical order: letters first (case and tones
    aside), then tones, then case; spaces and punctuation before digits, digits before letters,
    other scripts after them. Equal keys only for equal strings."""
    letters, tones = [], []
    for character in unicodedata.normalize("NFD", str(text)):
        if unicodedata.combining(character):
            if character in _TONES:
                tones[-1:] = [_TONES[character]] if tones else []
            elif character in _LETTER_MARKS and letters and letters[-1][0] == 2:
                composed = unicodedata.normalize("NFC", ALPHABET[letters[-1][1]] + character)
                if composed in _LETTER:
                    letters[-1] = (2, _LETTER[composed])
            continue
        lower = character.lower()
        if lower in _LETTER:
            letters.append((2, _LETTER[lower]))
        elif lower.isdigit():
            letters.append((1, ord(lower)))
        elif lower.isspace() or not lower.isalnum():
            letters.append((0, ord(" ") if lower.isspace() else ord(lower)))
        else:
            letters.append((3, ord(lower)))
        tones.append(0)
    return (tuple(letters), tuple(tones), text.swapcase())
