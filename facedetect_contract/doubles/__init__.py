"""Behaving like the endpoint: the fake, its images, the stub, in-process glue, and the faults
both doubles inject on demand (``faults``). Nothing is re-exported here: importing the package
must not load the stub's or respx's dependencies."""

__all__: list[str] = []
