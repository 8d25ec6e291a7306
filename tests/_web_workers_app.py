"""A small app for the web.workers tests (tests/web/test_workers.py): each worker's tree, built by :func:`children`.

``GET /node`` answers the worker's node name (``single`` in one process) and
``GET /pid`` its OS pid; ``GET /wait?topic=T`` subscribes to ``T`` on the
app's PubSub and answers the first message broadcast there; ``GET
/say?topic=T&message=M`` broadcasts ``M`` on ``T``. With the option
``{"fail": True}`` the factory raises (a worker that cannot start).
"""

import os

import otp
from otp import PubSub, pubsub
from web._http import Response
from web.endpoint import Endpoint

PUBSUB = "workers_app"


def children(worker):
    if worker.options.get("fail"):
        raise RuntimeError("this app cannot start")

    async def handler(request):
        if request.path == "/node":
            return text(worker.node_name or "single")
        if request.path == "/pid":
            return text(str(os.getpid()))
        if request.path == "/wait":
            pubsub.subscribe(PUBSUB, request.query["topic"])
            return text(await otp.receive(str))
        if request.path == "/say":
            pubsub.broadcast(PUBSUB, request.query["topic"], request.query["message"])
            return text("said")
        return Response(404, {"content-type": "text/plain"}, "not found")

    return [
        PubSub.child_spec(PUBSUB, adapter=worker.pubsub_adapter()),
        Endpoint.child_spec(handler, **worker.endpoint_options()),
    ]


def text(body: str) -> Response:
    return Response(200, {"content-type": "text/plain"}, body)
