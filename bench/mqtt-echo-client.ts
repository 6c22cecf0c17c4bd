/**
 * Echo service for a stock broker (Mosquitto): an MQTT client that answers
 * every publish on `teddy/v1/+/req` with the same payload on the matching
 * `res` topic. Run as a child process with the broker URL as its argument;
 * prints `{"event":"ready"}` once subscribed.
 */
import { connectMqtt } from '../test/helpers/mqtt-connect.js';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: mqtt-echo-client.ts mqtt://host:port\n');
  process.exit(2);
}
const client = await connectMqtt(url, { clientId: `echo-${process.pid}`, clean: true });
client.on('message', (topic, payload) => {
  client.publish(`${topic.slice(0, -4)}/res`, payload, { qos: 1 });
});
await client.subscribeAsync('teddy/v1/+/req', { qos: 1 });
process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`);
process.on('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
