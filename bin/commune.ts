#!/usr/bin/env node
/**
 * The commune command: `serve` runs the server; the admin commands (domain, user, alias,
 * group) talk to a running server through its admin API (found through the data dir), or
 * open the store directly when no server runs.
 */

import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { flagName, loadConfig, settingPaths, type Config } from '../src/core/config.ts';
import { CommuneError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/log.ts';
import { VERSION } from '../src/core/version.ts';
import {
  runtimeFilePath,
  startServer,
  startupErrorMessage,
  type RuntimeInfo,
} from '../src/main.ts';
import { runAdminCommand } from '../src/storage/admin/admin-registry.ts';
import { Directory } from '../src/storage/directory/directory.ts';
import { Argon2idHasher } from '../src/storage/directory/password-hasher.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import { runMigrateCommand } from '../src/storage/migrate-command.ts';
import { resolve } from 'node:path';

const HELP = `commune ${VERSION}: groupware server (mail, calendars, contacts, files, directory)

Usage:
  commune serve [options]                 run the server (also: npm start)
  commune domain add NAME                 add a mail domain
  commune domain list
  commune domain remove NAME              remove a domain that has no users left
  commune domain dkim NAME [--selector S] [--rotate] [--bits N]
                                          the domain's DKIM key (made on first use) and the
                                          DNS TXT record to publish
  commune user add ADDRESS [--password PW | --password-stdin] [--name "Full Name"]
                           [--quota BYTES] [--admin]
                                          add a user (domain created if needed; without a
                                          password one is generated and printed)
  commune user list [--domain NAME]
  commune user set ADDRESS [--name N] [--phone P] [--mobile M] [--title T] [--org O]
                           [--dept D] [--quota BYTES] [--disable | --enable] [--admin]
                                          change a user (an empty value clears a field)
  commune user passwd ADDRESS [--password PW | --password-stdin]
  commune user remove ADDRESS
  commune token add ADDRESS [--label L] [--days N]
                                          issue a bearer token for HTTP APIs (printed once)
  commune token list ADDRESS
  commune token remove ADDRESS ID
  commune queue list                      outbound messages waiting for delivery
  commune queue retry ID | --all          try again now
  commune queue delete ID                 drop a message without a bounce
  commune alias add ADDRESS ALIAS         ALIAS also reaches ADDRESS
  commune alias remove ALIAS
  commune group add ADDRESS [--name NAME] a group, also a distribution list
  commune group member GROUP MEMBER [--remove]
  commune group members GROUP
  commune share add OWNER COLLECTION SHAREE [--write]
                                          share a calendar (NAME or calendars/NAME) or an
                                          address book (addressbooks/NAME) with a user or a
                                          group, read-only unless --write
  commune share remove OWNER COLLECTION SHAREE
  commune share list OWNER [COLLECTION]
  commune migrate --to level:DIR | --to postgres://USER@HOST/DB
                  [--to-blobs postgres|fs] [--to-blob-dir DIR] [--to-schema NAME]
                  [--verify-only]         copy the configured store (server stopped) into
                                          an empty one, blobs included, and verify counts
                                          and checksums; --verify-only compares again

Options:
  --config FILE        JSON settings file (see config/default.json)
  --data-dir DIR       data directory (default ./data; also COMMUNE_DATA_DIR)
  --json               machine-readable output for admin commands
  --help, --version
  --<section>-<key> V  any setting, e.g. --imap-port 1143, --server-primary-domain example.org
                       (also COMMUNE_<SECTION>_<KEY>, e.g. COMMUNE_IMAP_PORT=1143)

Admin commands use the running server's admin API when one runs on the data dir, and open
the store directly otherwise.`;

type Flags = Record<string, string | boolean | undefined>;

function parseCommandLine(argv: string[]): {
  positionals: string[];
  flags: Flags;
  settings: Record<string, string>;
} {
  const options: NonNullable<ParseArgsConfig['options']> = {
    config: { type: 'string' },
    'data-dir': { type: 'string' },
    password: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    name: { type: 'string' },
    quota: { type: 'string' },
    admin: { type: 'boolean' },
    domain: { type: 'string' },
    remove: { type: 'boolean' },
    write: { type: 'boolean' },
    phone: { type: 'string' },
    label: { type: 'string' },
    selector: { type: 'string' },
    rotate: { type: 'boolean' },
    bits: { type: 'string' },
    all: { type: 'boolean' },
    days: { type: 'string' },
    mobile: { type: 'string' },
    title: { type: 'string' },
    org: { type: 'string' },
    dept: { type: 'string' },
    disable: { type: 'boolean' },
    enable: { type: 'boolean' },
    json: { type: 'boolean' },
    to: { type: 'string' },
    'to-blobs': { type: 'string' },
    'to-blob-dir': { type: 'string' },
    'to-schema': { type: 'string' },
    'verify-only': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  };
  const settingFlags = new Map<string, string>();
  for (const path of settingPaths()) {
    const flag = flagName(path);
    if (!(flag in options)) {
      options[flag] = { type: 'string' };
      settingFlags.set(flag, path);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CommuneError(
      'invalid-argument',
      `${(err as Error).message.split('\n')[0]} (see commune --help)`,
    );
  }
  const flags: Flags = {};
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.values)) {
    const path = settingFlags.get(k);
    if (path !== undefined) settings[path] = v as string;
    else flags[k] = v as string | boolean;
  }
  return { positionals: parsed.positionals, flags, settings };
}

