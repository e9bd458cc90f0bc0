"""A tornado Application, which the tornado worker serves with tornado's own HTTP server.

/            "tornado says hello"
/echo        the request body back (POST)
/slow?s=N    prints "slow request began", answers after N seconds without blocking the IOLoop
/block?s=N   blocks the IOLoop for N seconds (time.sleep), for timeout tests
/pid         the worker's pid
"""

import asyncio
import os
import time

import tornado.web


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("tornado says hello")


class Echo(tornado.web.RequestHandler):
    def post(self):
        self.write(self.request.body)


class Slow(tornado.web.RequestHandler):
    async def get(self):
        print("slow request began", flush=True)
        await asyncio.sleep(float(self.get_argument("s", "1")))
        self.write("slept")


class Block(tornado.web.RequestHandler):
    def get(self):
        time.sleep(float(self.get_argument("s", "1")))
        self.write("blocked")


class Pid(tornado.web.RequestHandler):
    def get(self):
        self.write(str(os.getpid()))


app = tornado.web.Application([
    (r"/", Hello), (r"/echo", Echo), (r"/slow", Slow), (r"/block", Block), (r"/pid", Pid),
])
