import { readFileSync } from 'node:fs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildStack } from '../../helpers/webhook-stack.ts';

/**
 * docs/operators.md has a runbook for every alarm the stack defines, and the `resource <type> <id part>`
 * lines its runbooks run each find exactly one resource of the stack.
 */

const operators = readFileSync(new URL('../../../docs/operators.md', import.meta.url), 'utf8');
const runbooks = operators.slice(operators.indexOf('## Alarms: runbooks'));
const { stack } = buildStack({ bundle: false });
const resources = Object.entries(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>);

describe('docs/operators.md: a runbook for each alarm', () => {
  const alarms = stack.node.findAll().filter((construct) => construct instanceof cloudwatch.Alarm);

  it.each(alarms.map((alarm) => [alarm.node.id]))('%s has a runbook heading naming it', (id) => {
    // Assess
    expect(runbooks).toMatch(new RegExp(`^### .*\`${id}\``, 'm'));
  });

  it('says how many alarms the stack defines', () => {
    // Assess
    expect(runbooks).toContain(`The stack defines ${alarms.length} alarms`);
  });

  const lookups = [...runbooks.matchAll(/\$\(resource (\S+) (\w+)\)/g)].map((match) => [match[1] as string, match[2] as string]);

  it.each(lookups)('resource %s %s names exactly one resource of the stack', (type, idPart) => {
    // Act
    const matching = resources.filter(([logicalId, resource]) => resource.Type === type && logicalId.includes(idPart));

    // Assess
    expect(matching.map(([logicalId]) => logicalId)).toHaveLength(1);
  });
});
