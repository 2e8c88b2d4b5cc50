/** docs/cli.md stays true: it shows every command's --help exactly as the command prints it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './helpers.js';

const doc = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');

describe('docs/cli.md', () => {
  for (const c of ['decode', 'encode', 'inspect', 'validate', 'notification', 'client', 'server', 'admin', 'demo']) {
    it(`documents ${c} as its --help says`, async () => {
      const m = (await import(`../src/cli/commands/${c}.ts`)) as { help: string };
      expect(doc).toContain(`## ${c}`);
      if (c !== 'demo') expect(doc).toContain(m.help.trimEnd());
    });
  }
});
