"""Code the project's tests share, one module per kind of thing it holds.

A test module is a list of tests; what several of them need (a live run to drive, a documented
body to start from, a child process to start, a hostile project to build) lives here, in a module
named for it, and each test imports it from here. Test modules never import each other nor a
conftest (``tests/tooling/test_test_imports.py`` finds any that does): a helper buried in a test
module is found by nobody, is collected with tests it has nothing to do with, and moves when that
test module is split.

- ``bodies``: the documented request and answer, read from the contracts' documented fixture and
  the profile's example image, never spelled out again.
- ``live``: a live run inside a test (against the fake, or a ``pytest --live`` child run).
- ``suite``: the contract suite as it ships (``facedetect-contract run``'s folder).
- ``processes``: child processes a test starts (the checkout, the child's environment, SIGINT).
- ``strategies``: drawing from a Hypothesis strategy outside a test of its own.
- ``hostile``: the consumer's project and the leak check of the hostile tier (its fault proxy
  stays in ``tests/hostile/proxy.py``).
"""

__all__: list[str] = []
