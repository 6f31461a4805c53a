import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { type ShellLine, type SimpleCommand, simpleCommands, withoutComment } from './shell-lines.ts';

/**
 * Checks one shell command of the docs against something real, and says how it was checked. Each form
 * a command may take is listed in `checkSimple`; any other form fails, so a page cannot show a command
 * nobody checks.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);
const environment = { ...process.env, PATH: `${root}node_modules/.bin:${process.env.PATH}` };

const packageJson = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string;
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const { scripts } = packageJson;
const openapiPaths = (parse(readFileSync(`${root}openapi/webhook.yaml`, 'utf8')) as { paths: Record<string, Record<string, unknown>> }).paths;
/** The sample API's routes, as infra/sample-protected-api.ts declares them: `orders` → `GET`. */
const sampleRoutes = new Map(
  [...readFileSync(`${root}infra/sample-protected-api.ts`, 'utf8').matchAll(/addResource\('(\w+)'\)\s*\.addMethod\('(\w+)'/g)].map((match) => [
    match[1] as string,
    match[2] as string,
  ]),
);

const helpTexts = new Map<string, Promise<string>>();
/** A program's `--help`, run once per program and subcommand. */
const help = (program: string, ...args: string[]) => {
  const key = [program, ...args].join(' ');
  if (!helpTexts.has(key))
    helpTexts.set(
      key,
      run(program, [...args, '--help'], { cwd: root, env: environment }).then(({ stdout }) => stdout),
    );
  return helpTexts.get(key) as Promise<string>;
};

const flagsOf = (words: readonly string[]) => words.filter((word) => /^--?[a-z]/.test(word)).map((word) => word.split('=')[0] as string);
const documents = (text: string, flag: string) => new RegExp(`(^|[\\s,])${flag}([\\s,=]|$)`, 'm').test(text);

const checkFlags = async (words: readonly string[], helpText: string, what: string) => {
  const missing = flagsOf(words).filter((flag) => !documents(helpText, flag));
  if (missing.length > 0) throw new Error(`${what} --help does not list ${missing.join(', ')}`);
};

const portalCredentials = async (args: readonly string[]) => {
  const [subcommand, ...rest] = args;
  const usage = await help('node', 'bin/portal-credentials.js');
  if (!subcommand || !new RegExp(`^ {2}${subcommand} `, 'm').test(usage)) throw new Error(`portal-credentials has no subcommand "${subcommand}"`);
  await checkFlags(rest, await help('node', 'bin/portal-credentials.js', subcommand), `portal-credentials ${subcommand}`);
  return `portal-credentials ${subcommand}: a subcommand, every flag in its --help`;
};

const cdk = async (args: readonly string[]) => {
  const [subcommand, ...rest] = args;
  if (!subcommand || !new RegExp(`^ {2}cdk ${subcommand}[\\s]`, 'm').test(await help('cdk')))
    throw new Error(`cdk has no subcommand "${subcommand}"`);
  await checkFlags(rest, await help('cdk', subcommand), `cdk ${subcommand}`);
  return `cdk ${subcommand}: a subcommand, every flag in its --help`;
};

const npm = async (args: readonly string[]) => {
  const [first, ...rest] = args;
  if (first === 'start' || first === 'test') {
    if (!scripts[first]) throw new Error(`package.json has no "${first}" script`);
    return `npm ${first}: the script exists`;
  }
  if (first === 'install') {
    // A consumer installs this package beside its peer dependencies, and nothing else.
    const unknown = rest.filter((name) => name !== packageJson.name && !packageJson.peerDependencies[name]);
    if (unknown.length > 0) throw new Error(`npm install ${unknown.join(' ')}: neither this package nor a peer dependency`);
    return 'npm install: this package and its peer dependencies, as package.json names them';
  }
  if (first !== 'run') throw new Error(`npm ${first}: not a form the docs test knows`);
  const [script, ...afterScript] = rest.filter((word) => word !== '--silent');
  if (!script || !scripts[script]) throw new Error(`package.json has no "${script}" script`);
  // `npm run <command> -- …` runs the CLI's subcommand: its flags are checked as the CLI's.
  const cli = /^node bin\/portal-credentials\.js ?(.*)$/.exec(scripts[script])?.[1];
  if (cli !== undefined && afterScript[0] === '--') return portalCredentials([...cli.split(' ').filter(Boolean), ...afterScript.slice(1)]);
  return `npm run ${script}: the script exists`;
};

/** The URL a curl line calls: the word naming a webhook route, the token endpoint or the sample API. */
const curl = (words: readonly string[]) => {
  const url = words.find((word) => /(^|\/|\})v1\/|oauth2\/token|TOKEN_URL|SAMPLE_URL|execute-api/.test(word));
  if (!url) throw new Error(`curl calls no URL the docs test knows: ${words.join(' ')}`);
  const explicit = words[words.indexOf('-X') + 1] ?? words[words.indexOf('--request') + 1];
  const method = words.includes('-X') || words.includes('--request') ? explicit : words.some((word) => /^(-d|--data)/.test(word)) ? 'POST' : 'GET';
  const route = /(?:^|\/|\})(v1\/\w+)$/.exec(url)?.[1];
  if (route) {
    if (!openapiPaths[`/${route}`]?.[String(method).toLowerCase()]) throw new Error(`openapi/webhook.yaml has no ${method} /${route}`);
    return `curl: ${method} /${route} is in openapi/webhook.yaml`;
  }
  if (/oauth2\/token|TOKEN_URL/.test(url)) {
    if (method !== 'POST' || !words.includes('grant_type=client_credentials'))
      throw new Error('a token request must POST grant_type=client_credentials, the only grant the clients hold');
    return 'curl: a client-credentials token request (POST grant_type=client_credentials)';
  }
  const resource = /(?:SAMPLE_URL\}|\/prod\/)(\w+)$/.exec(url)?.[1];
  if (!resource || sampleRoutes.get(resource) !== method) throw new Error(`the sample API has no ${method} ${resource}`);
  return `curl: ${method} ${resource} is a route of the sample API (infra/sample-protected-api.ts)`;
};

