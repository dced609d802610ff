/**
 * postinstall: link node_modules/.bin/commune to bin/commune.ts so `npx commune` runs the
 * project's own CLI in place. package.json has no "bin" on purpose: npm 11's npx would then
 * install the project into its cache and check its engines (node >= 24) against the Node that
 * runs npm (20 on some machines), refusing under engine-strict.
 */

import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const target = join(root, 'bin', 'commune.ts');
const binDir = join(root, 'node_modules', '.bin');
const link = join(binDir, 'commune');

mkdirSync(binDir, { recursive: true });
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);
