"""Built-in plugins: registered by name exactly like third-party plugins.

A module here without a leading underscore is a plugin (or, as ``timing/``, a package whose
``__init__`` exports one); a module with one (``_token_cache``, ``_budget``, ...) supports
plugins and is not registered itself.
"""
