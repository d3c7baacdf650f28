"""Shared ISCC processing library for the ``iscc``, ``metadata`` and ``simprint`` plugins.

Not a plugin itself (the leading underscore keeps it out of plugin discovery). Modules that run
in the web server process (``errors``, ``settings``, ``capabilities``, ``query``) stay light;
only ``work`` and ``sdk`` touch iscc-sdk, and only inside worker processes.
"""
