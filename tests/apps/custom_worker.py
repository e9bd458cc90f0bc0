"""A worker class of a user's own, named by its dotted path (`-k custom_worker.OneAtATime`): the
smallest one docs/workers.md describes, serving through corn's handlers."""

import socket

from corn.workers.base import Worker


class OneAtATime(Worker):
    def run(self):
        listener = self.sockets[0].sock
        handler = self.handlers[0]
        listener.settimeout(0.5)
        while self.alive:
            self.notify()
            try:
                sock, addr = listener.accept()
            except (socket.timeout, InterruptedError):
                continue
            handler.handle(sock, addr)
