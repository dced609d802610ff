/**
 * vCard resources (RFC 6352 §5.1, RFC 6350, RFC 2426): validation with ical.js, and conversion
 * between vCard 3.0 and 4.0 for clients that ask for the other version (address-data
 * content-type/version, RFC 6352 §10.4). Cards are stored as sent.
 */

import ICAL from 'ical.js';
import { CommuneError } from '../../core/errors.ts';

type Component = InstanceType<typeof ICAL.Component>;

/** Why a vCard is refused: the RFC 6352 §6.3.2.1 precondition name. */
export type CardCondition = 'supported-address-data' | 'valid-address-data' | 'max-resource-size';

export class CardDataError extends CommuneError {
  readonly condition: CardCondition;

  constructor(condition: CardCondition, message: string) {
    super('invalid-argument', message);
    this.name = 'CardDataError';
    this.condition = condition;
  }
}

export const VCARD_VERSIONS = ['3.0', '4.0'] as const;
export type VCardVersion = (typeof VCARD_VERSIONS)[number];

export interface ParsedCard {
  readonly card: Component;
  readonly uid: string;
  readonly version: VCardVersion;
}

/** Parse one vCard; CardDataError valid-address-data when it is not one. */
export function parseVCard(text: string): Component {
  if (!/^\s*BEGIN:VCARD\r?\n/i.test(text.replace(/^\uFEFF/, ''))) {
    throw new CardDataError('valid-address-data', 'not a vCard');
  }
  let parsed: unknown;
  try {
    parsed = ICAL.parse(text);
  } catch (err) {
    throw new CardDataError('valid-address-data', `malformed vCard: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || typeof parsed[0] !== 'string') {
    throw new CardDataError('valid-address-data', 'expected exactly one vCard');
  }
  const card = new ICAL.Component(parsed as unknown[]);
  if (card.name !== 'vcard') throw new CardDataError('valid-address-data', 'expected a VCARD');
  return card;
}

/** Validate a vCard resource: VERSION 3.0 or 4.0, FN and UID present (RFC 6352 §5.1). */
export function validateVCard(text: string): ParsedCard {
  const card = parseVCard(text);
  const version = String(card.getFirstPropertyValue('version') ?? '');
  if (!(VCARD_VERSIONS as readonly string[]).includes(version)) {
    throw new CardDataError('supported-address-data', 'only vCard 3.0 and 4.0 are stored');
  }
  const uid = card.getFirstPropertyValue('uid');
  if (uid === null || uid === undefined || String(uid) === '') {
    throw new CardDataError('valid-address-data', 'UID is required');
  }
  if (!card.hasProperty('fn')) throw new CardDataError('valid-address-data', 'FN is required');
  return { card, uid: String(uid), version: version as VCardVersion };
}

/**
 * The card text in the requested version: as stored when it already is, else with the
 * VERSION changed and the few properties that differ rewritten (KIND / X-ADDRESSBOOKSERVER-KIND,
 * TYPE=pref / PREF=1).
 */
export function convertVCard(text: string, to: VCardVersion): string {
  const lines = unfold(text);
  const from = lines
    .find((l) => /^VERSION:/i.test(l))
    ?.slice(8)
    .trim();
  if (from === to) return text;
  const out: string[] = [];
  for (const line of lines) {
    if (/^VERSION:/i.test(line)) out.push(`VERSION:${to}`);
    else if (to === '3.0' && /^KIND:/i.test(line))
      out.push(`X-ADDRESSBOOKSERVER-KIND:${line.slice(5)}`);
    else if (to === '4.0' && /^X-ADDRESSBOOKSERVER-KIND:/i.test(line))
      out.push(`KIND:${line.slice(25)}`);
    else if (to === '3.0') out.push(line.replace(/;PREF=1(?=[;:])/i, ';TYPE=pref'));
    else out.push(line.replace(/;TYPE=pref(?=[;:])/i, ';PREF=1'));
  }
  return `${out
    .filter((l) => l !== '')
    .map(fold)
    .join('\r\n')}\r\n`;
}

function unfold(text: string): string[] {
  return text.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
}

function fold(line: string): string {
  if (line.length <= 75) return line;
  const parts: string[] = [];
  for (let i = 0; i < line.length; i += 74) parts.push(line.slice(i, i + 74));
  return parts.join('\r\n ');
}
