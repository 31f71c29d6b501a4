import type { Prisma, PrismaClient } from '@hubcap/db';
import { z } from 'zod';
import type { SecretBox } from '../../auth/secret-box.ts';
import { type Actor, audit } from '../audit.ts';

const num = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .finite('must be a finite number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const int = (min: number, max: number) => num(min, max).int('must be a whole number');

/** Thresholds for the alert kinds. */
export const AlertSettings = z.strictObject({
  lagSeconds: int(1, 86_400).default(300),
  lagMinutes: int(1, 1440).default(5),
  silentMinutes: int(1, 1440).default(5),
  errorCount: int(1, 100_000).default(5),
  errorMinutes: int(1, 1440).default(10),
  /** A window with no topic marker this long after its end (see docs/completeness.md). */
  windowOpenMinutes: int(1, 10_080).default(90),
});

/**
 * Public list prices (USD, pay-as-you-go, 2025): Event Hubs Standard Capture is $0.10 per throughput
 * unit-hour, a TU carrying 1 MB/s or 1000 events/s of ingress; agents are priced as AKS node capacity
 * (a D2s v5 node, ~$0.096/h for 2 vCPU and 8 GiB, split per vCPU and per GiB).
 */
export const PriceSettings = z.strictObject({
  captureTuHour: num(0, 1000).default(0.1),
  tuEventsPerSecond: num(1, 1e9).default(1000),
  tuMegabytesPerSecond: num(0.001, 1e6).default(1),
  vcpuHour: num(0, 1000).default(0.034),
  gibHour: num(0, 1000).default(0.0045),
});

export const RetentionSettings = z.strictObject({
  rawHours: int(1, 24 * 14).default(24),
  minuteDays: int(1, 400).default(30),
});

export const Settings = z.strictObject({
  alerts: AlertSettings.prefault({}),
  prices: PriceSettings.prefault({}),
  retention: RetentionSettings.prefault({}),
});
export type Settings = z.output<typeof Settings>;

/** What an admin submits; the webhook URL is write-only (it often embeds a token). */
export const SettingsUpdate = z.strictObject({
  alerts: AlertSettings,
  prices: PriceSettings,
  retention: RetentionSettings,
  webhook: z.discriminatedUnion('action', [
    z.strictObject({ action: z.literal('keep') }),
    z.strictObject({ action: z.literal('clear') }),
    z.strictObject({
      action: z.literal('set'),
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000),
    }),
  ]),
});
export type SettingsUpdate = z.output<typeof SettingsUpdate>;

const KEY = 'settings';
const WEBHOOK_KEY = 'alerts.webhook';

export async function getSettings(prisma: PrismaClient): Promise<Settings> {
  const row = await prisma.setting.findUnique({ where: { key: KEY } });
  const parsed = Settings.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : Settings.parse({});
}

/** Settings as shown in the UI: the webhook only as configured or not. */
export const SettingsView = Settings.extend({ webhookConfigured: z.boolean() });

export async function getSettingsView(prisma: PrismaClient) {
  const [settings, webhook] = await Promise.all([
    getSettings(prisma),
    prisma.setting.findUnique({ where: { key: WEBHOOK_KEY }, select: { key: true } }),
  ]);
  return { ...settings, webhookConfigured: webhook !== null };
}

interface SealedValue {
  keyId: string;
  iv: string;
  ciphertext: string;
  authTag: string;
}

export async function getWebhookUrl(prisma: PrismaClient, box: SecretBox): Promise<string | null> {
  const row = await prisma.setting.findUnique({ where: { key: WEBHOOK_KEY } });
  if (!row) return null;
  const v = row.value as unknown as SealedValue;
  const b = (s: string) => Buffer.from(s, 'base64');
  return box.open(
    { keyId: v.keyId, iv: b(v.iv), ciphertext: b(v.ciphertext), authTag: b(v.authTag) },
    WEBHOOK_KEY,
  );
}

export async function updateSettings(
  prisma: PrismaClient,
  box: SecretBox,
  input: SettingsUpdate,
  who: Actor,
) {
  const { webhook, ...rest } = input;
  const value = Settings.parse(rest);
  await prisma.setting.upsert({
    where: { key: KEY },
    create: { key: KEY, value: value as Prisma.InputJsonValue },
    update: { value: value as Prisma.InputJsonValue },
  });
  if (webhook.action === 'clear') await prisma.setting.deleteMany({ where: { key: WEBHOOK_KEY } });
  if (webhook.action === 'set') {
    const sealed = box.seal(webhook.url, WEBHOOK_KEY);
    const s = (u: Uint8Array) => Buffer.from(u).toString('base64');
    const stored = {
      keyId: sealed.keyId,
      iv: s(sealed.iv),
      ciphertext: s(sealed.ciphertext),
      authTag: s(sealed.authTag),
    };
    await prisma.setting.upsert({
      where: { key: WEBHOOK_KEY },
      create: { key: WEBHOOK_KEY, value: stored },
      update: { value: stored },
    });
  }
  await audit(prisma, who, 'settings.update', { type: 'settings' }, { ...value, webhook: webhook.action });
  return getSettingsView(prisma);
}

/** TUs an admin set per namespace: Capture's bill follows them rather than the measured ingress. */
const THROUGHPUT_UNITS_KEY = 'cost.throughputUnits';
export const ThroughputUnits = z.record(z.string(), z.number());

export const ThroughputUnitsUpdate = z.strictObject({
  namespace: z
    .string({ error: 'namespace is required' })
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host name such as myns.servicebus.windows.net')
    .max(255, 'must be at most 255 characters'),
  /** null: size from the measured ingress again. */
  throughputUnits: int(1, 1000).nullable(),
});
export type ThroughputUnitsUpdate = z.output<typeof ThroughputUnitsUpdate>;

export async function getThroughputUnits(prisma: PrismaClient): Promise<Record<string, number>> {
  const row = await prisma.setting.findUnique({ where: { key: THROUGHPUT_UNITS_KEY } });
  const parsed = ThroughputUnits.safeParse(row?.value ?? {});
  return parsed.success ? parsed.data : {};
}

/** Sets (or, with null, clears) the TUs of one namespace. */
export async function setThroughputUnits(prisma: PrismaClient, input: ThroughputUnitsUpdate, who: Actor) {
  const namespace = input.namespace.toLowerCase();
  const { [namespace]: _, ...rest } = await getThroughputUnits(prisma);
  const value = input.throughputUnits === null ? rest : { ...rest, [namespace]: input.throughputUnits };
  await prisma.setting.upsert({
    where: { key: THROUGHPUT_UNITS_KEY },
    create: { key: THROUGHPUT_UNITS_KEY, value },
    update: { value },
  });
  await audit(
    prisma,
    who,
    'settings.throughputUnits',
    { type: 'settings' },
    { namespace, throughputUnits: input.throughputUnits },
  );
  return value;
}
