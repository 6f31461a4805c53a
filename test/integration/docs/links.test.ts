import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Every relative link of the README, the CHANGELOG and docs/ reaches a file, and its anchor a heading there. */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = ['README.md', 'CHANGELOG.md', ...readdirSync(`${root}docs`).flatMap((name) => (name.endsWith('.md') ? [`docs/${name}`] : []))];

/** A page's prose lines, fenced code left out. */
const proseLines = (page: string) => {
  let fenced = false;
  return readFileSync(`${root}${page}`, 'utf8')
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => {
      if (line.trimStart().startsWith('```')) fenced = !fenced;
      return !fenced && !line.trimStart().startsWith('```');
    });
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replaceAll(' ', '-');
const anchors = (page: string) => new Set(proseLines(page).flatMap(({ line }) => (/^#{1,6} /.test(line) ? [anchor(line.replace(/^#+ /, ''))] : [])));

const links = pages.flatMap((page) =>
  proseLines(page).flatMap(({ line, number }) =>
    [...line.matchAll(/\]\(([^)\s]+)\)/g)].flatMap((match) =>
      /^https?:/.test(match[1] as string) ? [] : [[`${page}:${number}`, page, match[1] as string]],
    ),
  ),
);

describe('links between the docs', () => {
  it.each(links)('%s %s → %s resolves', (_, page, link) => {
    // Prepare
    const [path, fragment] = link.split('#') as [string, string | undefined];
    const target = path ? normalize(join(dirname(page), path)) : page;

    // Assess
    expect(existsSync(`${root}${target}`), `${target} exists`).toBe(true);
    if (fragment) expect([...anchors(target)]).toContain(fragment);
  });
});
