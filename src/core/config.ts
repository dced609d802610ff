/**
 * Configuration: config/default.json holds every setting with its default and its
 * documentation ("//" keys). Overrides apply in order: a JSON file (--config), the environment
 * (COMMUNE_<SECTION>_<KEY>, camelCase keys in upper snake case, e.g.
 * COMMUNE_SERVER_PRIMARY_DOMAIN), then flags (--<section>-<key>, kebab case, e.g.
 * --imap-port). The result is validated once at start; a bad value stops start-up with a
 * message naming the key and where the value came from.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CommuneError } from './errors.ts';

const port = z.number().int().min(0).max(65535);
const seconds = z
  .number()
  .positive()
  .max(7 * 24 * 3600);
const listener = z.strictObject({ port, enabled: z.boolean() });

export const configSchema = z.strictObject({
  server: z.strictObject({
    hostname: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-zA-Z0-9.-]+$/, 'must be a host name'),
    primaryDomain: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/, 'must be a domain name'),
    dataDir: z.string().min(1),
    bind: z.string().min(1),
    shutdownTimeout: seconds,
  }),
  store: z.strictObject({
    backend: z.enum(['level', 'memory', 'postgres']),
    url: z.string(),
    poolSize: z.number().int().min(1).max(1000),
    blobs: z.enum(['postgres', 'fs']),
    blobDir: z.string(),
  }),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  tls: z.strictObject({ cert: z.string(), key: z.string() }),
  auth: z.strictObject({
    maxFailuresPerUser: z.number().int().min(1),
    maxFailuresPerAddress: z.number().int().min(1),
    failureWindow: seconds,
    allowPlaintext: z.boolean(),
  }),
  limits: z.strictObject({
    maxConnections: z.number().int().min(1),
    maxConnectionsPerAddress: z.number().int().min(1),
    idleTimeout: seconds,
  }),
  admin: z.strictObject({ token: z.string(), allowRemote: z.boolean() }),
  dav: z.strictObject({ allowDepthInfinity: z.boolean() }),
  http: listener,
  https: listener,
  smtp: z.strictObject({
    port,
    enabled: z.boolean(),
    maxMessageSize: z.number().int().min(1024),
    maxRecipients: z.number().int().min(1),
    connectionRateLimit: z.number().int().min(0),
    messageRateLimit: z.number().int().min(0),
    submissionRateLimit: z.number().int().min(0),
    dmarcAction: z.enum(['enforce', 'junk', 'ignore']),
    verifyInbound: z.boolean(),
    catchAll: z.string(),
    dkimSelector: z
      .string()
      .regex(
        /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
        'must be DNS labels',
      ),
  }),
  queue: z.strictObject({
    retryBase: seconds,
    retryMaxInterval: seconds,
    maxAge: seconds,
    concurrency: z.number().int().min(1).max(1000),
    leaseTime: seconds,
    pollInterval: seconds,
    smarthost: z.string(),
    mxPort: z.number().int().min(1).max(65535),
    requireTls: z.boolean(),
    remoteTimeout: seconds,
  }),
  submission: listener,
  submissions: listener,
  imap: z.strictObject({ port, enabled: z.boolean(), idleTimeout: seconds }),
  imaps: listener,
  ldap: z.strictObject({ port, enabled: z.boolean(), allowAnonymous: z.boolean() }),
  ldaps: listener,
  sip: listener,
});

export type Config = z.infer<typeof configSchema>;

/** The listener sections, in the order they are reported. */
export const LISTENER_SECTIONS = [
  'smtp',
  'submission',
  'submissions',
  'imap',
  'imaps',
  'http',
  'https',
  'ldap',
  'ldaps',
  'sip',
] as const satisfies readonly (keyof Config)[];

export type ListenerSection = (typeof LISTENER_SECTIONS)[number];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface ConfigSources {
  /** A JSON file path (--config). */
  readonly file?: string;
  /** Environment, normally process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides keyed by dotted path ("imap.port") with raw string or typed values. */
  readonly overrides?: Readonly<Record<string, string | number | boolean>>;
}

