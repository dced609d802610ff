/**
 * WebDAV file storage: the `/dav/files/` tree over the FilesService. Its live properties
 * (quota, sync) come from the quota and sync plugins, which serve any tree with those
 * capabilities.
 */

import type { Directory } from '../../../storage/directory/directory.ts';
import type { FilesService } from '../../../storage/files/files-service.ts';
import type { DavPlugin } from '../dav-plugin.ts';
import { FilesTree } from '../trees/files-tree.ts';

export function filesPlugin(options: {
  files: FilesService;
  directory: Directory;
  freeSpace?: () => Promise<number | undefined>;
}): DavPlugin {
  return { name: 'files', trees: [new FilesTree(options)] };
}
