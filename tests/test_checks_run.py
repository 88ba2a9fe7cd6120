"""The checks across a run's answers (``run_check``: the same image gives the same face box, every
crop contains its face, request ids are unique, a repeated case answers the same) and the check
against a recording (``behaviour_matches_recording``), each shown failing on answers that break
its documented rule."""

from __future__ import annotations
