"""Where a worker is: the Python stack of every thread and every greenlet, as text for the log.

A worker that the master aborts (SIGABRT after `timeout`) logs this before it exits, so the
operator sees which request was stuck and on which line. Inside a signal handler the main
thread's stack is the `frame` the handler received: with gevent that is the stack of the greenlet
that was running and never yielded, the one that starved the hub. Every other greenlet is
suspended, and its stack is its `gr_frame`.

Only called on that rare path: it walks the garbage collector's objects to find the greenlets.

Plane: control.
"""

import gc
import sys
import threading
import traceback


def format_frame(frame):
    """The stack ending at `frame`, oldest call first, as indented traceback lines."""
    if frame is None:
        return "    (no Python frame)\n"
    return "".join("  " + line for line in traceback.format_stack(frame))


def format_threads(frame):
    """The main thread's stack (ending at `frame`), then every other thread's."""
    parts = [f"Main thread (interrupted here):\n{format_frame(frame)}"]
    parts += _other_threads()
    return "".join(parts)


def format_greenlets(frame):
    """Every live greenlet's stack, the running one first (its stack ends at `frame`), then the
    other threads' stacks."""
    from greenlet import getcurrent, greenlet

    running = getcurrent()
    gc.unfreeze()  # the worker froze what existed at boot (the hub, the main greenlet): list those too
    others = [
        obj for obj in gc.get_objects() if isinstance(obj, greenlet) and obj is not running and not obj.dead
    ]
    total = len(others) + 1
    parts = [f"Greenlet 1 of {total}, running (it did not yield; interrupted here): {_name(running)}\n"
             f"{format_frame(frame)}"]
    for number, glet in enumerate(others, start=2):
        state = "waiting" if glet.gr_frame is not None else "not started"
        parts.append(f"Greenlet {number} of {total}, {state}: {_name(glet)}\n{format_frame(glet.gr_frame)}")
    parts += _other_threads()
    return "".join(parts)


def _other_threads():
    """The stacks of the threads other than the calling one. (gevent patches the thread
    identity functions, so the calling thread is recognised by its frame instead.)"""
    here = sys._getframe()
    frames = sys._current_frames()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    parts = []
    for ident, frame in frames.items():
        if frame is not here:
            parts.append(f"Thread {names.get(ident, ident)}:\n{format_frame(frame)}")
    return parts


def _name(glet):
    try:
        text = repr(glet)
    except Exception:
        text = object.__repr__(glet)
    return text if len(text) <= 300 else text[:297] + "..."
