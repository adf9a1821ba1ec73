"""A TCP proxy that can cut a database off: put it between the app and PostgreSQL, then
`cut()` closes every connection through it and refuses new ones (as a database that went
down, or a network that failed, does), and `restore()` lets connections through again, on
the same port. The tests' database outage (tests/api/test_database_faults.py) and
bench/faults_db.py use it, so that the PostgreSQL server others share is never restarted.

    with DatabaseProxy("127.0.0.1", 5432) as proxy:
        url = proxy.url_of("postgresql+psycopg://postgres@127.0.0.1:5432/momento")
        ...; proxy.cut(); ...; proxy.restore()
"""
import contextlib
import socket
import threading

import sqlalchemy as sa


class DatabaseProxy:
    def __init__(self, host, port):
        self.target = (host, port)
        self.port = None
        self._listener = None
        self._lock = threading.Lock()
        self._open = set()  # the sockets of the connections through it, both sides
        self.connections = 0  # connections accepted since it started
        self._closing = False

    # --- start, cut, restore, stop ---------------------------------------------------------

    def __enter__(self):
        self._listen()
        return self

    def __exit__(self, *_exc):
        self._closing = True
        self.cut()

    def url_of(self, url):
        """`url` (of the proxied server) with this proxy's address instead."""
        return sa.make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def cut(self):
        """Refuse new connections and close those open: their next read or write fails."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            _close(listener)  # shutdown wakes the thread blocked in accept() (Linux)
        for sock in sockets:
            _close(sock)

    def restore(self):
        """Accept connections again, on the same port."""
        if self._listener is None:
            self._listen()

    @property
    def open_connections(self):
        with self._lock:
            return len(self._open) // 2

    # --- the forwarding --------------------------------------------------------------------

    def _listen(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name="db-proxy-accept").start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(server)
                    continue
                self._open |= {client, server}
                self.connections += 1
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True,
                                 name="db-proxy-pump").start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open -= {source, sink}
        _close(source)
        _close(sink)


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
