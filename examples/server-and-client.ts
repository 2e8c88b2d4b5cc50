// A DM server and a device talking over HTTP on loopback: the device reports DevInfo, the
// server's queued Get is answered, the result lands in the server's store.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DmServer } from 'syncml-dm/server';
import { DmClient, MemoryStore } from 'syncml-dm/client';

const server = new DmServer({ dataDir: mkdtempSync(join(tmpdir(), 'dm-')), port: 0, admin: false, session: { serverId: 'dm.example.net' } });
const { url } = await server.start();

const deviceId = 'IMEI:356938035643809';
await server.store.putDevice({ id: deviceId, auth: { scheme: 'md5', clientName: 'device01', clientSecret: 's3cret', serverId: 'dm.example.net', serverSecret: 'srv-s3cret' } }, Date.now());
await server.store.addJob(deviceId, { kind: 'command', command: { verb: 'Get', target: './DevDetail/SwV' } }, Date.now());

const device = await DmClient.open({
  deviceId,
  store: new MemoryStore(),
  server: { url, serverId: 'dm.example.net', username: 'device01', password: 's3cret', serverPassword: 'srv-s3cret' },
  devDetail: { swV: '2.0.1' },
  onTrace: (e) => console.log(e.lines[0]),
});
const report = await device.runSession(); // package 1 … 4, MD5 with a challenge on first contact
console.log(report.reason, report.messagesSent, 'messages sent');

const [job] = await server.store.listJobs({ deviceId });
console.log(job.state, job.statuses.map((s) => `${s.cmd} ${s.code}`), job.results.map((r) => `${r.uri} = ${r.data}`));
await server.stop();
