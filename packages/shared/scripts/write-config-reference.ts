import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigReference } from '../src/config-reference.ts';

const readme = new URL('../../../README.md', import.meta.url);
writeFileSync(readme, withConfigReference(readFileSync(readme, 'utf8')));
