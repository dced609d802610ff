/**
 * String preparation for matching (a simplified RFC 4518): Unicode NFKC normalisation, case
 * folding for the caseIgnore rules, and insignificant-space handling (leading and trailing
 * space removed, inner runs of white space collapsed to one space, RFC 4518 §2.6.1). Used by
 * filter evaluation (filter.ts) and DN normalisation (dn.ts) so both agree on equality.
 */

const SPACES = /\s+/gu;

/** caseIgnoreMatch / caseIgnoreOrderingMatch / caseIgnoreSubstringsMatch (RFC 4517 §4.2). */
export function prepareCaseIgnore(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(SPACES, ' ').trim();
}

/** caseExactMatch and friends (RFC 4517 §4.2.3): no case folding. */
export function prepareCaseExact(value: string): string {
  return value.normalize('NFKC').replace(SPACES, ' ').trim();
}

/** Our approximate match: case folded with all white space removed. */
export function prepareApprox(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(SPACES, '');
}

/**
 * A substring assertion piece: folded like its rule, inner white space collapsed, but not
 * trimmed (a leading space in an `any` piece is significant between words).
 */
export function prepareSubstring(value: string, caseFold: boolean): string {
  const v = value.normalize('NFKC').replace(SPACES, ' ');
  return caseFold ? v.toLowerCase() : v;
}
