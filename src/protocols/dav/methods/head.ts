/** HEAD (RFC 9110 §9.3.2): GET's headers without the content. */

import { contentMethod } from './get.ts';

export const headMethod = contentMethod('HEAD');
