/**
 * A small client of the server's admin API (JSON over HTTP with a bearer token): the demo drives
 * the server the way an operator would, and reads back what the server recorded the same way.
 */
import { Agent, request } from 'node:http';
import type { JobSpec } from '../../dm/jobs.js';
import type { AuthEvent, DeviceRecord, JobRecord, NotificationRecord, SessionRecord, StoredAlert, StoredNode } from '../../server/store.js';

/** A device as the API shows it (secrets replaced by flags). */
export type ApiDevice = Omit<DeviceRecord, 'auth'> & { auth: Omit<DeviceRecord['auth'], 'clientSecret' | 'serverSecret'> & { hasClientSecret: boolean; hasServerSecret: boolean } };

export class AdminApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class AdminClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(readonly baseUrl: string, private readonly token: string) {}

  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(this.baseUrl + path, {
        method, agent: this.agent,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (status < 200 || status > 299) {
            const msg = (json as { error?: string } | undefined)?.error ?? text.trim();
            reject(new AdminApiError(status, `admin API ${method} ${path} answered ${status}: ${msg}`));
            return;
          }
          resolve(json as T);
        });
      });
      req.on('error', (e) => reject(new Error(`admin API ${method} ${path}: ${e.message}`)));
      req.end(data);
    });
  }

  // ---- the calls the demo makes -------------------------------------------------------------------

  addDevice(input: { id: string; name?: string; auth: Record<string, string> }): Promise<ApiDevice> {
    return this.request('POST', '/api/devices', input);
  }

  device(id: string): Promise<ApiDevice> {
    return this.request('GET', `/api/devices/${encodeURIComponent(id)}`);
  }

  tree(id: string): Promise<StoredNode[]> {
    return this.request('GET', `/api/devices/${encodeURIComponent(id)}/tree`);
  }

  queue(id: string, spec: JobSpec): Promise<JobRecord> {
    return this.request('POST', `/api/devices/${encodeURIComponent(id)}/jobs`, spec);
  }

  job(id: string): Promise<JobRecord> {
    return this.request('GET', `/api/jobs/${encodeURIComponent(id)}`);
  }

  jobs(query = ''): Promise<JobRecord[]> {
    return this.request('GET', `/api/jobs${query}`);
  }

  notify(id: string, body: Record<string, unknown>): Promise<NotificationRecord & { package0: string }> {
    return this.request('POST', `/api/devices/${encodeURIComponent(id)}/notify`, body);
  }

  notifications(id: string): Promise<NotificationRecord[]> {
    return this.request('GET', `/api/devices/${encodeURIComponent(id)}/notifications`);
  }

  sessions(query = ''): Promise<SessionRecord[]> {
    return this.request('GET', `/api/sessions${query}`);
  }

  authEvents(id: string): Promise<AuthEvent[]> {
    return this.request('GET', `/api/auth-events?device=${encodeURIComponent(id)}`);
  }

  alerts(query: string): Promise<StoredAlert[]> {
    return this.request('GET', `/api/alerts${query}`);
  }

  fumo(body: Record<string, unknown>): Promise<{ campaign: string; jobs: JobRecord[] }> {
    return this.request('POST', '/api/fumo', body);
  }

  campaign(name: string): Promise<{ campaign: string; states: Record<string, number>; jobs: JobRecord[] }> {
    return this.request('GET', `/api/fumo/${encodeURIComponent(name)}`);
  }

  close(): void {
    this.agent.destroy();
  }
}
