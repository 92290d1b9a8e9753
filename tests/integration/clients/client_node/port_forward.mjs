// @kubernetes/client-node's PortForward to one port of a pod, as a Node program uses it:
// `node port_forward.mjs NAMESPACE POD PORT REQUEST` writes REQUEST to the pod's port and the
// answer to stdout, the port's error channel to stderr; it exits once the WebSocket has closed.
// The package is loaded from CLIENT_NODE_MODULE (its dist/index.js), the cluster from KUBECONFIG.
import { pathToFileURL } from 'node:url';
import { PassThrough } from 'node:stream';

const { KubeConfig, PortForward } = await import(pathToFileURL(process.env.CLIENT_NODE_MODULE).href);
const [namespace, pod, port, request] = process.argv.slice(2);
const config = new KubeConfig();
config.loadFromDefault();
const input = new PassThrough();
const ws = await new PortForward(config).portForward(
  namespace, pod, [Number(port)], process.stdout, process.stderr, input,
);
ws.on('close', () => { process.exitCode = 0; });
input.write(request);
