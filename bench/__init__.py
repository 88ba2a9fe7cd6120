"""The benchmark of this suite against Schemathesis (``python3 dev.py bench``), one module per
concern.

``run.py`` is the entry point, run as a script (``python bench/run.py``, which puts the checkout on
``sys.path``); each section's module (``offline``, ``http``, ``live``, ``suite``, ``tiers``,
``double``) measures one thing and says in its docstring how, ``common`` holds what they share and
``targets`` the targets and the table. It is no part of the package: not installed, not shipped in
the wheel.
"""
