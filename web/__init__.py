"""The web layer: a Phoenix-compatible real-time server built as supervised otp processes.

It lands piece by piece (see the issues): the V2 frame serializer
(:mod:`web.serializer`) first; the endpoint, sockets, channels, Presence and
LiveView follow. Needs the ``web`` extra (``pip install trio-otp[web]``).
"""
