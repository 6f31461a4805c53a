import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkAll, checkLine } from './command-checks.ts';
import { shellLines } from './shell-lines.ts';

/**
 * Every command shown in the README and docs/ is checked against something real (command-checks.ts says
 * how for each form), and a form the test does not know fails, so the docs cannot drift from the code.
 * The operator lines `npm start` prints are run for real by test/integration/local/start.test.ts, and the
 * CLI's one-JSON-document promise by test/integration/tools/portal-credentials.test.ts.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = ['README.md', ...readdirSync(`${root}docs`).flatMap((name) => (name.endsWith('.md') ? [`docs/${name}`] : []))];
const lines = pages.flatMap((page) => shellLines(page, readFileSync(`${root}${page}`, 'utf8')));
const results = await checkAll(lines);

describe('every shell command the docs show', () => {
  it("finds the commands of every page that shows any, the README's two among them", () => {
    // Assess
    expect(lines.filter((line) => line.file === 'README.md').map((line) => line.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^npm start\b/), expect.stringMatching(/^npm test\b/)]),
    );
    for (const page of ['docs/portal-administrators.md', 'docs/platform-teams.md', 'docs/developers.md', 'docs/operators.md'])
      expect(lines.filter((line) => line.file === page).length, page).toBeGreaterThan(0);
  });

  it.each(results.map((result) => [`${result.line.file}:${result.line.line}`, result.line.text.split('\n')[0], result] as const))(
    '%s %s',
    (_, __, result) => {
      // Assess: every simple command of the line was checked, none failed.
      expect(result.error).toBeUndefined();
      expect(result.checked?.length).toBeGreaterThan(0);
    },
  );
});

describe('the docs test itself', () => {
  it.each([
    ['terraform apply', /unknown command form "terraform apply/],
    ['npx portal-credentials audit --stack s --no-such-flag', /portal-credentials audit --help does not list --no-such-flag/],
    ['npx portal-credentials audti --stack s', /portal-credentials has no subcommand "audti"/],
    ['npm run no-such-script', /package.json has no "no-such-script" script/],
    ['curl -s -u "$U" -d \'{}\' http://127.0.0.1:3000/v1/deleteCredentials', /openapi\/webhook.yaml has no POST \/v1\/deleteCredentials/],
    ['curl -si http://127.0.0.1:3000/v1/createCredentials', /openapi\/webhook.yaml has no GET \/v1\/createCredentials/],
    ['npx cdk deploy --no-such-flag', /cdk deploy --help does not list --no-such-flag/],
    ['aws apigateway delete-everything', /@aws-sdk\/client-api-gateway has no DeleteEverythingCommand/],
    ['aws ec2 run-instances', /neither an SDK-checked service nor allowed by name/],
    ['TOKEN=$(terraform output token)', /unknown command form "terraform output/],
  ])('fails %s', async (line, message) => {
    // Act + Assess
    await expect(checkLine(line, new Map())).rejects.toThrow(message);
  });

  it('checks a function the page defines with the arguments of each call', async () => {
    // Prepare
    const functions = new Map();
    await checkLine(`webhook() { curl -s -u "portal:$PASSWORD" -H 'Content-Type: application/json' "\${WEBHOOK_URL}v1/$1" -d "$2"; }`, functions);

    // Act
    const known = await checkLine(`webhook revokeCredentials '{"credentialType": "API_KEY", "appSlug": "demo-orders"}'`, functions);
    const unknown = checkLine(`webhook deleteCredentials '{"appSlug": "demo-orders"}'`, functions);

    // Assess
    expect(known).toContain('curl: POST /v1/revokeCredentials is in openapi/webhook.yaml');
    await expect(unknown).rejects.toThrow(/no POST \/v1\/deleteCredentials/);
  });

  it('fails a command whose quote is still open when its block ends, rather than skipping it', async () => {
    // Act
    const [found] = shellLines('page.md', ['```sh', "curl -s -d '{", '```'].join('\n'));

    // Assess
    await expect(checkLine(found?.text ?? '', new Map())).rejects.toThrow(/unclosed '/);
  });

  it('takes only prompted lines of console and untagged blocks as commands, and joins continued lines', () => {
    // Prepare
    const markdown = ['```', 'ok    health (29 ms)', '$ npm test', '```', '```sh', '# a comment', 'curl -s \\', '  http://x/v1/health', '```'].join(
      '\n',
    );

    // Act
    const found = shellLines('page.md', markdown);

    // Assess
    expect(found).toEqual([
      { file: 'page.md', line: 3, text: 'npm test' },
      { file: 'page.md', line: 7, text: 'curl -s http://x/v1/health' },
    ]);
  });
});
