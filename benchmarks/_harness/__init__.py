"""What every benchmark shares, kept apart from the workloads.

Workload modules (``kernel/``, ``web/``, ``live/``, ``cluster/``, ``micro/``)
import from here, never from one another. The measuring core is re-exported
from this package; the rest is imported by module, so that a kernel
benchmark does not pull in wsproto or orjson:

================  ==============================================================
module            what it holds
================  ==============================================================
``measure``       :class:`Sample`, :class:`Workload`, :class:`Result`,
                  :func:`measure` (ours and the baseline alternately, medians),
                  :func:`select`, RSS, :func:`settle`, :func:`capture_reports`
``stats``         :func:`percentile` (nearest rank), :func:`median_us`
``counter``       the counter GenServer W3 and W4 talk to
``servers``       a benchmark server in an OS process of its own
                  (:func:`server_process`), its RSS, the quiet collector both
                  servers and the load generator use, the error tally
``web_client``    :class:`PhxClient` (Phoenix V2 frames over wsproto) and
                  :func:`http_get`: the load generator's side of the wire
================  ==============================================================
"""

from .measure import (
    BASELINE,
    Result,
    Sample,
    Workload,
    capture_reports,
    measure,
    rss_bytes,
    select,
    settle,
    summarise,
    workload_options,
)

__all__ = [
    "Sample",
    "Workload",
    "Result",
    "measure",
    "summarise",
    "workload_options",
    "select",
    "rss_bytes",
    "settle",
    "capture_reports",
    "BASELINE",
]
