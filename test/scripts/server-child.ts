/**
 * A DM server in its own process, for test/server-restart.test.ts.
 * Usage: node --import tsx server-child.ts DATA_DIR PORT ADMIN_PORT ADMIN_TOKEN
 * Prints one JSON line {url, adminUrl} when listening; stops cleanly on SIGTERM.
 */
import { DmServer } from '../../src/server/index.js';

const [dataDir, port, adminPort, token] = process.argv.slice(2);
const server = new DmServer({ dataDir, port: Number(port), admin: { port: Number(adminPort), token }, session: { serverId: 'dm.example.test' } });
const { url, adminUrl } = await server.start();
process.stdout.write(JSON.stringify({ url, adminUrl, pid: process.pid }) + '\n');
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
