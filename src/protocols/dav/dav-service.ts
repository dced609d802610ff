/**
 * The DAV service on the HTTP listener (`/dav/`): builds the files domain service, the lock
 * store, the authenticator and the plugin registry from Core. CalDAV/CardDAV plug in by
 * passing more plugins.
 *
 * Reads `dav.allowDepthInfinity` from the configuration (PROPFIND
 * Depth: infinity, refused by default per RFC 4918 §9.1).
 */

import { statfs } from 'node:fs/promises';
import type { HttpService } from '../../core/lifecycle.ts';
import type { Core } from '../../main.ts';
import { CalendarDelegation } from '../../storage/calendar/calendar-delegation.ts';
import { CalendarService } from '../../storage/calendar/calendar-service.ts';
import { ContactsService } from '../../storage/contacts/contacts-service.ts';
import { FilesService } from '../../storage/files/files-service.ts';
import { LockStore } from '../../storage/files/lock-store.ts';
import { HttpAuthenticator } from '../http/http-auth.ts';
import { caldavPlugin } from './caldav/caldav-plugin.ts';
import { sharingPlugin } from './caldav/sharing-plugin.ts';
import { carddavPlugin } from './carddav/carddav-plugin.ts';
import type { DavPlugin } from './dav-plugin.ts';
import { DavRegistry } from './dav-registry.ts';
import { DavServer } from './dav-server.ts';
import { aclPlugin } from './plugins/acl-plugin.ts';
import { filesPlugin } from './plugins/files-plugin.ts';
import { principalsPlugin } from './plugins/principals-plugin.ts';
import { quotaPlugin } from './plugins/quota-plugin.ts';
import { syncPlugin } from './plugins/sync-plugin.ts';
import { webdavPlugin } from './plugins/webdav-plugin.ts';
import { DAV_ROOT, RootTree } from './trees/root-tree.ts';

export const DAV_PREFIX = DAV_ROOT;

/** Limits of XML bodies and dead properties. */
export const DAV_LIMITS = {
  maxXmlBody: 1024 * 1024,
  maxPropertyBytes: 64 * 1024,
  maxPropertiesPerResource: 1024 * 1024,
} as const;

/** The plugins of the DAV service, the root tree listing every other tree. */
export function davPlugins(
  core: Core,
  files: FilesService,
  extra: readonly DavPlugin[] = [],
): DavPlugin[] {
  const calendars = new CalendarService({ storage: core.storage });
  const plugins: DavPlugin[] = [
    webdavPlugin(),
    aclPlugin(),
    principalsPlugin(core.directory, new CalendarDelegation(calendars.store.grants)),
    filesPlugin({
      files,
      directory: core.directory,
      freeSpace: async () => {
        try {
          const s = await statfs(core.dataDir);
          return s.bavail * s.bsize;
        } catch {
          return undefined;
        }
      },
    }),
    quotaPlugin(),
    syncPlugin(),
    caldavPlugin({ calendars, directory: core.directory }),
    carddavPlugin({
      contacts: new ContactsService({ storage: core.storage }),
      directory: core.directory,
      storage: core.storage,
    }),
    sharingPlugin(core.directory),
    ...extra,
  ];
  const members = plugins.flatMap((p) => p.trees ?? []);
  plugins.push({ name: 'root', trees: [new RootTree(() => members)] });
  return plugins;
}

export function createDavService(core: Core, extra: readonly DavPlugin[] = []): HttpService {
  const files = new FilesService({
    storage: core.storage,
    quotaOf: async (id) => (await core.directory.getPrincipal(id))?.quota ?? 0,
  });
  const server = new DavServer({
    registry: new DavRegistry(davPlugins(core, files, extra)),
    locks: new LockStore(core.storage),
    log: core.log,
    authenticator: new HttpAuthenticator({
      directory: core.directory,
      allowPlaintext: core.config.auth.allowPlaintext,
    }),
    allowDepthInfinity: core.config.dav.allowDepthInfinity,
    ...DAV_LIMITS,
  });
  return {
    name: 'dav',
    prefixes: [DAV_PREFIX],
    handle: (req, res, ctx) => server.handle(req, res, ctx),
  };
}
