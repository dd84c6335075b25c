import { ecsFormat } from '@elastic/ecs-pino-format';
import { type DestinationStream, type Logger, type LoggerOptions, multistream, pino } from 'pino';
import { LogShipper } from './log-shipper.ts';
import { SecretMasker } from './secret-masker.ts';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever a caller puts them (top level or one level down,
 * which is where request objects, headers and bodies land). Callers do not have to remember: the
 * logger censors them.
 */
export const REDACTED_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'apikey',
  'api_key',
  'apiKey',
  'x-api-key',
  'password',
  'new_password',
  'secret',
  'secrets',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'value',
] as const;

const redactPaths = REDACTED_KEYS.flatMap((k) => {
  const key = /^[a-zA-Z_]+$/.test(k) ? k : `["${k}"]`;
  const nested = key.startsWith('[') ? `*${key}` : `*.${key}`;
  return [key, nested, `*.headers${key.startsWith('[') ? key : `.${key}`}`];
});

export interface LoggerConfig {
  service: string;
  level?: string;
  /** ECS `event.dataset`; defaults to the service name. Audit events use `switchboard.audit`. */
  dataset?: string;
  version?: string;
  /** Values to mask wherever they appear in a line's text (e.g. a worker's resolved secrets). */
  masker?: SecretMasker;
  destination?: DestinationStream;
  /** Also ship every line to Elasticsearch (stdout logging never stops). */
  shipper?: LogShipper;
}

/**
 * The one logger factory every service uses: ECS JSON to stdout, redaction of secret-bearing keys, and
 * masking of known secret values anywhere in the text.
 */
export function createLogger(config: LoggerConfig): Logger {
  const ecs = ecsFormat({
    serviceName: config.service,
    ...(config.dataset ? { eventDataset: config.dataset } : {}),
    convertErr: true,
    apmIntegration: false,
  });
  const masker = config.masker;
  const options: LoggerOptions = {
    ...ecs,
    level: config.level ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
    // Keep the numeric level beside the ECS label: pino transports with several targets need it.
    formatters: {
      ...ecs.formatters,
      level: (label: string, n: number) => ({ 'log.level': label, level: n }),
    },
    ...(masker ? { hooks: { streamWrite: (line: string) => masker.mask(line) } } : {}),
  };
  const primary = config.destination ?? pino.destination(1);
  if (!config.shipper) return pino(options, primary);
  return pino(
    options,
    multistream([{ stream: primary }, { stream: config.shipper as unknown as DestinationStream }]),
  );
}

export { LogShipper, SecretMasker };
