/**
 * The benchmark's yardstick: a bare Aedes broker set up exactly like the
 * gateway's transport (plain TCP, TCP_NODELAY, in-broker 'publish' hook) that
 * answers every publish on `teddy/v1/{id}/req` by publishing the same payload
 * to `teddy/v1/{id}/res` — no auth, ACL, decoding or cache. Plain JavaScript,
 * run with plain `node` (no TypeScript loader), so its memory is Aedes's own.
 * Prints `{"event":"ready","mqttUrl":...,"pid":...}` when listening.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const aedes = await Aedes.createBroker();
aedes.on('publish', (packet, client) => {
  if (!client || !packet.topic.endsWith('/req')) return;
  aedes.publish(
    { cmd: 'publish', topic: `${packet.topic.slice(0, -4)}/res`, payload: packet.payload, qos: 1, retain: false, dup: false },
    () => undefined,
  );
});
const server = createServer((socket) => {
  socket.setNoDelay(true);
  aedes.handle(socket);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'ready', mqttUrl: `mqtt://127.0.0.1:${port}`, pid: process.pid })}\n`);
});
process.on('SIGTERM', () => aedes.close(() => server.close(() => process.exit(0))));