function configFrom(flags: Flags, settings: Record<string, string>): Config {
  const overrides: Record<string, string> = { ...settings };
  if (typeof flags['data-dir'] === 'string') overrides['server.dataDir'] = flags['data-dir'];
  return loadConfig({
    ...(typeof flags.config === 'string' ? { file: flags.config } : {}),
    env: process.env,
    overrides,
  });
}

async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new CommuneError('invalid-argument', 'no password on standard input');
  return text;
}

function need(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (v === undefined)
    throw new CommuneError('invalid-argument', `missing ${what} (see commune --help)`);
  return v;
}

function parseQuota(text: string): number {
  const quota = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(quota) || quota < 0) {
    throw new CommuneError('invalid-argument', '--quota must be a number of bytes');
  }
  return quota;
}

/** Map the command line to an admin command name and its arguments. */
async function adminRequest(
  positionals: string[],
  flags: Flags,
): Promise<{ name: string; args: Record<string, unknown> }> {
  const [noun, verb] = positionals;
  const password = async (): Promise<string | undefined> => {
    if (flags['password-stdin'] === true) return readStdinPassword();
    return typeof flags.password === 'string' ? flags.password : undefined;
  };
  const key = `${noun ?? ''} ${verb ?? ''}`;
  switch (key) {
    case 'domain add':
    case 'domain remove':
      return { name: `domain.${verb}`, args: { name: need(positionals, 2, 'domain name') } };
    case 'domain dkim': {
      const args: Record<string, unknown> = { name: need(positionals, 2, 'domain name') };
      if (typeof flags.selector === 'string') args.selector = flags.selector;
      if (flags.rotate === true) args.rotate = true;
      if (typeof flags.bits === 'string') args.bits = Number(flags.bits);
      return { name: 'domain.dkim', args };
    }
    case 'queue list':
      return { name: 'queue.list', args: {} };
    case 'queue retry':
      return {
        name: 'queue.retry',
        args: flags.all === true ? { all: true } : { id: need(positionals, 2, 'message id') },
      };
    case 'queue delete':
      return { name: 'queue.delete', args: { id: need(positionals, 2, 'message id') } };
    case 'domain list':
      return { name: 'domain.list', args: {} };
    case 'user add': {
      const args: Record<string, unknown> = { address: need(positionals, 2, 'address') };
      const pw = await password();
      if (pw !== undefined) args.password = pw;
      if (typeof flags.name === 'string') args.name = flags.name;
      if (typeof flags.quota === 'string') args.quota = parseQuota(flags.quota);
      if (flags.admin === true) args.admin = true;
      return { name: 'user.add', args };
    }
    case 'user set': {
      const args: Record<string, unknown> = { address: need(positionals, 2, 'address') };
      const text: [flag: string, arg: string][] = [
        ['name', 'name'],
        ['phone', 'phone'],
        ['mobile', 'mobile'],
        ['title', 'title'],
        ['org', 'organization'],
        ['dept', 'department'],
      ];
      for (const [flag, arg] of text) if (typeof flags[flag] === 'string') args[arg] = flags[flag];
      if (typeof flags.quota === 'string') args.quota = parseQuota(flags.quota);
      if (flags.disable === true) args.disabled = true;
      if (flags.enable === true) args.disabled = false;
      if (flags.admin === true) args.admin = true;
      if (Object.keys(args).length === 1) {
        throw new CommuneError(
          'invalid-argument',
          'user set: nothing to change (see commune --help)',
        );
      }
      return { name: 'user.set', args };
    }
    case 'user list':
      return {
        name: 'user.list',
        args: typeof flags.domain === 'string' ? { domain: flags.domain } : {},
      };
    case 'user passwd': {
      const args: Record<string, unknown> = { address: need(positionals, 2, 'address') };
      const pw = await password();
      if (pw !== undefined) args.password = pw;
      return { name: 'user.passwd', args };
    }
    case 'user remove':
      return { name: 'user.remove', args: { address: need(positionals, 2, 'address') } };
    case 'token add': {
      const args: Record<string, unknown> = { address: need(positionals, 2, 'address') };
      if (typeof flags.label === 'string') args.label = flags.label;
      if (typeof flags.days === 'string') {
        const days = Number(flags.days);
        if (!Number.isSafeInteger(days) || days < 1) {
          throw new CommuneError('invalid-argument', '--days must be a whole number of days');
        }
        args.days = days;
      }
      return { name: 'token.add', args };
    }
    case 'token list':
      return { name: 'token.list', args: { address: need(positionals, 2, 'address') } };
    case 'token remove':
      return {
        name: 'token.remove',
        args: { address: need(positionals, 2, 'address'), id: need(positionals, 3, 'token id') },
      };
    case 'alias add':
      return {
        name: 'alias.add',
        args: { address: need(positionals, 2, 'address'), alias: need(positionals, 3, 'alias') },
      };
    case 'alias remove':
      return { name: 'alias.remove', args: { alias: need(positionals, 2, 'alias') } };
    case 'group add': {
      const args: Record<string, unknown> = { address: need(positionals, 2, 'group address') };
      if (typeof flags.name === 'string') args.name = flags.name;
      return { name: 'group.add', args };
    }
    case 'group member':
      return {
        name: 'group.member',
        args: {
          group: need(positionals, 2, 'group'),
          member: need(positionals, 3, 'member'),
          remove: flags.remove === true,
        },
      };
    case 'group members':
      return { name: 'group.members', args: { group: need(positionals, 2, 'group') } };
    case 'share add':
    case 'share remove': {
      const args: Record<string, unknown> = {
        owner: need(positionals, 2, 'owner'),
        collection: need(positionals, 3, 'collection'),
        sharee: need(positionals, 4, 'sharee'),
      };
      if (verb === 'add') args.write = flags.write === true;
      return { name: `share.${verb}`, args };
    }
    case 'share list': {
      const args: Record<string, unknown> = { owner: need(positionals, 2, 'owner') };
      if (positionals[3] !== undefined) args.collection = positionals[3];
      return { name: 'share.list', args };
    }
    default:
      throw new CommuneError(
        'invalid-argument',
        `unknown command: ${positionals.join(' ')} (see commune --help)`,
      );
  }
}

