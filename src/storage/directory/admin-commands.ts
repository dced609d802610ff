/**
 * Administration commands over the Directory (domains, users, aliases, groups, tokens); see
 * ../admin/admin-command.ts for the shape and ../admin/admin-registry.ts for the registry.
 */

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CommuneError } from '../../core/errors.ts';
import type { Principal, PrincipalProfile } from '../../core/principal.ts';
import type { Directory } from './directory.ts';
import { adminCommand } from '../admin/admin-command.ts';

/** The public view of a principal: never a password hash. */
export interface PrincipalView {
  readonly id: number;
  readonly address: string;
  readonly kind: Principal['kind'];
  readonly displayName: string;
  readonly aliases: readonly string[];
  readonly quota: number;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly appPasswords: number;
  readonly profile: PrincipalProfile;
}

export function principalView(p: Principal): PrincipalView {
  return {
    id: p.id,
    address: p.address,
    kind: p.kind,
    displayName: p.displayName,
    aliases: p.addresses.filter((a) => a !== p.address),
    quota: p.quota,
    admin: p.admin,
    disabled: p.disabled,
    appPasswords: p.appPasswords.length,
    profile: p.profile ?? {},
  };
}

/** A random password for `user add` / `user passwd` without one: 20 URL-safe characters. */
export function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

async function principalOrFail(directory: Directory, address: string): Promise<Principal> {
  const p = await directory.findByAddress(address);
  if (!p) throw new CommuneError('not-found', `no such principal: ${address}`);
  return p;
}

const address = z.string().min(1).max(320);
const domainName = z.string().min(1).max(253);

