import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;

const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/**
 * Makes every global secondary index read through `documents` lag `lagMs` behind the table,
 * as DynamoDB's may (index reads are eventually consistent; dynalite's are immediate): a
 * Query on an index answers from the items as they were `lagMs` ago. An item written less
 * than `lagMs` ago shows its previous image there, or none if it is new.
 *
 * Tracks the writes made through `documents` after this call (each one's image is read back
 * at once, so calls are assumed not to race each other); use it on a fresh table.
 * Only key conditions of the form `attribute = :value` are understood.
 * Returns a function that removes the lag.
 */
export const lagIndexes = (documents: DynamoDBDocumentClient, options: { lagMs: number; tableKey: string }) => {
  const { lagMs, tableKey } = options;
  const name = `lagIndexes-${Math.random().toString(36).slice(2)}`;
  /** The images each item had, oldest first, by table and key. */
  const history = new Map<string, { at: number; image: Item | undefined }[]>();
  const historyKey = (table: string, key: unknown) => `${table}\n${String(key)}`;

  const imageAsOf = (entries: { at: number; image: Item | undefined }[], time: number) => entries.filter((entry) => entry.at <= time).at(-1)?.image;

  documents.middlewareStack.add(
    (next, context) => async (args: any) => {
      const input = args.input as Item & { TableName: string; IndexName?: string };
      if (context.commandName === 'QueryCommand' && input.IndexName) {
        const result: any = await next(args);
        const matches = keyCondition(input);
        const tracked = [...history].filter(([key]) => key.startsWith(`${input.TableName}\n`));
        const untracked = (result.output.Items as Item[]).filter((item) => !history.has(historyKey(input.TableName, item[tableKey])));
        const asOf = Date.now() - lagMs;
        const lagged = tracked.map(([, entries]) => imageAsOf(entries, asOf)).filter((image): image is Item => image !== undefined && matches(image));
        result.output.Items = [...untracked, ...lagged];
        result.output.Count = result.output.Items.length;
        return result;
      }
      const result = await next(args);
      if (writeCommands.has(context.commandName as string)) {
        const key = (input.Key as Item | undefined)?.[tableKey] ?? (input.Item as Item)[tableKey];
        const { Item: image } = await documents.send(new GetCommand({ TableName: input.TableName, Key: { [tableKey]: key }, ConsistentRead: true }));
        const entries = history.get(historyKey(input.TableName, key)) ?? [];
        entries.push({ at: Date.now(), image });
        history.set(historyKey(input.TableName, key), entries);
      }
      return result;
    },
    { step: 'initialize', name },
  );
  return () => documents.middlewareStack.remove(name);
};

/** `attribute = :value`, the only key condition the registry's index queries use. */
const keyCondition = (input: Item) => {
  const match = /^\s*(#?\w+)\s*=\s*(:\w+)\s*$/.exec(String(input.KeyConditionExpression));
  if (!match) throw new Error(`lagIndexes understands only "attribute = :value", not ${String(input.KeyConditionExpression)}`);
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const attribute = names[match[1] as string] ?? (match[1] as string);
  const value = (input.ExpressionAttributeValues as Item)[match[2] as string];
  return (item: Item) => item[attribute] === value;
};
