/**
 * One identity for every protocol. A Principal is an individual, a group, a resource or a
 * room; every successful authentication, on any protocol, yields an AccessContext that every
 * domain service call takes.
 */

export type PrincipalKind = 'individual' | 'group' | 'resource' | 'room';

/** Protocol-neutral rights; each protocol maps them (IMAP ACL letters, DAV privileges, ...). */
export type Right = 'read' | 'write' | 'delete' | 'share' | 'admin' | 'freebusy';

export const ALL_RIGHTS: readonly Right[] = [
  'read',
  'write',
  'delete',
  'share',
  'admin',
  'freebusy',
];

export interface AppPassword {
  readonly id: string;
  readonly label: string;
  /** argon2id PHC string. */
  readonly hash: string;
  readonly createdAt: string;
}

/** Directory attributes of a person or resource, served by LDAP and address books. */
export interface PrincipalProfile {
  readonly phone?: string;
  readonly mobile?: string;
  readonly title?: string;
  readonly organization?: string;
  readonly department?: string;
}

export const PROFILE_FIELDS = ['phone', 'mobile', 'title', 'organization', 'department'] as const;

/**
 * A bearer token (RFC 6750) for HTTP APIs, issued through the admin API. Tokens are 256-bit
 * random secrets, so a SHA-256 digest (not a slow hash) identifies them safely.
 */
export interface ApiToken {
  readonly id: string;
  readonly label: string;
  /** SHA-256 of the token, lower-case hex. */
  readonly hash: string;
  readonly createdAt: string;
  /** ISO time after which the token is refused; absent = no expiry. */
  readonly expiresAt?: string;
}

export interface Principal {
  /** Numeric account id (the change-log account). */
  readonly id: number;
  readonly kind: PrincipalKind;
  /** Primary address, lower-case: `alice@example.test`. Also the login name. */
  readonly address: string;
  /** Domain of the primary address. */
  readonly domain: string;
  readonly displayName: string;
  /** Every address that reaches this principal (primary first, then aliases), lower-case. */
  readonly addresses: readonly string[];
  /** argon2id PHC string; absent for principals that cannot log in (groups, resources). */
  readonly passwordHash?: string;
  readonly appPasswords: readonly AppPassword[];
  /** Storage quota in bytes; 0 = unlimited. */
  readonly quota: number;
  /** Server administrator. */
  readonly admin: boolean;
  /** Login disabled. */
  readonly disabled: boolean;
  readonly createdAt: string;
  /** Optional directory attributes (records written before profiles existed lack it). */
  readonly profile?: PrincipalProfile;
  /** Bearer tokens for HTTP APIs (absent = none). */
  readonly tokens?: readonly ApiToken[];
}

/** How a request authenticated. */
export type AuthMethod = 'password' | 'app-password' | 'token' | 'internal';

/**
 * The result of authentication: who is acting, and through which groups. Domain services
 * check rights against it; protocols never decide access on their own.
 */
export interface AccessContext {
  readonly principalId: number;
  readonly address: string;
  readonly displayName: string;
  readonly kind: PrincipalKind;
  /** Ids of the groups this principal belongs to (transitively). */
  readonly memberOf: readonly number[];
  readonly admin: boolean;
  readonly method: AuthMethod;
}

/** Everything the caller knows about where a login attempt comes from. */
export interface AuthAttempt {
  readonly login: string;
  readonly password: string;
  /** Client IP address, for rate limiting and logs. */
  readonly remoteAddress?: string;
  /** Protocol name, for logs: imap, smtp, http, ldap, sip. */
  readonly protocol?: string;
}
