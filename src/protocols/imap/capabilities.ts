/**
 * The CAPABILITY list (RFC 9051 §7.2.2): exactly what this server implements, varying with
 * the connection: STARTTLS only before TLS, LOGINDISABLED (RFC 9051 §6.2.3) and no AUTH=
 * mechanisms while passwords may not be sent, no AUTH= once authenticated.
 *
 * Non-synchronizing literals (RFC 7888): before authentication only small literals are read
 * at all, so the server advertises LITERAL- there (`{n+}` up to 4096 octets, the IMAP4rev2
 * base rule of RFC 9051 §4.3, which IMAP4rev1 clients learn from the capability) and enforces
 * it; once authenticated it advertises LITERAL+ (any size up to the literal limits). Never
 * both at once (RFC 7888 §5).
 */

export interface CapabilityFacts {
  readonly authenticated: boolean;
  /** STARTTLS can be issued now. */
  readonly canStartTls: boolean;
  /** Passwords may be sent now (TLS, loopback or auth.allowPlaintext). */
  readonly plaintextAllowed: boolean;
  /** APPENDLIMIT (RFC 7889), bytes. */
  readonly appendLimit: number;
}

/** Extensions that do not depend on the connection, listed in this order after LITERAL+/-. */
const EXTENSIONS: readonly string[] = [
  'ID', // RFC 2971
  'ENABLE', // RFC 5161
  'IDLE', // RFC 2177
  'NAMESPACE', // RFC 2342
  'UNSELECT', // RFC 3691
  'CHILDREN', // RFC 3348
  'UIDPLUS', // RFC 4315
  'MOVE', // RFC 6851
  'SPECIAL-USE', // RFC 6154
  'CREATE-SPECIAL-USE', // RFC 6154
  'CONDSTORE', // RFC 7162
  'QRESYNC', // RFC 7162
  'ESEARCH', // RFC 4731
  'SEARCHRES', // RFC 5182
  'LIST-EXTENDED', // RFC 5258
  'LIST-STATUS', // RFC 5819
  'STATUS=SIZE', // RFC 8438
  'QUOTA', // RFC 9208
  'QUOTA=RES-STORAGE', // RFC 9208
  'UTF8=ACCEPT', // RFC 6855
  'OBJECTID', // RFC 8474
  'BINARY', // RFC 3516
];

/** Largest non-synchronizing literal while LITERAL- is advertised (RFC 7888 §5). */
export const LITERAL_MINUS_MAX = 4096;

/** LITERAL- before authentication, LITERAL+ after (see above). */
export function literalCapability(authenticated: boolean): 'LITERAL+' | 'LITERAL-' {
  return authenticated ? 'LITERAL+' : 'LITERAL-';
}

/** The largest `{n+}` literal accepted in that state: what the literal capability allows. */
export function maxNonSyncLiteral(authenticated: boolean, maxLiteral: number): number {
  return authenticated ? maxLiteral : Math.min(LITERAL_MINUS_MAX, maxLiteral);
}

/** SASL mechanisms of AUTHENTICATE (RFC 4616 PLAIN, and the widespread LOGIN). */
export const SASL_MECHANISMS: readonly string[] = ['PLAIN', 'LOGIN'];

export function capabilityList(facts: CapabilityFacts): string[] {
  const out = ['IMAP4rev1', 'IMAP4rev2'];
  if (facts.canStartTls) out.push('STARTTLS');
  if (!facts.authenticated) {
    if (facts.plaintextAllowed) out.push(...SASL_MECHANISMS.map((m) => `AUTH=${m}`));
    else out.push('LOGINDISABLED');
  }
  out.push(
    'SASL-IR', // RFC 4959
    literalCapability(facts.authenticated), // RFC 7888
    ...EXTENSIONS,
    `APPENDLIMIT=${String(facts.appendLimit)}`,
  );
  return out;
}
