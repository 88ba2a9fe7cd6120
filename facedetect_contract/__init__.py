"""Contract tests for DashScope's EMO image-detection endpoint (``emo-detect-v1``, face-detect)."""

from __future__ import annotations

__version__ = "0.2.0"
PROJECT_URL = "https://github.com/facedetect-contract/facedetect-contract"
