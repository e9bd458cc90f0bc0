"""The stop signals of a process on its way out.

A terminal's Ctrl-C reaches the master and every worker at once, and the master then sends
QUIT to each worker: a worker gets two stop signals, in either order, and may get the second
while it exits. So may the master, when Ctrl-C is pressed twice. A Python handler cannot be left
in place for that: when the interpreter finalizes it resets every signal that has a Python
handler to SIG_DFL, and an INT or QUIT arriving then kills the process, QUIT with a core dump.
A process that is ending sets the stop signals to SIG_IGN instead, which Python leaves alone.

Plane: control.
"""

import signal

# What a worker ignores once it is ending.
STOP_SIGNALS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)


def already_quitting(sig, frame):
    """The handler of INT and QUIT once a worker is quitting: the second one changes nothing."""


def ignore_stop_signals(signals=STOP_SIGNALS):
    """From now on `signals` change nothing in this process.

    They are blocked meanwhile, so one that arrives during the change runs its old handler when
    the mask is set, instead of reaching Python once its handler is gone (Python then reports
    "Signal N ignored due to race condition"). A handler that raises then (one written for
    gunicorn exits on every QUIT) leaves the rest for another try."""
    for _ in range(3):
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, signals)
            for sig in signals:
                signal.signal(sig, signal.SIG_IGN)  # discards any that is pending
            signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
            return
        except BaseException:
            continue