/** AWS CLI services whose operations are checked against the installed SDK client's commands. */
const sdkClients: Record<string, string> = {
  apigateway: '@aws-sdk/client-api-gateway',
  'cognito-idp': '@aws-sdk/client-cognito-identity-provider',
  dynamodb: '@aws-sdk/client-dynamodb',
  secretsmanager: '@aws-sdk/client-secrets-manager',
  cloudformation: '@aws-sdk/client-cloudformation',
  sts: '@aws-sdk/client-sts',
};
/**
 * AWS CLI commands of services the project has no SDK client for: they cannot run here (no AWS account), so
 * each is allowed by name, with the reason it is in the docs.
 */
export const allowedAwsCommands: Record<string, string> = {
  'logs tail': "runbooks: read a function's or the API's log (an AWS CLI v2 command, not an API operation)",
  'lambda get-account-settings': "runbooks: the account's concurrency limit, for a throttled function",
  'lambda get-function-concurrency': "runbooks: a function's reserved concurrency",
  'lambda invoke': 'runbooks: run the scheduled audit once',
  'events describe-rule': "runbooks: the audit's schedule rule, enabled or not",
  'sqs receive-message': "runbooks: read the history stream's dead-letter queue",
};

const pascal = (kebab: string) => kebab.replace(/(^|-)(\w)/g, (_, __, letter: string) => letter.toUpperCase());

