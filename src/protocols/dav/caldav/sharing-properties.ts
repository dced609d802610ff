/**
 * The CalendarServer sharing properties clients read to show a collection as shared
 * (Apple's caldav-sharing draft): CS:shared-url on a share seen in a sharee's home (the
 * owner's URL of the collection) and CS:invite on any shared collection (the owner as
 * organizer, then each sharee with its access), and CS:allowed-sharing-modes on the owner's
 * collections. Sharing itself is set with the ACL method or a sharing POST.
 */

import { davPrincipalPath } from '../../../core/principal-names.ts';
import type { Directory } from '../../../storage/directory/directory.ts';
import { levelOfRights } from '../../../storage/grants.ts';
import type { DavNode } from '../dav-node.ts';
import { hrefProperty, liveProperty, type LiveProperty } from '../dav-plugin.ts';
import { hrefText } from '../multistatus.ts';
import { CALENDARSERVER_NS, DAV_NS, clark } from '../xml.ts';
import { CollectionHomeTree, isHomeDavNode } from './collection-home-tree.ts';

const CS = CALENDARSERVER_NS;

/** Properties for the collections of every CollectionHomeTree (calendars, address books). */
export function sharingProperties(directory: Directory): LiveProperty[] {
  const onCollection = (node: DavNode): boolean =>
    isHomeDavNode(node) &&
    node.tree instanceof CollectionHomeTree &&
    node.home.collection !== undefined &&
    node.home.resource === undefined;
  const treeOf = (node: DavNode): CollectionHomeTree => node.tree as CollectionHomeTree;
  return [
    liveProperty(
      clark(CS, 'allowed-sharing-modes'),
      async (_dr, node) => {
        if (!isHomeDavNode(node) || node.home.collection?.mount) return undefined;
        return { write: (w) => w.leaf(CS, 'can-be-shared') };
      },
      { applies: onCollection },
    ),
    hrefProperty(
      clark(CS, 'shared-url'),
      async (_dr, node) => {
        if (!isHomeDavNode(node) || !node.home.collection?.mount) return undefined;
        return [treeOf(node).collectionPath(node.home.owner, node.home.collection.name)];
      },
      { applies: onCollection },
    ),
    liveProperty(
      clark(CS, 'invite'),
      async (_dr, node) => {
        if (!isHomeDavNode(node) || !node.home.collection) return undefined;
        const { owner, collection } = node.home;
        const grants = await treeOf(node).kind.store.grants.grantsOf(owner.id, collection.name);
        if (grants.length === 0) return undefined;
        const users: { href: string; name: string; level: string }[] = [];
        for (const g of grants) {
          const who = await directory.getPrincipal(g.principal);
          const level = levelOfRights(g.rights);
          if (who && level)
            users.push({ href: davPrincipalPath(who), name: who.displayName, level });
        }
        return {
          write: (w) => {
            w.open(CS, 'organizer')
              .leaf(DAV_NS, 'href', hrefText(davPrincipalPath(owner)))
              .leaf(CS, 'common-name', owner.displayName)
              .close();
            for (const u of users) {
              w.open(CS, 'user')
                .leaf(DAV_NS, 'href', hrefText(u.href))
                .leaf(CS, 'common-name', u.name)
                .leaf(CS, 'invite-accepted')
                .open(CS, 'access')
                .leaf(CS, u.level)
                .close()
                .close();
            }
          },
        };
      },
      { applies: onCollection },
    ),
  ];
}
