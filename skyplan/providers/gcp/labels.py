"""skyplan's tags as GCP labels, and back (pure).

GCP label keys and values allow only lowercase letters, digits, ``_`` and
``-``, at most 63 characters (keys start with a letter). skyplan's tags carry
addresses such as ``module.serve.workload.api["eu"]``, so values are encoded
reversibly: ``[a-z0-9-]`` stay as they are, every other character becomes
``_`` followed by the two hex digits of each of its UTF-8 bytes
(``workload.train`` -> ``workload_2etrain``). A value longer than 63 characters
continues in ``KEY-2``, ``KEY-3``, ... so nothing is cut off.

skyplan's tag ``skyplan:NAME`` is the label ``skyplan-NAME``; other labels
are reported as tags under their own names.

The user's tags (``tags`` and ``default_tags``) are made valid labels the way
a person would: lowercased, other characters as ``_``, cut to 63 characters,
keys not starting with a letter prefixed with ``t`` (``Team=Vision`` ->
``team=vision``, ``2fa=On`` -> ``t2fa=on``).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

MAX = 63
PREFIX_TAG = "skyplan:"
PREFIX_LABEL = "skyplan-"
_KEEP = re.compile(r"[a-z0-9-]")
_BAD = re.compile(r"[^a-z0-9_-]")
_ESC = re.compile(r"_([0-9a-f]{2})")
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_PART = re.compile(r"^(?P<key>.+)-(?P<n>[2-9]|[1-9]\d+)$")


def encode(text: str) -> str:
    """Any string as label-value characters, reversibly (may exceed 63: see chunks)."""
    out = []
    for ch in str(text):
        if _KEEP.fullmatch(ch):
            out.append(ch)
        else:
            out.extend(f"_{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def decode(value: str) -> str:
    """The inverse of ``encode``."""
    raw = bytearray()
    i = 0
    while i < len(value):
        m = _ESC.match(value, i)
        if m:
            raw.append(int(m.group(1), 16))
            i = m.end()
        else:
            raw.extend(value[i].encode("utf-8"))
            i += 1
    return raw.decode("utf-8", "replace")


def valid_key(key: str) -> bool:
    return bool(_KEY.match(key))


def valid_value(value: str) -> bool:
    return bool(_VALUE.match(value))


def _chunks(key: str, encoded: str) -> dict[str, str]:
    parts = [encoded[i:i + MAX] for i in range(0, len(encoded), MAX)] or [""]
    return {(key if n == 0 else f"{key}-{n + 1}"): part for n, part in enumerate(parts)}


def to_labels(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as labels: skyplan's own are encoded (and chunked); others must already
    be valid labels (raises ValueError naming the offending one)."""
    out: dict[str, str] = {}
    for key, value in tags.items():
        key, value = str(key), str(value)
        if key.startswith(PREFIX_TAG):
            out.update(_chunks(PREFIX_LABEL + key[len(PREFIX_TAG):], encode(value)))
            continue
        if not valid_key(key) or not valid_value(value):
            raise ValueError(f"{key}={value!r} is not a valid GCP label (lowercase letters, digits, '_' and '-', "
                             "at most 63 characters, keys starting with a letter)")
        out[key] = value
    return out


def _normal(text: str) -> str:
    return _BAD.sub("_", str(text).lower())[:MAX]


def user_labels(tags: Mapping[str, Any]) -> dict[str, str]:
    """The user's tags as valid labels (see the module doc); skyplan's own are left out."""
    out: dict[str, str] = {}
    for key, value in tags.items():
        if str(key).startswith(PREFIX_TAG):
            continue
        k = _normal(key)
        out[k if k[:1].isalpha() else _normal("t" + k)] = _normal(value)
    return out


def label_keys(tag: str, labels: Mapping[str, str]) -> list[str]:
    """Every label key ``tag`` occupies in ``labels`` (its continuation parts too)."""
    if not tag.startswith(PREFIX_TAG):
        return [tag] if tag in labels else []
    base = PREFIX_LABEL + tag[len(PREFIX_TAG):]
    return [k for k in labels if k == base or ((m := _PART.match(k)) and m.group("key") == base)]


def to_tags(labels: Mapping[str, str]) -> dict[str, str]:
    """Labels as tags: ``skyplan-*`` labels decoded (parts joined), others as they are."""
    parts: dict[str, dict[int, str]] = {}
    out: dict[str, str] = {}
    for key, value in labels.items():
        if not key.startswith(PREFIX_LABEL):
            out[key] = value
            continue
        m = _PART.match(key)
        base, n = (m.group("key"), int(m.group("n"))) if m and m.group("key").startswith(PREFIX_LABEL) \
            and m.group("key") in labels else (key, 1)
        parts.setdefault(base, {})[n] = value
    for base, pieces in parts.items():
        joined = "".join(pieces[i] for i in sorted(pieces))
        out[PREFIX_TAG + base[len(PREFIX_LABEL):]] = decode(joined)
    return dict(sorted(out.items()))


__all__ = ["encode", "decode", "to_labels", "user_labels", "to_tags", "label_keys", "valid_key", "valid_value"]
