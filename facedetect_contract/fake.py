"""The old import path of ``doubles.fake``, kept for consumers."""

from __future__ import annotations

from .doubles.fake import (
    NAMES_FILE,
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageSource,
    ImageUnavailable,
    NamedImage,
    image_names,
    named_failure,
    named_reason,
)

__all__ = [
    "NAMES_FILE",
    "CatalogImages",
    "FaceDetectFake",
    "FakeRequest",
    "FakeResponse",
    "Image",
    "ImageSource",
    "ImageUnavailable",
    "NamedImage",
    "image_names",
    "named_failure",
    "named_reason",
]