async function runningServer(dataDir: string): Promise<RuntimeInfo | undefined> {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(await readFile(runtimeFilePath(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0);
    return info;
  } catch (err) {
    // EPERM: alive but not ours to signal; ESRCH: a stale file from a crashed server
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? info : undefined;
  }
}

async function callRemote(info: RuntimeInfo, name: string, args: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${info.adminUrl}${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
  } catch (err) {
    throw new CommuneError(
      'unavailable',
      `server (pid ${info.pid}) not reachable at ${info.adminUrl}: ${(err as Error).message}`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { result?: unknown; error?: string };
  if (!res.ok)
    throw new CommuneError('invalid-argument', body.error ?? `admin API answered ${res.status}`);
  return body.result;
}

async function callLocal(config: Config, name: string, args: unknown): Promise<unknown> {
  const storage = await openStorage({
    backend: config.store.backend === 'memory' ? 'memory' : 'level',
    dataDir: resolve(config.server.dataDir),
  });
  try {
    const directory = new Directory({
      storage,
      primaryDomain: config.server.primaryDomain,
      hasher: new Argon2idHasher(),
    });
    return await runAdminCommand(
      { directory, storage, dkimSelector: config.smtp.dkimSelector },
      name,
      args,
    );
  } finally {
    await storage.close();
  }
}

function printResult(result: unknown): void {
  const r = result as Record<string, unknown>;
  const lines: string[] = [];
  const userLine = (u: Record<string, unknown>): string => {
    const aliases = (u.aliases as string[] | undefined) ?? [];
    return `${String(u.address)}\t${String(u.displayName ?? '')}\t${String(u.kind)}${aliases.length ? `\taliases: ${aliases.join(', ')}` : ''}`;
  };
  if (Array.isArray(r.domains))
    for (const d of r.domains as Record<string, unknown>[]) lines.push(String(d.name ?? d));
  if (Array.isArray(r.users))
    for (const u of r.users as Record<string, unknown>[]) lines.push(userLine(u));
  if (Array.isArray(r.members))
    for (const u of r.members as Record<string, unknown>[]) lines.push(userLine(u));
  if (r.user && typeof r.user === 'object')
    lines.push(`user ${String((r.user as Record<string, unknown>).address)} ok`);
  else if (typeof r.user === 'string') lines.push(`password of ${r.user} set`);
  if (r.group && typeof r.group === 'object')
    lines.push(`group ${String((r.group as Record<string, unknown>).address)} ok`);
  if (r.domain && typeof r.domain === 'object')
    lines.push(`domain ${String((r.domain as Record<string, unknown>).name)} ok`);
  if (typeof r.alias === 'string') lines.push(`alias ${r.alias} -> ${String(r.principal)}`);
  if (typeof r.member === 'string')
    lines.push(`${r.member} ${r.removed ? 'removed from' : 'added to'} ${String(r.group)}`);
  if (typeof r.removed === 'string') lines.push(`removed ${r.removed}`);
  const shareLine = (x: Record<string, unknown>): string =>
    `${String(x.owner)}\t${String(x.collection)}\t${String(x.sharee)}\t${String(x.access)}`;
  if (r.share && typeof r.share === 'object')
    lines.push(`shared ${shareLine(r.share as Record<string, unknown>)}`);
  if (typeof r.unshared === 'string')
    lines.push(`${r.unshared} no longer shared with ${String(r.sharee)}`);
  if (Array.isArray(r.shares)) {
    for (const x of r.shares as Record<string, unknown>[]) lines.push(shareLine(x));
    if ((r.shares as unknown[]).length === 0) lines.push('nothing shared');
  }
  if (typeof r.generatedPassword === 'string') lines.push(`password: ${r.generatedPassword}`);
  if (r.dkim && typeof r.dkim === 'object') {
    const d = r.dkim as {
      domain: string;
      selector: string;
      record: { name: string; type: string; value: string };
    };
    lines.push(`DKIM key of ${d.domain}, selector ${d.selector}; publish:`);
    lines.push(`${d.record.name}. IN ${d.record.type} "${d.record.value}"`);
  }
  if (Array.isArray(r.queue)) {
    for (const q of r.queue as {
      id: string;
      from: string;
      nextAttemptAt: string;
      recipients: { address: string; state: string }[];
    }[]) {
      lines.push(
        `${q.id}\t${q.from}\tnext ${q.nextAttemptAt}\t${q.recipients.map((x) => `${x.address} (${x.state})`).join(', ')}`,
      );
    }
    if ((r.queue as unknown[]).length === 0) lines.push('queue is empty');
  }
  if (r.token && typeof r.token === 'object') {
    const t = r.token as Record<string, unknown>;
    lines.push(`token ${String(t.id)} (${String(t.label)}): ${String(t.token)}`);
  }
  if (Array.isArray(r.tokens)) {
    for (const t of r.tokens as Record<string, unknown>[]) {
      lines.push(
        `${String(t.id)}\t${String(t.label)}\t${String(t.createdAt)}\t${String(t.expiresAt ?? '')}`,
      );
    }
  }
  console.log(lines.length ? lines.join('\n') : JSON.stringify(result, null, 2));
}

/** `commune migrate`: refuses while a server runs on the data dir. */
async function migrate(config: Config, flags: Flags): Promise<number> {
  if (typeof flags.to !== 'string') {
    throw new CommuneError(
      'invalid-argument',
      'migrate needs --to level:DIR or --to postgres://... (see commune --help)',
    );
  }
  const dataDir = resolve(config.server.dataDir);
  const running = await runningServer(dataDir);
  if (running) {
    throw new CommuneError(
      'unavailable',
      `a server (pid ${running.pid}) is running on ${dataDir}: stop it before migrating`,
    );
  }
  const text = (flag: string): string | undefined =>
    typeof flags[flag] === 'string' ? flags[flag] : undefined;
  return runMigrateCommand(config, {
    to: flags.to,
    blobs: text('to-blobs'),
    blobDir: text('to-blob-dir'),
    schema: text('to-schema'),
    verifyOnly: flags['verify-only'] === true,
    json: flags.json === true,
  });
}

async function serve(config: Config): Promise<void> {
  const log = createLogger(config.log.level);
  const server = await startServer(config, log);
  let signals = 0;
  const onSignal = (signal: string): void => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'graceful stop requested');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const { positionals, flags, settings } = parseCommandLine(argv);
  if (flags.help === true || positionals[0] === 'help') {
    console.log(HELP);
    return;
  }
  if (flags.version === true) {
    console.log(VERSION);
    return;
  }
  const config = configFrom(flags, settings);
  const command = positionals[0] ?? 'serve';
  if (command === 'serve') {
    await serve(config);
    return;
  }
  if (command === 'migrate') {
    process.exitCode = await migrate(config, flags);
    return;
  }
  const { name, args } = await adminRequest(positionals, flags);
  const dataDir = resolve(config.server.dataDir);
  const running = await runningServer(dataDir);
  const result = running
    ? await callRemote(running, name, args)
    : await callLocal(config, name, args);
  if (flags.json === true) console.log(JSON.stringify(result, null, 2));
  else printResult(result);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`commune: ${startupErrorMessage(err)}`);
  if (!(err instanceof CommuneError) && process.env.COMMUNE_DEBUG) console.error(err);
  process.exitCode = 1;
});
