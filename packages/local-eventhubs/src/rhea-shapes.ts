/**
 * The slice of rhea's runtime objects the server touches. rhea's own typings describe the client
 * side well but not the internals a server needs (remote attach, session window), so the server
 * works against these structural types.
 */

export interface AmqpError {
  condition: string;
  description: string;
}

export interface Terminus {
  address?: string;
  filter?: Record<string, unknown>;
}

export interface RemoteAttach {
  name: string;
  source?: Terminus;
  target?: Terminus;
  properties?: Record<string, unknown>;
  desired_capabilities?: string | string[];
}

export interface LocalAttach {
  source?: unknown;
  target?: unknown;
  max_message_size?: number;
  snd_settle_mode?: number;
  offered_capabilities?: unknown;
  properties?: unknown;
}

export interface RheaMessage {
  message_id?: unknown;
  correlation_id?: unknown;
  reply_to?: string;
  to?: string;
  application_properties?: Record<string, unknown>;
  body?: unknown;
}

export interface RheaDelivery {
  format?: number;
  accept(): void;
  reject(error?: AmqpError): void;
  release(params?: unknown): void;
}

export interface RheaSession {
  outgoing: { available(): number; next_delivery_id: number; next_pending_delivery: number };
}

export interface RheaConnection {
  container_id?: string;
  close(error?: AmqpError): void;
  is_open(): boolean;
}

export interface RheaLink {
  name: string;
  credit: number;
  session: RheaSession;
  connection: RheaConnection;
  remote: { attach?: RemoteAttach };
  local: { attach: LocalAttach };
  is_open(): boolean;
  is_closed(): boolean;
  close(error?: AmqpError): void;
  set_source(fields: unknown): void;
  set_target(fields: unknown): void;
  send(msg: Buffer | object, tag?: Buffer, format?: number): unknown;
  add_credit(n: number): void;
  set_credit_window(n: number): void;
  on(event: string, handler: (ctx: RheaContext) => void): void;
}

export interface RheaContext {
  connection: RheaConnection;
  sender?: RheaLink;
  receiver?: RheaLink;
  session?: RheaSession;
  message?: RheaMessage | Buffer;
  delivery?: RheaDelivery;
  format?: number;
  error?: unknown;
}
