"""The content digest every card cache keys on: blake2b-128 of a file's bytes, the last few large ones
remembered (a card hashes each version two or three times: the card key, then the parser's caches).

Its own module so that `diff` (the card cache) and `nixparse` (the parse cache) both use it without
importing each other."""

from __future__ import annotations

import hashlib

_RECENT: dict[int, tuple[bytes, bytes]] = {}  # id → (the bytes, their digest)


def content_digest(data: bytes) -> bytes:
    """blake2b-128 of `data`; the last few large ones remembered."""
    hit = _RECENT.get(id(data))
    if hit is not None and hit[0] is data:  # held here, so its id is not another object's
        return hit[1]
    digest = hashlib.blake2b(data, digest_size=16).digest()
    if len(data) > 4096 and type(data) is bytes:  # immutable: the digest stays true while it is held
        if len(_RECENT) >= 8:
            _RECENT.clear()
        _RECENT[id(data)] = (data, digest)
    return digest
