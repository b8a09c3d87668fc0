"""Bytes of a command's output in, complete decoded lines out: `LineSplitter`.

Used by the rebuild runner on each raw chunk it reads. A line longer than `MAX_LINE_BYTES` is cut
at a UTF-8 character boundary (a huge line without a newline cannot stall the reader); invalid
UTF-8 is decoded with replacement; a `\r\n` ending loses its `\r`.
"""

from __future__ import annotations

MAX_LINE_BYTES = 64 * 1024


class LineSplitter:
    """Bytes in, complete decoded lines out; a line longer than `max_bytes` is cut at a UTF-8 boundary."""

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_bytes

    def feed(self, data: bytes) -> list[str]:
        return self.feed_text(data)[0]

    def feed_text(self, data: bytes) -> tuple[list[str], str | None]:
        """`feed`, and the same lines joined by newlines when that text came for free (else None).

        The runner writes that text to the log and scans it for the parser as it is: no join per chunk.
        """
        buf = self._buf
        if buf:
            first = data.find(b"\n")
            if 0 <= first and len(buf) + first <= self._max:
                # End the line the previous chunk left open, then take the rest the fast way.
                buf += data[:first]
                end = len(buf) - 1 if buf.endswith(b"\r") else len(buf)
                head = buf[:end].decode("utf-8", "replace")
                buf.clear()
                rest, rest_text = self.feed_text(data[first + 1 :])
                if not rest:
                    return [head], head
                rest.insert(0, head)
                return rest, None if rest_text is None else f"{head}\n{rest_text}"
        last = data.rfind(b"\n") if not buf else -1
        if last >= 0:
            # The common case: decode everything up to the last newline at once and split it (C speed);
            # the careful loop below only for chunks that may hold a line longer than the cap.
            text = data[:last].decode("utf-8", "replace")
            lines = text.split("\n")
            if last <= self._max or self._no_long_line(data, last) or max(map(len, lines)) * 4 <= self._max:
                joined: str | None = text
                if "\r" in text:
                    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
                    joined = None
                buf += data[last + 1 :]
                if len(buf) > self._max:
                    lines.extend(self.feed(b""))
                    joined = None
                return lines, joined
        buf += data
        out: list[str] = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0 or nl - start > self._max:
                break
            end = nl - 1 if nl > start and buf[nl - 1] == 0x0D else nl
            out.append(buf[start:end].decode("utf-8", "replace"))
            start = nl + 1
        while len(buf) - start > self._max:
            cut = start + self._max
            # Back up to a character boundary so a multi-byte character is not split in two.
            lowest = max(start + 1, cut - 3)
            while cut > lowest and (buf[cut] & 0xC0) == 0x80:
                cut -= 1
            out.append(buf[start:cut].decode("utf-8", "replace"))
            start = cut
            nl = buf.find(b"\n", start)
            while 0 <= nl and nl - start <= self._max:
                end = nl - 1 if nl > start and buf[nl - 1] == 0x0D else nl
                out.append(buf[start:end].decode("utf-8", "replace"))
                start = nl + 1
                nl = buf.find(b"\n", start)
        del buf[:start]
        return out, None

    def _no_long_line(self, data: bytes, last: int) -> bool:
        """True when no line in `data[:last]` can be longer than the cap: every aligned window of half the
        cap holds a newline (a run of `max` bytes without one would hold a whole window). A few `find`s
        per chunk instead of measuring every line; False only means "measure them"."""
        step = self._max // 2
        if step < 1:
            return False
        find = data.find
        return all(find(b"\n", k, k + step) >= 0 for k in range(0, last - step + 1, step))

    def flush(self) -> list[str]:
        if not self._buf:
            return []
        text = self._buf.decode("utf-8", "replace").removesuffix("\r")
        self._buf.clear()
        return [text]