export const DEFAULT_CONFIG_PATH = fileURLToPath(
  new URL('../../config/default.json', import.meta.url),
);

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Remove documentation keys ("//..."). */
function stripDocs(value: Json): Json {
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('//')) out[k] = stripDocs(v);
  return out;
}

function readJson(path: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CommuneError('config', `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new CommuneError(
      'config',
      `${what} ${path} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

const camelToSnake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const camelToKebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every setting path of the defaults ("imap.port", ...). */
export function settingPaths(defaults: JsonObject = loadDefaults()): string[] {
  const paths: string[] = [];
  for (const [section, body] of Object.entries(defaults)) {
    if (isObject(body)) for (const key of Object.keys(body)) paths.push(`${section}.${key}`);
  }
  return paths;
}

/** Environment variable name of a setting: imap.port -> COMMUNE_IMAP_PORT. */
export function envName(path: string): string {
  const [section, key] = path.split('.') as [string, string];
  return `COMMUNE_${camelToSnake(section)}_${camelToSnake(key)}`;
}

/** Flag name of a setting: server.primaryDomain -> server-primary-domain. */
export function flagName(path: string): string {
  const [section, key] = path.split('.') as [string, string];
  return `${camelToKebab(section)}-${camelToKebab(key)}`;
}

export function loadDefaults(): JsonObject {
  const raw = stripDocs(readJson(DEFAULT_CONFIG_PATH, 'default config'));
  if (!isObject(raw)) throw new CommuneError('config', 'config/default.json must hold an object');
  return raw;
}

/** Convert a raw string to the type of the default it replaces. */
function coerce(raw: string | number | boolean, like: Json): Json {
  if (typeof raw !== 'string') return raw;
  if (typeof like === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (typeof like === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  return raw;
}

/**
 * Build and validate the configuration. Throws CommuneError('config') with a one-line
 * message naming the setting and the source of the bad value.
 */
export function loadConfig(sources: ConfigSources = {}): Config {
  const merged = loadDefaults();
  const origin = new Map<string, string>();
  const defaultsOf = loadDefaults();

  const set = (path: string, value: string | number | boolean | Json, from: string): void => {
    const [section, key] = path.split('.') as [string, string | undefined];
    const body = merged[section];
    if (key === undefined || !isObject(body) || !(key in body)) {
      throw new CommuneError('config', `unknown setting ${path} (from ${from})`);
    }
    const like = (defaultsOf[section] as JsonObject)[key] as Json;
    body[key] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? coerce(value, like)
        : value;
    origin.set(path, from);
  };

  // 1. File
  if (sources.file !== undefined) {
    const file = stripDocs(readJson(sources.file, 'config file'));
    if (!isObject(file))
      throw new CommuneError('config', `config file ${sources.file} must hold an object`);
    for (const [section, body] of Object.entries(file)) {
      if (!isObject(body)) {
        throw new CommuneError('config', `setting ${section} in ${sources.file} must be an object`);
      }
      for (const [key, value] of Object.entries(body))
        set(`${section}.${key}`, value, sources.file);
    }
  }

  // 2. Environment
  const env = sources.env ?? {};
  if (env.COMMUNE_DATA_DIR !== undefined && env.COMMUNE_DATA_DIR !== '') {
    set('server.dataDir', env.COMMUNE_DATA_DIR, 'COMMUNE_DATA_DIR');
  }
  for (const path of settingPaths(defaultsOf)) {
    const name = envName(path);
    const value = env[name];
    if (value !== undefined) set(path, value, name);
  }

  // 3. Flags / explicit overrides
  for (const [path, value] of Object.entries(sources.overrides ?? {})) {
    set(path, value, `--${flagName(path)}`);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '?';
    const from = origin.get(path) ?? (path.includes('.') ? 'config/default.json' : 'configuration');
    throw new CommuneError(
      'config',
      `invalid setting ${path} (from ${from}): ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
