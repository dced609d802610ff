/**
 * Sharing of calendars and address books beyond RFC 3744 (whose ACL method the acl plugin
 * serves): the sharing POST of CalendarServer and of the WebDAV resource sharing draft, and
 * the properties clients read to show shared collections. The shares themselves are the
 * collection grants of the store (collection-grants.ts); the trees enforce them.
 */

import type { Directory } from '../../../storage/directory/directory.ts';
import type { DavPlugin } from '../dav-plugin.ts';
import { sharePostMethod } from './share-post-method.ts';
import { sharingProperties } from './sharing-properties.ts';

export function sharingPlugin(directory: Directory): DavPlugin {
  return {
    name: 'sharing',
    methods: [sharePostMethod(directory)],
    properties: sharingProperties(directory),
  };
}
