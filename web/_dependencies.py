"""The ``web`` extra's packages, checked first when ``web`` is imported.

Without this, a missing one would surface as a bare ``No module named
'h11'`` from deep inside the HTTP layer; with it, the error names the extra
to install (``otp.lowlevel.import_extra``).
"""

from otp.lowlevel import import_extra

for _module in ("h11", "wsproto", "orjson", "itsdangerous", "markupsafe"):
    import_extra(_module, extra="web", needed_by="the web layer (web)")
