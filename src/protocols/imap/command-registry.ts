/**
 * Every IMAP command the server runs, by name: the typed registry the session dispatches
 * through. A parsed command always has a handler here (the mapped type makes a missing one a
 * compile error).
 */

import { appendCommand } from './commands/append.ts';
import { authenticateCommand } from './commands/authenticate.ts';
import { capabilityCommand } from './commands/capability.ts';
import { checkCommand } from './commands/check.ts';
import { closeCommand } from './commands/close.ts';
import type { ImapCommandHandler } from './commands/command.ts';
import { copyCommand } from './commands/copy.ts';
import { createCommand } from './commands/create.ts';
import { deleteCommand } from './commands/delete.ts';
import { enableCommand } from './commands/enable.ts';
import { examineCommand } from './commands/examine.ts';
import { expungeCommand } from './commands/expunge.ts';
import { fetchCommand } from './commands/fetch.ts';
import { getquotaCommand } from './commands/getquota.ts';
import { getquotarootCommand } from './commands/getquotaroot.ts';
import { idCommand } from './commands/id.ts';
import { idleCommand } from './commands/idle.ts';
import { listCommand } from './commands/list.ts';
import { loginCommand } from './commands/login.ts';
import { logoutCommand } from './commands/logout.ts';
import { lsubCommand } from './commands/lsub.ts';
import { moveCommand } from './commands/move.ts';
import { namespaceCommand } from './commands/namespace.ts';
import { noopCommand } from './commands/noop.ts';
import { renameCommand } from './commands/rename.ts';
import { searchCommand } from './commands/search.ts';
import { selectCommand } from './commands/select.ts';
import { setquotaCommand } from './commands/setquota.ts';
import { starttlsCommand } from './commands/starttls.ts';
import { statusCommand } from './commands/status.ts';
import { storeCommand } from './commands/store.ts';
import { subscribeCommand } from './commands/subscribe.ts';
import { unselectCommand } from './commands/unselect.ts';
import { unsubscribeCommand } from './commands/unsubscribe.ts';
import type { ImapCommandName } from './parser/parse-command.ts';

export const COMMANDS: { readonly [N in ImapCommandName]: ImapCommandHandler<N> } = {
  CAPABILITY: capabilityCommand,
  NOOP: noopCommand,
  LOGOUT: logoutCommand,
  STARTTLS: starttlsCommand,
  AUTHENTICATE: authenticateCommand,
  LOGIN: loginCommand,
  ENABLE: enableCommand,
  ID: idCommand,
  SELECT: selectCommand,
  EXAMINE: examineCommand,
  CREATE: createCommand,
  DELETE: deleteCommand,
  RENAME: renameCommand,
  SUBSCRIBE: subscribeCommand,
  UNSUBSCRIBE: unsubscribeCommand,
  LIST: listCommand,
  LSUB: lsubCommand,
  NAMESPACE: namespaceCommand,
  STATUS: statusCommand,
  APPEND: appendCommand,
  IDLE: idleCommand,
  CHECK: checkCommand,
  CLOSE: closeCommand,
  UNSELECT: unselectCommand,
  EXPUNGE: expungeCommand,
  SEARCH: searchCommand,
  FETCH: fetchCommand,
  STORE: storeCommand,
  COPY: copyCommand,
  MOVE: moveCommand,
  GETQUOTA: getquotaCommand,
  GETQUOTAROOT: getquotarootCommand,
  SETQUOTA: setquotaCommand,
};
