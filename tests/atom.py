"""An Atom feed checker: the MUST-level rules of RFC 4287 that a feed reader relies on, each with
its section, so a failing feed says which rule it breaks. (The W3C feed validator is a web service
and Python 2; nothing here may reach the internet.)"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _iri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("urn", "tag", "mailto"))


def _date(element: ET.Element, where: str, problems: list[str]) -> None:
    if not RFC3339.match((element.text or "").strip()):
        problems.append(f"§3.3 {where}: {element.text!r} is not an RFC 3339 date-time")


def _common(element: ET.Element, where: str, problems: list[str], *, needs_author: bool) -> None:
    for name in ("id", "title", "updated"):
        found = element.findall(ATOM + name)
        if len(found) != 1:
            problems.append(f"{where}: exactly one atom:{name} is required, found {len(found)}")
    for found in element.findall(ATOM + "id"):
        if not _iri((found.text or "").strip()):
            problems.append(f"§4.2.6 {where}: atom:id {found.text!r} is not an absolute IRI")
    for found in element.findall(ATOM + "updated"):
        _date(found, where, problems)
    if needs_author and not element.findall(ATOM + "author"):
        problems.append(f"§4.1.1 {where}: an atom:author is required (none here nor on the entry)")
    for author in element.findall(ATOM + "author"):
        if len(author.findall(ATOM + "name")) != 1 or not (author.findtext(ATOM + "name") or "").strip():
            problems.append(f"§3.2 {where}: a person construct needs exactly one non-empty atom:name")
    alternates = set()
    for link in element.findall(ATOM + "link"):
        href = link.get("href")
        if not href:
            problems.append(f"§4.2.7.1 {where}: atom:link without href")
        elif not _iri(href):
            problems.append(f"§4.2.7.1 {where}: link href {href!r} is not absolute")
        if link.get("rel", "alternate") == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in alternates:
                problems.append(f"§4.1.1 {where}: two alternate links with the same type and hreflang")
            alternates.add(key)


def problems(feed_bytes: bytes) -> list[str]:
    """Every rule the feed breaks (empty: it conforms)."""
    try:
        root = ET.fromstring(feed_bytes)
    except ET.ParseError as error:
        return [f"not well-formed XML: {error}"]
    if root.tag != ATOM + "feed":
        return [f"the document element is {root.tag}, not atom:feed"]
    found: list[str] = []
    entries = root.findall(ATOM + "entry")
    every_entry_has_one = bool(entries) and all(e.findall(ATOM + "author") for e in entries)
    _common(root, "feed", found, needs_author=not every_entry_has_one)
    if not any(link.get("rel") == "self" for link in root.findall(ATOM + "link")):
        found.append("§4.1.1 feed: should contain a link with rel=\"self\" (feed readers need it to subscribe)")
    ids = [e.findtext(ATOM + "id") for e in entries]
    if len(ids) != len(set(ids)):
        found.append("§4.1.1 feed: two entries with the same atom:id and atom:updated")
    for n, entry in enumerate(entries, start=1):
        where = f"entry {n}"
        _common(entry, where, found, needs_author=False)
        has_content = entry.find(ATOM + "content") is not None
        links = [link for link in entry.findall(ATOM + "link") if link.get("rel", "alternate") == "alternate"]
        if not has_content and not links:
            found.append(f"§4.1.1 {where}: without atom:content an alternate link is required")
        if not has_content and entry.find(ATOM + "summary") is None:
            found.append(f"§4.1.2 {where}: without atom:content an atom:summary is expected")
    return found
