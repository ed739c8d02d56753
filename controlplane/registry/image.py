"""Container image references, parsed far enough to default `imagePullPolicy` the way kube-apiserver does.

The v1 defaulter pulls `Always` when the image's tag is `latest`, which includes an image written with neither a
tag nor a digest (the reference grammar gives it `latest`), and `IfNotPresent` otherwise, including for
references that do not parse at all (validation, not defaulting, is where a bad image would be reported, and
for images the API server only checks presence). The grammar is the Docker distribution one: an optional
registry host (recognised by a dot, a colon, or being `localhost`), lowercase path components, an optional
`:tag` and an optional `@algorithm:hex` digest.
"""

from __future__ import annotations

import re

_ALNUM = "[a-z0-9]+"
_SEPARATOR = "(?:[._]|__|[-]+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = f"{_HOST}(?::[0-9]+)?"
_NAME = f"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(f"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_IDENTIFIER = re.compile("[a-f0-9]{64}")
_NAME_MAX = 255


def image_tag(image: str) -> str | None:
    """The tag a reference resolves to: its own, `latest` when it has neither tag nor digest, "" for a bare
    digest; None when the reference does not parse."""
    if _IDENTIFIER.fullmatch(image):
        return None
    slash = image.find("/")
    first = image[:slash] if slash >= 0 else ""
    has_domain = slash >= 0 and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first)
    remainder = image[slash + 1 :] if has_domain else image
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        return None
    match = _REFERENCE.fullmatch(image if has_domain else f"docker.io/{image}")
    if match is None or len(match.group(1)) > _NAME_MAX:
        return None
    tag, digest = match.group(2), match.group(3)
    if tag:
        return tag
    return "" if digest else "latest"


def default_pull_policy(image: str) -> str:
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"
