"""A CONNECT proxy on 127.0.0.1 that records what it is sent: each request
head (the CONNECT line and its headers) and the bytes it relays. It resolves
names through `routes` only, so a test's made-up host name reaches a
loopback server and nothing else; `refuse` answers with that status line."""

import select
import socket
import threading


class ConnectProxy:
    def __init__(self, routes=None, refuse=None):
        #: Host name -> (address, port) to tunnel to.
        self.routes = routes or {}
        self.refuse = refuse
        #: One request head (bytes, up to the blank line) per connection.
        self.heads = []
        #: Every byte relayed in either direction.
        self.relayed = bytearray()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._listener.close()
        self._thread.join(5)

    def _serve(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client):
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.heads.append(head.split(b"\r\n\r\n")[0])
            if self.refuse:
                client.sendall(f"HTTP/1.1 {self.refuse}\r\nContent-Length: 0\r\n\r\n".encode())
                return
            host, _, port = head.split(b" ")[1].decode().rpartition(":")
            if host not in self.routes:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection(self.routes[host]) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._relay(client, upstream)

    def _relay(self, client, upstream):
        peers = {client: upstream, upstream: client}
        while True:
            ready, _, _ = select.select(list(peers), [], [], 10)
            if not ready:
                return
            for sock in ready:
                try:
                    data = sock.recv(65536)
                    if data:
                        peers[sock].sendall(data)
                except OSError:  # a side hung up: the tunnel ends
                    return
                if not data:
                    return
                self.relayed += data
