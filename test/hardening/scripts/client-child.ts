/**
 * The reference client (`DmClient`, JsonFileStore) in its own process, for the fault tests: it
 * runs one client-initiated session and can kill itself (SIGKILL: no save, no goodbye) at a
 * chosen message.
 *
 * Usage: node --import tsx test/hardening/scripts/client-child.ts '<json ClientChildOptions>'
 * Prints JSON lines: `{"sent":n}` before each message goes out, `{"received":n,"status":s}` after
 * each answer, and `{"report":{...}}` at the end (or `{"error":"..."}`).
 */
import { DmClient, HttpTransport, JsonFileStore, type FallbackSignal, type Transport, type TransportRequest, type TransportResponse } from '../../../src/client/index.js';

export interface ClientChildOptions {
  url: string;
  deviceId: string;
  username: string;
  password: string;
  storeDir: string;
  /** SIGKILL just before message n (1-based) is sent. */
  killBefore?: number;
  /** SIGKILL once the answer to message n has arrived, before the client looks at it. */
  killAfter?: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as ClientChildOptions;

function line(v: unknown): Promise<void> {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(v) + '\n', () => resolve()));
}

class Killing implements Transport {
  private n = 0;
  constructor(private readonly inner: HttpTransport) {}

  async send(request: TransportRequest): Promise<TransportResponse> {
    const n = ++this.n;
    if (o.killBefore === n) {
      await line({ killed: 'before', message: n });
      process.kill(process.pid, 'SIGKILL');
    }
    await line({ sent: n });
    const res = await this.inner.send(request);
    await line({ received: n, status: res.status });
    if (o.killAfter === n) {
      await line({ killed: 'after', message: n });
      process.kill(process.pid, 'SIGKILL');
    }
    return res;
  }

  shouldFallBack(signal: FallbackSignal): boolean {
    return this.inner.shouldFallBack(signal);
  }
}

try {
  const client = await DmClient.open({
    deviceId: o.deviceId, store: new JsonFileStore(o.storeDir), fumo: false,
    server: { url: o.url, serverId: 'dm.example.test', username: o.username, password: o.password, authType: 'md5' },
    transport: new Killing(new HttpTransport({ retry: { count: 0 }, timeoutMs: 30_000 })),
  });
  const report = await client.runSession();
  await line({ report });
} catch (e) {
  await line({ error: (e as Error).message });
}
