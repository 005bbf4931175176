"""Go's ``base64.StdEncoding.DecodeString``, with its error text, for the contents API's ``content``.

Go skips ``\\r`` and ``\\n`` anywhere, requires the padding, and reports the first bad byte's offset.

Example::

    std_decode("aGk=")        # b"hi"
    std_decode("a$")          # ValueError("illegal base64 data at input byte 1")
"""

from __future__ import annotations

from typing import Final

__all__ = ["std_decode"]

_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_VALUES: Final = {char: index for index, char in enumerate(_ALPHABET)}
_NEWLINES: Final = (0x0A, 0x0D)
_PAD: Final = 0x3D


def _corrupt(offset: int) -> ValueError:
    return ValueError(f"illegal base64 data at input byte {offset}")


def _skip_newlines(src: bytes, index: int) -> int:
    while index < len(src) and src[index] in _NEWLINES:
        index += 1
    return index


def _padding_end(src: bytes, index: int, filled: int) -> int:
    """Past the padding that began just before ``index`` with ``filled`` symbols read; Go's checks."""
    if filled < 2:
        raise _corrupt(index - 1)
    if filled == 2:
        index = _skip_newlines(src, index)
        if index == len(src):
            raise _corrupt(len(src))
        if src[index] != _PAD:
            raise _corrupt(index - 1)
        index += 1
    index = _skip_newlines(src, index)
    if index < len(src):
        raise _corrupt(index)
    return index


def _quantum(src: bytes, index: int) -> tuple[int, list[int], bool]:
    """One group of up to four symbols from ``index``: the next index, the symbols, whether it ended."""
    symbols: list[int] = []
    while len(symbols) < 4:
        if index == len(src):
            if symbols:
                raise _corrupt(index - len(symbols))
            return index, symbols, True
        char = src[index]
        index += 1
        if char in _VALUES:
            symbols.append(_VALUES[char])
        elif char == _PAD:
            return _padding_end(src, index, len(symbols)), symbols, True
        elif char not in _NEWLINES:
            raise _corrupt(index - 1)
    return index, symbols, False


def std_decode(text: str) -> bytes:
    """Decode standard padded base64 exactly as Go does; ValueError with Go's message otherwise."""
    src = text.encode("utf-8")
    out = bytearray()
    index, done = 0, False
    while not done:
        index, symbols, done = _quantum(src, index)
        value = 0
        for position, symbol in enumerate(symbols):
            value |= symbol << (18 - 6 * position)
        out += value.to_bytes(3, "big")[: max(len(symbols) - 1, 0)]
    return bytes(out)