export const directoryAdminCommands = {
  'domain.add': adminCommand({
    summary: 'add a mail domain',
    args: z.strictObject({ name: domainName }),
    async run({ directory }, { name }) {
      return { domain: await directory.addDomain(name) };
    },
  }),
  'domain.list': adminCommand({
    summary: 'list domains',
    args: z.strictObject({}),
    async run({ directory }) {
      return { domains: await directory.listDomains() };
    },
  }),
  'domain.remove': adminCommand({
    summary: 'remove an empty domain',
    args: z.strictObject({ name: domainName }),
    async run({ directory }, { name }) {
      await directory.removeDomain(name);
      return { removed: name };
    },
  }),
  'user.add': adminCommand({
    summary: 'add a user (the domain is created if needed)',
    args: z.strictObject({
      address,
      password: z.string().min(1).max(1024).optional(),
      name: z.string().max(256).optional(),
      quota: z.number().int().min(0).optional(),
      admin: z.boolean().optional(),
    }),
    async run({ directory }, args) {
      const password = args.password ?? generatePassword();
      const p = await directory.createPrincipal({
        address: args.address,
        kind: 'individual',
        password,
        createDomain: true,
        ...(args.name !== undefined ? { displayName: args.name } : {}),
        ...(args.quota !== undefined ? { quota: args.quota } : {}),
        ...(args.admin !== undefined ? { admin: args.admin } : {}),
      });
      return {
        user: principalView(p),
        ...(args.password === undefined ? { generatedPassword: password } : {}),
      };
    },
  }),
  'user.list': adminCommand({
    summary: 'list users',
    args: z.strictObject({ domain: domainName.optional() }),
    async run({ directory }, { domain }) {
      const list = await directory.listPrincipals({
        kind: 'individual',
        ...(domain !== undefined ? { domain } : {}),
      });
      return { users: list.map(principalView) };
    },
  }),
  'user.passwd': adminCommand({
    summary: "set a user's password",
    args: z.strictObject({ address, password: z.string().min(1).max(1024).optional() }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      const password = args.password ?? generatePassword();
      await directory.setPassword(p.id, password);
      return {
        user: p.address,
        ...(args.password === undefined ? { generatedPassword: password } : {}),
      };
    },
  }),
  'user.set': adminCommand({
    summary: "change a user's name, profile (phone, title, ...), quota or state",
    args: z.strictObject({
      address,
      name: z.string().max(256).optional(),
      phone: z.string().max(256).optional(),
      mobile: z.string().max(256).optional(),
      title: z.string().max(256).optional(),
      organization: z.string().max(256).optional(),
      department: z.string().max(256).optional(),
      quota: z.number().int().min(0).optional(),
      disabled: z.boolean().optional(),
      admin: z.boolean().optional(),
    }),
    async run({ directory }, args) {
      let p = await principalOrFail(directory, args.address);
      if (args.name !== undefined) p = await directory.setDisplayName(p.id, args.name);
      const profile: PrincipalProfile = {
        ...(args.phone !== undefined ? { phone: args.phone } : {}),
        ...(args.mobile !== undefined ? { mobile: args.mobile } : {}),
        ...(args.title !== undefined ? { title: args.title } : {}),
        ...(args.organization !== undefined ? { organization: args.organization } : {}),
        ...(args.department !== undefined ? { department: args.department } : {}),
      };
      if (Object.keys(profile).length > 0) p = await directory.setProfile(p.id, profile);
      if (args.quota !== undefined) p = await directory.setQuota(p.id, args.quota);
      if (args.disabled !== undefined) p = await directory.setDisabled(p.id, args.disabled);
      if (args.admin !== undefined) p = await directory.setAdmin(p.id, args.admin);
      return { user: principalView(p) };
    },
  }),
  'user.remove': adminCommand({
    summary: 'remove a user',
    args: z.strictObject({ address }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      await directory.removePrincipal(p.id);
      return { removed: p.address };
    },
  }),
  'token.add': adminCommand({
    summary: 'issue a bearer token for HTTP APIs (shown once)',
    args: z.strictObject({
      address,
      label: z.string().min(1).max(100).optional(),
      days: z.number().int().min(1).max(3650).optional(),
    }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      const issued = await directory.createToken(
        p.id,
        args.label ?? 'api',
        args.days === undefined ? undefined : args.days * 86_400,
      );
      return { principal: p.address, token: issued };
    },
  }),
  'token.list': adminCommand({
    summary: "list a user's bearer tokens (not the secrets)",
    args: z.strictObject({ address }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      return {
        tokens: (p.tokens ?? []).map((t) => ({
          id: t.id,
          label: t.label,
          createdAt: t.createdAt,
          ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
        })),
      };
    },
  }),
  'token.remove': adminCommand({
    summary: 'revoke a bearer token',
    args: z.strictObject({ address, id: z.string().min(1).max(64) }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      await directory.revokeToken(p.id, args.id);
      return { removed: args.id };
    },
  }),
  'alias.add': adminCommand({
    summary: 'add an address that reaches a user or group',
    args: z.strictObject({ address, alias: address }),
    async run({ directory }, args) {
      const p = await principalOrFail(directory, args.address);
      await directory.addAlias(p.id, args.alias);
      return { principal: p.address, alias: args.alias.toLowerCase() };
    },
  }),
  'alias.remove': adminCommand({
    summary: 'remove an alias',
    args: z.strictObject({ alias: address }),
    async run({ directory }, args) {
      await directory.removeAlias(args.alias);
      return { removed: args.alias.toLowerCase() };
    },
  }),
  'group.add': adminCommand({
    summary: 'add a group (also a distribution list at its address)',
    args: z.strictObject({ address, name: z.string().max(256).optional() }),
    async run({ directory }, args) {
      const p = await directory.createPrincipal({
        address: args.address,
        kind: 'group',
        createDomain: true,
        ...(args.name !== undefined ? { displayName: args.name } : {}),
      });
      return { group: principalView(p) };
    },
  }),
  'group.member': adminCommand({
    summary: 'add (or with remove, take out) a member of a group',
    args: z.strictObject({ group: address, member: address, remove: z.boolean().optional() }),
    async run({ directory }, args) {
      const group = await principalOrFail(directory, args.group);
      const member = await principalOrFail(directory, args.member);
      if (group.kind !== 'group')
        throw new CommuneError('invalid-argument', `${group.address} is not a group`);
      if (args.remove) await directory.removeMember(group.id, member.id);
      else await directory.addMember(group.id, member.id);
      return { group: group.address, member: member.address, removed: args.remove === true };
    },
  }),
  'group.members': adminCommand({
    summary: 'list the members of a group',
    args: z.strictObject({ group: address }),
    async run({ directory }, args) {
      const group = await principalOrFail(directory, args.group);
      const members = await directory.members(group.id);
      return { group: group.address, members: members.map(principalView) };
    },
  }),
} as const;
