"""Streaming for Kubernetes' exec, attach and port-forward subresources: the wire protocols
kubectl speaks, and the kubelet's streams they are relayed to. No web framework here: a front
door (the apiserver's REST handlers) accepts the WebSocket or HTTP upgrade and hands over
functions that receive and send messages or bytes.

The protocols, pure (bytes in, bytes out):
- remotecommand.py: the channel protocol of exec and attach WebSockets (v5.channel.k8s.io,
  v4.channel.k8s.io, their base64 and unversioned variants): `negotiate(requested)`,
  `ChannelProtocol.frame(channel, data)`, `ChannelDecoder.feed(message)` -> Stdin | StdinClosed |
  Resize events, the final Status (`exit_status`, `success_status`, `internal_error_status`).
- spdy/: SPDY/3.1 frames (zlib header blocks with SPDY/3's dictionary) and the server side of a
  session without I/O (`ServerSession.receive(bytes)` -> events; `reply`, `send_data`,
  `end_stream`, `reset`, `ping`, `go_away`; `data_to_send()`).
- port_forward.py: portforward.k8s.io on that session: error and data streams paired by
  requestID, relayed to a connection per pair; `serve_port_forward(read, write, dial)`.
- port_forward_websocket.py: port-forward on plain WebSocket channels (the kubelet's
  v4.channel.k8s.io protocol): `negotiate(requested)`, `convert_ports(values)`,
  `kubelet_ports(values)`, `serve_port_forward_websocket(protocol, ports, receive, send, dial)`.

The kubelet side (sessions.py, over a kubelet_pb2_grpc.KubeletStub):
- `ContainerSession.exec(stub, namespace=, pod_name=, container=, command=, stdin=, stdout=,
  stderr=, tty=)` and `.attach(...)`: `send_stdin(bytes)`, `resize(w, h)`, `close_stdin()`,
  `async for stream, data in session`, then `exit_code`; `close()`.
- `PortForwardConnection.open(stub, namespace=, pod_name=, port=)`: `read()`, `write(bytes)`,
  `close_write()`, `close()`. Both raise KubeletStreamError (the kubelet's code and message).

Glue for a REST handler:
- exec_relay.py: `relay_remotecommand(protocol, StreamOptions(stdin, stdout, stderr, tty),
  open_session, receive, send, attach=False)` runs one exec/attach WebSocket to its end.
- For port-forward, `serve_port_forward(read, write, dial)` with `read`/`write` on the WebSocket
  tunnel (subprotocol SPDY/3.1+portforward.k8s.io, binary messages) or the upgraded connection
  (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`), and
  `dial = lambda port: PortForwardConnection.open(stub, ..., port=port)`.
"""
