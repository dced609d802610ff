/**
 * Typed parsing of one RawCommand (RFC 9051 §6, §9): the command name selects a parser from
 * a table; UID selects the UID form of COPY, MOVE, FETCH, SEARCH, STORE and EXPUNGE
 * (§6.4.9). Never throws on input: syntax errors and unknown commands become a `bad` result
 * carrying the tag.
 */

import { isCommuneError } from '../../../core/errors.ts';
import { ArgReader } from './args.ts';
import type { ParseContext } from './args.ts';
import { safeText } from './char-class.ts';
import type { BadResult, RawCommand } from './command-reader.ts';
import { parseAppend } from './commands/append.ts';
import type { AppendCommand } from './commands/append.ts';
import { parseAuthenticate } from './commands/authenticate.ts';
import type { AuthenticateCommand } from './commands/authenticate.ts';
import { parseCopy } from './commands/copy.ts';
import type { CopyCommand } from './commands/copy.ts';
import { parseCreate } from './commands/create.ts';
import type { CreateCommand } from './commands/create.ts';
import { parseEnable } from './commands/enable.ts';
import type { EnableCommand } from './commands/enable.ts';
import { parseExpunge } from './commands/expunge.ts';
import type { ExpungeCommand } from './commands/expunge.ts';
import { parseFetch } from './commands/fetch.ts';
import type { FetchCommand } from './commands/fetch.ts';
import { parseId } from './commands/id.ts';
import type { IdCommand } from './commands/id.ts';
import { parseList, parseLsub } from './commands/list.ts';
import type { ListCommand, LsubCommand } from './commands/list.ts';
import { parseLogin } from './commands/login.ts';
import type { LoginCommand } from './commands/login.ts';
import { parseMailboxCommand } from './commands/mailbox-command.ts';
import type { MailboxCommand } from './commands/mailbox-command.ts';
import { parseNoArgument } from './commands/no-argument.ts';
import type { NoArgumentCommand } from './commands/no-argument.ts';
import { parseGetQuota, parseSetQuota } from './commands/quota.ts';
import type { GetQuotaCommand, SetQuotaCommand } from './commands/quota.ts';
import { parseRename } from './commands/rename.ts';
import type { RenameCommand } from './commands/rename.ts';
import { parseSearch } from './commands/search.ts';
import type { SearchCommand } from './commands/search.ts';
import { parseSelect } from './commands/select.ts';
import type { SelectCommand } from './commands/select.ts';
import { parseStatus } from './commands/status.ts';
import type { StatusCommand } from './commands/status.ts';
import { parseStore } from './commands/store.ts';
import type { StoreCommand } from './commands/store.ts';

/** Every command the parser knows, discriminated by `name`. */
export type ImapCommand =
  | NoArgumentCommand
  | AuthenticateCommand
  | LoginCommand
  | EnableCommand
  | SelectCommand
  | CreateCommand
  | MailboxCommand
  | RenameCommand
  | ListCommand
  | LsubCommand
  | StatusCommand
  | AppendCommand
  | ExpungeCommand
  | SearchCommand
  | FetchCommand
  | StoreCommand
  | CopyCommand
  | IdCommand
  | GetQuotaCommand
  | SetQuotaCommand;

export type ImapCommandName = ImapCommand['name'];

export interface ParsedCommand {
  readonly kind: 'command';
  readonly tag: string;
  readonly command: ImapCommand;
}

export type ParseResult = ParsedCommand | BadResult;

type CommandParser = (r: ArgReader) => ImapCommand;
type UidCommandParser = (r: ArgReader, uid: boolean) => ImapCommand;

const COMMANDS: Readonly<Record<string, CommandParser>> = {
  CAPABILITY: (r) => parseNoArgument(r, 'CAPABILITY'),
  NOOP: (r) => parseNoArgument(r, 'NOOP'),
  LOGOUT: (r) => parseNoArgument(r, 'LOGOUT'),
  STARTTLS: (r) => parseNoArgument(r, 'STARTTLS'),
  IDLE: (r) => parseNoArgument(r, 'IDLE'),
  CHECK: (r) => parseNoArgument(r, 'CHECK'),
  CLOSE: (r) => parseNoArgument(r, 'CLOSE'),
  UNSELECT: (r) => parseNoArgument(r, 'UNSELECT'),
  NAMESPACE: (r) => parseNoArgument(r, 'NAMESPACE'),
  AUTHENTICATE: parseAuthenticate,
  LOGIN: parseLogin,
  ENABLE: parseEnable,
  SELECT: (r) => parseSelect(r, 'SELECT'),
  EXAMINE: (r) => parseSelect(r, 'EXAMINE'),
  CREATE: parseCreate,
  DELETE: (r) => parseMailboxCommand(r, 'DELETE'),
  SUBSCRIBE: (r) => parseMailboxCommand(r, 'SUBSCRIBE'),
  UNSUBSCRIBE: (r) => parseMailboxCommand(r, 'UNSUBSCRIBE'),
  GETQUOTAROOT: (r) => parseMailboxCommand(r, 'GETQUOTAROOT'),
  RENAME: parseRename,
  LIST: parseList,
  LSUB: parseLsub,
  STATUS: parseStatus,
  APPEND: parseAppend,
  ID: parseId,
  GETQUOTA: parseGetQuota,
  SETQUOTA: parseSetQuota,
};

/** Commands with a UID form; plain EXPUNGE takes no arguments. */
const UID_COMMANDS: Readonly<Record<string, UidCommandParser>> = {
  COPY: (r, uid) => parseCopy(r, 'COPY', uid),
  MOVE: (r, uid) => parseCopy(r, 'MOVE', uid),
  FETCH: parseFetch,
  SEARCH: parseSearch,
  STORE: parseStore,
  EXPUNGE: parseExpunge,
};

function dispatch(raw: RawCommand, r: ArgReader): ImapCommand | string {
  if (raw.name === 'UID') {
    r.sp();
    const sub = r.keyword();
    const parser = Object.hasOwn(UID_COMMANDS, sub) ? UID_COMMANDS[sub] : undefined;
    return parser === undefined ? 'Unknown UID command' : parser(r, true);
  }
  const uidCapable = Object.hasOwn(UID_COMMANDS, raw.name) ? UID_COMMANDS[raw.name] : undefined;
  if (uidCapable !== undefined) return uidCapable(r, false);
  const parser = Object.hasOwn(COMMANDS, raw.name) ? COMMANDS[raw.name] : undefined;
  return parser === undefined ? 'Unknown command' : parser(r);
}

/** Parse the arguments of `raw` into a typed command, or a tagged `bad`. */
export function parseCommand(raw: RawCommand, ctx: ParseContext): ParseResult {
  try {
    const result = dispatch(raw, ArgReader.of(raw, ctx));
    if (typeof result === 'string') return { kind: 'bad', tag: raw.tag, text: result };
    return { kind: 'command', tag: raw.tag, command: result };
  } catch (err) {
    if (!isCommuneError(err, 'invalid-argument')) throw err;
    return { kind: 'bad', tag: raw.tag, text: safeText(`${raw.name}: ${err.message}`) };
  }
}
