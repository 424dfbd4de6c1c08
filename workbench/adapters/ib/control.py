"""A line-based control socket for the simulated gateway (``--control-port``).

Connect with any line client (``nc 127.0.0.1 7462``) and type one command per line; each
gets one line back (``ok ...`` or ``error ...``):

    status                  clock, clients, positions, working orders, net liquidation
    step [N]                publish the next N 5-second bars (default 1)
    drop [CLIENT_ID]        cut client connections (all, or one client id)
    restart [SECONDS]       close everything, come back after SECONDS (account kept)
    reject [REASON...]      reject the next order with error 201
    delay MS                delay every message to clients by MS milliseconds
    notice CODE [TEXT...]   send a notice: 1100 1101 1102 2103 2104 2105 2106 2158
    help                    this list
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the gateway imports this module
    from workbench.adapters.ib.gateway_sim import SimulatedGateway

log = logging.getLogger(__name__)

HELP = (
    "commands: status | step [N] | drop [CLIENT_ID] | restart [SECONDS] | reject [REASON] "
    "| delay MS | notice CODE [TEXT] | help"
)


async def run_command(gw: SimulatedGateway, line: str) -> str:
    """Execute one control command on the gateway's loop; returns the reply line."""
    parts = line.strip().split()
    if not parts:
        return "error empty command; " + HELP
    cmd, args = parts[0].lower(), parts[1:]
    try:
        if cmd == "status":
            return "ok " + json.dumps(gw.status(), sort_keys=True)
        if cmd == "step":
            before = gw.market.cursor
            bars = await gw.step_async(int(args[0]) if args else 1)
            last = f" last close {bars[-1].close}" if bars else " (the feed is exhausted)"
            return f"ok stepped {gw.market.cursor - before}{last}"
        if cmd == "drop":
            n = await gw.drop(int(args[0]) if args else None)
            return f"ok dropped {n} connection(s)"
        if cmd == "restart":
            await gw.restart_async(float(args[0]) if args else 0.0)
            return "ok restarted"
        if cmd == "reject":
            gw.account.reject_next.append(" ".join(args) or "rejected on command (simulator)")
            return "ok the next order will be rejected (201)"
        if cmd == "delay":
            gw.set_delay(float(args[0]))
            return f"ok delay {gw.delay_ms:g} ms"
        if cmd == "notice":
            code = int(args[0])
            await gw.notice(code, " ".join(args[1:]) or None)
            return f"ok sent {code}"
        if cmd == "help":
            return "ok " + HELP
    except (IndexError, ValueError) as exc:
        return f"error {cmd}: {exc or 'missing argument'}; {HELP}"
    return f"error unknown command {cmd!r}; {HELP}"


async def serve_control(gw: SimulatedGateway, host: str, port: int) -> asyncio.Server:
    """Listen for control connections; returns the server (its socket says the port)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while raw := await reader.readline():
                reply = await run_command(gw, raw.decode(errors="replace"))
                writer.write(reply.encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)