const aws = async (args: readonly string[]) => {
  const [service, operation] = args;
  const key = `${service} ${operation}`;
  if (allowedAwsCommands[key]) return `aws ${key}: allowed by name (${allowedAwsCommands[key]})`;
  const client = sdkClients[service as string];
  if (!client) throw new Error(`aws ${key}: neither an SDK-checked service nor allowed by name`);
  const commands = (await import(client)) as Record<string, unknown>;
  if (typeof commands[`${pascal(operation as string)}Command`] !== 'function')
    throw new Error(`aws ${key}: ${client} has no ${pascal(operation as string)}Command`);
  return `aws ${key}: ${pascal(operation as string)}Command exists in ${client}`;
};

/** Shell utilities the docs use around the commands above; they run as any shell runs them. */
const utilities = new Set(['read', 'echo', 'cut', 'rm']);

const ASSIGNMENT = /^[A-Za-z_]\w*=/;
const FUNCTION = /^\s*(\w+)\(\)\s*\{\s*([\s\S]*?);?\s*\}\s*$/;

export type DocFunctions = Map<string, string>;

/** Checks one program call; what was checked. Throws, naming the command, for anything unchecked or wrong. */
export const checkSimple = async (command: SimpleCommand, functions: DocFunctions): Promise<string[]> => {
  const words = [...command.words];
  while (words[0] && ASSIGNMENT.test(words[0])) words.shift();
  const inner = await Promise.all(command.substitutions.map((substitution) => checkLine(substitution, functions)));
  const [program, ...args] = words;
  const checked = (how: string) => [how, ...inner.flat()];
  if (program === undefined) return checked('a variable assignment');
  const body = functions.get(program);
  if (body !== undefined) {
    // Each argument is escaped, as the shell passes it as one word wherever the body quotes it.
    const called = body.replace(/\$(\d)/g, (_, position: string) => (args[Number(position) - 1] ?? '').replace(/["\\$`]/g, '\\$&'));
    return [`${program}: a function the page defines, checked with its arguments`, ...(await checkLine(called, functions)), ...inner.flat()];
  }
  if (program === 'npm') return checked(await npm(args));
  if (program === 'npx' && args[0] === 'portal-credentials') return checked(await portalCredentials(args.slice(1)));
  if (program === 'npx' && args[0] === 'cdk') return checked(await cdk(args.slice(1)));
  if (program === 'curl') return checked(curl(args));
  if (program === 'aws') return checked(await aws(args));
  if (program === 'xargs') return checkSimple({ words: args.filter((word) => !word.startsWith('-')), substitutions: [] }, functions);
  if (program === 'node' && ['-e', '-pe', '-p'].includes(args[0] as string)) return checked('node: an inline script');
  if (utilities.has(program)) return checked(`${program}: a shell utility`);
  throw new Error(`unknown command form "${program} ${args.slice(0, 2).join(' ')}": teach test/integration/docs/command-checks.ts how to check it`);
};

/** Checks a command line (a function definition registers the function, then its body is checked). */
export const checkLine = async (line: string, functions: DocFunctions): Promise<string[]> => {
  const text = withoutComment(line);
  const definition = FUNCTION.exec(text);
  if (definition) {
    functions.set(definition[1] as string, definition[2] as string);
    return [`${definition[1]}(): a function definition`];
  }
  const results = [];
  for (const command of simpleCommands(text)) results.push(...(await checkSimple(command, functions)));
  return results;
};

/**
 * Checks every command of the pages. The functions the pages define (`output`, `json`, `webhook`, `resource`)
 * serve every page, as one page tells its reader to define them as another does.
 */
export const checkAll = async (lines: readonly ShellLine[]) => {
  const functions: DocFunctions = new Map();
  for (const line of lines) {
    const definition = FUNCTION.exec(withoutComment(line.text));
    if (definition) functions.set(definition[1] as string, definition[2] as string);
  }
  const results: { line: ShellLine; checked?: string[]; error?: string }[] = [];
  for (const line of lines) {
    try {
      results.push({ line, checked: await checkLine(line.text, functions) });
    } catch (error) {
      results.push({ line, error: (error as Error).message });
    }
  }
  return results;
};
