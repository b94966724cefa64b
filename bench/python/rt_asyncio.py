"""asyncio, on its default selector loop (``asyncio``) and on uvloop (``uvloop``).

Each body is timed inside the coroutine, so creating and closing the loop
(``asyncio.run``) is outside the measured window.

* spawn: ``create_task`` × 1,000,000, then ``gather``;
* yield: 1,000 tasks × 1,000 ``await asyncio.sleep(0)``;
* pingpong: two ``asyncio.Queue(maxsize=1)``, one per direction;
* timers: 100,000 tasks ``await asyncio.sleep(d / 1000)``;
* chess: n/a, asyncio has no virtual clock;
* echo: ``asyncio.start_server`` + ``open_connection`` (TCP_NODELAY is the
  default of both loops), ``readexactly`` / ``write`` + ``drain``;
* files (``asyncio`` only): ``asyncio.to_thread(read)`` for every file,
  gathered, on the default executor (min(32, cores + 4) = 6 threads).
"""

import asyncio

import workloads as w

NO_VIRTUAL_CLOCK = "no virtual clock in asyncio"


class NotInstalled(Exception):
    """The runtime's package cannot be imported."""


def run(body, runtime):
    """Runs ``body()`` (a coroutine returning Measured) on the runtime's loop."""
    if runtime == "uvloop":
        try:
            import uvloop
        except ImportError as exc:
            raise NotInstalled(f"uvloop not importable: {exc}") from exc
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return asyncio.run(body())


async def _index(i):
    return i


async def spawn():
    meter = w.Meter()
    tasks = [asyncio.create_task(_index(i)) for i in range(w.SPAWN_TASKS)]
    total = sum(await asyncio.gather(*tasks))
    return w.Measured(meter.stop(), total)


async def _yielder():
    for _ in range(w.YIELDS_PER_TASK):
        await asyncio.sleep(0)
    return w.YIELDS_PER_TASK


async def yields():
    meter = w.Meter()
    tasks = [asyncio.create_task(_yielder()) for _ in range(w.YIELD_TASKS)]
    total = sum(await asyncio.gather(*tasks))
    return w.Measured(meter.stop(), total)


async def pingpong():
    meter = w.Meter()
    to_pong = asyncio.Queue(maxsize=1)
    to_ping = asyncio.Queue(maxsize=1)

    async def pong():
        while True:
            v = await to_pong.get()
            if v is None:
                return
            await to_ping.put(v + 1)

    async def ping():
        total = 0
        for i in range(w.PINGPONG_ROUND_TRIPS):
            await to_pong.put(i)
            total += await to_ping.get()
        await to_pong.put(None)
        return total

    ponger = asyncio.create_task(pong())
    total = await asyncio.create_task(ping())
    await ponger
    return w.Measured(meter.stop(), total)


async def _sleeper(d):
    await asyncio.sleep(d / 1000)
    return d + 1


async def timers():
    delays = w.timer_delays_ms()
    meter = w.Meter()
    tasks = [asyncio.create_task(_sleeper(d)) for d in delays]
    total = sum(await asyncio.gather(*tasks))
    return w.Measured(meter.stop(), total)


async def _echo_serve(reader, writer):
    try:
        while True:
            data = await reader.readexactly(w.ECHO_MESSAGE)
            writer.write(data)
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass
    finally:
        writer.close()


async def _echo_client(port, messages):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = 0
    for msg in messages:
        writer.write(msg)
        await writer.drain()
        back = await reader.readexactly(w.ECHO_MESSAGE)
        if back != msg:
            raise AssertionError("echoed bytes differ")
        received += len(back)
    writer.close()
    await writer.wait_closed()
    return received


async def echo():
    messages = [
        [w.echo_message(conn, rnd) for rnd in range(w.ECHO_ROUND_TRIPS)]
        for conn in range(w.ECHO_CONNECTIONS)
    ]
    meter = w.Meter()
    loop = asyncio.get_running_loop()
    handlers = []

    def on_connect(reader, writer):
        handlers.append(loop.create_task(_echo_serve(reader, writer)))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clients = [asyncio.create_task(_echo_client(port, msgs)) for msgs in messages]
    total = sum(await asyncio.gather(*clients))
    await asyncio.gather(*handlers)
    server.close()
    await server.wait_closed()
    return w.Measured(meter.stop(), total)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


async def files(paths):
    meter = w.Meter()
    contents = await asyncio.gather(*(asyncio.to_thread(_read, p) for p in paths))
    meter.stop()
    return w.Measured(meter, w.files_checksum(contents))
