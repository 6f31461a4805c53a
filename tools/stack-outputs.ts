/**
 * `--stack NAME`: a deployment found from its CloudFormation stack, so nobody copies pool ids and
 * table names by hand. The stack's outputs (infra/portal-credentials-webhook-stack.ts) give each
 * command its defaults; a flag still overrides an output, and an output overrides the environment.
 * The SDK honours AWS_ENDPOINT_URL_CLOUDFORMATION (the local stand-in answers for `npm start`'s stack).
 */
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsClientSettings } from '#clients/retry-settings';
import { type CliOutput, EXIT_FAILED, EXIT_USAGE } from './cli.ts';

/** The outputs by key (`RegistryTableName`, `UserPoolId`, …); empty without --stack. */
export type StackOutputs = Readonly<Record<string, string>>;

/** CloudFormation stack names: a letter, then letters, digits and hyphens, at most 128 characters. */
const stackNamePattern = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** --stack and --region as given, found before the command parses the rest of its flags. */
const stackFlags = (args: readonly string[]) => {
  const { values } = parseArgs({
    args: [...args],
    options: { stack: { type: 'string' }, region: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { stack: text(values.stack), region: text(values.region) };
};

/** DescribeStacks for one stack: its outputs as a map. */
export const readStackOutputs = async (stackName: string, region: string | undefined): Promise<StackOutputs> => {
  const cloudFormation = new CloudFormationClient({ ...awsClientSettings, ...(region ? { region } : {}) });
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Stacks[0]?.Outputs ?? [];
    return Object.fromEntries(
      outputs.flatMap((output) => (output.OutputKey && output.OutputValue !== undefined ? [[output.OutputKey, output.OutputValue]] : [])),
    );
  } finally {
    cloudFormation.destroy();
  }
};

/**
 * The outputs of the stack `--stack` names (none without the flag), or the exit code to end
 * with: 2 for a malformed name, 1 when the stack cannot be read (the message says why).
 */
export const outputsOfStackFlag = async (
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  output: CliOutput,
  read: typeof readStackOutputs = readStackOutputs,
): Promise<{ outputs: StackOutputs } | { exitCode: number }> => {
  const flags = stackFlags(args);
  if (flags.stack === undefined) return { outputs: {} };
  if (!stackNamePattern.test(flags.stack)) {
    output.stderr(`error: --stack "${flags.stack}" is not a CloudFormation stack name\n`);
    return { exitCode: EXIT_USAGE };
  }
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  try {
    output.stderr(`reading the outputs of stack ${flags.stack}${region ? ` in ${region}` : ''}\n`);
    return { outputs: await read(flags.stack, region) };
  } catch (error) {
    const { name, message } = error as Error;
    const hint =
      name === 'ValidationError' && /does not exist/.test(message)
        ? `no stack ${flags.stack} in ${region ?? 'your default Region'}: check --stack and --region`
        : /CredentialsProviderError|region is missing/i.test(`${name} ${message}`)
          ? 'set AWS credentials and --region (or AWS_REGION)'
          : `${name}: check --stack, --region and that your credentials may call cloudformation:DescribeStacks`;
    output.stderr(`error: could not read stack ${flags.stack}: ${hint}\n`);
    return { exitCode: EXIT_FAILED };
  }
};

/** The option every command declares, so its strict parser accepts it. */
export const stackOption = { stack: { type: 'string' } } as const;
