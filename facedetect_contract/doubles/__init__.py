"""Behaving like the endpoint: the fake, its images, the stub, in-process glue."""

__all__: list[str] = []
