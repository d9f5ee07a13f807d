"""The built-in ``timing`` plugin and what it owns: the per-call ``Timing`` record, the hook it
declares (``chatmini_timing``) and slow-call rules. See docs/observability.md."""

from .hookspecs import declare, declared, warn_unless_declared
from .plugin import TimingPlugin
from .record import AttemptTiming, Timing, route
from .rules import SlowCallAlert, SlowCallRule

__all__ = [
    "AttemptTiming",
    "SlowCallAlert",
    "SlowCallRule",
    "Timing",
    "TimingPlugin",
    "declare",
    "declared",
    "route",
    "warn_unless_declared",
]
