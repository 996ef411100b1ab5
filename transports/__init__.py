"""Drivers of the pure core: sockets, the in-memory pair, the anyio runner and the CLI.

Everything here does I/O; everything in ``realtime_sansio.protocol`` does none.
"""
