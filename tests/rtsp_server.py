"""A real RTSP server for the stream tests: GStreamer's rtsp-server, run by the SYSTEM python3 with gi.

Usage: /usr/bin/python3 rtsp_server.py PORT CLIP [--auth USER:PASS]
Mounts:
  /live  a live test pattern (videotestsrc is-live=true, x264 zerolatency), shared by clients
  /clip  a real H.264 clip from CLIP (qtdemux, no re-encode), paced in real time, per client
Prints `READY <port>` on stdout once it listens on 127.0.0.1:PORT; exits 3 when the port is taken.
Not part of the product: the test fixture starts, kills, freezes (SIGSTOP) and restarts it.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

LIVE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)
CLIP = "( filesrc location={path} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("clip")
    parser.add_argument("--auth", help="USER:PASS required for every mount (basic auth)")
    args = parser.parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    live = GstRtspServer.RTSPMediaFactory()
    live.set_launch(LIVE)
    live.set_shared(True)
    clip = GstRtspServer.RTSPMediaFactory()
    clip.set_launch(CLIP.format(path=args.clip))
    clip.set_shared(False)
    if args.auth:
        user, password = args.auth.split(":", 1)
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", user)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
        for factory in (live, clip):
            factory.add_role_from_structure(
                Gst.Structure.new_from_string(
                    f"{user}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
                )
            )
    mounts.add_factory("/live", live)
    mounts.add_factory("/clip", clip)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr, flush=True)
        return 3
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
