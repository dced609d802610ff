/**
 * Access control basics (RFC 3744, RFC 5397): who the caller is (current-user-principal),
 * where principals live, who owns a resource, the caller's privileges on it, the supported
 * privileges, the ACL itself where a tree can show it (and the ACL method where it can change
 * it), and the expand-property report.
 */

import { isAclTree } from '../dav-node.ts';
import { hrefProperty, liveProperty, type DavPlugin } from '../dav-plugin.ts';
import { aclMethod } from '../methods/acl.ts';
import { PRIVILEGE_TREE, type Privilege } from '../privileges.ts';
import { expandPropertyReport } from '../reports/expand-property.ts';
import { PRINCIPALS_ROOT } from '../trees/principals-tree.ts';
import { DAV_NS, clark, splitClark } from '../xml.ts';
import type { XmlWriter } from '../xml-writer.ts';
import { hrefText } from '../multistatus.ts';

const dav = (name: string): string => clark(DAV_NS, name);

function writePrivilege(w: XmlWriter, p: string): void {
  w.open(DAV_NS, 'privilege');
  if (p.startsWith('{')) {
    const { ns, name } = splitClark(p);
    w.leaf(ns, name);
  } else {
    w.leaf(DAV_NS, p);
  }
  w.close();
}

function writeSupported(w: XmlWriter, p: Privilege): void {
  w.open(DAV_NS, 'supported-privilege');
  writePrivilege(w, p);
  if (p === 'all') w.leaf(DAV_NS, 'abstract');
  for (const child of PRIVILEGE_TREE[p]) writeSupported(w, child);
  w.close();
}

export function aclPlugin(): DavPlugin {
  return {
    name: 'acl',
    compliance: ['access-control'],
    methods: [aclMethod],
    reports: [expandPropertyReport],
    properties: [
      hrefProperty(dav('current-user-principal'), async (dr) => [dr.ctx.principalPath]),
      hrefProperty(dav('principal-collection-set'), async () => [PRINCIPALS_ROOT]),
      hrefProperty(dav('owner'), async (_dr, node) =>
        node.owner === undefined ? undefined : [node.owner],
      ),
      liveProperty(
        dav('current-user-privilege-set'),
        async (dr, node) => {
          const held = (await dr.privileges(node)).expanded();
          return { write: (w) => held.forEach((p) => writePrivilege(w, p)) };
        },
        { privilege: 'read-current-user-privilege-set' },
      ),
      liveProperty(dav('supported-privilege-set'), async () => ({
        write: (w) => writeSupported(w, 'all'),
      })),
      liveProperty(dav('acl-restrictions'), async () => ({
        write: (w) => {
          w.leaf(DAV_NS, 'grant-only').leaf(DAV_NS, 'no-invert');
        },
      })),
      liveProperty(
        dav('acl'),
        async (dr, node) => {
          if (!isAclTree(node.tree)) return undefined;
          const aces = await node.tree.acl(dr.ctx, node);
          return {
            write: (w) => {
              for (const ace of aces) {
                w.open(DAV_NS, 'ace').open(DAV_NS, 'principal');
                if (ace.principal.startsWith('{')) {
                  const { ns, name } = splitClark(ace.principal);
                  w.leaf(ns, name);
                } else {
                  w.leaf(DAV_NS, 'href', hrefText(ace.principal));
                }
                w.close().open(DAV_NS, 'grant');
                for (const p of ace.grant) writePrivilege(w, p);
                w.close();
                if (ace.protected) w.leaf(DAV_NS, 'protected');
                if (ace.inherited !== undefined)
                  w.open(DAV_NS, 'inherited').leaf(DAV_NS, 'href', hrefText(ace.inherited)).close();
                w.close();
              }
            },
          };
        },
        { privilege: 'read-acl', applies: (node) => isAclTree(node.tree) },
      ),
    ],
  };
}
