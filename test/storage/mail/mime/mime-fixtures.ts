/** Test helpers: the .eml fixtures, line-ending variants and wire forms of indexer output. */

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeBodyStructure } from '../../../../src/protocols/imap/compose/body-structure.ts';
import type { BodyStructure } from '../../../../src/protocols/imap/compose/body-structure.ts';
import { writeEnvelope } from '../../../../src/protocols/imap/compose/envelope.ts';
import type { Envelope } from '../../../../src/protocols/imap/compose/envelope.ts';
import {
  ResponseWriter,
  partsToBytes,
} from '../../../../src/protocols/imap/compose/response-writer.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../fixtures/mail/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.eml'))
    .sort();
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURE_DIR + name));
}

/** Every line ending made CRLF (bare CR left alone). */
export function toCrlf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(
    Buffer.from(Buffer.from(bytes).toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'),
  );
}

/** Every CRLF made LF. */
export function toLf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(
    Buffer.from(Buffer.from(bytes).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
  );
}

function wire(write: (w: ResponseWriter) => void): string {
  const w = new ResponseWriter({ utf8: true });
  write(w);
  return new TextDecoder().decode(partsToBytes(w.parts()));
}

export function bodyStructureWire(body: BodyStructure, extended = true): string {
  return wire((w) => writeBodyStructure(w, body, extended));
}

export function envelopeWire(envelope: Envelope): string {
  return wire((w) => writeEnvelope(w, envelope));
}

export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
export const bytesOf = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
