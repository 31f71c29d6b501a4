import type { Socket } from 'node:net';
import type { RheaLink } from './rhea-shapes.ts';

/**
 * Delivery fast path. rhea encodes every transfer frame through its generic type writer and
 * issues one socket write per frame (resetting a heartbeat timer each time), which costs several
 * times more than the SDK needs to decode the same event. For pre-settled, single-frame
 * deliveries on a link whose session has nothing queued in rhea, the server writes the frames
 * itself, many per socket write, and advances exactly the counters rhea would have advanced, so
 * rhea's own flow control and later frames stay consistent.
 */

interface OutgoingState {
  next_delivery_id: number;
  next_pending_delivery: number;
  next_transfer_id: number;
  window: number;
  deliveries: { size: number };
  transfer_window(): number;
}

interface FastLink {
  credit: number;
  delivery_count: number;
  local: { handle: number };
  session: { local: { channel: number }; outgoing: OutgoingState };
  connection: {
    socket?: Socket;
    socket_ready?: boolean;
    remote: { open?: { max_frame_size?: number } };
  };
}

/** Frame header (8) + transfer performative (26): handle, delivery-id, empty tag, format 0, settled. */
const OVERHEAD = 34;
/** Stop filling the socket beyond this; resume on 'drain'. */
const SOCKET_HIGH_WATER = 4 * 1024 * 1024;

export type FastState = 'ok' | 'not-ready' | 'backpressure';

export function fastPathState(link: RheaLink): FastState {
  const l = link as unknown as FastLink;
  const socket = l.connection.socket;
  if (!socket || !l.connection.socket_ready || socket.destroyed) return 'not-ready';
  const outgoing = l.session.outgoing;
  if (outgoing.next_pending_delivery !== outgoing.next_delivery_id || outgoing.deliveries.size !== 0) {
    return 'not-ready';
  }
  if (socket.writableLength > SOCKET_HIGH_WATER) return 'backpressure';
  return 'ok';
}

/** How many deliveries may be written now: link credit and the peer's session window. */
export function fastBudget(link: RheaLink): number {
  const l = link as unknown as FastLink;
  return Math.min(l.credit, l.session.outgoing.transfer_window());
}

/** Largest message that fits in one frame for this connection. */
export function maxSingleFramePayload(link: RheaLink): number {
  const l = link as unknown as FastLink;
  return (l.connection.remote.open?.max_frame_size ?? 4294967295) - OVERHEAD;
}

export function onSocketDrain(link: RheaLink, callback: () => void): void {
  (link as unknown as FastLink).connection.socket?.once('drain', callback);
}

/** Writes one transfer frame per message in a single socket write and updates rhea's counters. */
export function writeTransfers(link: RheaLink, messages: readonly Buffer[], totalBytes: number): void {
  const l = link as unknown as FastLink;
  const outgoing = l.session.outgoing;
  const channel = l.session.local.channel;
  const handle = l.local.handle >>> 0;
  const out = Buffer.allocUnsafe(totalBytes + OVERHEAD * messages.length);
  let p = 0;
  let deliveryId = outgoing.next_delivery_id;
  for (const m of messages) {
    out.writeUInt32BE(OVERHEAD + m.length, p);
    out[p + 4] = 2; // data offset, in 4-byte words
    out[p + 5] = 0; // AMQP frame
    out.writeUInt16BE(channel, p + 6);
    // transfer performative: described list (0x00 0x53 0x14), list32 with 5 fields
    out[p + 8] = 0x00;
    out[p + 9] = 0x53;
    out[p + 10] = 0x14;
    out[p + 11] = 0xd0;
    out.writeUInt32BE(18, p + 12);
    out.writeUInt32BE(5, p + 16);
    out[p + 20] = 0x70;
    out.writeUInt32BE(handle, p + 21);
    out[p + 25] = 0x70;
    out.writeUInt32BE(deliveryId >>> 0, p + 26);
    out[p + 30] = 0xa0; // delivery-tag: empty binary
    out[p + 31] = 0x00;
    out[p + 32] = 0x43; // message-format: uint 0
    out[p + 33] = 0x41; // settled: true
    m.copy(out, p + OVERHEAD);
    p += OVERHEAD + m.length;
    deliveryId++;
  }
  const n = messages.length;
  outgoing.next_delivery_id += n;
  outgoing.next_pending_delivery += n;
  outgoing.next_transfer_id += n;
  outgoing.window -= n;
  l.credit -= n;
  l.delivery_count += n;
  l.connection.socket!.write(out);
}
