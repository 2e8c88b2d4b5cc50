/**
 * Starting a session from the server: package 0 for a device (DMNOTI 6.2; research note §3),
 * recorded, then handed to the push sender.
 *
 * The digest uses the server's credentials for the device (SRVCRED: server id and password) and
 * the nonce the device gave the server last. When no nonce is known yet, the re-sync nonce of
 * DMNOTI 6.1 (4 zero bytes, the first reading clients try) is used, which a client retries with
 * after its stored nonce fails.
 */
import { encodeNotification, sessionIdHex, swappedSessionIdHex, NOTIFICATION_RESET_NONCES, type NotificationUiMode, type NotificationInitiator } from '../dm/notification.js';
import { wrapWapPush } from '../dm/wsp.js';
import { fromBase64 } from '../dm/base64.js';
import { DmError } from '../dm/errors.js';
import type { NotificationRecord, Store } from './store.js';
import type { PushSender } from './push.js';

/** What a notification asks for. @public */
export interface NotifyOptions {
  uiMode?: NotificationUiMode;
  initiator?: NotificationInitiator;
  /** The 10-bit version field (default 11, what deployed DM 1.2 clients accept; research note §3.3). */
  version?: number;
  /** 1..0xFFFF; default random. */
  sessionId?: number;
  vendor?: Uint8Array;
}

/** What {@link notifyDevice} did. @public */
export interface NotifyResult {
  notification: NotificationRecord;
  /** Package 0. */
  bytes: Uint8Array;
  delivery?: string;
}

/**
 * Builds package 0 for a device, records it, and sends it.
 * @throws DmError `NOT_FOUND` for an unknown device, `INVALID_ARGUMENT` when the device has no
 * server password (the digest needs it) or the options are out of range, `TRANSPORT` when the
 * sender fails (the notification stays recorded, with the failure as its delivery).
 * @public
 */
export async function notifyDevice(store: Store, sender: PushSender | undefined, deviceId: string, options: NotifyOptions,
  ctx: { serverId: string; random: (n: number) => Uint8Array; now: number }): Promise<NotifyResult> {
  const device = await store.getDevice(deviceId);
  if (device === undefined) throw new DmError('NOT_FOUND', `no device '${deviceId}'`);
  const secret = device.auth.serverSecret;
  if (secret === undefined || secret === '') throw new DmError('INVALID_ARGUMENT', `device '${deviceId}' has no server password: package 0 needs it for its digest`);
  let sid = options.sessionId;
  if (sid === undefined) {
    const r = ctx.random(2);
    sid = ((r[0] << 8) | r[1]) || 1;
  }
  let nonce: Uint8Array = NOTIFICATION_RESET_NONCES[0];
  if (device.auth.serverNonce !== undefined) {
    try {
      nonce = fromBase64(device.auth.serverNonce);
    } catch {
      nonce = new TextEncoder().encode(device.auth.serverNonce);
    }
  }
  const bytes = encodeNotification({
    serverId: device.auth.serverId ?? ctx.serverId, serverPassword: secret, nonce, sessionId: sid,
    uiMode: options.uiMode, initiator: options.initiator, version: options.version, vendor: options.vendor,
  });
  const notification = await store.addNotification({
    deviceId, sessionId: sessionIdHex(sid), swappedSessionId: swappedSessionIdHex(sid), uiMode: options.uiMode ?? 'not-specified', createdAt: ctx.now,
  });
  if (sender === undefined) return { notification, bytes };
  let delivery: string;
  try {
    delivery = (await sender.send({ deviceId, address: device.pushAddress, sessionId: notification.sessionId, notification: bytes, wapPush: wrapWapPush(bytes) })) ?? 'sent';
  } catch (e) {
    const why = `failed: ${(e as Error).message}`;
    await store.setNotificationDelivery(notification.id, why);
    throw new DmError('TRANSPORT', `package 0 for '${deviceId}' could not be delivered: ${(e as Error).message}`, { cause: e });
  }
  await store.setNotificationDelivery(notification.id, delivery);
  return { notification: { ...notification, delivery }, bytes, delivery };
}
