"""The old import path of ``doubles.fake``, kept for consumers."""

from __future__ import annotations

from .doubles.fake import (
    CatalogImages,
    FaceDetectFake,
    FakeRequest,
    FakeResponse,
    Image,
    ImageSource,
    ImageUnavailable,
    named_reason,
)

__all__ = [
    "CatalogImages",
    "FaceDetectFake",
    "FakeRequest",
    "FakeResponse",
    "Image",
    "ImageSource",
    "ImageUnavailable",
    "named_reason",
]
